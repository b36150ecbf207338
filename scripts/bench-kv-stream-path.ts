// `npm run bench:kv-stream-path`: the storage node's per-request cost on the KV stream, in one
// process, with no client and no socket: the node's own pieces (LMDB engine, writer thread,
// KvService, KvStreams) wired as server.ts wires them, a fake socket that records what the node
// writes, and pipelined single-key reads pushed as one chunk of 64 frames (what a busy session's
// connection delivers). It prints CPU µs per request for the whole stream path and for each stage
// (framing, decode, tenant/limit checks, RU bucket and admission, the MVCC get, encode), beside a
// raw lmdb-js get on the same keys — the breakdown in storage-node/README.md ("The single-key
// path"). CPU time, not wall time, and one thread: the machine's load moves it far less than the
// two-process bench (bench:storage).
//
// BENCH_MS (default 1500) per figure, BENCH_RUNS (default 3); the least of the runs is printed (CPU
// time only grows with outside load: cache misses, preemption), so it is the path's own cost.
import { open } from "lmdb";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ByteWriter } from "../common/bytes.ts";
import { decodeRequest, encodeRequest, encodeResponseInto, encodeUsageTrailerInto } from "../common/kv-protocol/codec.ts";
import { beginStreamFrame, encodeStreamFrame, endStreamFrame, StreamFrameReader } from "../common/kv-protocol/stream.ts";
import { kvRequestUnits, kvUsageEstimate } from "../common/request-units.ts";
import { checkClearOverlaps, checkLimits, checkTenantSpans } from "../storage-node/checks.ts";
import { executeReads } from "../storage-node/mvcc/apply.ts";
import { startInProcessService } from "../storage-node/testing/in-process-service.ts";
import { bytes, tkey } from "../storage-node/testing/kv-client.ts";
import { ClearedSpans } from "../storage-node/clearing/cleared-spans.ts";

const MS = Number(process.env.BENCH_MS ?? 1500);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 3));
const KEYS = 20_000;
const PIPELINE = 64;
const T = 42;
const SECRET = "bench-fleet-secret-0123456789";
const VALUE = bytes("v".repeat(100));

const k = (i: number) => tkey(T, `k/${String(i).padStart(6, "0")}`);
const rnd = (n: number) => Math.floor(Math.random() * n);

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** CPU µs per operation of `step` (each call does `per` operations), least of RUNS runs of MS. */
async function measure(per: number, step: () => void | Promise<void>): Promise<number> {
  const end0 = performance.now() + 300;
  while (performance.now() < end0) await step();
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const c0 = cpuUs();
    const end = performance.now() + MS;
    while (performance.now() < end) {
      await step();
      n += per;
    }
    runs.push((cpuUs() - c0) / n);
  }
  return Math.min(...runs);
}

