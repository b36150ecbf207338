import { describe, expect, test } from "vitest";
import { mintTenantToken, TOKEN_CLOCK_SKEW_MS_MAX, TOKEN_TTL_MS_MAX, TokenError, verifyTenantToken } from "./tenant-token.ts";

const secret = "s".repeat(32);
const now = 1_800_000_000_000;

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TokenError) return e.reason;
    throw e;
  }
  return "accepted";
}

describe("tenant tokens", () => {
  test("round trip", async () => {
    const token = await mintTenantToken(secret, { tenantId: 42, expiresAtMs: now + 1000 });
    expect(await verifyTenantToken(secret, token, now)).toEqual({ tenantId: 42, expiresAtMs: now + 1000 });
  });

  test("expired at the edge: valid one ms before, refused at expiry", async () => {
    const token = await mintTenantToken(secret, { tenantId: 7, expiresAtMs: now });
    expect((await verifyTenantToken(secret, token, now - 1)).tenantId).toBe(7);
    expect(await failure(verifyTenantToken(secret, token, now))).toBe("expired");
  });

  test("another secret, tampered tenant, tampered expiry, garbage", async () => {
    const token = await mintTenantToken(secret, { tenantId: 42, expiresAtMs: now + 1000 });
    expect(await failure(verifyTenantToken("o".repeat(32), token, now))).toBe("bad_signature");
    expect(await failure(verifyTenantToken(secret, token.replace("wt1.42.", "wt1.43."), now))).toBe("bad_signature");
    expect(await failure(verifyTenantToken(secret, token.replace(`.${now + 1000}.`, `.${now + 9999}.`), now))).toBe(
      "bad_signature",
    );
    for (const bad of ["", "wt1", "wt1.42.1.", "wt2.42.1.AAAA", "wt1.-1.5.AAAA", "wt1.042.5.AAAA", "x".repeat(300)]) {
      expect(await failure(verifyTenantToken(secret, bad, now))).toBe("malformed");
    }
  });

  test("only the canonical base64url spelling of the signature verifies", async () => {
    const token = await mintTenantToken(secret, { tenantId: 42, expiresAtMs: now + 1000 });
    const sig = token.split(".")[3]!;
    // 32 bytes are 43 characters; the last one carries 4 bits of the signature and 2 unused bits,
    // so three non-canonical spellings decode to the same bytes (flips 1–3 below) and must be refused.
    expect(sig).toHaveLength(43);
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(sig.at(-1)!);
    let variants = 0;
    for (let low = 1; low < 16; low++) {
      const other = token.slice(0, -1) + alphabet[last ^ low]!;
      // Flipping an unused bit keeps the same bytes (the variant atob would accept); flipping a used one changes them.
      expect(await failure(verifyTenantToken(secret, other, now)), other).not.toBe("accepted");
      variants++;
    }
    expect(variants).toBe(15);
    expect((await verifyTenantToken(secret, token, now)).tenantId).toBe(42);
  });

  test("a claimed lifetime beyond the bound is refused whatever the signature", async () => {
    const expiresAtMs = now + TOKEN_TTL_MS_MAX;
    const token = await mintTenantToken(secret, { tenantId: 5, expiresAtMs });
    // Valid at the last moment the bound allows (lifetime + clock skew), refused one ms earlier.
    const edge = expiresAtMs - TOKEN_TTL_MS_MAX - TOKEN_CLOCK_SKEW_MS_MAX;
    expect((await verifyTenantToken(secret, token, edge)).tenantId).toBe(5);
    expect(await failure(verifyTenantToken(secret, token, edge - 1))).toBe("malformed");
    const forever = await mintTenantToken(secret, { tenantId: 5, expiresAtMs: 9_000_000_000_000_000 });
    expect(await failure(verifyTenantToken(secret, forever, now))).toBe("malformed");
  });
});
