// `npm run bench:storage`: the storage node's API next to raw LMDB, same operations, same run.
//   point reads (1 client and 16 clients, single and 100 per request), point writes (single and 100
//   per commit), small transactions (3 and 2 round trips), 100-row scans — over HTTP (POST /v1/kv,
//   keep-alive) and over the KV stream (common/kv-protocol/stream.ts: one connection, pipelined),
//   which is what the edge uses for a session's requests.
// The node runs as a child process (main.ts, durable commits); the clients and the raw LMDB
// baseline run in this process.
//
// The machine is shared and noisy, so every figure is measured BENCH_RUNS times (default 3) for
// BENCH_MS each (default 1000 ms) and the median is printed; API/raw is the median of the per-run
// ratios (API and raw measured back to back). Besides throughput and latency, the node's CPU time
// per operation (all its threads, from /proc/<pid>/task/*/schedstat, Linux) is printed: it barely
// moves when other processes compete for the cores, so it is the figure to compare across changes.
//
// BENCH_BASE_MAIN=/other/checkout/storage-node/main.ts also starts that node and measures it in the
// same runs (alternating which goes first), then prints the before/after comparison.
// Every operation first runs BENCH_WARMUP_MS (default 300 ms) unmeasured on every node.
// BENCH_ONLY=get,scan limits the run to some operations (keys of `plan` below).
// BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" passes Node options to the node under test (how the
// profiles in storage-node/README.md, "The single-key path", were taken).
// BENCH_JSON=FILE also writes every row (API and raw LMDB figures, the ratio) as JSON to FILE: that
// is how `npm run bench` (scripts/bench/storage.ts) puts this table into bench/REPORT.md.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { open } from "lmdb";
import type { ReadResult } from "../common/kv-protocol/messages.ts";
import { bytes, KvHttpClient, randomTxnId, tkey } from "../storage-node/testing/kv-client.ts";
import { decodeResponse, encodeRequest } from "../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse } from "../common/kv-protocol/messages.ts";
import { openNodeKvStream } from "../storage-node/testing/node-stream-socket.ts";

/** The edge's own KV stream client (common/kv-protocol/stream-client.ts), with the edge's bounds. */
interface StreamClient {
  send(req: KvRequest): Promise<KvResponse>;
  close(): void;
}

async function streamClient(url: string, secret: string, tenantId: number): Promise<StreamClient> {
  const conn = await openNodeKvStream(url, secret, tenantId, { frameBytesMax: 17 * 1024 * 1024, inFlightMax: 256, upgradeBytesMax: 16 * 1024, openMsMax: 5_000, requestMsMax: 60_000 });
  return { send: async (req) => decodeResponse(await conn.request(encodeRequest(req))), close: () => conn.close() };
}
import { spawnStorageNode } from "../storage-node/testing/spawn-node.ts";

const MS = Number(process.env.BENCH_MS ?? 1000);
const WARMUP_MS = Number(process.env.BENCH_WARMUP_MS ?? 300);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const BASE_MAIN = process.env.BENCH_BASE_MAIN;
const JSON_FILE = process.env.BENCH_JSON;
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",")) : null;
const KEYS = 20_000;
const T = 42;
const SECRET = "bench-fleet-secret-0123456789";
const VALUE = bytes("v".repeat(100));
const NO_RATE_LIMIT = { tenantRuPerSecond: 1e9, tenantBurstRu: 1e9, nodeRuPerSecond: 1e9 };

interface Figure {
  opsPerSec: number;
  p50: number;
  p99: number;
  /** CPU µs per operation: the node's (API) or this process's (raw); NaN when unknown. */
  cpuUsPerOp: number;
  /** CPU µs per operation of this process (the clients; for raw rows the same as cpuUsPerOp). */
  clientCpuUsPerOp: number;
}

/** CPU time of every thread of a process, in ns (Linux schedstat); NaN elsewhere. */
function processCpuNs(pid: number): number {
  try {
    let ns = 0;
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    }
    return ns;
  } catch {
    return Number.NaN;
  }
}

function selfCpuNs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}

/** Runs `concurrency` loops of `op` for MS; each call counts `opsPerCall` operations. */
function measure(concurrency: number, opsPerCall: number, cpuNs: () => number, op: (worker: number, i: number) => Promise<void>): Promise<Figure> {
  return measureFor(MS, concurrency, opsPerCall, cpuNs, op);
}

