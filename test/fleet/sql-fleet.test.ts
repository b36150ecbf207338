// Acceptance 1 and 2 of issue 13 through SQL: `warren dev --shards 1 --replicas 3` (a real local
// fleet: three replicated storage nodes, the FleetDirectory in workerd, the edge routing the
// tenant to its shard's leaseholder), the bank workload of test/sql-bank.test.ts (8 clients,
// serializable, retried on 40001; 57P01 retried; 08006 counted as ambiguous) over HTTP SQL.
//   1. The leaseholder is SIGKILLed at random moments (WARREN_FLEET_KILLS, default 3 here;
//      `npm run bench:fleet` runs 20, leader-kills.ts): each time an SQL read is served again
//      within the bound (p50/p99 printed); the auditor never sees another total; every
//      acknowledged transfer is present.
//   2. Fencing: the leaseholder is stopped with SIGSTOP (cut off from everything: it can neither
//      renew its lease nor hear of the new epoch) while the workload runs; a new leaseholder serves;
//      when the old one resumes it acknowledges nothing (it finds its lease over and exits), and
//      the final state holds every acknowledged transfer and the same total.
// The 5 s target of the issue is checked by the bench; here the bound is wider (WARREN_FAILOVER_MS_MAX,
// default 10 s) because CI runs this on a loaded machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bankDefaults, runBank, setupBank, summarizeBank, verifyBank, type BankOptions, type BankReport } from "../../scripts/slt/bank.ts";
import { startStack, type Stack } from "../harness/stack.ts";
import { FleetProbe, leaderKillsSummary, runLeaderKills } from "./leader-kills.ts";

const kills = Number(process.env.WARREN_FLEET_KILLS ?? 3);
const failoverMsMax = Number(process.env.WARREN_FAILOVER_MS_MAX ?? 10_000);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * The errors a client may see during a failover besides 40001/40P01 (retried, counted apart): 57P01
 * (storage unavailable, nothing applied), 08006 (outcome of one statement unknown), 53300 (the
 * tenant's /sql line is full while its requests wait on the failover). Never XX000, never a hung
 * request (a transport error: the client's 30 s timeout).
 */
const failoverCodes = new Set(["57P01", "08006", "53300"]);
const unexpectedErrors = (report: BankReport) => [...report.otherErrors].filter(([code]) => !failoverCodes.has(code)).map(([code, e]) => `${code}×${e.count}: ${e.example}`);

/** Whether process `pid` still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("SQL on a 3-replica shard (warren dev --shards 1 --replicas 3)", () => {
  let stack: Stack;
  let probe: FleetProbe;

  beforeAll(async () => {
    stack = await startStack({ env: { WARREN_SHARDS: "1", WARREN_REPLICAS: "3" }, timeoutMs: 180_000 });
    probe = await FleetProbe.create(stack, "fleetbank");
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it(`bank with 8 clients through ${kills} SIGKILLs of the leaseholder: total constant, every acknowledged transfer present`, async () => {
    const report = await runLeaderKills(probe, { kills, pauseMsMin: 1_500, pauseMsMax: 4_000, accounts: 20 }, (line) => console.log(`fleet bank: ${line}`));
    for (const line of leaderKillsSummary(report, 5_000)) console.log(`fleet bank: ${line}`);
    expect(report.stoppedEarly).toBeUndefined();
    expect(report.rounds.length).toBe(kills);
    for (const r of report.rounds) {
      expect(r.successor).toBeTruthy(); // a leaseholder of a newer epoch (leader-kills.ts): possibly the restarted victim
      expect(r.sqlMs).toBeLessThan(failoverMsMax);
    }
    expect(report.bank.committed.size).toBeGreaterThan(0);
    expect(report.bank.auditorWrongTotals).toEqual([]);
    expect(unexpectedErrors(report.bank)).toEqual([]);
    expect(report.problems).toEqual([]);
  }, 600_000);

  // Requests already waiting on the stopped leaseholder are bounded at the edge
  // (workers/edge/storage-attempt.ts): once the FleetDirectory names another primary at a newer
  // epoch they leave the old node, re-sent when that is safe (storage-retry.ts), else 40001/08006.
  it("fencing: a leaseholder stopped while clients write acknowledges nothing after the new epoch", async () => {
    const o: BankOptions = { ...bankDefaults, accounts: 20, durationMs: 15_000 };
    const admin = await probe.connect();
    await admin.query("DROP TABLE IF EXISTS accounts").catch(() => {});
    await admin.query("DROP TABLE IF EXISTS transfers").catch(() => {});
    await setupBank(admin, o);
    const running = runBank(probe.connect, o);
    await sleep(2_000);
    const old = await probe.until("a leaseholder with every replica", () => probe.fullShardLeaseholder(), 60_000);
    const at = performance.now();
    process.kill(old.pid, "SIGSTOP");
    let resumed = false;
    try {
      const served = await probe.sqlServesAfter(at);
      const successor = await probe.until("a new leaseholder", async () => {
        const l = await probe.leaseholder();
        return l !== undefined && l.id !== old.id ? l : undefined;
      }, 30_000);
      await sleep(1_000);
      process.kill(old.pid, "SIGCONT"); // it finds its lease over and exits (replicated-node.ts)
      resumed = true;
      // The old leaseholder, resumed, leaves rather than serve: its process ends (warren dev starts a new one).
      await probe.until("the stopped leaseholder's process to end once resumed", async () => (alive(old.pid) ? undefined : true), 30_000);
      const report = await running;
      console.log(`fleet fencing: ${successor.id} (epoch ${successor.epoch}) served SQL ${served.toFixed(0)} ms after ${old.id} (epoch ${old.epoch}) was stopped; ${summarizeBank(report)}`);
      expect(successor.id).not.toBe(old.id);
      expect(successor.epoch).toBeGreaterThan(old.epoch);
      expect(report.committed.size).toBeGreaterThan(0);
      expect(report.auditorWrongTotals).toEqual([]);
      expect(unexpectedErrors(report)).toEqual([]);
      await probe.until("a leaseholder with every replica", () => probe.fullShardLeaseholder(), 60_000);
      expect(await verifyBank(admin, report)).toEqual([]);
    } finally {
      if (!resumed) process.kill(old.pid, "SIGCONT");
      await admin.close();
    }
  }, 300_000);
});
