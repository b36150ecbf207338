// GatewaySql: loader mode's way into a gateway isolate for POST /sql (edge-contract.ts has the
// contract and the reasons). The edge calls sql(call, kv) with the request as bytes and the
// request's KV channel, an RpcTarget living in the edge's /sql invocation: each KV batch of the
// request is then a call on that object rather than a fresh invocation of the edge's TenantKV
// entrypoint. Everything else of the tenant's env (QUOTA and the labels) comes in the props, as for
// every other invocation (index.ts). The tenant is fixed by the edge in both: the channel's tenant
// is set where it is created, from the authenticated route, and this isolate cannot change it.
import { WorkerEntrypoint } from "cloudflare:workers";
import { GATEWAY_SQL_ENTRYPOINT, type GatewaySqlAnswer, type GatewaySqlCall } from "./edge-contract.ts";
import type { GatewayEnv } from "./env.ts";
import type { TenantKvCapability } from "./kv/capability.ts";
import { limits } from "./http/limits.ts";
import { serveSql } from "./sql-serve.ts";

/** A running call: its tenant (a cancel must come with the same one) and what aborts its request. */
interface RunningCall {
  readonly tenantId: string;
  readonly abort: AbortController;
}

/** Calls running in this isolate, by call id. An entry lives exactly as long as its call. */
const running = new Map<string, RunningCall>();
/**
 * Cancels that arrived before their call (two RPC calls from the edge are not ordered): the call
 * finds its id here when it starts and begins aborted. Oldest forgotten first past the bound.
 */
const cancelledEarly = new Map<string, string>();

function propsOf(ctx: ExecutionContext): GatewayEnv {
  const props = (ctx as { props?: Partial<GatewayEnv> }).props;
  if (props === undefined || props === null || typeof props.TENANT_ID !== "string") throw new Error("GatewaySql was called without a tenant");
  return props as GatewayEnv;
}

export class GatewaySql extends WorkerEntrypoint<Record<string, never>> {
  /** Runs one /sql request with `kv` as the tenant's KV capability; the whole answer comes back as bytes. */
  async sql(call: GatewaySqlCall, kv: TenantKvCapability): Promise<GatewaySqlAnswer> {
    const props = propsOf(this.ctx);
    if (typeof call?.callId !== "string" || call.callId.length === 0 || call.callId.length > 64) throw new TypeError("GatewaySql.sql needs a call id of 1-64 characters");
    const abort = new AbortController();
    if (cancelledEarly.get(call.callId) === props.TENANT_ID) abort.abort(new Error("the client went away"));
    cancelledEarly.delete(call.callId);
    running.set(call.callId, { tenantId: props.TENANT_ID, abort });
    try {
      const request = new Request(call.url, { method: call.method, headers: call.headers, body: call.body, signal: abort.signal });
      const res = await serveSql(request, { ...props, KV: kv }, this.ctx);
      return { status: res.status, headers: [...res.headers], body: new Uint8Array(await res.arrayBuffer()) };
    } finally {
      running.delete(call.callId);
    }
  }

  /** The edge's client went away: abort that call's request (its statement is cancelled). Only the same tenant's call. */
  cancel(callId: string): boolean {
    const props = propsOf(this.ctx);
    const call = running.get(callId);
    if (call === undefined) {
      cancelledEarly.set(callId, props.TENANT_ID);
      while (cancelledEarly.size > limits.earlyCancelsMax) cancelledEarly.delete(cancelledEarly.keys().next().value!);
      return false;
    }
    if (call.tenantId !== props.TENANT_ID) return false;
    call.abort.abort(new Error("the client went away"));
    return true;
  }
}

// The name the edge calls; a rename must change both.
GATEWAY_SQL_ENTRYPOINT satisfies "GatewaySql";
