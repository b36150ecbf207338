// Where the HTTP API gets a SQL session for its tenant: the engine's createSession over the
// tenant's KV capability. The edge passes the connection's user and database (with the tenant
// part removed) in SESSION_HEADERS; the client cannot set them, the edge overwrites them.
import type { KvUsage } from "../../../common/request-units.ts";
import { statementTimeoutMsOf, type GatewayEnv } from "../env.ts";
import { createSession } from "../sql/session.ts";
import type { SqlSession } from "../sql/result.ts";

// The header names are the edge ↔ gateway agreement (edge-contract.ts).
export { SESSION_HEADERS } from "../edge-contract.ts";
import { SESSION_HEADERS } from "../edge-contract.ts";

/** Where a session's KV usage is charged (the tenant's LocalQuota). */
/** What a session's work is charged to: KV usage as the storage node reports it, and gateway CPU. */
export interface UsageMeter {
  chargeKv(u: KvUsage): void;
  chargeCpu(ms: number): void;
}

export function newSessionFor(env: GatewayEnv, request?: Request, meter?: UsageMeter): SqlSession {
  const settings: Record<string, string> = {};
  const user = request?.headers.get(SESSION_HEADERS.user);
  const database = request?.headers.get(SESSION_HEADERS.database);
  if (user) settings["user"] = user;
  if (database) settings["database"] = database;
  const metered = meter === undefined ? {} : { onKvUsage: (u: KvUsage) => meter.chargeKv(u), onCpuMs: (ms: number) => meter.chargeCpu(ms) };
  const timeout = statementTimeoutMsOf(env);
  return createSession({ kv: env.KV, tenantId: Number(env.TENANT_ID), settings, ...metered, ...(timeout === undefined ? {} : { statementTimeoutMsDefault: timeout }) });
}
