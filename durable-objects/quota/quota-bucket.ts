// QuotaBucket: one Durable Object per tenant (keyed by tenant id) holding its Request-Unit token
// bucket (token-bucket.ts), its quota settings (applied by the TenantDirectory: refill rate, burst,
// monthly spend limit and what happens at it) and its usage history (usage-history.ts).
//
// Gateways never call it per query: each asks for about ten seconds of expected use at a time,
// reporting what it consumed since its previous request, by part (KV usage as the storage node
// measured it, gateway CPU, egress). So the report lands where the grant is decided, in the same
// storage transaction: the month's spend that a spend limit checks, the hour's history and the
// all-time totals can never disagree with each other, and metering costs no call of its own. (A
// separate metering object would double the control-plane calls of every gateway for nothing.)
//
// Stored (Durable Object storage, durable across restarts of the whole stack):
//   "config"   QuotaConfig                  "state"    BucketState (tokens, gateways' shares)
//   "month"    MonthSpend                   "totals"   UsageTotals since the tenant was created
//   "h:<hour>" HourUsage, one per UTC hour with activity, at most usageHistoryHoursMax of them
//   "s:<hour>" HourStorage: the storage node's bytes for the tenant in that hour (latest sample)
import { DurableObject } from "cloudflare:workers";
import { quotaRequestProblem, type QuotaGrant, type QuotaRequest } from "../../common/quota-protocol.ts";
import type { ControlEnv } from "../env.ts";
import { limits } from "../limits.ts";
export { defaultQuotaConfig, type QuotaConfig };
import { storageCountersOf, type StorageNodeCounters } from "../storage-stats.ts";
import type { AtSpendLimit } from "../directory/tenant-settings.ts";
import { BUCKET_OPTIONS, defaultQuotaConfig, effectiveBucket, type QuotaConfig } from "./quota-config.ts";
import { newBucketState, outstandingOfOthers, requestGrant, type BucketState } from "./token-bucket.ts";
import {
  addReport,
  emptyHour,
  emptyTotals,
  HOUR_MS,
  hourKey,
  hourOfKey,
  hourStart,
  oldestKeptHour,
  spendAfter,
  storageKey,
  type HourStorage,
  type HourUsage,
  type MonthSpend,
  type UsageTotals,
} from "./usage-history.ts";

/** What GET /admin/tenants/:name/usage shows. */
export interface UsageView {
  config: QuotaConfig;
  bucket: { tokensRu: number; refillRuPerSecond: number; burstRu: number; gateways: number };
  month: MonthSpend & { limitRu: number | null; atLimit: boolean; atSpendLimit: AtSpendLimit };
  totals: UsageTotals;
  hours: Array<HourUsage & { storage: HourStorage | null }>;
  /** The storage node's own counters for the tenant, read now (null: none yet), or why they could not be read. */
  storageNode: StorageNodeCounters | null | { error: string };
  /** The hours kept at most (limits.usageHistoryHoursMax). */
  historyHoursMax: number;
}

export class QuotaBucket extends DurableObject<ControlEnv> {
  private async config(): Promise<QuotaConfig> {
    return (await this.ctx.storage.get<QuotaConfig>("config")) ?? defaultQuotaConfig();
  }

  /** Applies settings (the TenantDirectory calls this on create and on every alter). */
  async configure(config: QuotaConfig): Promise<void> {
    const now = Date.now();
    const old = await this.config();
    const state = await this.ctx.storage.get<BucketState>("state");
    if (state) {
      // Tokens up to now accrue at the old rate; a lowered burst caps them at once.
      const elapsed = Math.max(0, now - state.lastRefillMs) / 1000;
      state.tokensRu = Math.min(config.burstRu, state.tokensRu + elapsed * old.ruPerSecond);
      state.lastRefillMs = now;
      await this.ctx.storage.put({ config, state });
    } else {
      await this.ctx.storage.put("config", config);
    }
  }

