import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import { limits } from "../limits.ts";
import { encodeErrorResponse, PROTOCOL_VERSION_3, SSL_REQUEST_CODE, StartupReader } from "./startup.ts";

function packet(code: number, payload: number[] = []): Uint8Array {
  const b = new Uint8Array(8 + payload.length);
  const v = new DataView(b.buffer);
  v.setInt32(0, b.length);
  v.setInt32(4, code);
  b.set(payload, 8);
  return b;
}

const kv = (pairs: Array<[string, string]>) => {
  const out: number[] = [];
  const enc = new TextEncoder();
  for (const [k, v] of pairs) out.push(...enc.encode(k), 0, ...enc.encode(v), 0);
  out.push(0);
  return out;
};

describe("StartupReader", () => {
  it("reads SSLRequest then StartupMessage from one byte at a time", () => {
    const bytes = new Uint8Array([...packet(SSL_REQUEST_CODE), ...packet(PROTOCOL_VERSION_3, kv([["user", "app.acme"], ["database", "db"]]))]);
    const r = new StartupReader(10_000);
    const seen: unknown[] = [];
    for (const b of bytes) {
      r.push(new Uint8Array([b]));
      for (let p = r.next(); p; p = r.next()) seen.push(p);
    }
    expect(seen).toEqual([
      { kind: "SSLRequest" },
      { kind: "StartupMessage", protocolVersion: PROTOCOL_VERSION_3, parameters: { user: "app.acme", database: "db" } },
    ]);
  });

  it("takes a StartupMessage of exactly startupMessageBytesMax bytes", () => {
    const fixed = packet(PROTOCOL_VERSION_3, kv([["user", "app.acme"], ["application_name", ""]])).length;
    const appName = "a".repeat(limits.startupMessageBytesMax - fixed);
    const bytes = packet(PROTOCOL_VERSION_3, kv([["user", "app.acme"], ["application_name", appName]]));
    expect(bytes.length).toBe(limits.startupMessageBytesMax);
    const r = new StartupReader(limits.startupMessageBytesMax);
    r.push(bytes);
    expect(r.next()).toEqual({ kind: "StartupMessage", protocolVersion: PROTOCOL_VERSION_3, parameters: { user: "app.acme", application_name: appName } });
  });

  it.each([
    ["a length below 8", (() => { const b = packet(PROTOCOL_VERSION_3); new DataView(b.buffer).setInt32(0, 4); return b; })(), "08P01"],
    ["a length above the limit", (() => { const b = packet(PROTOCOL_VERSION_3); new DataView(b.buffer).setInt32(0, limits.startupMessageBytesMax + 1); return b; })(), "08P01"],
    ["protocol 2.0", packet(2 << 16, [0]), "0A000"],
    ["a missing terminator", packet(PROTOCOL_VERSION_3, [0x75, 0x73, 0x65, 0x72, 0]), "08P01"],
    ["bytes after the terminator", packet(PROTOCOL_VERSION_3, [0, 0x41]), "08P01"],
  ])("refuses %s", (_label, bytes, code) => {
    const r = new StartupReader(limits.startupMessageBytesMax);
    r.push(bytes);
    try {
      r.next();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PgError);
      expect((err as PgError).code).toBe(code);
    }
  });
});

describe("encodeErrorResponse", () => {
  it("lays out an ErrorResponse with its length and fields", () => {
    const msg = encodeErrorResponse(new PgError("invalid_catalog_name", "no such", { hint: "h" }));
    expect(String.fromCharCode(msg[0]!)).toBe("E");
    expect(new DataView(msg.buffer).getInt32(1)).toBe(msg.length - 1);
    const text = new TextDecoder().decode(msg.subarray(5));
    expect(text).toBe("SFATAL\0VFATAL\0C3D000\0Mno such\0Hh\0\0");
  });
});
