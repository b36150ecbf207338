// The replication protocol on real processes: a 3-replica shard of log nodes with LMDB logs, the
// real FleetDirectory Durable Object in `warren dev`'s workerd, fault proxies on every link.
//   1. 8 clients write while the leaseholder is killed with SIGKILL again and again (and started
//      again, to catch up from the log): after each kill a new leaseholder acknowledges writes
//      (time printed, p50/p99); at the end all three replicas hold the same entries and every
//      acknowledged write is there at its position. WARREN_FLEET_KILLS sets the kills (default 3;
//      the acceptance run is 20: scripts/fleet-kills.sh).
//   3. A replica whose data dir is deleted rejoins under load, rebuilds from the log, and the shard
//      ends with three replicas whose applied entries have the same digest.
//   2. Fencing: the leaseholder is cut off from the other replicas and the directory while two
//      clients keep writing to it; it acknowledges none of those writes, a new epoch begins
//      elsewhere, and none of the writes it took is in the final log.
// (This is the replication layer alone; the storage node's KV service on top of it is not wired yet.)
import { createHash } from "node:crypto";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPaths } from "../../cli/data-dir.ts";
import { startStack, type Stack } from "../harness/stack.ts";
import { type LogShard, startLogShard, until } from "./log-shard.ts";

const kills = Number(process.env.WARREN_FLEET_KILLS ?? 3);
/**
 * Failover bound asserted here. The figure is 5 s (failoverAfterMs 2 s + a directory round
 * trip measures ~2.3 s on a quiet machine); the CI bound is wider because this machine runs eight
 * test suites at once, and the figures are printed either way.
 */
const failoverMsMax = Number(process.env.WARREN_FAILOVER_MS_MAX ?? 10_000);

/**
 * How long a step that is not a measured failover may wait for the shard (a leaseholder, a node
 * back in the replica set). Under CPU load the FleetDirectory's round trips reach seconds and
 * leases grow up to leaseMsMax (10 s: replication/README.md, "Slow directory"); what these tests
 * check is the invariants and that the shard comes back, not how fast a starved machine is.
 */
const steadyWaitMs = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Waits until every node has applied the same number of entries (and at least `min`). */
async function converged(shard: LogShard, min: number): Promise<number> {
  return until(
    "the replicas to converge",
    async () => {
      const states = await Promise.all(shard.ids.map((id) => shard.state(id)));
      if (states.some((s) => s === undefined)) return undefined;
      const applied = new Set(states.map((s) => s!.applied));
      const replicas = states.find((s) => s!.leaseholder)?.replicas.length ?? 0;
      return applied.size === 1 && states[0]!.applied >= min && replicas === shard.ids.length ? states[0]!.applied : undefined;
    },
    30_000,
  );
}

/** Every node's applied entries are identical and hold every acknowledged write at its position. */
async function checkFinal(shard: LogShard, acked: Map<string, number>): Promise<void> {
  const lists = await Promise.all(shard.ids.map((id) => shard.applied(id)));
  for (const l of lists.slice(1)) expect(l).toEqual(lists[0]);
  const bySeq = new Map(lists[0]!.map((e) => [e.seq, e.payload]));
  const lost = [...acked].filter(([payload, seq]) => bySeq.get(seq) !== payload);
  expect(lost.slice(0, 5), "acknowledged writes missing").toEqual([]);
}