  /**
   * A gateway's request: records its report, then grants (see token-bucket.ts). `tenantId` comes
   * from the edge's TenantQuota entrypoint (its props), for the storage sample of a new hour.
   */
  async acquire(req: QuotaRequest, tenantId: number | null = null): Promise<QuotaGrant> {
    const problem = quotaRequestProblem(req);
    // RPC input from the gateway's capability: a malformed one is a gateway bug, answered as such
    // (logged here, XX000 at the client) and counted nowhere.
    if (problem !== null) {
      console.error(`QuotaBucket.acquire: malformed request from a gateway: ${problem}`);
      return { grantedRu: 0, trickleMs: 0, tokensRu: 0, validForMs: 0, malformed: `malformed quota request: ${problem}` };
    }
    const now = Date.now();
    const config = await this.config();
    const stored = await this.ctx.storage.get(["state", "month", "totals"]);
    let state = (stored.get("state") as BucketState | undefined) ?? newBucketState({ refillRuPerSecond: config.ruPerSecond, burstRu: config.burstRu }, now);
    const prior = state.instances[req.instanceId];
    const isRepeat = prior !== undefined && req.seq <= prior.seq;

    const hour = hourStart(now);
    const hKey = hourKey(hour);
    const existingHour = await this.ctx.storage.get<HourUsage>(hKey);
    const hourRec = existingHour ?? emptyHour(hour);
    const totals = (stored.get("totals") as UsageTotals | undefined) ?? emptyTotals();
    let month = spendAfter(stored.get("month") as MonthSpend | undefined, now, 0);
    if (!isRepeat) {
      addReport(hourRec, req.consumed);
      addReport(totals, req.consumed);
      totals.lastReportMs = now;
      month = spendAfter(month, now, req.consumed.ru);
    }

    const eff = effectiveBucket(config, month.ru, outstandingOfOthers(state, req.instanceId));
    const r = requestGrant(state, eff.bucket, now, { instanceId: req.instanceId, seq: req.seq, wantRu: req.wantRu, demandRuPerSecond: req.demandRuPerSecond, capRu: eff.capRu }, BUCKET_OPTIONS);
    state = r.state;
    const grant: QuotaGrant = { grantedRu: r.grant.grantedRu, trickleMs: r.grant.trickleMs, tokensRu: r.grant.tokensRu, validForMs: r.grant.validForMs };
    if (eff.atLimit && config.atSpendLimit === "refuse") {
      grant.validForMs = limits.quotaRefusalValidMs;
      grant.refusal = {
        message: `virtual cluster "${config.tenantName}" reached its monthly spend limit of ${config.spendLimitRu} RU (${Math.round(month.ru)} RU used in ${month.month})`,
        hint: `Raise the limit (warren tenant alter ${config.tenantName} --spend-limit …), or set --at-limit throttle to continue at the free rate.`,
      };
    } else if (r.grant.hardLimitReached) {
      grant.validForMs = limits.quotaRefusalValidMs;
      grant.refusal = {
        message: `virtual cluster "${config.tenantName}" has used its ${config.burstRu} RU: its refill rate is 0 RU/s, a hard limit`,
        hint: `Raise it with warren tenant alter ${config.tenantName} --ru-per-second … or --burst ….`,
      };
    }
    hourRec.grantedRu += grant.grantedRu;
    totals.grantedRu += grant.grantedRu;
    await this.ctx.storage.put({ state, month, totals, [hKey]: hourRec });
    if (existingHour === undefined) await this.pruneHistory(now);
    if (tenantId !== null) await this.maybeSampleStorage(hour, now, tenantId);
    return grant;
  }

  /** A new hour started: drop hours past the retention bound (a bounded batch per hour). */
  private async pruneHistory(now: number): Promise<void> {
    const oldest = oldestKeptHour(now, limits.usageHistoryHoursMax);
    for (const [prefix, key] of [["h:", hourKey], ["s:", storageKey]] as const) {
      const old = await this.ctx.storage.list({ prefix, end: key(oldest), limit: limits.usageHistoryPruneBatch });
      if (old.size > 0) await this.ctx.storage.delete([...old.keys()]);
    }
  }

  /** Whether a storage sample is being fetched (one at a time per object). */
  private sampling = false;

