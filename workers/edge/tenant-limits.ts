// What one tenant may use of one edge isolate: concurrent `/sql` requests (and how many wait, and
// how long) and Postgres sessions. The values are limits.ts's, overridable per deployment by vars
// (tests use them to reach the edges with a handful of requests instead of hundreds):
//
//   EDGE_SQL_REQUESTS_PER_TENANT   limits.sqlRequestsPerTenantMax
//   EDGE_SQL_QUEUE_PER_TENANT      limits.sqlQueuePerTenantMax
//   EDGE_SQL_QUEUE_WAIT_MS         limits.sqlQueueWaitMsMax
//   EDGE_SQL_REFUSAL_HOLD_MS       limits.sqlRefusalHoldMs
//   EDGE_SQL_REFUSALS_HELD         limits.sqlRefusalsHeldPerTenantMax
//   EDGE_SQL_REFUSALS_PER_SECOND   limits.sqlRefusalsPerTenantPerSecond (0: not paced)
//   EDGE_PG_SESSIONS_PER_TENANT    limits.pgSessionsPerTenantMax
//   EDGE_LOGINS_PER_TENANT         limits.loginsPerTenantMax
//   EDGE_LOGIN_QUEUE_PER_TENANT    limits.loginQueuePerTenantMax
//   EDGE_LOGIN_QUEUE_WAIT_MS       limits.loginQueueWaitMsMax
//   EDGE_PRESTARTUP_TOTAL          limits.preStartupWebSocketsMax
//   EDGE_PRESTARTUP_PER_TENANT     limits.preStartupWebSocketsPerTenantMax
//   EDGE_PRESTARTUP_TIMEOUT_MS     limits.preStartupTimeoutMs
//
// The seam for per-tenant values: `limitsFor(route)` is the one place that decides a tenant's
// limits. Today every tenant gets the isolate's values; when the control plane keeps a per-tenant
// setting, the router's Route carries it (cached with the route, so still no call per query) and
// limitsFor merges it over these.
import type { TenantRef } from "./gateway-env.ts";
import { limits } from "./limits.ts";

export interface TenantLimits {
  /** `/sql` requests running at once. */
  sqlRequestsMax: number;
  /** `/sql` requests waiting for a running slot, in arrival order. */
  sqlQueueMax: number;
  /** Longest a `/sql` request waits for a slot. */
  sqlQueueWaitMs: number;
  /** How long a refusal of a request whose line is full is held before it is sent. */
  refusalHoldMs: number;
  /** Refusals held at once; past it they are sent at once. */
  refusalsHeldMax: number;
  /** Held refusals sent per second at most (0: not paced). */
  refusalsPerSecond: number;
  /** Longest a refusal is held for the pacing. */
  refusalHoldMsMax: number;
  /** Postgres sessions (`/v2` past authentication). */
  pgSessionsMax: number;
  /** `/v2` logins in progress at once. */
  loginsMax: number;
  /** Logins waiting for one of those slots, in arrival order. */
  loginQueueMax: number;
  /** Longest a login waits for a slot. */
  loginQueueWaitMs: number;
  /** `/v2` connections before their startup packet, in the isolate (pre-startup.ts). */
  preStartupTotalMax: number;
  /** Of those, connections whose Host names one tenant. */
  preStartupPerTenantMax: number;
  /** Time from accept to the startup packet. */
  preStartupTimeoutMs: number;
}

/** The vars of tenant-limits (a subset of EdgeEnv). */
export interface TenantLimitVars {
  EDGE_SQL_REQUESTS_PER_TENANT?: string;
  EDGE_SQL_QUEUE_PER_TENANT?: string;
  EDGE_SQL_QUEUE_WAIT_MS?: string;
  EDGE_SQL_REFUSAL_HOLD_MS?: string;
  EDGE_SQL_REFUSALS_HELD?: string;
  EDGE_SQL_REFUSALS_PER_SECOND?: string;
  EDGE_PG_SESSIONS_PER_TENANT?: string;
  EDGE_LOGINS_PER_TENANT?: string;
  EDGE_LOGIN_QUEUE_PER_TENANT?: string;
  EDGE_LOGIN_QUEUE_WAIT_MS?: string;
  EDGE_PRESTARTUP_TOTAL?: string;
  EDGE_PRESTARTUP_PER_TENANT?: string;
  EDGE_PRESTARTUP_TIMEOUT_MS?: string;
}

