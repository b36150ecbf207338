// The quota settings a QuotaBucket applies, and what they make of its token bucket: the refill
// rate and burst, and at a monthly spend limit either a refusal ("refuse") or the free tier's
// baseline rate ("throttle"). Pure, so the rules are testable without a runtime.
import { FREE_TIER } from "../../common/request-units.ts";
import type { AtSpendLimit } from "../directory/tenant-settings.ts";
import { limits } from "../limits.ts";
import type { BucketConfig, BucketOptions } from "./token-bucket.ts";

/** The settings the bucket applies (the TenantDirectory holds them and pushes them here). */
export interface QuotaConfig {
  /** For messages: the tenant's name (the bucket is keyed by id). */
  tenantName: string;
  ruPerSecond: number;
  burstRu: number;
  spendLimitRu: number | null;
  atSpendLimit: AtSpendLimit;
}

export function defaultQuotaConfig(tenantName = "this virtual cluster"): QuotaConfig {
  return { tenantName, ruPerSecond: FREE_TIER.refillRuPerSecond, burstRu: FREE_TIER.burstRu, spendLimitRu: null, atSpendLimit: "throttle" };
}

export const BUCKET_OPTIONS: BucketOptions = {
  periodSeconds: limits.quotaGrantTargetSeconds,
  maxGrantRu: limits.quotaGrantRuMax,
  instanceTtlSeconds: limits.quotaInstanceTtlSeconds,
  instancesMax: limits.quotaInstancesMax,
  demandHeadroom: limits.quotaDemandHeadroom,
  debtRateFloor: limits.quotaDebtRateFloor,
};

/**
 * The bucket's arithmetic under a config, given the month's spend and the RU granted to other
 * gateways and not yet reported: below the limit, grants are capped at what is left of it; at the
 * limit, "refuse" caps them at 0 (the QuotaBucket answers with a refusal) and "throttle" swaps in
 * the free baseline rate with no burst beyond one grant period of it.
 */
export function effectiveBucket(config: QuotaConfig, spentRu: number, outstandingRu: number): { bucket: BucketConfig; atLimit: boolean; capRu: number } {
  const bucket = { refillRuPerSecond: config.ruPerSecond, burstRu: config.burstRu };
  if (config.spendLimitRu === null) return { bucket, atLimit: false, capRu: Infinity };
  const leftRu = config.spendLimitRu - spentRu - outstandingRu;
  if (leftRu > 0) return { bucket, atLimit: false, capRu: leftRu };
  if (config.atSpendLimit === "refuse") return { bucket, atLimit: true, capRu: 0 };
  // Throttled: the free tier's baseline rate, and no burst beyond one grant period of it.
  const rate = Math.min(config.ruPerSecond, FREE_TIER.refillRuPerSecond);
  return { bucket: { refillRuPerSecond: rate, burstRu: Math.min(config.burstRu, rate * limits.quotaGrantTargetSeconds) }, atLimit: true, capRu: Infinity };
}
