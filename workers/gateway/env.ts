// The whole env of a tenant's gateway isolate. It holds only capabilities bound to that one tenant
// and two non-secret labels: no storage URL, no fleet secret, no token, no network (the isolate is
// loaded with `globalOutbound: null`). The edge Worker builds it (workers/edge/gateway-env.ts).
import type { TenantKvCapability } from "./kv/capability.ts";

/** A batch of Request Units granted by the tenant's QuotaBucket, to be spent locally. */
export interface QuotaGrant {
  grantedRu: number;
  /** The bucket's balance after the grant; negative means the tenant is in debt. */
  tokensRu: number;
  /** Ask again within this many ms. */
  validForMs: number;
}

/** The tenant's QuotaBucket, behind the edge's TenantQuota entrypoint (props name the tenant). */
export interface TenantQuotaCapability {
  /** Asks for up to `wantRu`, reporting `consumedRu` spent since the previous call. */
  acquire(wantRu: number, consumedRu?: number): Promise<QuotaGrant>;
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
