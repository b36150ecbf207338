// The edge Worker's HTTP surface (Hono):
//
//   GET  /                 health: {"service":"warren-edge","gatewayMode":…}
//   POST /sql              Neon's HTTP API → the tenant's gateway
//   GET  /v2               WebSocket: Postgres wire protocol (pgwire/websocket.ts → the tenant's gateway)
//   *    /admin/…          the admin API (admin.ts)
//
// Per isolate it keeps a RouteCache (routing decisions and verified credentials), a GatewayHost
// (the tenant isolates it created), and each tenant's fair share of the isolate: a FIFO of /sql
// requests (TenantRequestQueue) and a count of Postgres sessions (TenantSessions), bounded by
// tenant-limits.ts. All live as long as the isolate.
import { Hono } from "hono";
import { PgError, toPgError } from "../../common/errors.ts";
import { routerFor } from "../../durable-objects/env.ts";
import { SESSION_HEADERS } from "../gateway/http/engine.ts";
import { PGWIRE_HEADERS } from "../gateway/pgwire/websocket.ts";
import { adminRoutes } from "./admin.ts";
import type { EdgeEnv } from "./env.ts";
import { buildGatewayEnv, type EdgeExports, type GatewayCode } from "./gateway-env.ts";
import { GatewayHost, parseGatewayMode, type GatewayHandler } from "./gateway-host.ts";
import { errorResponse } from "./http-errors.ts";
import { limits } from "./limits.ts";
import { CredentialCache } from "./pgwire/credential-cache.ts";
import { BackendKeyCodec } from "./pgwire/backend-key.ts";
import { forwardCancel } from "./pgwire/cancel-forward.ts";
import { acceptPgWebSocket } from "./pgwire/websocket.ts";
import { RouteCache } from "./route-cache.ts";
import { isolateTenantLimits, limitsFor, type TenantLimits } from "./tenant-limits.ts";
import { TenantRequestQueue } from "./tenant-request-queue.ts";
import { TenantSessions } from "./tenant-sessions.ts";
import { identifyTenant, parseConnectionString, tenantFromHost, type ConnectionParams } from "./tenant-identity.ts";
import { settleRpc } from "../../common/rpc.ts";

export interface EdgeDeps {
  /** The gateway's modules for the Worker Loader (loader mode). */
  gatewayCode: () => GatewayCode | Promise<GatewayCode>;
  /** The gateway's entry, called in-process (inline mode). */
  inlineGateway: GatewayHandler;
}

/** Headers that carry client credentials: the gateway never needs them, so they stop here. */
const CREDENTIAL_HEADERS = ["neon-connection-string", "authorization", "cookie"];
/** Headers only the edge may set (the session's identity and keys); a client's copies are dropped. */
const EDGE_HEADERS = [SESSION_HEADERS.user, SESSION_HEADERS.database, ...Object.values(PGWIRE_HEADERS)];

/** This isolate's state (tests read it). */
export interface EdgeState {
  routes: RouteCache;
  gateways: GatewayHost;
  credentials: CredentialCache;
  /** Each tenant's /sql requests running and waiting here. */
  requests: TenantRequestQueue;
  /** Each tenant's /v2 logins in progress and waiting here. */
  logins: TenantRequestQueue;
  /** Each tenant's Postgres sessions here. */
  sessions: TenantSessions;
  /** The isolate's per-tenant limits (limits.ts with the EDGE_* vars). */
  tenantLimits: TenantLimits;
  /** Issues and reads BackendKeyData pairs (key derived from FLEET_SECRET). */
  backendKeys: Promise<BackendKeyCodec>;
}

export interface Edge {
  fetch(request: Request, env: EdgeEnv, ctx: ExecutionContext): Promise<Response>;
  /** This isolate's state, for tests. */
  state(env: EdgeEnv): EdgeState;
}

