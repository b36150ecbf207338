// Serial test group (vitest.config.ts): it writes two million rows to a storage node process and
// measures statement latency, which other test files on two cores would skew.
// Acceptance (issue 8, item 6): TRUNCATE and DROP TABLE of a 1,000,000-row table return in under
// a second; the storage node then deletes the old spans in the background, and after the cleanup
// it holds no key of either (checked with the system credential's span census), also when it is
// killed with SIGKILL halfway through the cleanup and restarted.
// The rows are loaded straight through the KV API (100,000 encoded rows per batch, with the
// gateway's own row codec), not through SQL: INSERT … SELECT of a million rows takes minutes on
// this machine, the KV path about a minute for both tables. WARREN_BIG_DROP_ROWS changes the size.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest } from "../../../common/kv-protocol/codec.ts";
import type { WriteOp } from "../../../common/kv-protocol/messages.ts";
import { decodeDescriptor, type TableDesc } from "../catalog/descriptors.ts";
import { Keyspace } from "../catalog/keyspace.ts";
import { relationOid } from "../catalog/oids.ts";
import { prefixEnd } from "../../../common/bytes.ts";
import { descriptorKey, tablePrefix } from "../keys/doc.ts";
import { RowCodec } from "./exec/row-codec.ts";
import { Session } from "./session.ts";
import { spawnRealStorage, type SpawnedStorage } from "./testing/storage-node.ts";

