// The per-tenant gateway: the module the Worker Loader runs in a gateway isolate (or the edge runs
// inline, GATEWAY_MODE=inline). Its tenant's env is GatewayEnv: capabilities bound to one tenant and
// nothing else; it has no network. The edge has already authenticated the client and removed the
// credentials from the request before it gets here.
//
// Where the tenant's env comes from: in loader mode the isolate is not created for a tenant (the
// edge's warm pool, workers/edge/gateway-host.ts); its own env is empty and each invocation brings
// its tenant's GatewayEnv as the entrypoint's props, so a capability exists in this isolate only
// while the request or session it came with runs. Inline, the edge passes it as env.
//
//   POST /sql    Neon's HTTP API (http/sql-handler.ts, sql-serve.ts); in loader mode the edge calls
//                the GatewaySql entrypoint instead (sql-entrypoint.ts), handing over its KV channel
//   GET  /v2     a Postgres wire connection the edge already authenticated (pgwire/websocket.ts)
//   POST /cancel a CancelRequest the edge routed here (pgwire/websocket.ts serveCancelRequest); the
//                edge calls it as a request of its own, so it never waits behind a running query
//   GATEWAY_LIFECYCLE_PATHS (edge-contract.ts): warm-up of a pooled isolate, release of a tenant,
//                and prepare: the tenant's catalog loaded ahead of its first statement (catalog-prefetch.ts)
import type { GatewayEnv } from "./env.ts";
import { GATEWAY_LIFECYCLE_PATHS, WARM_STEPS } from "./edge-contract.ts";
import { existingLocalQuota, forgetLocalQuota } from "./quota/local-quota.ts";
import { serveCancelRequest, servePgWebSocket } from "./pgwire/websocket.ts";
import { forgetBackends } from "./pgwire/backends.ts";
import { forgetSharedCatalog } from "./catalog/catalog-store.ts";
import { clearParseCache } from "./sql/parse/parser.ts";
import { warmUp } from "./warm-up.ts";
import { prefetchCatalog } from "./catalog-prefetch.ts";
import { serveSql } from "./sql-serve.ts";

// Loader mode's POST /sql: an RPC entrypoint that also takes the request's KV channel (edge-contract.ts).
export { GatewaySql } from "./sql-entrypoint.ts";

/** The tenant's env of this invocation: the props the edge passed (loader mode), else env (inline). */
function tenantEnvOf(env: GatewayEnv | Record<string, never>, ctx?: ExecutionContext): GatewayEnv | null {
  if (typeof (env as Partial<GatewayEnv>).TENANT_ID === "string") return env as GatewayEnv;
  const props = (ctx as { props?: Partial<GatewayEnv> } | undefined)?.props;
  return props !== undefined && props !== null && typeof props.TENANT_ID === "string" ? (props as GatewayEnv) : null;
}

/** Reports the tenant's unreported usage and forgets what this isolate holds for it. */
async function releaseTenant(env: GatewayEnv): Promise<Response> {
  let flushed = true;
  const quota = existingLocalQuota(env.TENANT_ID);
  if (quota !== undefined) {
    try {
      await quota.flush(env.QUOTA, true);
    } catch (err) {
      flushed = false;
      console.error(`gateway: the final usage report of tenant ${env.TENANT_ID} failed`, err);
    }
  }
  forgetLocalQuota(env.TENANT_ID);
  forgetSharedCatalog(Number(env.TENANT_ID));
  forgetBackends(env.TENANT_ID);
  clearParseCache();
  return Response.json({ flushed });
}

export default {
  async fetch(request: Request, rawEnv: GatewayEnv, ctx?: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === GATEWAY_LIFECYCLE_PATHS.warm) {
      try {
        const step = url.searchParams.get("step");
        await warmUp(WARM_STEPS.find((s) => s === step));
      } catch (err) {
        // A warm-up that fails leaves an isolate that is merely cold: still fit to serve.
        console.warn("gateway: warm-up failed", err);
      }
      return new Response(null, { status: 204 });
    }
    const env = tenantEnvOf(rawEnv, ctx);
    if (env === null) {
      return Response.json({ severity: "ERROR", code: "XX000", message: "the gateway was called without a tenant" }, { status: 500 });
    }
    if (url.pathname === GATEWAY_LIFECYCLE_PATHS.release && request.method === "POST") return releaseTenant(env);
    if (url.pathname === GATEWAY_LIFECYCLE_PATHS.prepare && request.method === "POST") {
      // The catalog read is charged to the tenant's LocalQuota and goes with its next report (the
      // first statement's grant request, a usage flush, or the final report on release). No flush
      // loop is started here: it would run on this short invocation's capability, after it ended.
      await prefetchCatalog(env);
      return new Response(null, { status: 204 });
    }
    if (url.pathname === "/v2") return servePgWebSocket(request, env, ctx);
    if (url.pathname === "/cancel" && request.method === "POST") return serveCancelRequest(request, env);
    if (url.pathname === "/sql") return serveSql(request, env, ctx);
    return Response.json(
      { severity: "ERROR", code: "08P01", message: `the gateway serves POST /sql, GET /v2 and POST /cancel, not ${request.method} ${url.pathname}` },
      { status: 404 },
    );
  },
};
