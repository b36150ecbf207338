// The KV channel of a POST /sql request (request-kv.ts) in front of a real storage node (started in
// Node by the workers project's globalSetup, test/harness/storage-node-setup.ts; its fetches are
// redirected there as in tenant-kv.worker.test.ts):
//   - the KV conformance suite, tenant spans included: the channel is bound to its tenant;
//   - through the edge's real /sql route in loader mode, across the isolate boundary: a stand-in
//     gateway that sends whatever KvRequest the test gives it through the channel it was handed
//     reaches its own tenant's keys, is refused another tenant's (the whole batch, nothing written),
//     and sees the edge's refusals, which the gateway's KV client maps to the SQLSTATEs a client gets;
//   - past kvChannelBatchesMax a batch goes through the TenantKV entrypoint, and still succeeds.
import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, inject, it, vi } from "vitest";
import { decodeResponse, encodeRequest } from "../../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse } from "../../common/kv-protocol/messages.ts";
import { concatBytes } from "../../common/bytes.ts";
import { tenantPrefix } from "../../common/tenant-prefix.ts";
import { directoryOf } from "../../durable-objects/env.ts";
import { DEFAULT_LIMITS } from "../../storage-node/limits.ts";
import type { TenantKvCapability } from "../gateway/kv/capability.ts";
import { kvConformanceSuite } from "../gateway/kv/kv-conformance.ts";
import { kvErrorToPgError } from "../gateway/kv/kv-client.ts";
import { createEdge } from "./app.ts";
import type { EdgeEnv } from "./env.ts";
import type { EdgeExports } from "./gateway-env.ts";
import { limits } from "./limits.ts";
import { RequestKvChannel } from "./request-kv.ts";
import { standInGateway } from "./stand-in-gateway.ts";

const edgeEnv = env as unknown as EdgeEnv;
const edgeExports = exports as unknown as EdgeExports;
const enc = new TextEncoder();

beforeAll(() => {
  const real = inject("storageNodeUrl");
  const configured = edgeEnv.STORAGE_URL.replace(/\/+$/, "");
  const fetchOriginal = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (!req.url.startsWith(configured + "/")) return fetchOriginal(req);
    return fetchOriginal(new Request(real + req.url.slice(configured.length), req));
  });
});

afterAll(() => {
  vi.restoreAllMocks();
});

const channelFor = (e: EdgeEnv, tenantId: number, batchesMax?: number) =>
  new RequestKvChannel(e, tenantId, () => edgeExports.TenantKV({ props: { tenantId } }), batchesMax);

kvConformanceSuite(
  "edge RequestKvChannel (a /sql request's channel) in front of a storage node",
  () => ({
    capability: async (tenantId: number) => channelFor(edgeEnv, tenantId) as TenantKvCapability,
    enforces: { limits: true, tenantSpans: true, malformedAnswered: true },
    keyBytesMax: DEFAULT_LIMITS.keyBytesMax,
  }),
  400,
);

// A gateway that sends the KvRequest it is given (base64 in the query; "zeros:N": N zero bytes, more
// than a /sql body may carry) through env.KV, which in loader mode is the channel the edge handed
// over with the call, and answers the KvResponse bytes.
const KV_RELAY = `export default {
  async fetch(request, env) {
    if (new URL(request.url).pathname.startsWith("/_warren/")) return new Response(null, { status: 204 });
    const { query } = await request.json();
    const bytes = query.startsWith("zeros:") ? new Uint8Array(Number(query.slice(6))) : Uint8Array.from(atob(query), (c) => c.charCodeAt(0));
    return new Response(await env.KV.batch(bytes));
  },
};`;
const relay = standInGateway("kv-relay", KV_RELAY);

function ctx(): ExecutionContext {
  return { exports, props: {}, waitUntil() {}, passThroughOnException() {} } as unknown as ExecutionContext;
}