  /**
   * Samples the tenant's stored bytes from the storage node at most every storageSampleIntervalMs
   * while the tenant is active. Not awaited by the gateway's request: it lands when the node answers.
   */
  private async maybeSampleStorage(hour: number, now: number, tenantId: number): Promise<void> {
    if (this.sampling) return;
    const last = await this.ctx.storage.get<HourStorage>(storageKey(hour));
    if (last !== undefined && now - last.sampledAtMs < limits.storageSampleIntervalMs) return;
    this.sampling = true;
    this.ctx.waitUntil(
      storageCountersOf(this.env, tenantId)
        .then(async (r) => {
          if ("error" in r) return;
          const c = r.counters;
          await this.ctx.storage.put(storageKey(hour), { liveBytes: c?.liveBytes ?? 0, mvccBytes: c?.mvccBytes ?? 0, sampledAtMs: Date.now() } satisfies HourStorage);
        })
        .finally(() => {
          this.sampling = false;
        }),
    );
  }

  /** The usage history of the hours that overlap [sinceMs, untilMs), with the bucket's state. */
  async usage(sinceMs: number, untilMs: number, tenantId: number): Promise<UsageView> {
    const now = Date.now();
    const config = await this.config();
    const stored = await this.ctx.storage.get(["state", "month", "totals"]);
    const state = stored.get("state") as BucketState | undefined;
    const month = spendAfter(stored.get("month") as MonthSpend | undefined, now, 0);
    const from = hourStart(Math.max(sinceMs, oldestKeptHour(now, limits.usageHistoryHoursMax)));
    // Every hour that overlaps [sinceMs, untilMs).
    const to = hourStart(Math.max(from, untilMs - 1)) + HOUR_MS;
    const hoursMap = await this.ctx.storage.list<HourUsage>({ start: hourKey(from), end: hourKey(to), limit: limits.usageHistoryHoursMax });
    const storage = await this.ctx.storage.list<HourStorage>({ start: storageKey(from), end: storageKey(to), limit: limits.usageHistoryHoursMax });
    const hours = [...hoursMap].map(([k, h]) => ({ ...h, storage: storage.get(storageKey(hourOfKey(k))) ?? null }));
    const eff = effectiveBucket(config, month.ru, state ? outstandingOfOthers(state, "") : 0);
    const elapsed = state ? Math.max(0, now - state.lastRefillMs) / 1000 : 0;
    const storageNode = await storageCountersOf(this.env, tenantId);
    return {
      config,
      bucket: {
        tokensRu: state ? Math.min(eff.bucket.burstRu, state.tokensRu + elapsed * eff.bucket.refillRuPerSecond) : config.burstRu,
        refillRuPerSecond: eff.bucket.refillRuPerSecond,
        burstRu: eff.bucket.burstRu,
        gateways: state ? Object.values(state.instances).filter((i) => now - i.lastSeenMs <= limits.quotaInstanceTtlSeconds * 1000).length : 0,
      },
      month: { ...month, limitRu: config.spendLimitRu, atLimit: eff.atLimit, atSpendLimit: config.atSpendLimit },
      totals: (stored.get("totals") as UsageTotals | undefined) ?? emptyTotals(),
      hours,
      storageNode: "error" in storageNode ? storageNode : storageNode.counters,
      historyHoursMax: limits.usageHistoryHoursMax,
    };
  }

  /**
   * What the edge's /metrics shows of this tenant: all-time totals, this month's spend and the latest
   * storage sample; read from storage only (no storage node call, unlike usage()).
   */
  async metrics(): Promise<{ totals: UsageTotals; monthRu: number; storage: HourStorage | null }> {
    const now = Date.now();
    const stored = await this.ctx.storage.get(["month", "totals"]);
    const month = spendAfter(stored.get("month") as MonthSpend | undefined, now, 0);
    const latest = await this.ctx.storage.list<HourStorage>({ start: storageKey(0), end: storageKey(hourStart(now) + HOUR_MS), reverse: true, limit: 1 });
    return { totals: (stored.get("totals") as UsageTotals | undefined) ?? emptyTotals(), monthRu: month.ru, storage: [...latest.values()][0] ?? null };
  }
}
