// The edge Worker's HTTP surface (Hono):
//
//   GET  /                 health: {"service":"warren-edge","gatewayMode":…}
//   POST /sql              Neon's HTTP API → the tenant's gateway; interactive transactions through
//                          the sealed Warren-Transaction handle (sql-transaction.ts)
//   OPTIONS /sql, /        CORS preflight, answered without a tenant (cors.ts)
//   GET  /v2               WebSocket: Postgres wire protocol (pgwire/websocket.ts → the tenant's gateway)
//   *    /admin/…          the admin API (admin.ts)
//   GET  /metrics          Prometheus text, admin token (metrics.ts)
//   GET  /admin            the operator page (console/routes.ts: sign-in form, cookie session)
//
// Per isolate it keeps a RouteCache (routing decisions and verified credentials), a GatewayHost
// (the tenant isolates it created), and each tenant's fair share of the isolate: a FIFO of /sql
// requests (TenantRequestQueue) and a count of Postgres sessions (TenantSessions), bounded by
// tenant-limits.ts. All live as long as the isolate.
import { Hono, type Context } from "hono";
import { exports as workerExports } from "cloudflare:workers";
import { PgError, toPgError } from "../../common/errors.ts";
import { routerFor } from "../../durable-objects/env.ts";
import { PGWIRE_HEADERS, SESSION_HEADERS, TXN_HEADERS } from "../gateway/edge-contract.ts";
import { readBodyLimited } from "../gateway/http/body.ts";
import { limits as sqlHttpLimits } from "../gateway/http/limits.ts";
import { adminRoutes, requireAdmin, tokensEqual } from "./admin.ts";
import { TenantOperations, type AdminHooks } from "./tenant-operations.ts";
import { openSystemSession } from "./system/session.ts";
import { consoleRoutes } from "./console/routes.ts";
import { systemCredentials } from "./system/credentials.ts";
import { SYSTEM_CLUSTER_NAME } from "./tenant-identity.ts";
import { parseBackendKey } from "../gateway/pgwire/backends.ts";
import { secretOf } from "../../durable-objects/env.ts";
import { renderMetrics } from "./metrics.ts";
import { fleetRoutes } from "./fleet-route.ts";
import type { EdgeEnv } from "./env.ts";
import { buildGatewayEnv, type EdgeExports, type GatewayCode } from "./gateway-env.ts";
import { GatewayHost, parseGatewayMode, type GatewayHandler } from "./gateway-host.ts";
import { errorResponse } from "./http-errors.ts";
import { limits } from "./limits.ts";
import { CredentialCache } from "./pgwire/credential-cache.ts";
import { BackendKeyCodec } from "./pgwire/backend-key.ts";
import { forwardCancel } from "./pgwire/cancel-forward.ts";
import { acceptPgWebSocket } from "./pgwire/websocket.ts";
import { RequestKvChannel } from "./request-kv.ts";
import { RouteCache } from "./route-cache.ts";
import { isolateTenantLimits, limitsFor, type TenantLimits } from "./tenant-limits.ts";
import { TenantRequestQueue } from "./tenant-request-queue.ts";
import { PreStartupSockets } from "./pre-startup.ts";
import { TenantSessions } from "./tenant-sessions.ts";
import { identifyTenant, parseConnectionString, tenantFromHost, type ConnectionParams } from "./tenant-identity.ts";
import { settleRpc } from "../../common/rpc.ts";
import { checkOrigin, preflightResponse, withCors } from "./cors.ts";
import { openTxnHandle, sealTxnResponse, sealerFromEnv, type SealerOrMissing } from "./sql-transaction.ts";
import { IdleSuspender, parseIdleMs } from "./idle-suspension.ts";
import { EdgeAccess } from "./access.ts";
import { clientAddress } from "./client-address.ts";
import type { Route } from "../../durable-objects/router/tenant-router.ts";
import { TenantActivity } from "./tenant-activity.ts";
import { ServerTiming } from "./server-timing.ts";
import type { TenantRef } from "./gateway-env.ts";
import type { GatewayEnv } from "../gateway/env.ts";