export function createEdge(deps: EdgeDeps): Edge {
  let routes: RouteCache | null = null;
  let gateways: GatewayHost | null = null;
  let credentials: CredentialCache | null = null;
  let tenantLimits: TenantLimits | null = null;
  let backendKeys: Promise<BackendKeyCodec> | null = null;
  const requests = new TenantRequestQueue();
  const logins = new TenantRequestQueue({
    things: "logins",
    one: "a login",
    hint: "Open fewer connections at once (a pool that opens them one after another logs in as fast), or retry after a short pause.",
  });
  const sessions = new TenantSessions();

  const state = (env: EdgeEnv): EdgeState => {
    routes ??= new RouteCache({
      lookup: (name) => settleRpc(routerFor(env, name).lookup(name)),
      authenticate: (name, password) => settleRpc(routerFor(env, name).authenticate(name, password)),
    });
    gateways ??= new GatewayHost({
      mode: parseGatewayMode(env.GATEWAY_MODE),
      loader: env.LOADER,
      code: deps.gatewayCode,
      inline: deps.inlineGateway,
      isolatesMax: parseIsolatesMax(env.GATEWAY_ISOLATES_MAX),
    });
    credentials ??= new CredentialCache({
      credentials: (name) => settleRpc(routerFor(env, name).credentials(name)),
      loginFailed: (name) => settleRpc(routerFor(env, name).loginFailed(name)),
    });
    tenantLimits ??= isolateTenantLimits(env);
    backendKeys ??= BackendKeyCodec.fromSecret(env.FLEET_SECRET);
    return { routes, gateways, credentials, requests, logins, sessions, tenantLimits, backendKeys };
  };

  const app = new Hono<{ Bindings: EdgeEnv }>();

  app.get("/", (c) => c.json({ service: "warren-edge", gatewayMode: state(c.env).gateways.mode }));

  app.route(
    "/admin",
    adminRoutes((name) => {
      routes?.invalidate(name);
      credentials?.invalidate(name);
    }),
  );

  app.all("/sql", async (c) => {
    try {
      const { routes: cache, gateways: host, requests: queue, tenantLimits: isolateLimits } = state(c.env);
      const header = c.req.header("neon-connection-string");
      const params: ConnectionParams = header !== undefined ? parseConnectionString(header) : {};
      // The connection string's host is often just where the client thinks the server is
      // (localhost, a load balancer); the Host header of the request is the next candidate.
      if (tenantFromHost(params.host) === null) params.host = c.req.header("host");
      const identity = identifyTenant(params);
      if (params.password === undefined) {
        throw new PgError("invalid_password", `no password supplied for virtual cluster "${identity.tenant}"`, {
          hint: "Send Neon-Connection-String: postgresql://USER:PASSWORD@HOST/DATABASE (neon() does).",
        });
      }
      const route = await cache.authenticate(identity.tenant, params.password);
      // Admitted after authentication: requests that cannot authenticate never take a tenant's slot.
      const signal = c.req.raw.signal;
      const release = await queue.acquire(route, limitsFor(isolateLimits, route), signal);
      try {
        const env = buildGatewayEnv(c.executionCtx.exports as unknown as EdgeExports, route, c.env.STATEMENT_TIMEOUT_MS);
        // The client's signal goes along (enable_request_signal): a client that goes away aborts
        // the gateway's request, which cancels its statement (gateway http/sql-handler.ts).
        const forwarded = withoutCredentials(c.req.raw, signal);
        if (identity.user !== undefined) forwarded.headers.set(SESSION_HEADERS.user, identity.user);
        if (identity.database !== undefined) forwarded.headers.set(SESSION_HEADERS.database, identity.database);
        // The gateway builds the whole body before it answers, so the slot is free once it has.
        return await host.fetch(route, forwarded, env, c.executionCtx as ExecutionContext, limits.gatewayRequestCpuMs);
      } finally {
        release();
      }
    } catch (err) {
      // Neon's driver reads Postgres error fields from 400 responses only, so 53300 is a 400 too
      // (with Retry-After for clients that look at HTTP).
      // A client that went away aborted the gateway's request too: not an internal error.
      const e = c.req.raw.signal.aborted ? new PgError("query_canceled", "canceling statement due to user request: the client went away") : toPgError(err);
      const res = errorResponse(e, 400);
      if (e.condition === "too_many_connections") res.headers.set("retry-after", "1");
      return res;
    }
  });

  app.get("/v2", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(new PgError("protocol_violation", "GET /v2 expects a WebSocket upgrade"), 426);
    }
    const { routes: cache, gateways: host, credentials: creds, sessions: open, logins, tenantLimits: isolateLimits, backendKeys: keys } = state(c.env);
    const exports = c.executionCtx.exports as unknown as EdgeExports;
    const ctx = c.executionCtx as ExecutionContext;
    return acceptPgWebSocket({
      host: c.req.header("host"),
      credentials: (name) => creds.get(name),
      loginFailed: (name) => creds.loginFailed(name),
      authenticate: (name, password) => cache.authenticate(name, password),
      openGateway: (route, request) => host.fetch(route, request, buildGatewayEnv(exports, route, c.env.STATEMENT_TIMEOUT_MS), ctx, limits.gatewaySessionCpuMs),
      admitSession: (route) => open.open(route, limitsFor(isolateLimits, route).pgSessionsMax),
      admitLogin: (route) => {
        const l = limitsFor(isolateLimits, route);
        // No abort signal: the upgrade request is answered (101) before the login begins; a client
        // that goes away while its login waits is noticed by the WebSocket (which gives the slot
        // back as soon as it is granted).
        return logins.acquire(route, { sqlRequestsMax: l.loginsMax, sqlQueueMax: l.loginQueueMax, sqlQueueWaitMs: l.loginQueueWaitMs });
      },
      issueBackendKey: async (tenantId) => (await keys).issue(tenantId),
      cancel: (key) =>
        forwardCancel(key, {
          keys,
          tenantWithSessions: (tenantId) => open.tenant(tenantId),
          fetchGateway: (tenant, request) =>
            host.hasIsolate(tenant.tenantId) ? host.fetch(tenant, request, buildGatewayEnv(exports, tenant, c.env.STATEMENT_TIMEOUT_MS), ctx, limits.gatewayRequestCpuMs) : null,
          timeoutMs: limits.cancelForwardTimeoutMs,
        }),
    });
  });

  app.notFound((c) => errorResponse(new PgError("protocol_violation", `no route ${c.req.method} ${c.req.path}`), 404));
  app.onError((err) => errorResponse(toPgError(err)));

  return {
    fetch: (request, env, ctx) => Promise.resolve(app.fetch(request, env, ctx)),
    state,
  };
}

function parseIsolatesMax(text: string | undefined): number {
  if (text === undefined || text === "") return limits.gatewayIsolatesMaxDefault;
  if (!/^[0-9]{1,6}$/.test(text)) throw new Error(`GATEWAY_ISOLATES_MAX must be a non-negative integer, not ${JSON.stringify(text)}`);
  return Number(text);
}

function withoutCredentials(request: Request, signal: AbortSignal): Request {
  const headers = new Headers(request.headers);
  for (const h of [...CREDENTIAL_HEADERS, ...EDGE_HEADERS]) headers.delete(h);
  return new Request(request, { headers, signal });
}
