// TenantQuota → QuotaBucket inside workerd: batches granted from the tenant's own bucket, usage
// reports recorded in its history, settings applied (rate, burst, spend limit).
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { emptyUsageReport, type QuotaRequest, type UsageReport } from "../../common/quota-protocol.ts";
import { FREE_TIER } from "../../common/request-units.ts";
import { defaultQuotaConfig } from "../../durable-objects/quota/quota-bucket.ts";
import { quotaBucketFor, type ControlEnv } from "../../durable-objects/env.ts";
import { limits } from "../../durable-objects/limits.ts";
import { emptyHour, HOUR_MS, hourKey, hourStart } from "../../durable-objects/quota/usage-history.ts";
import type { EdgeExports } from "./gateway-env.ts";

const edgeExports = exports as unknown as EdgeExports;
const controlEnv = env as unknown as ControlEnv;

let seq = 0;
function req(wantRu: number, consumed: Partial<UsageReport> = {}, instanceId = "gw-a"): QuotaRequest {
  return { instanceId, seq: ++seq, wantRu, demandRuPerSecond: null, consumed: { ...emptyUsageReport(), ...consumed } };
}

describe("TenantQuota", () => {
  it("grants batches from the tenant's own bucket, starting at the free-tier burst", async () => {
    const a = edgeExports.TenantQuota({ props: { tenantId: 901 } });
    const b = edgeExports.TenantQuota({ props: { tenantId: 902 } });
    const g1 = await a.acquire(req(5000));
    expect(g1.grantedRu).toBe(5000);
    expect(g1.trickleMs).toBe(0);
    expect(g1.tokensRu).toBeCloseTo(FREE_TIER.burstRu - 5000, -1);
    const g2 = await a.acquire(req(5000, { ru: 4000 }));
    expect(g2.tokensRu).toBeCloseTo(FREE_TIER.burstRu - 10_000, -2); // plus what refilled between the calls
    // Another tenant's bucket is untouched.
    const gb = await b.acquire(req(1));
    expect(gb.tokensRu).toBeCloseTo(FREE_TIER.burstRu - 1, -1);
  });

  it("bounds a single grant", async () => {
    const q = edgeExports.TenantQuota({ props: { tenantId: 903 } });
    const g = await q.acquire(req(1e12));
    expect(g.grantedRu).toBe(100_000);
  });

  it("answers a malformed request as malformed instead of counting it", async () => {
    const q = edgeExports.TenantQuota({ props: { tenantId: 904 } });
    expect(await q.acquire({ ...req(10), wantRu: -1 })).toMatchObject({ grantedRu: 0, malformed: expect.stringMatching(/wantRu/) });
    expect(await q.acquire({ ...req(10), seq: 0, consumed: { ...emptyUsageReport(), ru: 50 } })).toMatchObject({ malformed: expect.stringMatching(/seq/) });
    const u = await quotaBucketFor(controlEnv, 904).usage(0, Date.now() + 1, 904);
    expect(u.totals.ru).toBe(0);
  });
});

