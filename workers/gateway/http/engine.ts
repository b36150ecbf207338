// Where the HTTP API gets a SQL session for its tenant: the engine's createSession over the
// tenant's KV capability. The edge passes the connection's user and database (with the tenant
// part removed) in SESSION_HEADERS; the client cannot set them, the edge overwrites them.
import type { GatewayEnv } from "../env.ts";
import { createSession } from "../sql/session.ts";
import type { SqlSession } from "../sql/result.ts";

export const SESSION_HEADERS = { user: "warren-session-user", database: "warren-session-database" } as const;

export function newSessionFor(env: GatewayEnv, request?: Request): SqlSession {
  const settings: Record<string, string> = {};
  const user = request?.headers.get(SESSION_HEADERS.user);
  const database = request?.headers.get(SESSION_HEADERS.database);
  if (user) settings["user"] = user;
  if (database) settings["database"] = database;
  return createSession({ kv: env.KV, tenantId: Number(env.TENANT_ID), settings });
}
