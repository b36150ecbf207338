// BackendKeyData pairs: each decodes back to the tenant it was issued for, process ids are positive
// Int32s and distinct, a pair from another key (another deployment's FLEET_SECRET) or with any bit
// changed names an unrelated tenant, and one's own pairs give nothing away about other tenants'.
import { describe, expect, it } from "vitest";
import { BackendKeyCodec } from "./backend-key.ts";

describe("BackendKeyCodec", () => {
  it("recovers the tenant of every pair it issued, across the whole 32-bit tenant id range", async () => {
    const codec = await BackendKeyCodec.fromSecret("test-fleet-secret-0123456789abcdef");
    for (const tenantId of [0, 1, 2, 7, 1000, 65_535, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]) {
      const key = await codec.issue(tenantId);
      expect(key.processId).toBeGreaterThan(0);
      expect(key.processId).toBeLessThanOrEqual(0x7fffffff);
      expect(key.secretKey).toBeGreaterThanOrEqual(-(2 ** 31));
      expect(key.secretKey).toBeLessThan(2 ** 31);
      expect(await codec.tenantOf(key)).toBe(tenantId);
    }
  });

  it("issues a different pair every time, even for one tenant", async () => {
    const codec = await BackendKeyCodec.fromSecret("test-fleet-secret-0123456789abcdef");
    const pids = new Set<number>();
    const keys = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const k = await codec.issue(42);
      pids.add(k.processId);
      keys.add(k.secretKey);
    }
    expect(pids.size).toBe(200);
    expect(keys.size).toBe(200); // the secret key is not a function of the tenant alone
  });

  it("maps a pair with any one bit changed to another tenant (a guessed key does not stay in the tenant)", async () => {
    const codec = await BackendKeyCodec.fromSecret("test-fleet-secret-0123456789abcdef");
    const key = await codec.issue(7);
    for (let bit = 0; bit < 32; bit++) {
      expect(await codec.tenantOf({ processId: key.processId, secretKey: key.secretKey ^ (1 << bit) })).not.toBe(7);
      if (bit < 31) expect(await codec.tenantOf({ processId: key.processId ^ (1 << bit), secretKey: key.secretKey })).not.toBe(7);
    }
  });

  it("needs the edge's key: another secret reads the same pair as an unrelated tenant", async () => {
    const ours = await BackendKeyCodec.fromSecret("test-fleet-secret-0123456789abcdef");
    const theirs = await BackendKeyCodec.fromSecret("another-fleet-secret-0123456789ab");
    let same = 0;
    for (let i = 0; i < 50; i++) if ((await theirs.tenantOf(await ours.issue(7))) === 7) same++;
    expect(same).toBe(0);
  });

  it("does not reuse one tenant's key stream for another (own pair XOR tenant ids names nobody)", async () => {
    // With secretKey = tenant XOR PRF(processId), a client of tenant 7 could compute the key of
    // tenant 8's session with the same process id as key ^ 7 ^ 8. Here that forgery decodes to an
    // unrelated tenant.
    const codec = await BackendKeyCodec.fromSecret("test-fleet-secret-0123456789abcdef");
    let hits = 0;
    for (let i = 0; i < 50; i++) {
      const own = await codec.issue(7);
      if ((await codec.tenantOf({ processId: own.processId, secretKey: own.secretKey ^ 7 ^ 8 })) === 8) hits++;
    }
    expect(hits).toBe(0);
  });
});
