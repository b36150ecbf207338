// Commit latency and throughput of the replication layer with 3 replicas against 1, in the same
// run (issue 13, acceptance 5, at the log level: the storage node's KV service is not on top of
// the replicated log yet). Each shard is log nodes as real processes with LMDB logs and the real
// FleetDirectory in `warren dev`'s workerd; one fsync of this disk is measured first as the floor.
//
//   node scripts/bench-replication.ts        (through npm: npx node … uses Node 22)
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { dataPaths } from "../cli/data-dir.ts";
import { LmdbEngine } from "../storage-node/engine/lmdb-engine.ts";
import { startStack } from "../test/harness/stack.ts";
import { startLogShard, type LogShard } from "../test/fleet/log-shard.ts";

const sequentialCommits = 200;
const concurrentSeconds = 10;
const writers = 8;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

function fsyncMs(): number {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-fsync-"));
  const e = new LmdbEngine({ path: dir });
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) e.writeSync((w) => w.put(new Uint8Array([1, i]), new Uint8Array([i])));
  const ms = (performance.now() - t0) / 100;
  void e.close().then(() => fs.rmSync(dir, { recursive: true, force: true }));
  return ms;
}

async function measure(shard: LogShard): Promise<{ p50: number; p99: number; perSecond: number }> {
  let leader: string | undefined;
  while (!(leader = await shard.leaseholder())) await sleep(50);
  const lat: number[] = [];
  for (let i = 0; i < sequentialCommits; i++) {
    const t0 = performance.now();
    const r = await shard.propose(leader, `s${i}`);
    if (!r.ok) throw new Error(`refused: ${r.status}`);
    lat.push(performance.now() - t0);
  }
  let done = 0;
  const end = performance.now() + concurrentSeconds * 1000;
  await Promise.all(
    Array.from({ length: writers }, async (_, c) => {
      for (let n = 0; performance.now() < end; n++) if ((await shard.propose(leader!, `c${c}-${n}`)).ok) done++;
    }),
  );
  return { p50: pct(lat, 0.5), p99: pct(lat, 0.99), perSecond: done / concurrentSeconds };
}

const stack = await startStack();
try {
  const fleetSecret = fs.readFileSync(dataPaths(stack.dataDir).fleetSecret, "utf8").trim();
  console.log(`one LMDB write with fsync on this disk: ${fsyncMs().toFixed(2)} ms; load average ${os.loadavg()[0]!.toFixed(1)}`);
  const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const [name, ids, shardId] of [["1 replica", ["a1"], 1], ["3 replicas", ["b1", "b2", "b3"], 2]] as const) {
    const shard = await startLogShard({ edgeUrl: stack.http, fleetSecret, shardId, ids: [...ids] });
    try {
      results[name] = await measure(shard);
    } finally {
      await shard.close();
    }
    const r = results[name]!;
    console.log(`${name}: commit latency p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms (sequential); ${r.perSecond.toFixed(0)} commits/s with ${writers} writers`);
  }
  const one = results["1 replica"]!;
  const three = results["3 replicas"]!;
  console.log(`3 replicas / 1 replica: p50 latency ×${(three.p50 / one.p50).toFixed(2)} (goal ≤ 2), throughput ×${(three.perSecond / one.perSecond).toFixed(2)}`);
} finally {
  await stack.stop();
}
