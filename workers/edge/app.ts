// The edge Worker's HTTP surface (Hono):
//
//   GET  /                 health: {"service":"warren-edge","gatewayMode":…}
//   POST /sql              Neon's HTTP API → the tenant's gateway
//   GET  /v2               WebSocket: Postgres wire protocol (pgwire/websocket.ts → the tenant's gateway)
//   *    /admin/…          the admin API (admin.ts)
//
// Per isolate it keeps a RouteCache (routing decisions and verified credentials) and a GatewayHost
// (the tenant isolates it created); both live as long as the isolate.
import { Hono } from "hono";
import { PgError, toPgError } from "../../common/errors.ts";
import { routerFor } from "../../durable-objects/env.ts";
import { SESSION_HEADERS } from "../gateway/http/engine.ts";
import { adminRoutes } from "./admin.ts";
import type { EdgeEnv } from "./env.ts";
import { buildGatewayEnv, type EdgeExports, type GatewayCode } from "./gateway-env.ts";
import { GatewayHost, parseGatewayMode, type GatewayHandler } from "./gateway-host.ts";
import { errorResponse } from "./http-errors.ts";
import { limits } from "./limits.ts";
import { CredentialCache } from "./pgwire/credential-cache.ts";
import { acceptPgWebSocket } from "./pgwire/websocket.ts";
import { RouteCache } from "./route-cache.ts";
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
/** Headers only the edge may set (the session's user and database); a client's copies are dropped. */
const EDGE_HEADERS = [SESSION_HEADERS.user, SESSION_HEADERS.database];

export interface Edge {
  fetch(request: Request, env: EdgeEnv, ctx: ExecutionContext): Promise<Response>;
  /** This isolate's state, for tests. */
  state(env: EdgeEnv): { routes: RouteCache; gateways: GatewayHost; credentials: CredentialCache };
}

export function createEdge(deps: EdgeDeps): Edge {
  let routes: RouteCache | null = null;
  let gateways: GatewayHost | null = null;
  let credentials: CredentialCache | null = null;

  const state = (env: EdgeEnv) => {
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
    return { routes, gateways, credentials };
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
      const { routes: cache, gateways: host } = state(c.env);
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
      const env = buildGatewayEnv(c.executionCtx.exports as unknown as EdgeExports, route);
      const forwarded = withoutCredentials(c.req.raw);
      if (identity.user !== undefined) forwarded.headers.set(SESSION_HEADERS.user, identity.user);
      if (identity.database !== undefined) forwarded.headers.set(SESSION_HEADERS.database, identity.database);
      return await host.fetch(route, forwarded, env, c.executionCtx as ExecutionContext);
    } catch (err) {
      // Neon's driver reads Postgres error fields from 400 responses only.
      return errorResponse(err, 400);
    }
  });

  app.get("/v2", (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(new PgError("protocol_violation", "GET /v2 expects a WebSocket upgrade"), 426);
    }
    const { routes: cache, gateways: host, credentials: creds } = state(c.env);
    const exports = c.executionCtx.exports as unknown as EdgeExports;
    const ctx = c.executionCtx as ExecutionContext;
    return acceptPgWebSocket({
      host: c.req.header("host"),
      credentials: (name) => creds.get(name),
      loginFailed: (name) => creds.loginFailed(name),
      authenticate: (name, password) => cache.authenticate(name, password),
      openGateway: (route, request) => host.fetch(route, request, buildGatewayEnv(exports, route), ctx),
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

function withoutCredentials(request: Request): Request {
  const headers = new Headers(request.headers);
  for (const h of [...CREDENTIAL_HEADERS, ...EDGE_HEADERS]) headers.delete(h);
  return new Request(request, { headers });
}