/** The isolate's limits: limits.ts, with any var overriding its value. Throws on a malformed var. */
export function isolateTenantLimits(vars: TenantLimitVars): TenantLimits {
  return {
    sqlRequestsMax: parseVar("EDGE_SQL_REQUESTS_PER_TENANT", vars.EDGE_SQL_REQUESTS_PER_TENANT, limits.sqlRequestsPerTenantMax, 1),
    sqlQueueMax: parseVar("EDGE_SQL_QUEUE_PER_TENANT", vars.EDGE_SQL_QUEUE_PER_TENANT, limits.sqlQueuePerTenantMax, 0),
    sqlQueueWaitMs: parseVar("EDGE_SQL_QUEUE_WAIT_MS", vars.EDGE_SQL_QUEUE_WAIT_MS, limits.sqlQueueWaitMsMax, 0),
    refusalHoldMs: parseVar("EDGE_SQL_REFUSAL_HOLD_MS", vars.EDGE_SQL_REFUSAL_HOLD_MS, limits.sqlRefusalHoldMs, 0),
    refusalsHeldMax: parseVar("EDGE_SQL_REFUSALS_HELD", vars.EDGE_SQL_REFUSALS_HELD, limits.sqlRefusalsHeldPerTenantMax, 0),
    refusalsPerSecond: parseVar("EDGE_SQL_REFUSALS_PER_SECOND", vars.EDGE_SQL_REFUSALS_PER_SECOND, limits.sqlRefusalsPerTenantPerSecond, 0),
    refusalHoldMsMax: limits.sqlRefusalHoldMsMax,
    pgSessionsMax: parseVar("EDGE_PG_SESSIONS_PER_TENANT", vars.EDGE_PG_SESSIONS_PER_TENANT, limits.pgSessionsPerTenantMax, 1),
    loginsMax: parseVar("EDGE_LOGINS_PER_TENANT", vars.EDGE_LOGINS_PER_TENANT, limits.loginsPerTenantMax, 1),
    loginQueueMax: parseVar("EDGE_LOGIN_QUEUE_PER_TENANT", vars.EDGE_LOGIN_QUEUE_PER_TENANT, limits.loginQueuePerTenantMax, 0),
    loginQueueWaitMs: parseVar("EDGE_LOGIN_QUEUE_WAIT_MS", vars.EDGE_LOGIN_QUEUE_WAIT_MS, limits.loginQueueWaitMsMax, 0),
    preStartupTotalMax: parseVar("EDGE_PRESTARTUP_TOTAL", vars.EDGE_PRESTARTUP_TOTAL, limits.preStartupWebSocketsMax, 1),
    preStartupPerTenantMax: parseVar("EDGE_PRESTARTUP_PER_TENANT", vars.EDGE_PRESTARTUP_PER_TENANT, limits.preStartupWebSocketsPerTenantMax, 1),
    preStartupTimeoutMs: parseVar("EDGE_PRESTARTUP_TIMEOUT_MS", vars.EDGE_PRESTARTUP_TIMEOUT_MS, limits.preStartupTimeoutMs, 1),
  };
}

/**
 * One tenant's limits. The seam for a per-tenant setting from the control plane: it would arrive on
 * the cached route and be merged over `isolate` here; nothing else needs to change.
 */
export function limitsFor(isolate: TenantLimits, _tenant: TenantRef): TenantLimits {
  return isolate;
}

function parseVar(name: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined || text === "") return fallback;
  if (!/^[0-9]{1,7}$/.test(text) || Number(text) < min) {
    throw new Error(`${name} must be an integer of at least ${min}, not ${JSON.stringify(text)}`);
  }
  return Number(text);
}
