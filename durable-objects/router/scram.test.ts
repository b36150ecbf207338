// SCRAM-SHA-256 verifiers against RFC 7677's worked example, plus format round trips.
import { describe, expect, it } from "vitest";
import { checkPassword, formatVerifier, makeVerifier, parseVerifier, timingSafeEqual } from "./scram.ts";

const b64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toB64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const enc = new TextEncoder();

async function hmac(key: Uint8Array, msg: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(msg)));
}

describe("SCRAM-SHA-256 verifier", () => {
  it("matches RFC 7677's example exchange (user/pencil)", async () => {
    // RFC 7677 section 3: the verifier must let the server check the client's proof and produce
    // the server signature the RFC shows.
    const v = await makeVerifier("pencil", 4096, b64("W22ZaJ0SNY7soEsUEjb6gQ=="));
    const authMessage =
      "n=user,r=rOprNGfwEbeRWgbNEkqO," +
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const proof = b64("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    const clientSignature = await hmac(v.storedKey, authMessage);
    const clientKey = proof.map((b, i) => b ^ clientSignature[i]!);
    const storedFromProof = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey));
    expect(toB64(storedFromProof)).toBe(toB64(v.storedKey));
    expect(toB64(await hmac(v.serverKey, authMessage))).toBe("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  });

  it("round-trips Postgres's rolpassword format and checks passwords", async () => {
    const v = await makeVerifier("s3cret-password");
    const text = formatVerifier(v);
    expect(text).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(text).not.toContain("s3cret");
    const back = parseVerifier(text)!;
    expect(await checkPassword(back, "s3cret-password")).toBe(true);
    expect(await checkPassword(back, "s3cret-passworD")).toBe(false);
    expect(await checkPassword(back, "")).toBe(false);
  });

  it("uses a fresh salt per verifier", async () => {
    const a = await makeVerifier("same-password");
    const b = await makeVerifier("same-password");
    expect(toB64(a.salt)).not.toBe(toB64(b.salt));
    expect(toB64(a.storedKey)).not.toBe(toB64(b.storedKey));
  });

  it.each(["", "md5abc", "SCRAM-SHA-256$4096:c2FsdA==$short:short", "SCRAM-SHA-256$0:c2FsdA==$a:b"])(
    "rejects the malformed verifier %j",
    (text) => {
      expect(parseVerifier(text)).toBeNull();
    },
  );

  it("compares bytes without early exit semantics leaking into results", () => {
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(timingSafeEqual(new Uint8Array([1]), new Uint8Array([1, 2]))).toBe(false);
  });
});
