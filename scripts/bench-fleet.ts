// npm run bench:fleet — issue 13 acceptance 1 at full length through SQL: a local fleet
// (`warren dev --shards 1 --replicas 3`), the bank workload over HTTP SQL (8 clients, serializable),
// and 20 SIGKILLs of the shard's leaseholder at random moments (test/fleet/leader-kills.ts).
// Prints, per kill and overall (p50/p99/max), the time until SQL is served again against the
// 5 s target, with the replication protocol's own failover (a new leaseholder serving KV) as the
// baseline measured in the same run; then checks the total balance and every acknowledged
// transfer. Exits 1 when an invariant is broken (the time target is reported, not enforced: the
// figures depend on the machine's load, which is printed).
//
//   npm run bench:fleet                 20 kills
//   npm run bench:fleet -- --short      3 kills (CI's bench smoke)
//   npm run bench:fleet -- --kills 50
import os from "node:os";
import { parseArgs } from "node:util";
import { startStack } from "../test/harness/stack.ts";
import { FleetProbe, leaderKillsSummary, runLeaderKills } from "../test/fleet/leader-kills.ts";

const { values: opts } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    kills: { type: "string" },
    // The bound for a new leader to serve.
    "target-ms": { type: "string", default: "5000" },
  },
});
const kills = opts.kills !== undefined ? Number(opts.kills) : opts.short ? 3 : 20;
const targetMs = Number(opts["target-ms"]);
if (!Number.isInteger(kills) || kills < 1) throw new Error(`--kills must be a positive integer, not ${opts.kills}`);

const log = (line: string) => console.log(`bench:fleet: ${line}`);
const load = () => os.loadavg().map((x) => x.toFixed(1)).join(" ");
log(`${kills} SIGKILLs of the leaseholder, 8 bank clients; ${os.cpus().length} cores, load ${load()}`);
const stack = await startStack({ env: { WARREN_SHARDS: "1", WARREN_REPLICAS: "3" }, timeoutMs: 180_000 });
let failed = false;
try {
  log(`fleet ready in ${(stack.readyMs / 1000).toFixed(1)} s`);
  const probe = await FleetProbe.create(stack, "benchfleet");
  const report = await runLeaderKills(probe, { kills, pauseMsMin: 1_500, pauseMsMax: 5_000, accounts: 20 }, log);
  for (const line of leaderKillsSummary(report, targetMs)) log(line);
  log(`load at the end ${load()}`);
  failed = report.problems.length > 0 || report.bank.committed.size === 0 || report.stoppedEarly !== undefined;
} catch (err) {
  failed = true;
  log(`FAILED: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
} finally {
  await stack.stop();
}
process.exit(failed ? 1 : 0);