async function main(): Promise<void> {
  const node = await startInProcessService({ tenantRuPerSecond: 1e9, tenantBurstRu: 1e9, nodeRuPerSecond: 1e9 }, SECRET);
  const { service, engine, writer, limits } = node;
  const claims = await node.claimsFor(T);
  const dir = mkdtempSync(join(tmpdir(), "warren-bench-path-raw-"));
  try {
    for (let i = 0; i < KEYS; i += 1000) {
      const writes = Array.from({ length: 1000 }, (_, j) => ({ op: "put" as const, key: k(i + j), value: VALUE }));
      const out = await service.handleAs(claims, encodeRequest({ type: "batch", reads: [], writes }));
      if (out.status !== 200) throw new Error(`load failed with ${out.status}`);
    }
    engine.refresh();

    // Chunks of 64 request frames, as a pipelining client's writes arrive.
    const requests = Array.from({ length: 4096 }, () => encodeRequest({ type: "read", readTs: null, ops: [{ op: "get", key: k(rnd(KEYS)) }] }));
    const chunks = Array.from({ length: 64 }, (_, c) => {
      const frames = Array.from({ length: PIPELINE }, (_, j) => encodeStreamFrame(c * PIPELINE + j + 1, requests[(c * PIPELINE + j) % requests.length]!));
      return Buffer.concat(frames);
    });

    const socket = await node.openStream(T);
    socket.keepWrites = false;
    let chunkAt = 0;
    const streamStep = () =>
      new Promise<void>((resolve) => {
        const before = socket.bytesOut;
        socket.onWrite = () => {
          // One write carries the batch's 64 answers (the node flushes once per event-loop turn).
          if (socket.bytesOut > before) {
            socket.onWrite = null;
            resolve();
          }
        };
        socket.emit("data", chunks[chunkAt++ % chunks.length]!);
      });
    let writesBefore = socket.writeCount;
    let steps = 0;
    const full = await measure(PIPELINE, async () => {
      steps++;
      await streamStep();
    });
    const writesPerBatch = (socket.writeCount - writesBefore) / steps;

    if (process.env.BENCH_PATH_ONLY === "stream") {
      console.log(`whole stream path: ${full.toFixed(2)} µs per request, ${writesPerBatch.toFixed(2)} socket writes per ${PIPELINE}`);
      return;
    }
    let at = 0;
    const next = () => requests[at++ % requests.length]!;
    const handleAsSeq = await measure(1, async () => {
      await service.handleAs(claims, next());
    });
    const handleAs64 = await measure(PIPELINE, async () => {
      const ps = [];
      for (let j = 0; j < PIPELINE; j++) ps.push(service.handleAs(claims, next()));
      await Promise.all(ps);
    });
    const frames = chunks[0]!;
    const framing = await measure(PIPELINE, () => {
      const r = new StreamFrameReader(limits.requestBytesMax);
      r.push(frames);
      for (let j = 0; j < PIPELINE; j++) r.next();
    });
    const decode = await measure(1, () => {
      decodeRequest(next());
    });
    const decoded = requests.map((b) => decodeRequest(b));
    const checks = await measure(1, () => {
      const q = decoded[at++ % decoded.length]!;
      checkTenantSpans(q, T) ?? checkLimits(q, limits) ?? checkClearOverlaps(q);
    });
    const ru = await measure(1, () => {
      kvRequestUnits(kvUsageEstimate(decoded[at++ % decoded.length]!));
    });
    const view = { spans: new ClearedSpans(), tenantId: T };
    const mvccGet = await measure(1, () => {
      const q = decoded[at++ % decoded.length]!;
      if (q.type !== "read") throw new Error("not a read");
      executeReads(engine, writer.readTimestamp(), q.ops, limits, view);
    });
    const sample = await service.handleAs(claims, next());
    // As kv-stream.ts answers: each frame encoded into the connection's outbox, taken every 64.
    const outbox = new ByteWriter(4096);
    let framesOut = 0;
    const encode = await measure(1, () => {
      const res = { type: "read" as const, readTs: 1n, results: [{ op: "get" as const, value: VALUE }] };
      const frameAt = beginStreamFrame(outbox, 7);
      encodeResponseInto(outbox, res);
      encodeUsageTrailerInto(outbox, sample.usage!);
      endStreamFrame(outbox, frameAt);
      if (++framesOut % PIPELINE === 0) outbox.handOff(4096);
    });
    // Raw lmdb-js as bench:storage opens it: same keys and values, one version each, no MVCC.
    const raw = open<Buffer, Buffer>({ path: dir, keyEncoding: "binary", encoding: "binary", cache: false });
    raw.transactionSync(() => {
      for (let i = 0; i < KEYS; i++) raw.putSync(Buffer.from(k(i)), Buffer.from(VALUE));
    });
    const rawKeys = Array.from({ length: 4096 }, () => Buffer.from(k(rnd(KEYS))));
    const rawGet = await measure(1, () => {
      raw.get(rawKeys[at++ % rawKeys.length]!);
    });
    await raw.close();

    const f = (n: number) => n.toFixed(2).padStart(8);
    console.log(`\nKV stream, node side, in-process: CPU µs per single-key read (least of ${RUNS} × ${MS} ms)\n`);
    console.log(`${f(full)}  whole stream path: 64 pipelined frames in one chunk → answers (${writesPerBatch.toFixed(2)} socket writes per 64)`);
    console.log(`${f(handleAs64)}  KvService.handleAs, 64 at once (everything but framing and the socket)`);
    console.log(`${f(handleAsSeq)}  KvService.handleAs, one at a time`);
    console.log(`${f(framing)}    framing: StreamFrameReader, per frame`);
    console.log(`${f(decode)}    decodeRequest`);
    console.log(`${f(checks)}    tenant span, limits and clear-overlap checks`);
    console.log(`${f(ru)}    RU estimate`);
    console.log(`${f(mvccGet)}    snapshot timestamp + MVCC get (executeReads)`);
    console.log(`${f(encode)}    answer framed into the outbox (response, usage trailer)`);
    console.log(`${f(rawGet)}  raw lmdb-js get (same keys and values, no MVCC)`);
    console.log("");
  } finally {
    await node.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