describe("QuotaBucket settings and history", () => {
  it("records each report once per sequence number, by part, in the hour and the totals", async () => {
    const q = edgeExports.TenantQuota({ props: { tenantId: 905 } });
    const kv = { readBatches: 2, readRequests: 3, readBytes: 100, writeBatches: 1, writeRequests: 1, writeBytes: 50 };
    const r = req(10, { kv, cpuMs: 4, egressBytes: 1000, ru: 7.5, connections: 1, httpRequests: 2 });
    await q.acquire(r);
    await q.acquire(r); // a retried request: not counted twice
    const u = await quotaBucketFor(controlEnv, 905).usage(0, Date.now() + 1, 905);
    expect(u.totals).toMatchObject({ ru: 7.5, kv, cpuMs: 4, egressBytes: 1000, connections: 1, httpRequests: 2 });
    expect(u.hours).toHaveLength(1);
    expect(u.hours[0]).toMatchObject({ ru: 7.5, kv, cpuMs: 4 });
    expect(u.month.ru).toBe(7.5);
  });

  it("refuses at a spend limit with 'refuse', naming the limit; throttles to the free rate otherwise", async () => {
    const refusing = edgeExports.TenantQuota({ props: { tenantId: 906 } });
    await quotaBucketFor(controlEnv, 906).configure({ ...defaultQuotaConfig("acme"), spendLimitRu: 500, atSpendLimit: "refuse" });
    const g1 = await refusing.acquire(req(1000, {}, "gw-r"));
    expect(g1.grantedRu).toBe(500); // capped at what is left under the limit
    const g2 = await refusing.acquire(req(1000, { ru: 500 }, "gw-r"));
    expect(g2.grantedRu).toBe(0);
    expect(g2.refusal?.message).toMatch(/virtual cluster "acme" reached its monthly spend limit of 500 RU/);

    const throttled = edgeExports.TenantQuota({ props: { tenantId: 907 } });
    await quotaBucketFor(controlEnv, 907).configure({ ...defaultQuotaConfig("slow"), ruPerSecond: 5000, spendLimitRu: 500, atSpendLimit: "throttle" });
    await throttled.acquire(req(500, {}, "gw-t"));
    const g3 = await throttled.acquire(req(10_000, { ru: 600 }, "gw-t"));
    expect(g3.refusal).toBeUndefined();
    // The free baseline: at most one period of 100 RU/s, trickled.
    expect(g3.grantedRu).toBeLessThanOrEqual(FREE_TIER.refillRuPerSecond * 10 + 1e-6);
    const u = await quotaBucketFor(controlEnv, 907).usage(0, Date.now() + 1, 907);
    expect(u.month.atLimit).toBe(true);
    expect(u.bucket.refillRuPerSecond).toBe(FREE_TIER.refillRuPerSecond);
  });

  it("a zero refill rate is a hard limit: the burst, then a refusal", async () => {
    const q = edgeExports.TenantQuota({ props: { tenantId: 908 } });
    await quotaBucketFor(controlEnv, 908).configure({ ...defaultQuotaConfig("frozen"), ruPerSecond: 0, burstRu: 300 });
    const g1 = await q.acquire(req(1000, {}, "gw-h"));
    expect(g1.grantedRu).toBe(300);
    const g2 = await q.acquire(req(1000, { ru: 300 }, "gw-h"));
    expect(g2.grantedRu).toBe(0);
    expect(g2.refusal?.message).toMatch(/"frozen" has used its 300 RU: its refill rate is 0 RU\/s, a hard limit/);
  });
});

describe("usage history retention", () => {
  it("drops hours past usageHistoryHoursMax when a new hour starts, and keeps the ones inside", async () => {
    const stub = quotaBucketFor(controlEnv, 909);
    const now = hourStart(Date.now());
    const oldest = now - (limits.usageHistoryHoursMax - 1) * HOUR_MS;
    const hours = [oldest - 2 * HOUR_MS, oldest - HOUR_MS, oldest, oldest + HOUR_MS];
    await runInDurableObject(stub, async (_obj, state) => {
      for (const h of hours) await state.storage.put(hourKey(h), { ...emptyHour(h), ru: 1 });
    });
    // The first report of the current hour starts it, which prunes.
    await edgeExports.TenantQuota({ props: { tenantId: 909 } }).acquire(req(1, { ru: 2 }, "gw-p"));
    const kept = await runInDurableObject(stub, async (_obj, state) => [...(await state.storage.list({ prefix: "h:" })).keys()]);
    expect(kept).toEqual([hourKey(oldest), hourKey(oldest + HOUR_MS), hourKey(now)]);
    const u = await stub.usage(0, Date.now() + 1, 909);
    expect(u.hours.map((h) => h.hourStartMs)).toEqual([oldest, oldest + HOUR_MS, now]);
    expect(u.historyHoursMax).toBe(limits.usageHistoryHoursMax);
  });
});