let counter = 0;
async function makeTenant(): Promise<{ name: string; id: number; password: string }> {
  const r = await directoryOf(edgeEnv).create(`rk${Date.now().toString(36)}${counter++}`, "tenant-password-1");
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** Sends `req` as tenant `t` through the edge's /sql route (loader mode) and the relay gateway. */
async function viaSql(e: EdgeEnv, t: { name: string; password: string }, req: KvRequest | Uint8Array | { zeros: number }): Promise<KvResponse> {
  const edge = createEdge({ gatewayCode: () => relay, inlineGateway: { fetch: async () => new Response("inline must not be used", { status: 500 }) } });
  let query: string;
  if ("zeros" in req) query = `zeros:${req.zeros}`;
  else {
    const bytes = req instanceof Uint8Array ? req : encodeRequest(req);
    let b64 = "";
    for (let i = 0; i < bytes.length; i += 0x8000) b64 += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    query = btoa(b64);
  }
  const res = await edge.fetch(
    new Request("http://edge.test/sql", {
      method: "POST",
      headers: { "Neon-Connection-String": `postgresql://app.${t.name}:${t.password}@localhost/db` },
      body: JSON.stringify({ query, params: [] }),
    }),
    { ...e, GATEWAY_MODE: "loader" },
    ctx(),
  );
  expect(res.status).toBe(200);
  return decodeResponse(new Uint8Array(await res.arrayBuffer()));
}

const keyOf = (tenantId: number, s: string) => concatBytes([tenantPrefix(tenantId), enc.encode(s)]);
const put = (tenantId: number, k: string, v: string): KvRequest => ({ type: "batch", reads: [], writes: [{ op: "put", key: keyOf(tenantId, k), value: enc.encode(v) }] });
const get = (tenantId: number, k: string): KvRequest => ({ type: "read", readTs: null, ops: [{ op: "get", key: keyOf(tenantId, k) }] });

function sqlstate(res: KvResponse): string {
  if (res.type !== "error") throw new Error(`expected an error, got ${res.type}`);
  return kvErrorToPgError(res.error).code;
}

describe("a /sql request's KV channel across the gateway boundary", () => {
  it("reaches its own tenant's keys and is refused another tenant's, writing nothing", async () => {
    const a = await makeTenant();
    const b = await makeTenant();
    expect((await viaSql(edgeEnv, b, put(b.id, "secret", "b's"))).type).toBe("batch");
    expect((await viaSql(edgeEnv, a, put(a.id, "mine", "a's"))).type).toBe("batch");
    const own = await viaSql(edgeEnv, a, get(a.id, "mine"));
    expect(own).toMatchObject({ type: "read" });
    // Tenant a's gateway asks for b's key, and tries to overwrite it next to a key of its own.
    const read = await viaSql(edgeEnv, a, get(b.id, "secret"));
    expect(read).toMatchObject({ type: "error", error: { code: "outside_tenant_span" } });
    const mixed: KvRequest = { type: "batch", reads: [], writes: [{ op: "put", key: keyOf(a.id, "x"), value: enc.encode("1") }, { op: "put", key: keyOf(b.id, "secret"), value: enc.encode("a's") }] };
    expect(await viaSql(edgeEnv, a, mixed)).toMatchObject({ type: "error", error: { code: "outside_tenant_span" } });
    // Nothing of that batch was written, on either side.
    const after = await viaSql(edgeEnv, b, get(b.id, "secret"));
    expect(after.type === "read" && after.results[0]).toMatchObject({ value: enc.encode("b's") });
    const notWritten = await viaSql(edgeEnv, a, get(a.id, "x"));
    expect(notWritten.type === "read" && notWritten.results[0]).toMatchObject({ value: null });
  });

  it("answers the edge's refusals in the protocol's terms, which the gateway maps to SQLSTATEs", async () => {
    const t = await makeTenant();
    // Over kvRequestBytesMax: refused at the edge, storage not contacted → 54000.
    expect(sqlstate(await viaSql(edgeEnv, t, { zeros: limits.kvRequestBytesMax + 1 }))).toBe("54000");
    // An edge without its fleet secret cannot sign for storage → 28000 (the channel alone: an edge
    // without the secret refuses /v2's backend keys too, which is secrets.worker.test.ts's subject).
    const noSecret = { ...edgeEnv, FLEET_SECRET: "" } as EdgeEnv;
    expect(sqlstate(decodeResponse(await channelFor(noSecret, t.id).batch(encodeRequest(get(t.id, "k")))))).toBe("28000");
    // Bytes that are not a KvRequest: the node answers malformed_request (an internal error, XX000).
    expect(sqlstate(await viaSql(edgeEnv, t, enc.encode("not a frame")))).toBe("XX000");
  });
});

describe("RequestKvChannel bound", () => {
  it("forwards kvChannelBatchesMax batches itself, then sends the rest through the TenantKV entrypoint", async () => {
    const tenantId = 480;
    const channel = channelFor(edgeEnv, tenantId, 2);
    for (let i = 0; i < 4; i++) {
      const res = decodeResponse(await channel.batch(encodeRequest(put(tenantId, `k${i}`, `v${i}`))));
      expect(res.type).toBe("batch");
    }
    expect(channel.forwarded).toBe(2);
    expect(channel.overflowed).toBe(2);
    const read = decodeResponse(await channel.batch(encodeRequest(get(tenantId, "k3"))));
    expect(read.type === "read" && read.results[0]).toMatchObject({ value: enc.encode("v3") });
  });

  it("refuses a tenant id that is not one", () => {
    expect(() => new RequestKvChannel(edgeEnv, 0, () => edgeExports.TenantKV({ props: { tenantId: 0 } }))).toThrow();
    expect(() => new RequestKvChannel(edgeEnv, 1.5, () => edgeExports.TenantKV({ props: { tenantId: 1 } }))).toThrow();
  });
});
