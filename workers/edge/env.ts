// The edge Worker's bindings (wrangler.toml). Secrets stay here: nothing below is ever copied into
// a gateway isolate's env (see gateway-env.ts).
import type { ControlEnv } from "../../durable-objects/env.ts";
import type { TenantLimitVars } from "./tenant-limits.ts";

/** Also the EDGE_* overrides of the per-tenant limits (tenant-limits.ts). */
export interface EdgeEnv extends ControlEnv, TenantLimitVars {
  LOADER: WorkerLoader;
  /** Bearer token of the admin API. */
  ADMIN_TOKEN: string;
  /** Key material for sealing interactive HTTP transactions' handles (txn-handle.ts); a Worker secret. */
  TXN_HANDLE_SECRET?: string;
  /** "loader" (default) or "inline". */
  GATEWAY_MODE?: string;
  /** Decimal; see limits.gatewayIsolatesMaxDefault. */
  GATEWAY_ISOLATES_MAX?: string;
  /** Started gateway isolates kept ready, bound to no tenant (limits.gatewayWarmPoolDefault). */
  GATEWAY_WARM_POOL?: string;
  /** Default statement_timeout of every tenant's sessions, decimal ms (unset: the engine's 30 s). */
  STATEMENT_TIMEOUT_MS?: string;
  /**
   * Secret shared with `warren tunnel` to sign the client address it forwards (client-address.ts).
   * Unset: tunnel headers are ignored and only CF-Connecting-IP counts.
   */
  TUNNEL_SECRET?: string;
  /**
   * How a TenantKV channel reaches the storage node: "stream" (default: one persistent KV stream per
   * channel, tenant-kv.ts) or "http" (a fetch per batch, as single TenantKV calls always do); "http"
   * is the fallback and what `bench:fast-path` measures as "before".
   */
  STORAGE_TRANSPORT?: string;
  /**
   * Fault injection for tests (never set in production): TenantQuota holds every grant request this
   * many ms before passing it to the QuotaBucket, so a test can make sessions queue behind one
   * another's grant request (issue 8's hang) without depending on a loaded machine.
   */
  FAULT_QUOTA_GRANT_DELAY_MS?: string;
  /** Idle time before a tenant is suspended, decimal ms; 0 = never (idle-suspension.ts). */
  TENANT_IDLE_SUSPEND_MS?: string;
}

/** What the edge's RPC entrypoints receive as `ctx.props`: the tenant they are bound to. */
export interface TenantProps {
  tenantId: number;
}
