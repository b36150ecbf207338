// The per-tenant gateway: the module the Worker Loader runs in a tenant's own isolate (or the edge
// runs inline, GATEWAY_MODE=inline). Its env is GatewayEnv: capabilities bound to one tenant and
// nothing else; it has no network. The edge has already authenticated the client and removed the
// credentials from the request before it gets here.
//
//   POST /sql    Neon's HTTP API (http/sql-handler.ts)
//   GET  /v2     a Postgres wire connection the edge already authenticated (pgwire/websocket.ts)
//   POST /cancel a CancelRequest the edge routed here (pgwire/websocket.ts serveCancelRequest); the
//                edge calls it as a request of its own, so it never waits behind a running query
import type { GatewayEnv } from "./env.ts";
import { newSessionFor } from "./http/engine.ts";
import { localQuotaFor } from "./quota/local-quota.ts";
import { handleSql } from "./http/sql-handler.ts";
import { InteractiveTxn } from "./http/interactive-txn.ts";
import { capabilityTransport, KvClient } from "./kv/kv-client.ts";
import { serveCancelRequest, servePgWebSocket } from "./pgwire/websocket.ts";

export default {
  async fetch(request: Request, env: GatewayEnv, _ctx?: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/v2") return servePgWebSocket(request, env);
    if (url.pathname === "/cancel" && request.method === "POST") return serveCancelRequest(request, env);
    if (url.pathname === "/sql") {
      const quota = localQuotaFor(env.TENANT_ID, env.QUOTA);
      // The end records' reads and writes (interactive-txn.ts) are charged like the session's.
      const kv = new KvClient(capabilityTransport(env.KV));
      kv.onUsage = (u) => quota.chargeKv(u);
      return handleSql(request, () => newSessionFor(env, request, quota), quota, () => InteractiveTxn.fromRequest(request, kv, Number(env.TENANT_ID)));
    }
    return Response.json(
      { severity: "ERROR", code: "08P01", message: `the gateway serves POST /sql, GET /v2 and POST /cancel, not ${request.method} ${url.pathname}` },
      { status: 404 },
    );
  },
};
