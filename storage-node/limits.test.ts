// Every limit in limits.ts at its edge: the largest allowed request succeeds, one more is refused
// with a clear error and writes nothing. Plus MVCC garbage collection.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KvResponse, ReadResult, WriteOp } from "../common/kv-protocol/messages.ts";
import { tenantPrefix } from "../common/tenant-prefix.ts";
import { DEFAULT_LIMITS, KEY_BYTES_MAX, resolveLimits } from "./limits.ts";
import { startStorageNode, type StorageNode } from "./server.ts";
import { bytes, KvHttpClient, randomTxnId, text, tkey } from "./testing/kv-client.ts";

const SECRET = "test-fleet-secret-limits-0123";
const T = 9;
const L = {
  batchEntriesMax: 50,
  txnWriteBytesMax: 64 * 1024,
  valueBytesMax: 16 * 1024,
  requestBytesMax: 256 * 1024,
  scanRowsMax: 10,
  scanBytesMax: 2000,
  responseBytesMax: 40 * 1024,
  deleteRangeKeysMax: 20,
  openTxnsPerTenantMax: 3,
  txnDurationMsMax: 400,
  gcWindowMs: 60_000,
};

let dirs: string[] = [];
const nodes: StorageNode[] = [];
const clients: KvHttpClient[] = [];

async function boot(limits: Partial<typeof DEFAULT_LIMITS>) {
  const dir = mkdtempSync(join(tmpdir(), "warren-limits-"));
  dirs.push(dir);
  const node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET, limits });
  nodes.push(node);
  const kv = await KvHttpClient.forTenant(node.url, SECRET, T);
  clients.push(kv);
  return { node, kv };
}

let kv: KvHttpClient;
beforeAll(async () => {
  ({ kv } = await boot(L));
});
afterAll(async () => {
  for (const c of clients) c.close();
  for (const n of nodes) await n.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
  // Several nodes to stop, each draining its writer thread: slow on a loaded 2-core machine.
}, 60_000);

function errCode(res: KvResponse): string {
  return res.type === "error" ? res.error.code : `ok:${res.type}`;
}

const puts = (n: number, prefix: string, valueBytes = 1): WriteOp[] =>
  Array.from({ length: n }, (_, i) => ({ op: "put" as const, key: tkey(T, `${prefix}/${String(i).padStart(4, "0")}`), value: new Uint8Array(valueBytes).fill(97) }));

async function count(prefix: string): Promise<number> {
  const r = await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start: tkey(T, `${prefix}/`), end: tkey(T, `${prefix}0`), reverse: false, maxRows: 10, maxBytes: 2000 }] });
  if (r.type !== "read") throw new Error(errCode(r));
  return (r.results[0] as Extract<ReadResult, { op: "scan" }>).rows.length;
}