const ROWS = Number((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env["WARREN_BIG_DROP_ROWS"] ?? 1_000_000);
const BATCH_ROWS = 100_000;
const T = 88;

let storage: SpawnedStorage;
let s: Session;

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

async function admin(path: string): Promise<any> {
  const res = await fetch(`${storage.url}${path}`, { headers: { authorization: `Bearer ${await storage.systemToken()}` } });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** Versions on disk in [start, end) of tenant T, counted up to the node's census bound. */
async function census(start: Uint8Array, end: Uint8Array): Promise<{ versions: number; more: boolean }> {
  return admin(`/v1/admin/span-versions?tenantId=${T}&start=${hex(start)}&end=${hex(end)}`);
}

async function table(name: string): Promise<TableDesc> {
  const r = await s.execute(`SELECT oid FROM pg_class WHERE relname = '${name}'`);
  const id = Number(r[0]!.rows[0]![0]) - relationOid(0);
  const cap = await storage.capability(T);
  const res = decodeResponse(await cap.batch(encodeRequest({ type: "read", readTs: null, ops: [{ op: "get", key: descriptorKey(T, id) }] })));
  if (res.type !== "read" || res.results[0]!.op !== "get" || res.results[0]!.value === null) throw new Error(`no descriptor for ${name}`);
  return decodeDescriptor(res.results[0]!.value) as TableDesc;
}

/** Writes rows (id, 'row <id>') 1..ROWS straight through the KV API, encoded by the gateway's row codec. */
async function load(t: TableDesc): Promise<void> {
  const codec = new RowCodec(new Keyspace(T), t);
  const cap = await storage.capability(T);
  for (let at = 1; at <= ROWS; at += BATCH_ROWS) {
    const writes: WriteOp[] = [];
    for (let id = at; id < at + BATCH_ROWS && id <= ROWS; id++) {
      const row = [id, `row ${id}`];
      writes.push({ op: "put", key: codec.primaryKey(row), value: codec.encodeValue(row) });
    }
    const res = decodeResponse(await cap.batch(encodeRequest({ type: "batch", reads: [], writes })));
    if (res.type !== "batch") throw new Error(`load failed: ${JSON.stringify(res.type === "error" ? res.error : res.type)}`);
  }
}

async function timed(sql: string): Promise<number> {
  const t0 = performance.now();
  await s.execute(sql);
  return performance.now() - t0;
}

let truncated: TableDesc;
let dropped: TableDesc;

beforeAll(async () => {
  // Loading two million rows from one tenant must not wait on the tenant's RU rate limit.
  storage = await spawnRealStorage({ tenantRuPerSecond: 10_000_000, tenantBurstRu: 10_000_000 });
  s = new Session({ kv: await storage.capability(T), tenantId: T });
  await s.execute("CREATE TABLE big_t (id INT PRIMARY KEY, v TEXT NOT NULL)");
  await s.execute("CREATE TABLE big_d (id INT PRIMARY KEY, v TEXT NOT NULL)");
  truncated = await table("big_t");
  dropped = await table("big_d");
  const t0 = performance.now();
  await load(truncated);
  await load(dropped);
  console.log(`loaded 2 x ${ROWS} rows through the KV API in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}, 900_000);

afterAll(async () => {
  await storage?.close();
});

describe(`TRUNCATE and DROP TABLE of ${ROWS}-row tables`, () => {
  it("return in under a second; after a SIGKILL halfway through the cleanup and a restart, no key of either table is left", async () => {
    const tSpan = tablePrefix(T, truncated.id);
    const dSpan = tablePrefix(T, dropped.id);
    const codec = new RowCodec(new Keyspace(T), truncated);
    expect(await s.execute(`SELECT v FROM big_t WHERE id = ${ROWS - 1}`)).toMatchObject([{ rows: [[`row ${ROWS - 1}`]] }]);
    expect(await census(tSpan, prefixEnd(tSpan))).toMatchObject({ more: ROWS > 100_000 });
    expect(await census(codec.primaryKey([ROWS]), prefixEnd(tSpan))).toMatchObject({ versions: 1, more: false });

    const truncateMs = await timed("TRUNCATE big_t");
    const dropMs = await timed("DROP TABLE big_d");
    console.log(`TRUNCATE ${truncateMs.toFixed(0)} ms, DROP TABLE ${dropMs.toFixed(0)} ms`);
    expect(truncateMs).toBeLessThan(1000);
    expect(dropMs).toBeLessThan(1000);
    await s.execute("INSERT INTO big_t VALUES (1, 'after the truncate')");
    expect(await s.execute("SELECT * FROM big_t")).toMatchObject([{ rows: [["1", "after the truncate"]] }]);

    // Halfway through the first table's cleanup (deletion runs from the span's start): its first
    // half is gone, its second half is not. Then kill -9.
    const half = codec.primaryKey([Math.floor(ROWS / 2)]);
    const started = performance.now();
    for (;;) {
      const first = await census(tSpan, half);
      if (first.versions === 0) break;
      if (performance.now() - started > 300_000) throw new Error("cleanup made no progress");
      await new Promise((r) => setTimeout(r, 20));
    }
    const left = await census(half, prefixEnd(tSpan));
    expect(left.versions).toBeGreaterThan(0);
    expect((await admin("/v1/admin/stats")).node.clearsPending).toBe(2);
    await storage.killAndRestart();
    console.log(`killed after ${((performance.now() - started) / 1000).toFixed(1)} s of cleanup`);

    // The restarted node resumes both clears by itself (no gateway asks it to).
    const resumed = performance.now();
    for (;;) {
      if ((await admin("/v1/admin/stats")).node.clearsPending === 0) break;
      if (performance.now() - resumed > 300_000) throw new Error("cleanup did not finish after the restart");
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`cleanup finished ${((performance.now() - resumed) / 1000).toFixed(1)} s after the restart`);
    expect(await census(tSpan, prefixEnd(tSpan))).toEqual({ tenantId: T, versions: 0, keys: 0, more: false });
    expect(await census(dSpan, prefixEnd(dSpan))).toEqual({ tenantId: T, versions: 0, keys: 0, more: false });
    // The row written after the TRUNCATE (in the table's new span) survived all of it.
    const again = new Session({ kv: await storage.capability(T), tenantId: T });
    expect(await again.execute("SELECT * FROM big_t")).toMatchObject([{ rows: [["1", "after the truncate"]] }]);
    const stats = (await admin("/v1/admin/stats")).tenants.find((x: { tenantId: number }) => x.tenantId === T);
    expect(stats.liveBytes).toBeLessThan(100_000);
  }, 900_000);
});
