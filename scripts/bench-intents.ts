// npm run bench:intents — the storage node's writer thread alone, on a real LMDB store (fsync on):
// what one intent costs to write (txnWrite, in requests of --per-request keys, like a COPY's
// flushes) and to resolve at commit, against the same rows written by plain single-shot batches
// (one version per key, no intents) in the same run. Prints µs per key for each.
//
//   npm run bench:intents -- --keys 100000 --per-request 8500
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { encodeRequest } from "../common/kv-protocol/codec.ts";
import type { WriteOp } from "../common/kv-protocol/messages.ts";
import { tenantPrefix } from "../common/tenant-prefix.ts";
import { LmdbEngine } from "../storage-node/engine/lmdb-engine.ts";
import { resolveLimits } from "../storage-node/limits.ts";
import { WriterCore } from "../storage-node/writer/writer-core.ts";

const { values: opts } = parseArgs({
  options: {
    keys: { type: "string", default: "100000" },
    "per-request": { type: "string", default: "8500" },
    "value-bytes": { type: "string", default: "100" },
  },
});
const keys = Number(opts.keys);
const perRequest = Number(opts["per-request"]);
const valueBytes = Number(opts["value-bytes"]);

function rows(tenantId: number, table: number): WriteOp[] {
  const prefix = tenantPrefix(tenantId);
  const out: WriteOp[] = [];
  for (let i = 0; i < keys; i++) {
    const key = new Uint8Array(prefix.length + 10);
    key.set(prefix);
    const dv = new DataView(key.buffer);
    dv.setUint16(prefix.length, table);
    dv.setUint32(prefix.length + 2, 0);
    dv.setUint32(prefix.length + 6, i);
    const value = new Uint8Array(valueBytes).fill(i & 0xff);
    out.push({ op: "put", key, value });
  }
  return out;
}

let ts = BigInt(Date.now()) << 16n;
const nextTs = () => (ts += 1n);
let jobId = 0;

function measure(label: string, fn: () => void): number {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000;
  // CPU time is the steadier figure on a shared machine; wall time adds the fsyncs and the waits.
  console.log(`  ${label.padEnd(40)} wall ${ms.toFixed(0).padStart(6)} ms ${((ms * 1000) / keys).toFixed(1).padStart(6)} µs/key   cpu ${cpuMs.toFixed(0).padStart(6)} ms ${((cpuMs * 1000) / keys).toFixed(1).padStart(6)} µs/key`);
  return cpuMs;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-bench-intents-"));
const engine = new LmdbEngine({ path: dir, noSync: process.env.BENCH_NOSYNC === "1" });
try {
  const writer = new WriterCore(engine, resolveLimits({}));
  console.log(`bench:intents: ${keys} keys of ${valueBytes} bytes, ${perRequest} per request, LMDB with fsync`);
  // Baseline: the same rows as single-shot batches (versions only).
  const plain = rows(2, 1);
  measure("plain batches (versions, no intents)", () => {
    for (let i = 0; i < plain.length; i += perRequest) {
      const body = encodeRequest({ type: "batch", reads: [], writes: plain.slice(i, i + perRequest) });
      const m = writer.runGroup([{ kind: "batch", id: jobId++, tenantId: 2, commitTs: nextTs(), body }]);
      if (m.kind !== "done" || !m.replies[0]!.ok) throw new Error("batch failed");
    }
  });
  // The same rows as one transaction's intents, then its commit.
  const txnId = crypto.getRandomValues(new Uint8Array(16));
  const readTs = nextTs();
  const ws = rows(3, 1);
  const w = measure("txnWrite (intents)", () => {
    for (let i = 0; i < ws.length; i += perRequest) {
      const body = encodeRequest({ type: "txnWrite", txnId, readTs, writes: ws.slice(i, i + perRequest) });
      const m = writer.runGroup([{ kind: "txnWrite", id: jobId++, tenantId: 3, commitTs: 0n, body }]);
      if (m.kind !== "done" || !m.replies[0]!.ok) throw new Error(`txnWrite failed: ${JSON.stringify(m)}`);
    }
  });
  const c = measure("commit (resolve every intent)", () => {
    const body = encodeRequest({ type: "commit", txnId, readTs, readSpans: [], writes: [] });
    const m = writer.runGroup([{ kind: "commit", id: jobId++, tenantId: 3, commitTs: nextTs(), body }]);
    if (m.kind !== "done" || !m.replies[0]!.ok) throw new Error("commit failed");
  });
  console.log(`  intents total cpu ${(w + c).toFixed(0)} ms (${(((w + c) * 1000) / keys).toFixed(1)} µs/key)`);
} finally {
  await engine.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