export interface EdgeDeps {
  /** The gateway's modules for the Worker Loader (loader mode). */
  gatewayCode: () => GatewayCode | Promise<GatewayCode>;
  /** The gateway's entry, called in-process (inline mode). */
  inlineGateway: GatewayHandler;
}

/** Headers that carry client credentials: the gateway never needs them, so they stop here. */
const CREDENTIAL_HEADERS = ["neon-connection-string", "authorization", "cookie"];
/** Headers only the edge may set (the session's identity and keys); a client's copies are dropped. */
const EDGE_HEADERS = [SESSION_HEADERS.user, SESSION_HEADERS.database, ...Object.values(PGWIRE_HEADERS), ...Object.values(TXN_HEADERS)];

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
  /** `/v2` connections that have not sent their startup packet yet (pre-startup.ts). */
  preStartup: PreStartupSockets;
  /** The isolate's per-tenant limits (limits.ts with the EDGE_* vars). */
  tenantLimits: TenantLimits;
  /** Issues and reads BackendKeyData pairs (key derived from FLEET_SECRET). */
  backendKeys: Promise<BackendKeyCodec>;
  /** Seals and opens HTTP transaction handles (key from TXN_HANDLE_SECRET), or why it cannot. */
  txnSealing: Promise<SealerOrMissing>;
  /** Each tenant's live sessions and requests here, and when it was last active. */
  activity: TenantActivity;
  /** Suspends tenants idle for TENANT_IDLE_SUSPEND_MS (idle-suspension.ts). */
  idle: IdleSuspender;
  /** Lets go of everything this isolate holds for a tenant (its gateway isolate, caches, activity); resolves once its isolate reported the tenant's usage. */
  release(tenant: TenantRef): Promise<unknown>;
  /** Deny list, login throttle, allowed networks, connection caps (access.ts). */
  access: EdgeAccess;
}

/** A password login through the RouteCache (/sql, cleartext on /v2), with the edge's access checks. */
async function passwordLogin(s: EdgeState, tenant: string, password: string, address: string): Promise<Route> {
  await s.access.admit(tenant, address);
  let route: Route;
  try {
    route = await s.routes.authenticate(tenant, password, address);
  } catch (err) {
    if (err instanceof PgError && err.condition === "invalid_password") s.access.failed(tenant, address);
    throw err;
  }
  s.access.allowedNetwork(route, address);
  return route;
}

/**
 * Has the tenant's gateway load its catalog while authentication is still going on, so a resumed or
 * new tenant's first statement does not wait one storage round trip for it (gateway-host.ts
 * prepare, workers/gateway/catalog-prefetch.ts). Two callers:
 * - a Postgres connection, once the tenant's route is known and the address passed the deny list,
 *   the throttle and the allowed networks, before the password is proven (the SCRAM exchange takes
 *   two more round trips with the client): the router has already resumed the tenant at that point
 *   (router credentials()), and what a client that then fails to authenticate costs is one catalog
 *   read and an isolate bound to the tenant, which the prepare enters as a request of the tenant so
 *   that idle suspension releases it again;
 * - a tenant created through this isolate, behind the answer of the request that created it (the
 *   admin API; for CREATE VIRTUAL CLUSTER in a system SQL session, the next request's).
 */
function prepareGateway(s: EdgeState, route: Route, env: GatewayEnv, address: string, ctx: ExecutionContext): void {
  if (!s.gateways.needsPrepare(route.tenantId)) return;
  const leave = s.activity.enter(route, "request", address, () => {});
  ctx.waitUntil(s.gateways.prepare(route, env, ctx).finally(leave));
}

