// TenantQuota → QuotaBucket inside workerd: batches granted from the free-tier bucket, per tenant.
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FREE_TIER } from "../../common/request-units.ts";
import type { EdgeExports } from "./gateway-env.ts";

const edgeExports = exports as unknown as EdgeExports;

describe("TenantQuota", () => {
  it("grants batches from the tenant's own bucket, starting at the free-tier burst", async () => {
    const a = edgeExports.TenantQuota({ props: { tenantId: 901 } });
    const b = edgeExports.TenantQuota({ props: { tenantId: 902 } });
    const g1 = await a.acquire(5000);
    expect(g1.grantedRu).toBe(5000);
    expect(g1.tokensRu).toBeCloseTo(FREE_TIER.burstRu - 5000, -1);
    const g2 = await a.acquire(5000, 4000);
    expect(g2.tokensRu).toBeCloseTo(FREE_TIER.burstRu - 10_000, -1);
    // Another tenant's bucket is untouched.
    const gb = await b.acquire(1);
    expect(gb.tokensRu).toBeCloseTo(FREE_TIER.burstRu - 1, -1);
  });

  it("bounds a single grant", async () => {
    const q = edgeExports.TenantQuota({ props: { tenantId: 903 } });
    const g = await q.acquire(1e12);
    expect(g.grantedRu).toBe(100_000);
  });
});
