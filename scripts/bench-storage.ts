// `npm run bench:storage`: the storage node's HTTP API next to raw LMDB, same operations, same run.
//   point reads, point writes (single and 100 per request), small transactions, 100-row scans.
// The node runs as a child process (main.ts, durable commits); the clients and the raw LMDB
// baseline run in this process. Each figure is measured for BENCH_MS (default 2000 ms).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { open } from "lmdb";
import type { ReadResult } from "../common/kv-protocol/messages.ts";
import { bytes, KvHttpClient, randomTxnId, tkey } from "../storage-node/testing/kv-client.ts";
import { spawnStorageNode } from "../storage-node/testing/spawn-node.ts";

const MS = Number(process.env.BENCH_MS ?? 2000);
const KEYS = 20_000;
const T = 42;
const SECRET = "bench-fleet-secret-0123456789";
const VALUE = bytes("v".repeat(100));

interface Figure {
  opsPerSec: number;
  p50: number;
  p99: number;
}

/** Runs `concurrency` loops of `op` for MS; each call counts `opsPerCall` operations. */
async function measure(concurrency: number, opsPerCall: number, op: (worker: number, i: number) => Promise<void>): Promise<Figure> {
  const lat: number[] = [];
  let calls = 0;
  const end = performance.now() + MS;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      let i = 0;
      while (performance.now() < end) {
        const s = performance.now();
        await op(w, i++);
        lat.push(performance.now() - s);
        calls++;
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  lat.sort((a, b) => a - b);
  return { opsPerSec: (calls * opsPerCall) / secs, p50: lat[Math.floor(lat.length / 2)] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0 };
}

const rnd = (n: number) => Math.floor(Math.random() * n);
const k = (i: number) => tkey(T, `k/${String(i).padStart(6, "0")}`);

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "warren-bench-node-"));
  const rawDir = mkdtempSync(join(tmpdir(), "warren-bench-raw-"));
  const { child, url } = await spawnStorageNode(dir, SECRET, { tenantRuPerSecond: 1e9, tenantBurstRu: 1e9, nodeRuPerSecond: 1e9 });
  const kv = await KvHttpClient.forTenant(url, SECRET, T);
  const raw = open<Buffer, Buffer>({ path: rawDir, keyEncoding: "binary", encoding: "binary", noSubdir: false, overlappingSync: false, cache: false });
  try {
    for (let i = 0; i < KEYS; i += 1000) {
      const writes = Array.from({ length: 1000 }, (_, j) => ({ op: "put" as const, key: k(i + j), value: VALUE }));
      const r = await kv.send({ type: "batch", reads: [], writes });
      if (r.type !== "batch") throw new Error("load failed");
      raw.transactionSync(() => {
        for (const w of writes) raw.putSync(Buffer.from(w.key), Buffer.from(w.value));
      });
    }
    const rows: Array<[string, Figure, Figure]> = [];
    const api = {
      get: async () => {
        await kv.send({ type: "read", readTs: null, ops: [{ op: "get", key: k(rnd(KEYS)) }] });
      },
      get100: async () => {
        await kv.send({ type: "read", readTs: null, ops: Array.from({ length: 100 }, () => ({ op: "get" as const, key: k(rnd(KEYS)) })) });
      },
      put: async () => {
        await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key: k(rnd(KEYS)), value: VALUE }] });
      },
      put100: async () => {
        await kv.send({ type: "batch", reads: [], writes: Array.from({ length: 100 }, () => ({ op: "put" as const, key: k(rnd(KEYS)), value: VALUE })) });
      },
      txn: async () => {
        const b = await kv.send({ type: "begin" });
        if (b.type !== "begin") return;
        const a = k(rnd(KEYS));
        const c = k(rnd(KEYS));
        await kv.send({ type: "read", readTs: b.readTs, ops: [{ op: "get", key: a }, { op: "get", key: c }] });
        await kv.send({
          type: "commit",
          txnId: randomTxnId(),
          readTs: b.readTs,
          readSpans: [{ start: a, end: new Uint8Array([...a, 0]) }, { start: c, end: new Uint8Array([...c, 0]) }],
          writes: [{ op: "put", key: a, value: VALUE }, { op: "put", key: c, value: VALUE }],
        });
      },
      scan: async () => {
        const r = await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start: k(rnd(KEYS - 100)), end: tkey(T, "l"), reverse: false, maxRows: 100, maxBytes: 1 << 20 }] });
        if (r.type === "read" && (r.results[0] as Extract<ReadResult, { op: "scan" }>).rows.length !== 100) throw new Error("short scan");
      },
    };
    const rk = (i: number) => Buffer.from(k(i));
    const rawOps = {
      get: async () => {
        raw.get(rk(rnd(KEYS)));
      },
      get100: async () => {
        for (let j = 0; j < 100; j++) raw.get(rk(rnd(KEYS)));
      },
      put: () => raw.put(rk(rnd(KEYS)), Buffer.from(VALUE)).then(() => {}),
      put100: async () => {
        const ps = [];
        for (let j = 0; j < 100; j++) ps.push(raw.put(rk(rnd(KEYS)), Buffer.from(VALUE)));
        await Promise.all(ps);
      },
      txn: async () => {
        const a = rk(rnd(KEYS));
        const c = rk(rnd(KEYS));
        raw.get(a);
        raw.get(c);
        await Promise.all([raw.put(a, Buffer.from(VALUE)), raw.put(c, Buffer.from(VALUE))]);
      },
      scan: async () => {
        let n = 0;
        for (const _ of raw.getRange({ start: rk(rnd(KEYS - 100)), limit: 100 })) n++;
        if (n !== 100) throw new Error("short raw scan");
      },
    };
    const plan: Array<[string, keyof typeof api, number, number]> = [
      ["point read (1 get/request)", "get", 16, 1],
      ["point read, batched (100 gets/request)", "get100", 8, 100],
      ["point write (1 put/commit)", "put", 32, 1],
      ["point write, batched (100 puts/commit)", "put100", 8, 100],
      ["small txn (begin, 2 gets, commit 2 puts)", "txn", 16, 1],
      ["100-row scan (per scan)", "scan", 8, 1],
    ];
    for (const [name, key, conc, per] of plan) {
      const a = await measure(conc, per, api[key]);
      const r = await measure(key === "put" || key === "put100" || key === "txn" ? conc : 1, per, rawOps[key]);
      rows.push([name, a, r]);
    }
    const f = (n: number) => Math.round(n).toLocaleString("en-US");
    console.log(`\nstorage benchmark (${MS} ms per figure; durable commits; shared busy 2-core machine — expect large noise)\n`);
    console.log("operation".padEnd(44) + "API ops/s".padStart(12) + "p50 ms".padStart(9) + "p99 ms".padStart(9) + "raw LMDB ops/s".padStart(16) + "raw p50".padStart(9) + "API/raw".padStart(9));
    for (const [name, a, r] of rows) {
      console.log(
        name.padEnd(44) + f(a.opsPerSec).padStart(12) + a.p50.toFixed(2).padStart(9) + a.p99.toFixed(2).padStart(9) + f(r.opsPerSec).padStart(16) + r.p50.toFixed(3).padStart(9) + `${((100 * a.opsPerSec) / r.opsPerSec).toFixed(1)}%`.padStart(9),
      );
    }
    console.log("\nraw LMDB: same keys and values in one process, reads synchronous (1 loop), writes lmdb-js async puts awaited (group commit, fsync, same concurrency).");
  } finally {
    kv.close();
    await raw.close();
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
    rmSync(rawDir, { recursive: true, force: true });
  }
}

await main();
