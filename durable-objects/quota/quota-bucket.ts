// QuotaBucket: one Durable Object per tenant (keyed by tenant id) holding its Request-Unit token
// bucket. Gateways never call it per query: they ask for about `quotaGrantTargetSeconds` of
// expected use at a time and spend it locally (the CockroachDB tenant-cost-controller pattern).
// Also keeps the tenant's total consumption for billing.
import { DurableObject } from "cloudflare:workers";
import { FREE_TIER } from "../../common/request-units.ts";
import { limits } from "../limits.ts";
import { grant, type BucketConfig, type BucketState, type Grant } from "./token-bucket.ts";

const STATE_KEY = "bucket";
const USAGE_KEY = "usage";

export interface QuotaUsage {
  /** RU granted in total (what billing charges; unspent grants are small and short-lived). */
  grantedRuTotal: number;
  /** RU the gateways reported as actually spent. */
  consumedRuTotal: number;
}

export class QuotaBucket extends DurableObject {
  private config: BucketConfig = { refillRuPerSecond: FREE_TIER.refillRuPerSecond, burstRu: FREE_TIER.burstRu };

  /** Grants up to `wantRu` and records `consumedRu` spent since the caller's last request. */
  async acquire(wantRu: number, consumedRu = 0): Promise<Grant> {
    if (!Number.isFinite(wantRu) || wantRu < 0) throw new RangeError("wantRu must be a non-negative number");
    if (!Number.isFinite(consumedRu) || consumedRu < 0) throw new RangeError("consumedRu must be a non-negative number");
    const now = Date.now();
    const state = (await this.ctx.storage.get<BucketState>(STATE_KEY)) ?? { tokensRu: this.config.burstRu, lastRefillMs: now };
    const r = grant(state, this.config, now, wantRu, {
      maxGrantRu: limits.quotaGrantRuMax,
      trickleSeconds: limits.quotaGrantTargetSeconds,
    });
    const usage = (await this.ctx.storage.get<QuotaUsage>(USAGE_KEY)) ?? { grantedRuTotal: 0, consumedRuTotal: 0 };
    usage.grantedRuTotal += r.grant.grantedRu;
    usage.consumedRuTotal += consumedRu;
    await this.ctx.storage.put({ [STATE_KEY]: r.state, [USAGE_KEY]: usage });
    return r.grant;
  }

  async usage(): Promise<QuotaUsage & { tokensRu: number }> {
    const state = await this.ctx.storage.get<BucketState>(STATE_KEY);
    const usage = (await this.ctx.storage.get<QuotaUsage>(USAGE_KEY)) ?? { grantedRuTotal: 0, consumedRuTotal: 0 };
    return { ...usage, tokensRu: state?.tokensRu ?? this.config.burstRu };
  }
}
