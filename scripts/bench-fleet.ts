// npm run bench:fleet — issue 13 acceptance 1 at full length through SQL: a local fleet
// (`warren dev --shards 1 --replicas 3`), the bank workload over HTTP SQL (8 clients, serializable),
// and 20 SIGKILLs of the shard's leaseholder at random moments (test/fleet/leader-kills.ts).
// Prints, per kill and overall (p50/p99/max), the time until SQL is served again against the
// 5 s target, with the replication protocol's own failover (a new leaseholder serving KV) as the
// baseline measured in the same run; then checks the total balance and every acknowledged
// transfer. Exits 1 when an invariant is broken (the time target is reported, not enforced: the
// figures depend on the machine's load, which is printed).
//
// First (acceptance 5), commit latency and throughput through SQL with 1 replica and with 3, in
// the same run (scripts/fleet-commits.ts): a `--replicas 1` fleet is started, measured and
// stopped, then the 3-replica fleet that the kills run on is measured before them; the ratio is
// printed against the ≤ 2× goal.
//
//   npm run bench:fleet                 20 kills
//   npm run bench:fleet -- --short      3 kills (CI's bench smoke)
//   npm run bench:fleet -- --kills 50
//   npm run bench:fleet -- --skip-commits   the kills only
//   npm run bench:fleet -- --kills 0        the commit comparison only
import os from "node:os";
import { parseArgs } from "node:util";
import { startStack } from "../test/harness/stack.ts";
import { FleetProbe, leaderKillsSummary, runLeaderKills } from "../test/fleet/leader-kills.ts";
import { commitLine, measureCommits, type CommitFigures } from "./fleet-commits.ts";

const { values: opts } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    kills: { type: "string" },
    // The bound for a new leader to serve.
    "target-ms": { type: "string", default: "5000" },
    "skip-commits": { type: "boolean", default: false },
  },
});
const kills = opts.kills !== undefined ? Number(opts.kills) : opts.short ? 3 : 20;
const targetMs = Number(opts["target-ms"]);
if (!Number.isInteger(kills) || kills < 0) throw new Error(`--kills must be a non-negative integer, not ${opts.kills}`);

const log = (line: string) => console.log(`bench:fleet: ${line}`);
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(" ");
log(`${kills} SIGKILLs of the leaseholder, 8 bank clients; ${os.cpus().length} cores, load ${load()}`);
const commitOptions = opts.short ? { sequential: 30, writers: 8, concurrentMs: 3_000 } : { sequential: 200, writers: 8, concurrentMs: 10_000 };
let single: CommitFigures | undefined;
if (!opts["skip-commits"]) {
  const one = await startStack({ env: { WARREN_SHARDS: "1", WARREN_REPLICAS: "1" }, timeoutMs: 180_000 });
  try {
    single = await measureCommits(one, "commits1", commitOptions);
    log(commitLine(`1 replica (load ${load()})`, single));
  } finally {
    await one.stop();
  }
}
const stack = await startStack({ env: { WARREN_SHARDS: "1", WARREN_REPLICAS: "3" }, timeoutMs: 180_000 });
let failed = false;
try {
  log(`fleet ready in ${(stack.readyMs / 1000).toFixed(1)} s`);
  if (single !== undefined) {
    const three = await measureCommits(stack, "commits3", commitOptions);
    log(commitLine(`3 replicas (load ${load()})`, three));
    const ratio = three.p50Ms / single.p50Ms;
    log(
      `3 replicas against 1: commit latency p50 ${ratio.toFixed(2)}×, p99 ${(three.p99Ms / single.p99Ms).toFixed(2)}× (goal ≤ 2×: ${ratio <= 2 ? "met" : "NOT met"}); ` +
        `throughput ${(three.perSecond / single.perSecond).toFixed(2)}×`,
    );
  }
  if (kills > 0) {
    const probe = await FleetProbe.create(stack, "benchfleet");
    const report = await runLeaderKills(probe, { kills, pauseMsMin: 1_500, pauseMsMax: 5_000, accounts: 20 }, log);
    for (const line of leaderKillsSummary(report, targetMs)) log(line);
    failed = report.problems.length > 0 || report.bank.committed.size === 0 || report.stoppedEarly !== undefined;
  }
  log(`load at the end ${load()}`);
} catch (err) {
  failed = true;
  log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await stack.stop();
}
process.exit(failed ? 1 : 0);