async function measureFor(ms: number, concurrency: number, opsPerCall: number, cpuNs: () => number, op: (worker: number, i: number) => Promise<void>): Promise<Figure> {
  const lat: number[] = [];
  let calls = 0;
  const end = performance.now() + ms;
  const t0 = performance.now();
  const c0 = cpuNs();
  const self0 = selfCpuNs();
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
  const ops = calls * opsPerCall;
  lat.sort((a, b) => a - b);
  return {
    opsPerSec: ops / secs,
    p50: lat[Math.floor(lat.length / 2)] ?? 0,
    p99: lat[Math.floor(lat.length * 0.99)] ?? 0,
    cpuUsPerOp: (cpuNs() - c0) / 1000 / ops,
    clientCpuUsPerOp: (selfCpuNs() - self0) / 1000 / ops,
  };
}

const median = (xs: number[]): number => {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function medianFigure(fs: Figure[]): Figure {
  return {
    opsPerSec: median(fs.map((f) => f.opsPerSec)),
    p50: median(fs.map((f) => f.p50)),
    p99: median(fs.map((f) => f.p99)),
    cpuUsPerOp: median(fs.map((f) => f.cpuUsPerOp)),
    clientCpuUsPerOp: median(fs.map((f) => f.clientCpuUsPerOp)),
  };
}

const rnd = (n: number) => Math.floor(Math.random() * n);
const k = (i: number) => tkey(T, `k/${String(i).padStart(6, "0")}`);
const pointSpan = (key: Uint8Array) => ({ start: key, end: new Uint8Array([...key, 0]) });

interface Target {
  name: string;
  child: ChildProcess;
  dir: string;
  kv: KvHttpClient;
  stream: StreamClient;
}

function apiOps(kv: KvHttpClient, stream: StreamClient) {
  const get = async () => {
    await kv.send({ type: "read", readTs: null, ops: [{ op: "get", key: k(rnd(KEYS)) }] });
  };
  const sget = async () => {
    const r = await stream.send({ type: "read", readTs: null, ops: [{ op: "get", key: k(rnd(KEYS)) }] });
    if (r.type !== "read") throw new Error(`stream read failed: ${JSON.stringify(r)}`);
  };
  return {
    get1c: get,
    get,
    sget1c: sget,
    sget,
    sget100: async () => {
      const r = await stream.send({ type: "read", readTs: null, ops: Array.from({ length: 100 }, () => ({ op: "get" as const, key: k(rnd(KEYS)) })) });
      if (r.type !== "read") throw new Error(`stream read failed: ${JSON.stringify(r)}`);
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
    txn3: async () => {
      const b = await kv.send({ type: "begin" });
      if (b.type !== "begin") throw new Error(`begin failed: ${JSON.stringify(b)}`);
      const a = k(rnd(KEYS));
      const c = k(rnd(KEYS));
      await kv.send({ type: "read", readTs: b.readTs, ops: [{ op: "get", key: a }, { op: "get", key: c }] });
      await kv.send({
        type: "commit",
        txnId: randomTxnId(),
        readTs: b.readTs,
        readSpans: [pointSpan(a), pointSpan(c)],
        writes: [{ op: "put", key: a, value: VALUE }, { op: "put", key: c, value: VALUE }],
      });
    },
    // What the gateway does (workers/gateway/txn/txn.ts): the first read takes the snapshot.
    txn2: async () => {
      const a = k(rnd(KEYS));
      const c = k(rnd(KEYS));
      const r = await kv.send({ type: "read", readTs: null, ops: [{ op: "get", key: a }, { op: "get", key: c }] });
      if (r.type !== "read") throw new Error(`read failed: ${JSON.stringify(r)}`);
      await kv.send({
        type: "commit",
        txnId: randomTxnId(),
        readTs: r.readTs,
        readSpans: [pointSpan(a), pointSpan(c)],
        writes: [{ op: "put", key: a, value: VALUE }, { op: "put", key: c, value: VALUE }],
      });
    },
    scan: async () => {
      const r = await kv.send({ type: "read", readTs: null, ops: [{ op: "scan", start: k(rnd(KEYS - 100)), end: tkey(T, "l"), reverse: false, maxRows: 100, maxBytes: 1 << 20 }] });
      if (r.type !== "read" || (r.results[0] as Extract<ReadResult, { op: "scan" }>).rows.length !== 100) throw new Error("short scan");
    },
  };
}

type OpName = keyof ReturnType<typeof apiOps>;

// Reads and scans run first, while every key has one version as in the raw store: after the write
// rows, keys carry several versions inside the GC window and a scan reads all of them.
const plan: Array<[string, OpName, number, number]> = [
  ["point read, 1 client (1 get/request)", "get1c", 1, 1],
  ["point read, 16 clients (1 get/request)", "get", 16, 1],
  ["point read, batched (100 gets/request)", "get100", 8, 100],
  ["stream: point read, 1 client (1 get/request)", "sget1c", 1, 1],
  ["stream: point read, 64 pipelined (1 get/request)", "sget", 64, 1],
  ["stream: point read, batched (100 gets/request)", "sget100", 8, 100],
  ["100-row scan (per scan)", "scan", 8, 1],
  ["point write (1 put/commit)", "put", 32, 1],
  ["point write, batched (100 puts/commit)", "put100", 8, 100],
  ["small txn, 3 round trips (begin, read, commit)", "txn3", 16, 1],
  ["small txn, 2 round trips (read, commit)", "txn2", 16, 1],
];

async function main(): Promise<void> {
  const rawDir = mkdtempSync(join(tmpdir(), "warren-bench-raw-"));
  const targets: Target[] = [];
  const raw = open<Buffer, Buffer>({ path: rawDir, keyEncoding: "binary", encoding: "binary", noSubdir: false, overlappingSync: false, cache: false });
  try {
    const mains: Array<[string, string | undefined]> = [["this", undefined]];
    if (BASE_MAIN) mains.unshift(["base", BASE_MAIN]);
    for (const [name, main] of mains) {
      const dir = mkdtempSync(join(tmpdir(), "warren-bench-node-"));
      const { child, url } = await spawnStorageNode(dir, SECRET, NO_RATE_LIMIT, { main, nodeArgs: NODE_ARGS });
      targets.push({ name, child, dir, kv: await KvHttpClient.forTenant(url, SECRET, T), stream: await streamClient(url, SECRET, T) });
    }
    for (let i = 0; i < KEYS; i += 1000) {
      const writes = Array.from({ length: 1000 }, (_, j) => ({ op: "put" as const, key: k(i + j), value: VALUE }));
      for (const t of targets) {
        const r = await t.kv.send({ type: "batch", reads: [], writes });
        if (r.type !== "batch") throw new Error("load failed");
      }
      raw.transactionSync(() => {
        for (const w of writes) raw.putSync(Buffer.from(w.key), Buffer.from(w.value));
      });
    }
    const rk = (i: number) => Buffer.from(k(i));
    const rawTxn = async () => {
      const a = rk(rnd(KEYS));
      const c = rk(rnd(KEYS));
      raw.get(a);
      raw.get(c);
      await Promise.all([raw.put(a, Buffer.from(VALUE)), raw.put(c, Buffer.from(VALUE))]);
    };
    const rawGet = async () => {
      raw.get(rk(rnd(KEYS)));
    };
    const rawOps: Record<OpName, () => Promise<void>> = {
      get1c: rawGet,
      get: rawGet,
      sget1c: rawGet,
      sget: rawGet,
      get100: async () => {
        for (let j = 0; j < 100; j++) raw.get(rk(rnd(KEYS)));
      },
      sget100: async () => {
        for (let j = 0; j < 100; j++) raw.get(rk(rnd(KEYS)));
      },
      put: () => raw.put(rk(rnd(KEYS)), Buffer.from(VALUE)).then(() => {}),
      put100: async () => {
        const ps = [];
        for (let j = 0; j < 100; j++) ps.push(raw.put(rk(rnd(KEYS)), Buffer.from(VALUE)));
        await Promise.all(ps);
      },
      txn3: rawTxn,
      txn2: rawTxn,
      scan: async () => {
        let n = 0;
        for (const _ of raw.getRange({ start: rk(rnd(KEYS - 100)), limit: 100 })) n++;
        if (n !== 100) throw new Error("short raw scan");
      },
    };

    const results = new Map<string, { api: Map<string, Figure>; raw: Figure; ratio: Map<string, number> }>();
    for (const [name, key, conc, per] of plan) {
      if (ONLY && !ONLY.has(key)) continue;
      const apiRuns = new Map<string, Figure[]>(targets.map((t) => [t.name, []]));
      const ratios = new Map<string, number[]>(targets.map((t) => [t.name, []]));
      const rawRuns: Figure[] = [];
      // Warm up every node on the operation first (JIT tiers, lmdb-js cursors): figures taken in a
      // cold process mostly measure the compiler.
      for (const t of targets) await measureFor(WARMUP_MS, conc, 1, () => Number.NaN, apiOps(t.kv, t.stream)[key]);
      for (let run = 0; run < RUNS; run++) {
        // Alternate which node goes first, so a burst of outside load does not always hit the same one.
        const order = run % 2 === 0 ? targets : [...targets].reverse();
        const thisRun = new Map<string, Figure>();
        for (const t of order) {
          const ops = apiOps(t.kv, t.stream);
          const pid = t.child.pid!;
          thisRun.set(t.name, await measure(conc, per, () => processCpuNs(pid), ops[key]));
        }
        const writes = key.startsWith("put") || key.startsWith("txn");
        const r = await measure(writes ? conc : 1, per, selfCpuNs, rawOps[key]);
        rawRuns.push(r);
        for (const [n, f] of thisRun) {
          apiRuns.get(n)!.push(f);
          ratios.get(n)!.push(f.opsPerSec / r.opsPerSec);
        }
      }
      results.set(name, {
        api: new Map([...apiRuns].map(([n, fs]) => [n, medianFigure(fs)])),
        raw: medianFigure(rawRuns),
        ratio: new Map([...ratios].map(([n, rs]) => [n, median(rs)])),
      });
    }

    const f = (n: number) => (Number.isNaN(n) ? "n/a" : Math.round(n).toLocaleString("en-US"));
    const us = (n: number) => (Number.isNaN(n) ? "n/a" : n < 10 ? n.toFixed(2) : n.toFixed(0));
    console.log(`\nstorage benchmark: median of ${RUNS} runs × ${MS} ms per figure; durable commits; shared 2-core machine (noisy)\n`);
    for (const t of targets) {
      if (targets.length > 1) console.log(`node: ${t.name}${t.name === "base" ? ` (${BASE_MAIN})` : ""}`);
      console.log(
        "operation".padEnd(48) + "API ops/s".padStart(11) + "p50 ms".padStart(8) + "p99 ms".padStart(8) + "node µs/op".padStart(11) + "client µs/op".padStart(13) +
          "raw ops/s".padStart(11) + "raw µs/op".padStart(10) + "API/raw".padStart(9),
      );
      for (const [name, r] of results) {
        const a = r.api.get(t.name)!;
        console.log(
          name.padEnd(48) + f(a.opsPerSec).padStart(11) + a.p50.toFixed(2).padStart(8) + a.p99.toFixed(1).padStart(8) + us(a.cpuUsPerOp).padStart(11) + us(a.clientCpuUsPerOp).padStart(13) +
            f(r.raw.opsPerSec).padStart(11) + us(r.raw.cpuUsPerOp).padStart(10) + `${(100 * r.ratio.get(t.name)!).toFixed(1)}%`.padStart(9),
        );
      }
      console.log("");
    }
    if (targets.length > 1) {
      console.log("before → after (base → this): ops/s, node CPU µs/op, API/raw");
      for (const [name, r] of results) {
        const b = r.api.get("base")!;
        const a = r.api.get("this")!;
        console.log(
          name.padEnd(48) + `${f(b.opsPerSec)} → ${f(a.opsPerSec)}`.padStart(20) + `${us(b.cpuUsPerOp)} → ${us(a.cpuUsPerOp)}`.padStart(18) +
            `${(100 * r.ratio.get("base")!).toFixed(1)}% → ${(100 * r.ratio.get("this")!).toFixed(1)}%`.padStart(18),
        );
      }
      console.log("");
    }
    // Issue 12's acceptance figures: single-key requests at ≥ 10 % of raw LMDB, batched at ≥ 50 %.
    const goal = (label: string, row: string, pct: number) => {
      const r = results.get(row);
      if (r === undefined) return;
      const ratio = r.ratio.get("this")!;
      console.log(`${label.padEnd(44)}${`${(100 * ratio).toFixed(1)}% of raw LMDB`.padStart(20)}   (goal ≥ ${pct} %: ${100 * ratio >= pct ? "met" : "NOT met"})`);
    };
    goal("single-key requests (stream, pipelined)", "stream: point read, 64 pipelined (1 get/request)", 10);
    goal("single-key requests (HTTP, 16 clients)", "point read, 16 clients (1 get/request)", 10);
    goal("batched requests (stream, 100 gets)", "stream: point read, batched (100 gets/request)", 50);
    goal("batched requests (HTTP, 100 gets)", "point read, batched (100 gets/request)", 50);
    console.log("");
    if (JSON_FILE !== undefined) {
      const rows = [...results].map(([name, r]) => {
        const key = plan.find((p) => p[0] === name)!;
        return { name, op: key[1], concurrency: key[2], opsPerRequest: key[3], api: r.api.get("this")!, raw: r.raw, ratio: r.ratio.get("this")! };
      });
      writeFileSync(JSON_FILE, JSON.stringify({ runs: RUNS, msPerFigure: MS, rows }, null, 2));
    }
    console.log("raw LMDB: same keys and values in this process, reads synchronous (1 loop), writes lmdb-js async puts awaited (group commit, fsync, same concurrency).");
    console.log("node µs/op: the node process's CPU time (all threads) per operation; client µs/op: this process's (the clients'); raw µs/op: this process's CPU time per raw operation.");
  } finally {
    await raw.close();
    for (const t of targets) {
      t.kv.close();
      t.stream.close();
      if (t.child.exitCode === null && t.child.signalCode === null) {
        const exited = new Promise((r) => t.child.once("exit", r));
        t.child.kill("SIGTERM");
        await exited;
      }
      rmSync(t.dir, { recursive: true, force: true });
    }
    rmSync(rawDir, { recursive: true, force: true });
  }
}

await main();
