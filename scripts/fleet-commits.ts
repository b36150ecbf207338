// Commit latency and throughput through SQL on a local fleet (issue 13, acceptance 5): one
// tenant's single-row INSERTs, each its own transaction, over HTTP SQL — first one client at a
// time (latency: p50/p99), then `writers` clients at once for `concurrentMs` (commits per second).
// scripts/bench-fleet.ts runs it on `warren dev --shards 1 --replicas 1` and `--replicas 3` in the
// same run and prints the ratio; the goal is a 3-replica commit latency ≤ 2× the single node's.
import { percentile } from "./slt/bank.ts";
import { NeonHttpClient } from "./slt/neon-http.ts";
import type { Stack } from "../test/harness/stack.ts";
import { whileUnavailable } from "../test/fleet/leader-kills.ts";

export interface CommitFigures {
  sequential: number;
  p50Ms: number;
  p99Ms: number;
  writers: number;
  perSecond: number;
  /** Commits refused with 57P01 (the shard failing over meanwhile) and retried. */
  retried: number;
}

export interface CommitOptions {
  sequential: number;
  writers: number;
  concurrentMs: number;
}


export async function measureCommits(stack: Stack, tenantName: string, o: CommitOptions): Promise<CommitFigures> {
  const tenant = await stack.createTenant(tenantName);
  const client = () => new NeonHttpClient({ http: stack.http, connectionString: tenant.pg, timeoutMs: 30_000 });
  let retried = 0;
  const retry = () => retried++;
  const db = client();
  await whileUnavailable(() => db.query("CREATE TABLE IF NOT EXISTS commits (id TEXT PRIMARY KEY, at BIGINT NOT NULL)"), retry);
  // Warm-up: the tenant's gateway isolate, its catalog and the route to the leaseholder.
  for (let i = 0; i < 10; i++) await whileUnavailable(() => db.query("INSERT INTO commits VALUES ($1, $2)", [`w${i}`, Date.now()]), retry);
  const lat: number[] = [];
  for (let i = 0; i < o.sequential; i++) {
    const t0 = performance.now();
    await whileUnavailable(() => db.query("INSERT INTO commits VALUES ($1, $2)", [`s${i}`, Date.now()]), retry);
    lat.push(performance.now() - t0);
  }
  lat.sort((a, b) => a - b);
  let done = 0;
  const endAt = performance.now() + o.concurrentMs;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: o.writers }, async (_, w) => {
      const c = client();
      for (let i = 0; performance.now() < endAt; i++) {
        await whileUnavailable(() => c.query("INSERT INTO commits VALUES ($1, $2)", [`c${w}-${i}`, Date.now()]), retry);
        done++;
      }
    }),
  );
  const perSecond = done / ((performance.now() - t0) / 1000);
  return { sequential: o.sequential, p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), writers: o.writers, perSecond, retried };
}

export function commitLine(label: string, f: CommitFigures): string {
  return `${label}: ${f.sequential} sequential commits p50 ${f.p50Ms.toFixed(1)} ms, p99 ${f.p99Ms.toFixed(1)} ms; ${f.writers} writers ${f.perSecond.toFixed(1)} commits/s${f.retried > 0 ? ` (${f.retried} retried after 57P01)` : ""}`;
}
