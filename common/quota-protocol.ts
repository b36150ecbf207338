// What a gateway and its tenant's QuotaBucket say to each other (through the edge's TenantQuota
// entrypoint): a request for Request Units that also reports what was consumed since the last one,
// and a grant. The gateway spends grants locally (workers/gateway/quota/local-quota.ts); the bucket
// (durable-objects/quota) shares its refill rate among the tenant's gateways and keeps the usage
// history. See the design brief, "No control-plane round trip per query".
import { emptyUsageParts, type KvUsage, type UsageParts } from "./request-units.ts";

/** Usage since a gateway's previous request: the cost model's parts, their RU, and activity counts. */
export interface UsageReport extends UsageParts {
  /** usageRequestUnits(parts), as the gateway charged it. */
  ru: number;
  /** Postgres wire connections opened. */
  connections: number;
  /** POST /sql requests served. */
  httpRequests: number;
}

export function emptyUsageReport(): UsageReport {
  return { ...emptyUsageParts(), ru: 0, connections: 0, httpRequests: 0 };
}

export interface QuotaRequest {
  /** Random id of the asking gateway (one per LocalQuota), for its fair share of the rate. */
  instanceId: string;
  /** 1, 2, 3… per instance: a request seen twice is not counted twice. */
  seq: number;
  /** RU wanted: about ten seconds of expected use, plus any local debt. */
  wantRu: number;
  /** RU/s this gateway consumed lately, or null when it was held back since its last request. */
  demandRuPerSecond: number | null;
  consumed: UsageReport;
}

export interface QuotaGrant {
  /** RU the gateway may spend. */
  grantedRu: number;
  /** 0: at once. Otherwise the grant arrives evenly over this many ms. */
  trickleMs: number;
  /** The bucket's tokens after the grant; negative is debt. */
  tokensRu: number;
  /** Ask again within this many ms. */
  validForMs: number;
  /** Set when the tenant may not spend now (spend limit with "refuse", a spent hard limit): 53400. */
  refusal?: { message: string; hint?: string };
  /**
   * Set when the request itself was malformed (a gateway bug): nothing was granted or counted, and
   * the query fails with XX000. An answer, not an exception: exceptions lose their shape across RPC.
   */
  malformed?: string;
}

const KV_FIELDS: ReadonlyArray<keyof KvUsage> = ["readBatches", "readRequests", "readBytes", "writeBatches", "writeRequests", "writeBytes"];

function nonNegative(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

/** Why `x` is not a well-formed QuotaRequest, or null. The bucket checks every call (RPC input). */
export function quotaRequestProblem(x: unknown): string | null {
  if (typeof x !== "object" || x === null) return "quota request must be an object";
  const r = x as Partial<QuotaRequest>;
  if (typeof r.instanceId !== "string" || r.instanceId.length === 0 || r.instanceId.length > 64) return "instanceId must be 1 to 64 characters";
  if (!Number.isSafeInteger(r.seq) || r.seq! < 1) return "seq must be a positive integer";
  if (!nonNegative(r.wantRu)) return "wantRu must be a non-negative number";
  if (r.demandRuPerSecond !== null && !nonNegative(r.demandRuPerSecond)) return "demandRuPerSecond must be a non-negative number or null";
  const c = r.consumed as Partial<UsageReport> | undefined;
  if (typeof c !== "object" || c === null || typeof c.kv !== "object" || c.kv === null) return "consumed must be a usage report";
  for (const f of KV_FIELDS) if (!nonNegative(c.kv[f])) return `consumed.kv.${f} must be a non-negative number`;
  for (const f of ["cpuMs", "egressBytes", "ru", "connections", "httpRequests"] as const) {
    if (!nonNegative(c[f])) return `consumed.${f} must be a non-negative number`;
  }
  return null;
}
