// The whole env of a tenant's gateway isolate. It holds only capabilities bound to that one tenant
// and two non-secret labels: no storage URL, no fleet secret, no token, no network (the isolate is
// loaded with `globalOutbound: null`). The edge Worker builds it (workers/edge/gateway-env.ts).
import type { QuotaGrant, QuotaRequest } from "../../common/quota-protocol.ts";
import type { TenantKvCapability } from "./kv/capability.ts";

export type { QuotaGrant, QuotaRequest };

/** The tenant's QuotaBucket, behind the edge's TenantQuota entrypoint (props name the tenant). */
export interface TenantQuotaCapability {
  /** Asks for Request Units, reporting what this gateway consumed since its previous call. */
  acquire(request: QuotaRequest): Promise<QuotaGrant>;
}

export interface GatewayEnv {
  KV: TenantKvCapability;
  QUOTA: TenantQuotaCapability;
  /** The tenant's id, decimal (for logs and error messages; the capabilities already carry it). */
  TENANT_ID: string;
  /** The tenant's name. */
  TENANT_NAME: string;
  /**
   * The operator's default statement_timeout for this tenant's sessions, decimal ms, or "" for the
   * engine's own default (sqlLimits.statementTimeoutMsDefault). Not a secret: a bound, like the others.
   */
  STATEMENT_TIMEOUT_MS: string;
}

/** STATEMENT_TIMEOUT_MS as a number, or undefined for the engine's default (also for a malformed value). */
export function statementTimeoutMsOf(env: Pick<GatewayEnv, "STATEMENT_TIMEOUT_MS">): number | undefined {
  const text = env.STATEMENT_TIMEOUT_MS;
  return typeof text === "string" && /^[0-9]{1,9}$/.test(text) ? Number(text) : undefined;
}

/** Every key a gateway env has; the isolation test checks that nothing else leaks in. */
export const GATEWAY_ENV_KEYS = ["KV", "QUOTA", "TENANT_ID", "TENANT_NAME", "STATEMENT_TIMEOUT_MS"] as const;
