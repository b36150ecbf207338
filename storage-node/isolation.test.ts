// Tenant isolation at the storage node: with tenant A's token, every attempt at another tenant's
// keys, the system span, a span straddling the boundary, and every bad credential or malformed
// frame is refused with the documented error, and nothing is written (checked with the system
// credential through the admin stats and a direct read).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest } from "../common/kv-protocol/codec.ts";
import type { KvErrorName, KvRequest, ReadResult, WriteOp } from "../common/kv-protocol/messages.ts";
import { SYSTEM_TENANT_ID, tenantPrefix, tenantSpan } from "../common/tenant-prefix.ts";
import { mintTenantToken } from "../common/tenant-token.ts";
import { startStorageNode, type StorageNode } from "./server.ts";
import { bytes, KvHttpClient, randomTxnId, text, tkey } from "./testing/kv-client.ts";

const SECRET = "isolation-fleet-secret-01234567";
const A = 20;
const B = 21;

let dir: string;
let node: StorageNode;
let a: KvHttpClient;
let b: KvHttpClient;
let sys: KvHttpClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warren-iso-"));
  node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET });
  a = await KvHttpClient.forTenant(node.url, SECRET, A);
  b = await KvHttpClient.forTenant(node.url, SECRET, B);
  sys = await KvHttpClient.forTenant(node.url, SECRET, SYSTEM_TENANT_ID);
  const seed = await b.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(B, "secret"), value: bytes("b-data") }] });
  expect(seed.type).toBe("batch");
});

