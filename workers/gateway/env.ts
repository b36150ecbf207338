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
}

/** Every key a gateway env has; the isolation test checks that nothing else leaks in. */
export const GATEWAY_ENV_KEYS = ["KV", "QUOTA", "TENANT_ID", "TENANT_NAME"] as const;