describe("storage limits at their edges", () => {
  it("rejects configurations that would break correctness", () => {
    expect(() => resolveLimits({ keyBytesMax: KEY_BYTES_MAX + 1 })).toThrow(/LMDB/);
    expect(() => resolveLimits({ gcWindowMs: 1000, txnDurationMsMax: 2000 })).toThrow(/gcWindowMs/);
    expect(KEY_BYTES_MAX).toBe(984);
  });

  it("key size: the largest key (all zero bytes, the worst case for escaping) is stored; one byte more is refused", async () => {
    const key = new Uint8Array(KEY_BYTES_MAX);
    key.set(tenantPrefix(T));
    const ok = await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key, value: bytes("edge") }] });
    expect(errCode(ok)).toBe("ok:batch");
    const got = await kv.send({ type: "read", readTs: null, ops: [{ op: "get", key }] });
    expect(got.type === "read" && text((got.results[0] as { value: Uint8Array }).value)).toBe("edge");
    const big = new Uint8Array(KEY_BYTES_MAX + 1);
    big.set(tenantPrefix(T));
    const res = await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key: big, value: bytes("x") }] });
    expect(errCode(res)).toBe("limit_exceeded");
    expect(res.type === "error" && res.error.message).toMatch(/keyBytesMax/);
    expect(res.status).toBe(413);
  });

  it("value size", async () => {
    expect(errCode(await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "val"), value: new Uint8Array(L.valueBytesMax) }] }))).toBe("ok:batch");
    const res = await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "val2"), value: new Uint8Array(L.valueBytesMax + 1) }] });
    expect(errCode(res)).toBe("limit_exceeded");
    expect(res.type === "error" && res.error.message).toMatch(/valueBytesMax/);
  });

  it("batch entries", async () => {
    expect(errCode(await kv.send({ type: "batch", reads: [], writes: puts(L.batchEntriesMax, "be") }))).toBe("ok:batch");
    const res = await kv.send({ type: "batch", reads: [], writes: puts(L.batchEntriesMax + 1, "be2") });
    expect(errCode(res)).toBe("limit_exceeded");
    expect(res.type === "error" && res.error.message).toMatch(/batchEntriesMax/);
    expect(await count("be2")).toBe(0);
  });

  it("transaction write bytes", async () => {
    // 8 puts of (12-byte key + v) bytes: fill exactly to the limit, then one byte over.
    const keyLen = tkey(T, "tw/0000").length;
    const per = L.txnWriteBytesMax / 8 - keyLen;
    expect(errCode(await kv.send({ type: "batch", reads: [], writes: puts(8, "tw", per) }))).toBe("ok:batch");
    const over = puts(8, "tw2", per);
    (over[7] as { value: Uint8Array }).value = new Uint8Array(per + 1);
    const res = await kv.send({ type: "batch", reads: [], writes: over });
    expect(errCode(res)).toBe("limit_exceeded");
    expect(res.type === "error" && res.error.message).toMatch(/txnWriteBytesMax/);
    expect(await count("tw2")).toBe(0);
  });

  it("request body bytes", async () => {
    const res = await kv.raw(new Uint8Array(L.requestBytesMax + 1));
    expect(res.status).toBe(413);
    const { decodeResponse } = await import("../common/kv-protocol/codec.ts");
    const decoded = decodeResponse(res.body);
    expect(errCode(decoded)).toBe("limit_exceeded");
    expect(decoded.type === "error" && decoded.error.message).toMatch(/requestBytesMax/);
  });

  it("scan page rows and bytes", async () => {
    await kv.send({ type: "batch", reads: [], writes: puts(30, "sp", 50) });
    const r = await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start: tkey(T, "sp/"), end: tkey(T, "sp0"), reverse: false, maxRows: 1000, maxBytes: 1 << 30 }] });
    const page = r.type === "read" ? (r.results[0] as Extract<ReadResult, { op: "scan" }>) : null;
    // 10 rows x 62 bytes fit in scanBytesMax (2000): the row cap binds.
    expect(page?.rows).toHaveLength(L.scanRowsMax);
    expect(text(page?.resumeKey)).toContain("sp/0010");
    const bigRows = await kv.send({ type: "batch", reads: [], writes: puts(5, "sb", 900) });
    expect(errCode(bigRows)).toBe("ok:batch");
    const r2 = await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start: tkey(T, "sb/"), end: tkey(T, "sb0"), reverse: false, maxRows: 1000, maxBytes: 1 << 30 }] });
    // 912-byte rows: two fit in 2000 bytes, a third would not.
    expect(r2.type === "read" && (r2.results[0] as Extract<ReadResult, { op: "scan" }>).rows).toHaveLength(2);
  });

  it("response bytes over a multi-get", async () => {
    for (const w of puts(3, "rb", L.valueBytesMax - 100)) expect(errCode(await kv.send({ type: "batch", reads: [], writes: [w] }))).toBe("ok:batch");
    const keys = Array.from({ length: 3 }, (_, i) => ({ op: "get" as const, key: tkey(T, `rb/${String(i).padStart(4, "0")}`) }));
    // ~16 KB each: two fit in 40 KB, three do not.
    expect(errCode(await kv.send({ type: "read", readTs: null, ops: keys.slice(0, 2) }))).toBe("ok:read");
    const res = await kv.send({ type: "read", readTs: null, ops: keys.slice(0, 3) });
    expect(errCode(res)).toBe("limit_exceeded");
    expect(res.type === "error" && res.error.message).toMatch(/responseBytesMax/);
  });

  it("deleteRange keys per commit", async () => {
    await kv.send({ type: "batch", reads: [], writes: puts(L.deleteRangeKeysMax, "dk") });
    await kv.send({ type: "batch", reads: [], writes: puts(L.deleteRangeKeysMax + 1, "dl") });
    expect(errCode(await kv.send({ type: "batch", reads: [], writes: [{ op: "deleteRange", start: tkey(T, "dk/"), end: tkey(T, "dk0") }] }))).toBe("ok:batch");
    expect(await count("dk")).toBe(0);
    const res = await kv.send({ type: "batch", reads: [], writes: [{ op: "deleteRange", start: tkey(T, "dl/"), end: tkey(T, "dl0") }] });
    expect(errCode(res)).toBe("limit_exceeded");
    expect(res.type === "error" && res.error.message).toMatch(/deleteRangeKeysMax/);
    expect(await count("dl")).toBe(10); // first page of the untouched 21 keys
  });

  it("open transactions per tenant", async () => {
    const other = await KvHttpClient.forTenant(kv.url.toString(), SECRET, T + 1);
    clients.push(other);
    const opened: bigint[] = [];
    for (let i = 0; i < L.openTxnsPerTenantMax; i++) {
      const r = await other.send({ type: "begin" });
      if (r.type !== "begin") throw new Error(errCode(r));
      opened.push(r.readTs);
    }
    const res = await other.send({ type: "begin" });
    expect(errCode(res)).toBe("too_many_open_transactions");
    expect(res.status).toBe(429);
    // Finishing one frees a slot.
    expect(errCode(await other.send({ type: "abort", txnId: randomTxnId(), readTs: opened[0]! }))).toBe("ok:abort");
    expect(errCode(await other.send({ type: "begin" }))).toBe("ok:begin");
  });

  it("transaction duration and transaction id size", async () => {
    const r = await kv.send({ type: "begin" });
    if (r.type !== "begin") throw new Error(errCode(r));
    const write: WriteOp[] = [{ op: "put", key: tkey(T, "dur"), value: bytes("x") }];
    expect(errCode(await kv.send({ type: "commit", txnId: randomTxnId(), readTs: r.readTs, readSpans: [], writes: write }))).toBe("ok:commit");
    const old = await kv.send({ type: "begin" });
    if (old.type !== "begin") throw new Error(errCode(old));
    await new Promise((res) => setTimeout(res, L.txnDurationMsMax + 100));
    const res = await kv.send({ type: "commit", txnId: randomTxnId(), readTs: old.readTs, readSpans: [], writes: [{ op: "put", key: tkey(T, "dur"), value: bytes("late") }] });
    expect(errCode(res)).toBe("transaction_expired");
    expect(res.type === "error" && res.error.message).toMatch(/txnDurationMsMax/);
    expect(errCode(await kv.send({ type: "commit", txnId: new Uint8Array(DEFAULT_LIMITS.txnIdBytesMax + 1), readTs: old.readTs, readSpans: [], writes: write }))).toBe("malformed_request");
    expect(errCode(await kv.send({ type: "commit", txnId: new Uint8Array(0), readTs: old.readTs, readSpans: [], writes: write }))).toBe("malformed_request");
  });
});