afterAll(async () => {
  for (const c of [a, b, sys]) c?.close();
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function writtenBytes(): Promise<Record<number, number>> {
  const { json } = await sys.json("/v1/admin/stats");
  const out: Record<number, number> = {};
  for (const t of json.tenants as Array<{ tenantId: number; mvccBytes: number }>) if (t.mvccBytes !== 0) out[t.tenantId] = t.mvccBytes;
  return out;
}

async function refusedWith(client: KvHttpClient, req: KvRequest | Uint8Array, code: KvErrorName, status: number): Promise<void> {
  const frame = req instanceof Uint8Array ? req : encodeRequest(req);
  const res = await client.raw(frame);
  const decoded = decodeResponse(res.body);
  expect(decoded.type, JSON.stringify(decoded, (_k, v) => (typeof v === "bigint" ? String(v) : v))).toBe("error");
  if (decoded.type === "error") expect(decoded.error.code).toBe(code);
  expect(res.status).toBe(status);
}

const aOk = tkey(A, "mine");
const bKey = tkey(B, "secret");
const sysKey = tkey(SYSTEM_TENANT_ID, "catalog");
const nodeLocal = new Uint8Array([0x01, 0x63]); // the node's own metadata key
const straddle = { start: tkey(A, "zzz"), end: tkey(B, "a") };
const bSpan = tenantSpan(B);

describe("tenant isolation", () => {
  it("refuses every operation aimed outside tenant A's span, writing nothing", async () => {
    const before = await writtenBytes();
    const put = (key: Uint8Array): WriteOp => ({ op: "put", key, value: bytes("evil") });
    const attempts: Array<[string, KvRequest]> = [];
    for (const [name, key] of [
      ["B key", bKey],
      ["system key", sysKey],
      ["node-local key", nodeLocal],
      ["empty key", new Uint8Array(0)],
      ["bare tag byte", new Uint8Array([0x74])],
      ["B prefix", tenantPrefix(B)],
    ] as const) {
      attempts.push([`get ${name}`, { type: "read", readTs: null, ops: [{ op: "get", key }] }]);
      attempts.push([`put ${name} (with a valid A put first)`, { type: "batch", reads: [], writes: [put(aOk), put(key)] }]);
      attempts.push([`delete ${name}`, { type: "batch", reads: [], writes: [{ op: "delete", key }] }]);
      attempts.push([`cput ${name}`, { type: "batch", reads: [], writes: [{ op: "cput", key, value: bytes("x"), expected: null }] }]);
      attempts.push([`commit put ${name}`, { type: "commit", txnId: randomTxnId(), readTs: 1n, readSpans: [], writes: [put(aOk), put(key)] }]);
    }
    for (const [name, s] of [
      ["straddling span", straddle],
      ["B span", bSpan],
      ["system span", tenantSpan(SYSTEM_TENANT_ID)],
      ["whole keyspace", { start: new Uint8Array(0), end: new Uint8Array([0xff]) }],
      ["span ending past A", { start: tkey(A, ""), end: tenantSpan(A + 1).end }],
    ] as const) {
      attempts.push([`scan ${name}`, { type: "read", readTs: null, ops: [{ op: "scan", ...s, reverse: false, maxRows: 10, maxBytes: 1000 }] }]);
      attempts.push([`reverse scan ${name}`, { type: "read", readTs: null, ops: [{ op: "scan", ...s, reverse: true, maxRows: 10, maxBytes: 1000 }] }]);
      attempts.push([`deleteRange ${name}`, { type: "batch", reads: [], writes: [put(aOk), { op: "deleteRange", ...s }] }]);
      attempts.push([`commit read span ${name}`, { type: "commit", txnId: randomTxnId(), readTs: 1n, readSpans: [s], writes: [put(aOk)] }]);
    }
    for (const [name, req] of attempts) {
      await refusedWith(a, req, "outside_tenant_span", 403).catch((e: Error) => {
        throw new Error(`${name}: ${e.message}`);
      });
    }
    expect(await writtenBytes()).toEqual(before);
    const check = await b.send({ type: "read", readTs: null, ops: [{ op: "get", key: bKey }] });
    expect(check.type === "read" && text((check.results[0] as { value: Uint8Array }).value)).toBe("b-data");
    const mine = await a.send({ type: "read", readTs: null, ops: [{ op: "get", key: aOk }] });
    expect(mine.type === "read" && (mine.results[0] as Extract<ReadResult, { op: "get" }>).value).toBeNull();
  });

  it("refuses bad credentials: missing, expired, other secret, tampered tenant id, garbage", async () => {
    const before = await writtenBytes();
    const write = encodeRequest({ type: "batch", reads: [], writes: [{ op: "put", key: bKey, value: bytes("evil") }] });
    const withToken = (token: string) => {
      const c = new KvHttpClient(node.url, token);
      return c;
    };
    const expired = await mintTenantToken(SECRET, { tenantId: B, expiresAtMs: Date.now() - 1 });
    const otherSecret = await mintTenantToken("some-other-fleet-secret-999", { tenantId: B, expiresAtMs: Date.now() + 60_000 });
    const goodA = await mintTenantToken(SECRET, { tenantId: A, expiresAtMs: Date.now() + 60_000 });
    const tampered = goodA.replace(`wt1.${A}.`, `wt1.${B}.`);
    const tamperedSystem = goodA.replace(`wt1.${A}.`, `wt1.1.`);
    const cases: Array<[string, string, KvErrorName]> = [
      ["expired", expired, "token_expired"],
      ["other secret", otherSecret, "unauthenticated"],
      ["tampered tenant id", tampered, "unauthenticated"],
      ["tampered to system", tamperedSystem, "unauthenticated"],
      ["garbage", "not-a-token", "unauthenticated"],
      ["empty", "", "unauthenticated"],
    ];
    for (const [name, token, code] of cases) {
      const c = withToken(token);
      try {
        await refusedWith(c, write, code, 401).catch((e: Error) => {
          throw new Error(`${name}: ${e.message}`);
        });
      } finally {
        c.close();
      }
    }
    const noAuth = await a.raw(write, { authorization: "" });
    expect(noAuth.status).toBe(401);
    // Admin endpoints need the system token.
    expect((await a.json("/v1/admin/stats")).status).toBe(401);
    expect((await a.json("/v1/admin/drop-tenant", "POST", { tenantId: B })).status).toBe(401);
    expect(await writtenBytes()).toEqual(before);
  });

  it("refuses malformed frames with malformed_request and never crashes", async () => {
    const before = await writtenBytes();
    const valid = encodeRequest({ type: "batch", reads: [], writes: [{ op: "put", key: aOk, value: bytes("v") }] });
    const frames: Uint8Array[] = [new Uint8Array(0), new Uint8Array([0x57]), new Uint8Array([0x57, 1, 99]), valid.subarray(0, valid.length - 1), new Uint8Array([...valid, 0])];
    for (let i = 0; i < 50; i++) frames.push(crypto.getRandomValues(new Uint8Array(1 + (i % 40))));
    for (const f of frames) {
      const res = await a.raw(f);
      const decoded = decodeResponse(res.body);
      expect(decoded.type).toBe("error");
      if (decoded.type === "error") expect(decoded.error.code).toBe("malformed_request");
      expect(res.status).toBe(400);
    }
    // A span with start after end, inside A, is malformed too.
    await refusedWith(a, { type: "read", readTs: null, ops: [{ op: "scan", start: tkey(A, "b"), end: tkey(A, "a"), reverse: false, maxRows: 1, maxBytes: 1 }] }, "malformed_request", 400);
    expect(await writtenBytes()).toEqual(before);
    expect((await a.json("/healthz")).status).toBe(200);
  });

  it("lets the system tenant drop a tenant's whole span; the dropped tenant is refused", async () => {
    const w = await a.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(A, "k1"), value: bytes("1") }, { op: "put", key: tkey(A, "k2"), value: bytes("2") }] });
    expect(w.type).toBe("batch");
    const drop = await sys.json("/v1/admin/drop-tenant", "POST", { tenantId: A });
    expect(drop.status).toBe(200);
    expect(drop.json.removedVersions).toBe(2);
    await refusedWith(a, { type: "read", readTs: null, ops: [{ op: "get", key: tkey(A, "k1") }] }, "tenant_dropped", 410);
    const stats = await sys.json("/v1/admin/stats");
    const ta = (stats.json.tenants as Array<{ tenantId: number; liveBytes: number; mvccBytes: number; dropped: boolean }>).find((t) => t.tenantId === A)!;
    expect(ta).toMatchObject({ liveBytes: 0, mvccBytes: 0, dropped: true });
    // B is untouched.
    const check = await b.send({ type: "read", readTs: null, ops: [{ op: "get", key: bKey }] });
    expect(check.type === "read" && text((check.results[0] as { value: Uint8Array }).value)).toBe("b-data");
    // The metrics endpoint shows per-tenant counters.
    const metrics = await sys.json("/metrics");
    expect(String(metrics.json)).toContain(`warren_storage_requests_total{tenant="${B}"}`);
    // …to the system credential only: a tenant's token and no token are refused, and nothing is revealed.
    for (const client of [b, new KvHttpClient(sys.url.toString(), "")]) {
      const refused = await client.json("/metrics");
      expect(refused.status).toBe(401);
      expect(JSON.stringify(refused.json)).not.toContain("warren_storage_requests_total");
    }
  });
});
