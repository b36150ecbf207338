// For the edge's workerd tests: turns a stand-in gateway module (JavaScript source whose default
// export is `{ fetch(request, env, ctx) }`, loaded through the Worker Loader as real gateways are)
// into one that also has the GatewaySql entrypoint the edge calls for POST /sql in loader mode
// (workers/gateway/edge-contract.ts). The adapter does what the real one does at the boundary
// (workers/gateway/sql-entrypoint.ts): the request rebuilt from the call's bytes with a signal that
// cancel(callId) aborts, the KV channel given as env.KV, the whole answer returned as bytes; so a
// stand-in still sees its request, its signal and its tenant's props.
import type { GatewayCode } from "./gateway-env.ts";

const ADAPTER = `
import { WorkerEntrypoint } from "cloudflare:workers";
import standIn from "./stand-in.js";
export default standIn;
const running = new Map();
export class GatewaySql extends WorkerEntrypoint {
  async sql(call, kv) {
    const abort = new AbortController();
    running.set(call.callId, abort);
    try {
      const request = new Request(call.url, { method: call.method, headers: call.headers, body: call.body, signal: abort.signal });
      const res = await standIn.fetch(request, { ...this.ctx.props, KV: kv }, this.ctx);
      return { status: res.status, headers: [...res.headers], body: new Uint8Array(await res.arrayBuffer()) };
    } finally {
      running.delete(call.callId);
    }
  }
  cancel(callId) {
    const abort = running.get(callId);
    abort?.abort(new Error("the client went away"));
    return abort !== undefined;
  }
}`;

/** The stand-in's source as a gateway bundle with the GatewaySql entrypoint (`version` names it in isolate ids). */
export function standInGateway(version: string, source: string): GatewayCode {
  return { version, mainModule: "gateway.js", modules: { "gateway.js": ADAPTER, "stand-in.js": source } };
}