describe("clearing limits at their edges", () => {
  async function sysClient(node: StorageNode): Promise<KvHttpClient> {
    const c = await KvHttpClient.forTenant(node.url, SECRET, 1);
    clients.push(c);
    return c;
  }
  async function versionsIn(sys: KvHttpClient, p: string): Promise<{ versions: number; more: boolean }> {
    const hex = (k: Uint8Array) => Buffer.from(k).toString("hex");
    return (await sys.json(`/v1/admin/span-versions?tenantId=${T}&start=${hex(tkey(T, `${p}/`))}&end=${hex(tkey(T, `${p}0`))}`)).json;
  }
  const clearOf = (p: string): WriteOp => ({ op: "clearRange", start: tkey(T, `${p}/`), end: tkey(T, `${p}0`) });
  async function waitFor(f: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (!(await f())) {
      if (Date.now() > deadline) throw new Error("timed out");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it("clearChunkKeysMax: a span of exactly that many versions goes in one step; one more needs a second step", async () => {
    const { node, kv: c } = await boot({ clearChunkKeysMax: 25, clearChunkPauseMs: 60_000 });
    const sys = await sysClient(node);
    await c.send({ type: "batch", reads: [], writes: [...puts(25, "ca"), ...puts(26, "cb")] });
    expect(errCode(await c.send({ type: "batch", reads: [], writes: [clearOf("ca")] }))).toBe("ok:batch");
    await waitFor(async () => (await sys.json("/v1/admin/stats")).json.node.clearsPending === 0);
    expect((await versionsIn(sys, "ca")).versions).toBe(0);
    expect(errCode(await c.send({ type: "batch", reads: [], writes: [clearOf("cb")] }))).toBe("ok:batch");
    await waitFor(async () => (await versionsIn(sys, "cb")).versions < 26);
    // One step took 25; the last version waits for the next step, a minute away.
    expect((await versionsIn(sys, "cb")).versions).toBe(1);
    expect((await sys.json("/v1/admin/stats")).json.node.clearsPending).toBe(1);
  });

  it("clearChunkPauseMs: steps of one clear are at least the pause apart", async () => {
    const pause = 700;
    const { node, kv: c } = await boot({ clearChunkKeysMax: 10, clearChunkPauseMs: pause });
    const sys = await sysClient(node);
    await c.send({ type: "batch", reads: [], writes: puts(30, "cp") });
    expect(errCode(await c.send({ type: "batch", reads: [], writes: [clearOf("cp")] }))).toBe("ok:batch");
    const seen: Array<[number, number]> = [];
    await waitFor(async () => {
      const v = (await versionsIn(sys, "cp")).versions;
      if (seen.length === 0 || seen[seen.length - 1]![0] !== v) seen.push([v, Date.now()]);
      return v === 0;
    });
    const at = (v: number) => seen.find(([n]) => n === v)?.[1];
    expect(at(20)).toBeDefined();
    expect(at(10)! - at(20)!).toBeGreaterThanOrEqual(pause - 50);
    expect(at(0)! - at(10)!).toBeGreaterThanOrEqual(pause - 50);
  });

  it("clearSpansPerTenantMax: that many records are kept; one more clear is refused (54000) and writes nothing", async () => {
    const { node, kv: c } = await boot({ clearSpansPerTenantMax: 3 });
    const sys = await sysClient(node);
    await c.send({ type: "batch", reads: [], writes: puts(5, "cr") });
    expect(errCode(await c.send({ type: "batch", reads: [], writes: [clearOf("c1"), clearOf("c2")] }))).toBe("ok:batch");
    // Two more at once would make four: refused whole.
    const two = await c.send({ type: "batch", reads: [], writes: [clearOf("c3"), clearOf("c4")] });
    expect(errCode(two)).toBe("limit_exceeded");
    expect(two.status).toBe(413);
    expect(two.type === "error" && two.error.message).toMatch(/clearSpansPerTenantMax/);
    expect(errCode(await c.send({ type: "batch", reads: [], writes: [clearOf("c3")] }))).toBe("ok:batch");
    const res = await c.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "cz"), value: bytes("x") }, clearOf("cr")] });
    expect(errCode(res)).toBe("limit_exceeded");
    expect((await versionsIn(sys, "cr")).versions).toBe(5);
    expect(await c.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(T, "cz") }] })).toMatchObject({ results: [{ value: null }] });
    expect((await sys.json("/v1/admin/stats")).json.node.clearRecords).toBe(3);
  });

  it("adminCensusVersionsMax: exactly that many versions are counted; one more answers more: true", async () => {
    const { node, kv: c } = await boot({ adminCensusVersionsMax: 5 });
    const sys = await sysClient(node);
    await c.send({ type: "batch", reads: [], writes: [...puts(5, "n5"), ...puts(6, "n6")] });
    expect(await versionsIn(sys, "n5")).toMatchObject({ versions: 5, more: false });
    expect(await versionsIn(sys, "n6")).toMatchObject({ versions: 5, more: true });
  });
});