describe("a replicated log shard on real processes", () => {
  let stack: Stack;
  let shard: LogShard;
  beforeAll(async () => {
    stack = await startStack();
    const fleetSecret = fs.readFileSync(dataPaths(stack.dataDir).fleetSecret, "utf8").trim();
    shard = await startLogShard({ edgeUrl: stack.http, fleetSecret, shardId: 1 });
  });
  afterAll(async () => {
    await shard?.close();
    await stack?.stop();
  });

  it(`8 writers through ${kills} SIGKILLs of the leaseholder: a new one serves each time, nothing acknowledged is lost`, async () => {
    await until("a first leaseholder", () => shard.leaseholder(), steadyWaitMs);
    const acked = new Map<string, number>();
    const ackTimes: Array<{ atMs: number; node: string }> = [];
    let writing = true;
    const writer = async (c: number) => {
      let leader: string | undefined;
      for (let n = 0; writing; n++) {
        leader ??= await shard.leaseholder();
        if (!leader) {
          await sleep(50);
          continue;
        }
        const payload = `c${c}-${n}`;
        try {
          const r = await shard.propose(leader, payload);
          if (r.ok) {
            acked.set(payload, r.seq);
            ackTimes.push({ atMs: performance.now(), node: leader });
            continue;
          }
        } catch {
          // connection refused or timed out: the node is gone
        }
        leader = undefined;
        await sleep(20);
      }
    };
    const writers = Array.from({ length: 8 }, (_, c) => writer(c));

    const failoverMs: number[] = [];
    for (let k = 0; k < kills; k++) {
      await sleep(1_000 + Math.random() * 2_000);
      const victim = await until("a leaseholder", () => shard.leaseholder(), steadyWaitMs);
      const killedAt = performance.now();
      shard.kill(victim);
      const next = await until(
        "a write acknowledged by a new leaseholder",
        async () => ackTimes.find((a) => a.atMs > killedAt && a.node !== victim),
        30_000,
      );
      failoverMs.push(next.atMs - killedAt);
      await shard.restart(victim);
      // The returning node catches up as a learner and is added back before the next kill.
      await until(
        "the killed node back in the replica set",
        async () => {
          const s = await shard.state(next.node);
          return s && s.replicas.length === shard.ids.length ? true : undefined;
        },
        steadyWaitMs,
      );
    }
    writing = false;
    await Promise.all(writers);
    const sorted = [...failoverMs].sort((a, b) => a - b);
    console.log(
      `log shard: ${acked.size} writes acknowledged; a new leaseholder acknowledged writes after a SIGKILL in ` +
        `p50 ${percentile(sorted, 0.5).toFixed(0)} ms, p99 ${percentile(sorted, 0.99).toFixed(0)} ms (${failoverMs.map((m) => m.toFixed(0)).join(", ")})`,
    );
    for (const ms of failoverMs) expect(ms).toBeLessThan(failoverMsMax);
    expect(acked.size).toBeGreaterThan(0);
    await converged(shard, Math.max(...acked.values()));
    await checkFinal(shard, acked);
  }, 300_000);

  it("fencing: a leaseholder cut off from everyone acknowledges none of the writes it keeps receiving", async () => {
    const old = await until("a leaseholder", () => shard.leaseholder(), steadyWaitMs);
    const before = (await shard.state(old))!.epoch;
    const cutAt = performance.now();
    shard.cut(old, "blackhole");
    const answers: Array<{ payload: string; ok: boolean }> = [];
    let writing = true;
    const hammer = async (c: number) => {
      for (let n = 0; writing; n++) {
        const payload = `fenced-${c}-${n}`;
        try {
          const r = await shard.propose(old, payload);
          answers.push({ payload, ok: r.ok });
        } catch {
          answers.push({ payload, ok: false });
        }
      }
    };
    const hammers = [hammer(0), hammer(1)];
    const successor = await until(
      "a new leaseholder elsewhere",
      async () => {
        for (const id of shard.ids) {
          if (id === old) continue;
          const s = await shard.state(id);
          if (s?.leaseholder && s.epoch > before) return id;
        }
        return undefined;
      },
      30_000,
    );
    console.log(`fencing: ${successor} leads a new epoch ${((performance.now() - cutAt) / 1000).toFixed(1)} s after the cut`);
    await sleep(1_000); // the old one keeps receiving writes in the new epoch
    writing = false;
    await Promise.all(hammers);
    shard.heal(old);
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.ok)).toEqual([]);
    await converged(shard, 1);
    const final = await shard.applied(successor);
    expect(final.filter((e) => e.payload.startsWith("fenced-"))).toEqual([]);
    await checkFinal(shard, new Map());
  }, 120_000);

  it("a replica whose data dir was deleted rejoins under load and rebuilds: three identical replicas", async () => {
    const leader = await until("a leaseholder", () => shard.leaseholder(), steadyWaitMs);
    const victim = shard.ids.find((id) => id !== leader)!;
    const acked = new Map<string, number>();
    let writing = true;
    const writer = async (c: number) => {
      for (let n = 0; writing; n++) {
        const to = await shard.leaseholder();
        if (!to) {
          await sleep(50);
          continue;
        }
        try {
          const r = await shard.propose(to, `rebuild-${c}-${n}`);
          if (r.ok) acked.set(`rebuild-${c}-${n}`, r.seq);
        } catch {
          await sleep(20);
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, c) => writer(c));
    await sleep(1_500);
    shard.kill(victim);
    await shard.wipe(victim);
    await shard.restart(victim);
    await until("the wiped replica caught up", async () => {
      const s = await shard.state(victim);
      return s && s.applied > 0 && s.replicas.includes(victim) ? true : undefined;
    }, 60_000);
    await sleep(1_000); // still under load after it is back
    writing = false;
    await Promise.all(writers);
    await converged(shard, Math.max(0, ...acked.values()));
    await checkFinal(shard, acked);
    const digests = await Promise.all(
      shard.ids.map(async (id) => createHash("sha256").update(JSON.stringify(await shard.applied(id))).digest("hex").slice(0, 16)),
    );
    console.log(`after a deleted data dir: ${acked.size} writes acknowledged meanwhile; digests ${digests.join(" ")}`);
    expect(new Set(digests).size).toBe(1);
  }, 180_000);
});
