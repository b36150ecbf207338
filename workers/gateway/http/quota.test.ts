import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import type { QuotaGrant, TenantQuotaCapability } from "../env.ts";
import { quotaLimits } from "./limits.ts";
import { LocalQuota, localQuotaFor } from "./quota.ts";

function bucket(grants: number[]): TenantQuotaCapability & { calls: Array<[number, number]> } {
  const b = {
    calls: [] as Array<[number, number]>,
    async acquire(wantRu: number, consumedRu = 0): Promise<QuotaGrant> {
      b.calls.push([wantRu, consumedRu]);
      const grantedRu = Math.min(wantRu, grants.shift() ?? 0);
      return { grantedRu, tokensRu: 0, validForMs: 10_000 };
    },
  };
  return b;
}

describe("LocalQuota", () => {
  it("asks the bucket once per batch, not per request", async () => {
    const b = bucket([1000, 1000]);
    const q = new LocalQuota(b, () => 0);
    for (let i = 0; i < 100; i++) {
      await q.admit();
      q.charge(9);
    }
    expect(b.calls).toEqual([[quotaLimits.grantRuMin, 0]]);
    await q.admit(); // 900 spent, 100 left
    q.charge(200);
    await q.admit(); // balance negative: a new grant, reporting what was spent
    expect(b.calls[1]).toEqual([2 * 1100, 1100]);
  });

  it("asks again when a grant expires", async () => {
    let now = 0;
    const b = bucket([1000, 1000]);
    const q = new LocalQuota(b, () => now);
    await q.admit();
    now = 10_000;
    await q.admit();
    expect(b.calls).toHaveLength(2);
  });

  it("refuses with 53400 when the bucket grants nothing", async () => {
    const q = new LocalQuota(bucket([0]), () => 0);
    const err = await q.admit().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PgError);
    expect((err as PgError).code).toBe("53400");
  });

  it("shares one bucket call between concurrent admissions", async () => {
    const b = bucket([1000]);
    const q = new LocalQuota(b, () => 0);
    await Promise.all(Array.from({ length: 20 }, () => q.admit()));
    expect(b.calls).toHaveLength(1);
  });
});

describe("localQuotaFor", () => {
  it("asks through the latest caller's capability (inline mode: a stub belongs to one request)", async () => {
    // A tenant id no other test uses: localQuotaFor keeps one LocalQuota per tenant per module.
    const first = bucket([1]);
    const q = localQuotaFor("quota-test-latest-cap", first);
    await q.admit();
    q.charge(5); // the 1-RU grant is spent: the next admit asks again
    const second = bucket([1000]);
    expect(localQuotaFor("quota-test-latest-cap", second)).toBe(q);
    await q.admit();
    expect(first.calls).toHaveLength(1);
    expect(second.calls).toHaveLength(1);
  });
});