/** 57P01, as Postgres ends sessions on pg_terminate_backend or shutdown. */
function terminated(name: string, why: string): PgError {
  return new PgError("admin_shutdown", `terminating connection due to administrator command: virtual cluster "${name}" ${why}`);
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
  let txnSealing: Promise<SealerOrMissing> | null = null;
  let idle: IdleSuspender | null = null;
  let access: EdgeAccess | null = null;
  const requests = new TenantRequestQueue();
  const logins = new TenantRequestQueue({
    things: "logins",
    one: "a login",
    hint: "Open fewer connections at once (a pool that opens them one after another logs in as fast), or retry after a short pause.",
  });
  const sessions = new TenantSessions();
  const preStartup = new PreStartupSockets();
  const activity = new TenantActivity();
  /** Tenants created by the request being served, prepared behind its answer (the middleware). */
  const created: Route[] = [];
  const release = (tenant: TenantRef): Promise<unknown> => {
    routes?.invalidate(tenant.name);
    credentials?.invalidate(tenant.name);
    activity.forget(tenant.tenantId);
    // The isolate reports the tenant's last usage and forgets it before it serves anyone else.
    return gateways?.release(tenant.tenantId) ?? Promise.resolve(false);
  };

  const state = (env: EdgeEnv): EdgeState => {
    routes ??= new RouteCache({
      // A tenant this isolate is suspending for idleness is asked for only once its router has the mark.
      lookup: async (name) => {
        await idle?.settled(name);
        return settleRpc(routerFor(env, name).lookup(name));
      },
      authenticate: async (name, password, address) => {
        await idle?.settled(name);
        return settleRpc(routerFor(env, name).authenticate(name, password, address));
      },
    });
    gateways ??= new GatewayHost({
      mode: parseGatewayMode(env.GATEWAY_MODE),
      loader: env.LOADER,
      code: deps.gatewayCode,
      inline: deps.inlineGateway,
      isolatesMax: parseCount("GATEWAY_ISOLATES_MAX", env.GATEWAY_ISOLATES_MAX, limits.gatewayIsolatesMaxDefault),
      warmPool: parseCount("GATEWAY_WARM_POOL", env.GATEWAY_WARM_POOL, limits.gatewayWarmPoolDefault),
      warmQuietMs: limits.gatewayWarmQuietMs,
      warmWaitMsMax: limits.gatewayWarmWaitMsMax,
      busy: (tenantId) => sessions.count(tenantId) > 0,
      envFor: (tenant) => buildGatewayEnv(workerExports as unknown as EdgeExports, tenant, env.STATEMENT_TIMEOUT_MS),
    });
    credentials ??= new CredentialCache({
      credentials: async (name, address) => {
        await idle?.settled(name);
        return settleRpc(routerFor(env, name).credentials(name, address));
      },
      loginFailed: (name, address) => settleRpc(routerFor(env, name).loginFailed(name, address)),
    });
    tenantLimits ??= isolateTenantLimits(env);
    backendKeys ??= BackendKeyCodec.fromSecret(env.FLEET_SECRET);
    txnSealing ??= sealerFromEnv(env as unknown as Record<string, unknown>);
    idle ??= new IdleSuspender(env, { release: (t) => release(t), idleTenants: (ms) => activity.idleTenants(ms), nextIdleInMs: (ms) => activity.nextIdleInMs(ms) }, parseIdleMs(env.TENANT_IDLE_SUSPEND_MS));
    access ??= new EdgeAccess(env, activity);
    return { routes, gateways, credentials, requests, logins, sessions, preStartup, tenantLimits, backendKeys, txnSealing, activity, idle, release, access };
  };

  const adminHooks: AdminHooks = {
    changed: (name) => {
      routes?.invalidate(name);
      credentials?.invalidate(name);
    },
    created: async (tenant, route, verifier) => {
      await routes?.seed(tenant.name, route, tenant.password);
      if (verifier !== undefined) credentials?.seed(tenant.name, route, verifier);
      created.push(route);
    },
    // An operator's suspend or drop ends the tenant's live work here at once (57P01) and lets go of
    // its isolate; other edge isolates stop routing it within one route TTL.
    stopped: async (tenant, why) => {
      activity.end(tenant.tenantId, terminated(tenant.name, why));
      // An idle suspension of the tenant in progress here reports its usage first (a suspend
      // answers only once every usage report is in).
      await idle?.settled(tenant.name);
      return release(tenant);
    },
    denyChanged: (list) => access?.deny.set(list),
    live: (tenantId) => ({ ...activity.live(tenantId), gatewayIsolate: gateways?.hasIsolate(tenantId) ?? false }),
  };

  const app = new Hono<{ Bindings: EdgeEnv }>();

  // Idle tenants are suspended when any request arrives (so one that is asked for now resumes), and a
  // timer behind the request catches the next one to go idle. Work for a tenant does not wait for
  // other tenants' suspensions: the route caches ask a tenant's router only after its own
  // suspension is marked, and an operator's suspend or drop waits for its own tenant's
  // (IdleSuspender.settled). Reads of state (GET of the admin API, the operator page, /metrics)
  // wait for all of them, so what they show already includes every suspension due.
  app.use("*", async (c, next) => {
    const s = state(c.env);
    s.gateways.noteActivity();
    const swept = s.idle.sweep();
    if (c.req.method === "GET" && c.req.path !== "/v2") await swept;
    else keepWorking(c.executionCtx as ExecutionContext, swept);
    await next();
    s.idle.schedule(c.executionCtx as ExecutionContext);
    // Tenants created by this request: their gateways load the (new) catalog behind the answer, so
    // the first query finds it (before prewarm, which would hand out the isolate it starts).
    for (const tenant of created.splice(0)) {
      prepareGateway(s, tenant, buildGatewayEnv(workerExports as unknown as EdgeExports, tenant, c.env.STATEMENT_TIMEOUT_MS), "", c.executionCtx as ExecutionContext);
    }
    // Started gateway isolates ready for the next tenant's first request (gateway-host.ts).
    s.gateways.prewarm(c.executionCtx as ExecutionContext);
  });

  app.get("/", (c) => withCors(c.json({ service: "warren-edge", gatewayMode: state(c.env).gateways.mode }), c.req.header("origin") ?? null));
  app.options("/", (c) => preflightResponse(c.req.raw));
  app.options("/sql", (c) => preflightResponse(c.req.raw));

  app.route("/fleet", fleetRoutes());

  // Prometheus text, admin token (metrics.ts).
  app.get("/metrics", async (c) => {
    try {
      await requireAdmin(c);
      return new Response(await renderMetrics(c.env, state(c.env)), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
    } catch (err) {
      return errorResponse(err);
    }
  });

  // The operator page (cookie session) before the admin API (bearer token) under the same prefix.
  consoleRoutes(app, (env) => new TenantOperations(env, adminHooks));
  app.route("/admin", adminRoutes(adminHooks));

  app.all("/sql", async (c) => withCors(await sql(c), c.req.header("origin") ?? null));

  const sql = async (c: Context<{ Bindings: EdgeEnv }>): Promise<Response> => {
    let stoppedBy: PgError | null = null;
    try {
      const s = state(c.env);
      const { gateways: host, requests: queue, tenantLimits: isolateLimits, activity } = s;
      const address = await clientAddress(c.req.raw.headers, c.env.TUNNEL_SECRET);
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
      const timing = new ServerTiming();
      const authStartMs = Date.now();
      const route = await passwordLogin(s, identity.tenant, params.password, address);
      timing.since("auth", authStartMs);
      checkOrigin(route, c.req.header("origin"));
      c.executionCtx.waitUntil(s.access.succeeded(route.name, address));
      // A tenant whose line is full is refused before the body is read, after a hold that keeps a
      // looping client from turning refusals into a flood of their own (tenant-request-queue.ts).
      const tenantLimits = limitsFor(isolateLimits, route);
      if (queue.full(route.tenantId, tenantLimits)) await queue.refuse(route, tenantLimits, c.req.raw.signal);
      // The body is read here, after authentication and within the gateway's own bound (400 54000
      // at any size, by its declared length or while it streams in): a large body streamed on into
      // the gateway's isolate and refused there broke the pipe between the two (an HTTP 500 page).
      const body = c.req.method === "POST" || c.req.method === "PUT" ? await readBodyLimited(c.req.raw, sqlHttpLimits.sqlRequestBytesMax, "request body") : null;
      // Admitted after authentication: requests that cannot authenticate never take a tenant's slot.
      // The request ends early when the client goes away or an operator stops the tenant.
      const stop = new AbortController();
      const signal = AbortSignal.any([c.req.raw.signal, stop.signal]);
      const leave = activity.enter(route, "request", address, (err) => {
        stoppedBy = err;
        stop.abort(err);
      });
      let release: () => void = () => {};
      try {
        release = await queue.acquire(route, tenantLimits, signal);
        const env = buildGatewayEnv(c.executionCtx.exports as unknown as EdgeExports, route, c.env.STATEMENT_TIMEOUT_MS);
        // The client's signal goes along (enable_request_signal): a client that goes away aborts
        // the gateway's request, which cancels its statement (gateway http/sql-handler.ts).
        const forwarded = withoutCredentials(c.req.raw, body, signal);
        if (identity.user !== undefined) forwarded.headers.set(SESSION_HEADERS.user, identity.user);
        if (identity.database !== undefined) forwarded.headers.set(SESSION_HEADERS.database, identity.database);
        const sealing = await state(c.env).txnSealing;
        const expiresAtMs = await openTxnHandle(c.req.raw, forwarded.headers, route, sealing, Date.now());
        // The gateway builds the whole body before it answers, so the slot is free once it has.
        const gatewayStartMs = Date.now();
        // The request's own KV channel: the gateway's storage batches run in this invocation (request-kv.ts).
        const kv = new RequestKvChannel(c.env, route.tenantId, () => env.KV);
        const res = await host.sql(route, forwarded, body, env, kv, c.executionCtx as ExecutionContext, limits.gatewayRequestCpuMs);
        timing.since("gateway", gatewayStartMs);
        if (stoppedBy !== null) throw stoppedBy;
        return timing.appendTo(await sealTxnResponse(res, route, sealing, expiresAtMs));
      } finally {
        release();
        leave();
      }
    } catch (err) {
      // Neon's driver reads Postgres error fields from 400 responses only, so 53300 is a 400 too
      // (with Retry-After for clients that look at HTTP).
      // A client that went away aborted the gateway's request too: not an internal error.
      const e = stoppedBy !== null ? stoppedBy : c.req.raw.signal.aborted ? new PgError("query_canceled", "canceling statement due to user request: the client went away") : toPgError(err);
      const res = errorResponse(e, 400);
      if (e.condition === "too_many_connections") res.headers.set("retry-after", "1");
      return res;
    }
  };

  app.get("/v2", async (c) => {
    if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
      return errorResponse(new PgError("protocol_violation", "GET /v2 expects a WebSocket upgrade"), 426);
    }
    const s = state(c.env);
    const { gateways: host, credentials: creds, sessions: open, logins, tenantLimits: isolateLimits, backendKeys: keys, activity, access } = s;
    const address = await clientAddress(c.req.raw.headers, c.env.TUNNEL_SECRET);
    const exports = c.executionCtx.exports as unknown as EdgeExports;
    const ctx = c.executionCtx as ExecutionContext;
    const preStartupBounds = { totalMax: isolateLimits.preStartupTotalMax, perTenantMax: isolateLimits.preStartupPerTenantMax };
    return acceptPgWebSocket({
      host: c.req.header("host"),
      preStartup: () => s.preStartup.admit(tenantFromHost(c.req.header("host")), preStartupBounds),
      preStartupTimeoutMs: isolateLimits.preStartupTimeoutMs,
      // Deny list and throttle first, then the verifier; the allowed networks before any proof is checked.
      credentials: async (name) => {
        await access.admit(name, address);
        if (name === SYSTEM_CLUSTER_NAME) return systemCredentials(c.env);
        const found = await creds.get(name, address);
        access.allowedNetwork(found.route, address);
        prepareGateway(s, found.route, buildGatewayEnv(exports, found.route, c.env.STATEMENT_TIMEOUT_MS), address, ctx);
        return found;
      },
      loginFailed: (name) => {
        access.failed(name, address);
        return name === SYSTEM_CLUSTER_NAME ? Promise.resolve() : creds.loginFailed(name, address);
      },
      authenticate: async (name, password) => {
        if (name !== SYSTEM_CLUSTER_NAME) return passwordLogin(s, name, password, address);
        await access.admit(name, address);
        const token = secretOf(c.env as unknown as Record<string, unknown>, "ADMIN_TOKEN");
        if ("missing" in token) throw new PgError("config_file_error", `the system virtual cluster is disabled: ${token.missing}`);
        if (!(await tokensEqual(password, token.value))) {
          access.failed(name, address);
          throw new PgError("invalid_password", 'password authentication failed for the system virtual cluster (its password is the admin token)');
        }
        return (await systemCredentials(c.env)).route;
      },
      openGateway: async (route, request) =>
        route.name === SYSTEM_CLUSTER_NAME
          ? openSystemSession(() => new TenantOperations(c.env, adminHooks), parseBackendKey(request.headers.get(PGWIRE_HEADERS.backendKey)) ?? { processId: 1, secretKey: 0 })
          : host.fetch(route, request, buildGatewayEnv(exports, route, c.env.STATEMENT_TIMEOUT_MS), ctx, limits.gatewaySessionCpuMs),
      admitSession: (route, end) => {
        // The system cluster: operators' sessions, not a tenant's (no cap, no idle suspension).
        if (route.name === SYSTEM_CLUSTER_NAME) return () => {};
        // A page from an origin the tenant does not allow (browsers send Origin on the upgrade).
        checkOrigin(route, c.req.header("origin"));
        // Past authentication: the address is exempt from the throttle; the tenant's cap applies.
        void access.succeeded(route.name, address);
        access.maxConnections(route, open.count(route.tenantId));
        const close = open.open(route, limitsFor(isolateLimits, route).pgSessionsMax);
        const leave = activity.enter(route, "session", address, end);
        return () => {
          close();
          leave();
        };
      },
      admitLogin: (route) => {
        // The system cluster's operators do not queue behind a tenant's logins.
        if (route.name === SYSTEM_CLUSTER_NAME) return Promise.resolve(() => {});
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

/** Keeps `work` running behind the response. */
function keepWorking(ctx: ExecutionContext, work: Promise<unknown>): void {
  ctx.waitUntil(work.catch((err: unknown) => console.warn("edge: idle suspension failed", err)));
}

function parseCount(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined || text === "") return fallback;
  if (!/^[0-9]{1,6}$/.test(text)) throw new Error(`${name} must be a non-negative integer, not ${JSON.stringify(text)}`);
  return Number(text);
}

function withoutCredentials(request: Request, body: Uint8Array | null, signal: AbortSignal): Request {
  const headers = new Headers(request.headers);
  for (const h of [...CREDENTIAL_HEADERS, ...EDGE_HEADERS]) headers.delete(h);
  headers.delete("content-length");
  headers.delete("transfer-encoding");
  return new Request(request.url, { method: request.method, headers, body, signal });
}