describe("MVCC garbage collection", () => {
  it("removes versions older than the window, keeps what snapshots in the window see, and refuses older reads", async () => {
    const { node, kv: gc } = await boot({ gcWindowMs: 1200, txnDurationMsMax: 1000, gcIntervalMs: 150 });
    const key = tkey(T, "gc/k");
    const write = async (v: string | null) => {
      const r = await gc.send({ type: "batch", reads: [], writes: [v === null ? { op: "delete", key: tkey(T, "gc/dead") } : { op: "put", key, value: bytes(v) }] });
      if (r.type !== "batch") throw new Error(errCode(r));
      return r.commitTs;
    };
    await gc.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "gc/dead"), value: bytes("soon gone") }] });
    const oldTs = await write("v1");
    await write("v2");
    await write("v3");
    await write(null);
    const system = await KvHttpClient.forTenant(node.url, SECRET, 1);
    clients.push(system);
    const stats = async () => (await system.json("/v1/admin/stats")).json as { tenants: Array<{ tenantId: number; mvccBytes: number; liveBytes: number }>; node: { gcRemovedVersions: number } };
    const before = (await stats()).tenants.find((t) => t.tenantId === T)!;
    // Within the window, the old snapshot still reads v1.
    const early = await gc.send({ type: "read", readTs: oldTs, ops: [{ op: "get", key }] });
    expect(early.type === "read" && text((early.results[0] as { value: Uint8Array }).value)).toBe("v1");
    await new Promise((r) => setTimeout(r, 2500));
    const late = await gc.send({ type: "read", readTs: oldTs, ops: [{ op: "get", key }] });
    expect(errCode(late)).toBe("snapshot_too_old");
    const now = await gc.send({ type: "read", readTs: null, ops: [{ op: "get", key }, { op: "get", key: tkey(T, "gc/dead") }] });
    expect(now.type === "read" && text((now.results[0] as { value: Uint8Array }).value)).toBe("v3");
    expect(now.type === "read" && (now.results[1] as { value: Uint8Array | null }).value).toBeNull();
    const after = await stats();
    const t = after.tenants.find((x) => x.tenantId === T)!;
    // v1, v2, the deleted key's value and its tombstone are gone; v3 remains.
    expect(after.node.gcRemovedVersions).toBe(4);
    expect(t.mvccBytes).toBeLessThan(before.mvccBytes);
    expect(t.liveBytes).toBe(key.length + 2);
    expect(t.mvccBytes).toBe(key.length + 8 + 2);
  });
});

