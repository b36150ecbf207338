import { describe, expect, test } from "vitest";
import { mintTenantToken, TokenError, verifyTenantToken } from "./tenant-token.ts";

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
});
