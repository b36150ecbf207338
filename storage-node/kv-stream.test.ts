// The KV stream (kv-stream.ts): pipelined requests on one connection answered by request id, and
// the same isolation as POST /v1/kv — a bad credential never gets a stream, a stream of tenant A
// cannot read or write B's keys or the system span (nothing written), an expired token is refused
// per request, an oversized frame is answered and the connection closed, a malformed frame is
// refused without harming the stream.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest } from "../common/kv-protocol/codec.ts";
import type { KvResponse } from "../common/kv-protocol/messages.ts";
import { KV_STREAM_PATH } from "../common/kv-protocol/stream.ts";
import { SYSTEM_TENANT_ID } from "../common/tenant-prefix.ts";
import { mintTenantToken } from "../common/tenant-token.ts";
import { startStorageNode, type StorageNode } from "./server.ts";
import { bytes, KvHttpClient, text, tkey } from "./testing/kv-client.ts";
import { KvStreamClient, StreamRefused } from "./testing/kv-stream-client.ts";

const SECRET = "stream-fleet-secret-0123456789";
const A = 30;
const B = 31;
const REQUEST_BYTES_MAX = 64 * 1024;

let dir: string;
let node: StorageNode;
let a: KvStreamClient;
let bHttp: KvHttpClient;
let sys: KvHttpClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warren-stream-"));
  node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET, limits: { requestBytesMax: REQUEST_BYTES_MAX, streamInFlightMax: 4 } });
  a = await KvStreamClient.forTenant(node.url, SECRET, A);
  bHttp = await KvHttpClient.forTenant(node.url, SECRET, B);
  sys = await KvHttpClient.forTenant(node.url, SECRET, SYSTEM_TENANT_ID);
  const seed = await bHttp.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(B, "secret"), value: bytes("b-data") }] });
  expect(seed.type).toBe("batch");
});