// The default commit bounds themselves (not scaled-down overrides): a 100,000-row transaction must
// fit through them, and a tenant with a full RU bucket must be able to send the largest one.
describe("default commit bounds at their edges", () => {
  let node: StorageNode;
  const client = (t: number) => KvHttpClient.forTenant(node.url, SECRET, t).then((c) => (clients.push(c), c));
  const D = DEFAULT_LIMITS;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "warren-limits-default-"));
    dirs.push(dir);
    node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET });
    nodes.push(node);
  });
  const tinyPuts = (t: number, n: number, prefix: string): WriteOp[] =>
    Array.from({ length: n }, (_, i) => ({ op: "put" as const, key: tkey(t, `${prefix}/${i}`), value: new Uint8Array(1) }));
  const countAll = async (c: KvHttpClient, t: number, prefix: string): Promise<number> => {
    const r = await c.send({ type: "read", readTs: null, ops: [{ op: "scan", start: tkey(t, `${prefix}/`), end: tkey(t, `${prefix}0`), reverse: false, maxRows: 10, maxBytes: 0 }] });
    if (r.type !== "read") throw new Error(errCode(r));
    return (r.results[0] as Extract<ReadResult, { op: "scan" }>).rows.length;
  };

  it("the bounds hold a 100,000-row load and stay inside the edge's 16 MiB / Workers RPC 32 MiB", () => {
    expect(D.batchEntriesMax).toBeGreaterThanOrEqual(100_000);
    expect(D.requestBytesMax).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(D.txnWriteBytesMax).toBeLessThan(D.requestBytesMax);
  });

  it(`exactly batchEntriesMax writes commit (through a full RU bucket); one more is refused, nothing written`, async () => {
    const c = await client(21);
    expect(errCode(await c.send({ type: "batch", reads: [], writes: tinyPuts(21, D.batchEntriesMax, "e") }))).toBe("ok:batch");
    expect(await countAll(c, 21, "e")).toBeGreaterThan(0);
    const c2 = await client(22);
    const res = await c2.send({ type: "batch", reads: [], writes: tinyPuts(22, D.batchEntriesMax + 1, "e") });
    expect(errCode(res)).toBe("limit_exceeded");
    expect(res.status).toBe(413);
    expect(res.type === "error" && res.error.message).toMatch(/batchEntriesMax/);
    expect(await countAll(c2, 22, "e")).toBe(0);
  }, 60_000);

  it("exactly txnWriteBytesMax written bytes commit; one byte more is refused", async () => {
    const c = await client(23);
    const keyLen = tkey(23, "w/00").length;
    const n = 16;
    const per = D.txnWriteBytesMax / n - keyLen;
    const writes = (p: string, extra: number): WriteOp[] =>
      Array.from({ length: n }, (_, i) => ({ op: "put" as const, key: tkey(23, `${p}/${String(i).padStart(2, "0")}`), value: new Uint8Array(per + (i === n - 1 ? extra : 0)) }));
    expect(errCode(await c.send({ type: "batch", reads: [], writes: writes("w", 0) }))).toBe("ok:batch");
    const res = await c.send({ type: "batch", reads: [], writes: writes("x", 1) });
    expect(errCode(res)).toBe("limit_exceeded");
    expect(res.type === "error" && res.error.message).toMatch(/txnWriteBytesMax/);
    expect(await countAll(c, 23, "x")).toBe(0);
  }, 60_000);

  it("a body of exactly requestBytesMax is read (then fails to decode); one byte more is refused as too large", async () => {
    const c = await client(24);
    const { decodeResponse } = await import("../common/kv-protocol/codec.ts");
    const at = await c.raw(new Uint8Array(D.requestBytesMax));
    expect(errCode(decodeResponse(at.body))).toBe("malformed_request");
    const over = await c.raw(new Uint8Array(D.requestBytesMax + 1));
    expect(over.status).toBe(413);
    const decoded = decodeResponse(over.body);
    expect(errCode(decoded)).toBe("limit_exceeded");
    expect(decoded.type === "error" && decoded.error.message).toMatch(/requestBytesMax/);
  }, 60_000);
});