afterAll(async () => {
  a?.close();
  bHttp?.close();
  sys?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

function errorCode(r: KvResponse): string {
  return r.type === "error" ? r.error.code : `not an error: ${r.type}`;
}

async function tenantBytes(tenantId: number): Promise<number> {
  const { json } = await sys.json(`/v1/admin/stats?tenant=${tenantId}`);
  return (json.tenants as Array<{ mvccBytes: number }>)[0]?.mvccBytes ?? 0;
}

describe("KV stream", () => {
  it("pipelines requests and answers each by its id, with the usage trailer", async () => {
    const writes = Array.from({ length: 20 }, (_, i) => a.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(A, `k${i}`), value: bytes(`v${i}`) }] }));
    for (const w of await Promise.all(writes)) expect(w.type).toBe("batch");
    // More requests in flight than streamInFlightMax (4): the node reads on as answers go out.
    const reads = await Promise.all(Array.from({ length: 20 }, (_, i) => a.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(A, `k${i}`) }] })));
    reads.forEach((r, i) => {
      expect(r.type).toBe("read");
      if (r.type === "read" && r.results[0]!.op === "get") expect(text(r.results[0]!.value)).toBe(`v${i}`);
      expect(r.usage?.readRequests).toBe(1);
    });
  });

  it("refuses an upgrade without a valid token, with the KvResponse error as body", async () => {
    const cases: Array<[string, number, string]> = [
      ["", 401, "unauthenticated"],
      ["Bearer wt1.30.99999999999999.AAAA", 401, "unauthenticated"],
      [`Bearer ${await mintTenantToken("another-fleet-secret-0123456789", { tenantId: A, expiresAtMs: Date.now() + 60_000 })}`, 401, "unauthenticated"],
      [`Bearer ${await mintTenantToken(SECRET, { tenantId: A, expiresAtMs: Date.now() - 1 })}`, 401, "token_expired"],
    ];
    for (const [authorization, status, code] of cases) {
      const err = await KvStreamClient.open(node.url, "", { authorization }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StreamRefused);
      expect((err as StreamRefused).status).toBe(status);
      expect(errorCode(decodeResponse((err as StreamRefused).body))).toBe(code);
    }
    const wrongPath = await KvStreamClient.open(node.url, "x", { path: `${KV_STREAM_PATH}x` }).catch((e: unknown) => e);
    expect((wrongPath as StreamRefused).status).toBe(400);
    const wrongProtocol = await KvStreamClient.open(node.url, "x", { protocol: "websocket" }).catch((e: unknown) => e);
    expect((wrongProtocol as StreamRefused).status).toBe(400);
  });

  it("refuses every key outside the stream's tenant and writes nothing", async () => {
    const before = await tenantBytes(B);
    const sysBefore = await tenantBytes(SYSTEM_TENANT_ID);
    const attacks = await Promise.all([
      a.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(B, "secret") }] }),
      a.send({ type: "read", readTs: null, ops: [{ op: "scan", start: tkey(A, ""), end: tkey(B, "z"), reverse: false, maxRows: 10, maxBytes: 0 }] }),
      a.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(A, "ok"), value: bytes("x") }, { op: "put", key: tkey(B, "secret"), value: bytes("stolen") }] }),
      a.send({ type: "batch", reads: [], writes: [{ op: "clearRange", start: tkey(B, ""), end: tkey(B, "z") }] }),
      a.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(SYSTEM_TENANT_ID, "catalog"), value: bytes("x") }] }),
    ]);
    for (const r of attacks) expect(errorCode(r)).toBe("outside_tenant_span");
    expect(await tenantBytes(B)).toBe(before);
    expect(await tenantBytes(SYSTEM_TENANT_ID)).toBe(sysBefore);
    const ok = await a.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(A, "ok") }] });
    expect(ok.type === "read" && ok.results[0]!.op === "get" ? ok.results[0]!.value : "not read").toBeNull();
    const secret = await bHttp.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(B, "secret") }] });
    expect(secret.type === "read" && secret.results[0]!.op === "get" ? text(secret.results[0]!.value) : "").toBe("b-data");
  });

  it("refuses a malformed frame and keeps serving the stream", async () => {
    const bad = decodeResponse(await a.raw(new Uint8Array([0x57, 0x01, 0x63, 1, 2, 3])));
    expect(errorCode(bad)).toBe("malformed_request");
    const truncated = encodeRequest({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(A, "k1") }] });
    expect(errorCode(decodeResponse(await a.raw(truncated.subarray(0, truncated.length - 2))))).toBe("malformed_request");
    const r = await a.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(A, "k1") }] });
    expect(r.type).toBe("read");
  });

  it("checks the token's expiry on every request, not only at the upgrade", async () => {
    const short = await KvStreamClient.open(node.url, await mintTenantToken(SECRET, { tenantId: A, expiresAtMs: Date.now() + 400 }));
    try {
      expect((await short.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(A, "k1") }] })).type).toBe("read");
      await new Promise((r) => setTimeout(r, 500));
      expect(errorCode(await short.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(A, "k1") }] }))).toBe("token_expired");
    } finally {
      short.close();
    }
  });

  it("answers a frame longer than requestBytesMax with limit_exceeded, then closes, having applied nothing", async () => {
    const s = await KvStreamClient.forTenant(node.url, SECRET, A);
    const before = await tenantBytes(A);
    const big = encodeRequest({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(A, "big"), value: new Uint8Array(REQUEST_BYTES_MAX) }] });
    const closed = s.closed();
    const answer = await s.raw(big);
    expect(errorCode(decodeResponse(answer))).toBe("limit_exceeded");
    await closed;
    expect(await tenantBytes(A)).toBe(before);
  });

  it("refuses a dropped tenant's requests on a stream opened before the drop", async () => {
    const C = 32;
    const c = await KvStreamClient.forTenant(node.url, SECRET, C);
    try {
      expect((await c.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(C, "x"), value: bytes("1") }] })).type).toBe("batch");
      const dropped = await sys.json("/v1/admin/drop-tenant", "POST", { tenantId: C });
      expect(dropped.status).toBe(200);
      expect(errorCode(await c.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(C, "x") }] }))).toBe("tenant_dropped");
    } finally {
      c.close();
    }
  });
});
