// Issue 13 acceptance 1 through SQL, shared by test/fleet/sql-fleet.test.ts (a few kills, in CI)
// and scripts/bench-fleet.ts (`npm run bench:fleet`, 20 kills; `--short` 3): the bank workload
// (scripts/slt/bank.ts: 8 clients, serializable, 40001 and 57P01 retried, 08006 counted as
// ambiguous) over HTTP SQL on `warren dev --shards 1 --replicas 3`, while the shard's leaseholder
// is killed with SIGKILL at random moments.
//
// For each kill three times are measured from the SIGKILL:
//   leaseholderMs  until a node reports itself leaseholder with its KV service up (GET /v1/state
//                  on every replica): the replication protocol's failover, the baseline (with
//                  promotedMs, when it first reported the lease, before its KV service started);
//   sqlMs          until an SQL read through the edge answers, for a second tenant on the same
//                  shard (its own table; not queued behind the bank's requests in the tenant's
//                  /sql line): when the shard serves SQL again. sqlMs − leaseholderMs is the edge's
//                  share (noticing the new leaseholder through the FleetDirectory);
//   transferMs     until the bank's first acknowledgement once the new leaseholder serves: what its clients see,
//                  including their own retry pauses and the tenant's /sql line (4 running, the
//                  rest waiting up to 2 s, workers/edge/limits.ts) filled with requests that were
//                  waiting on the dead node.
// Before each kill the killed node of the previous round must be back in the replica set (caught
// up): a kill while the shard has fewer replicas tests a smaller shard, not this one, and `warren
// dev` treats five deaths of one node within a minute as a crash loop.
import fs from "node:fs";
import path from "node:path";
import { dataPaths } from "../../cli/data-dir.ts";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { bankDefaults, percentile, runBank, setupBank, summarizeBank, verifyBank, type BankOptions, type BankReport } from "../../scripts/slt/bank.ts";
import { warrenBankDb } from "../../scripts/slt/bank-db.ts";
import type { BankDb } from "../../scripts/slt/bank.ts";
import { NeonHttpClient } from "../../scripts/slt/neon-http.ts";
import { SqlError } from "../../scripts/slt/target.ts";
import type { Stack, TenantConnection } from "../harness/stack.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface FleetFile {
  host: string;
  nodes: Array<{ id: string; shardId: number; kvPort: number; replPort: number }>;
}

export interface NodeState {
  id: string;
  pid: number;
  epoch: number;
  leaseholder: boolean;
  kvUrl: string | null;
  replicas: string[];
}

/** Probes of one local fleet (`warren dev --shards 1 --replicas R`) and SQL through its edge. */
export class FleetProbe {
  readonly stack: Stack;
  /** The bank's tenant. */
  readonly tenant: TenantConnection;
  /** The tenant whose reads tell when the shard serves SQL (sqlServesAfter). */
  readonly probeTenant: TenantConnection;
  private readonly fleet: FleetFile;
  private readonly secret: string;
  /** What each node said at the last probe (for error messages). */
  lastStates: string[] = [];

  /** Creates the two tenants (`NAME`, `NAMEprobe`) and the probe's table, once the shard is whole. */
  static async create(stack: Stack, name: string): Promise<FleetProbe> {
    const probe = new FleetProbe(stack, await stack.createTenant(name), await stack.createTenant(`${name}probe`));
    await probe.until("a leaseholder with every replica in its configuration", () => probe.fullShardLeaseholder(), 60_000);
    const db = await probe.connectProbe();
    try {
      await probe.whileUnavailable(() => db.query("CREATE TABLE IF NOT EXISTS probe (x INT PRIMARY KEY)"));
      await probe.whileUnavailable(() => db.query("INSERT INTO probe VALUES (1) ON CONFLICT DO NOTHING"));
    } finally {
      await db.close();
    }
    return probe;
  }

  /**
   * Runs `fn` again while it fails with 57P01 (storage unavailable: nothing was applied, so it is
   * safe), for up to a minute: set-up statements must not fail because the shard is failing over
   * (a fresh local fleet on a loaded machine may replace its first leaseholder).
   */
  async whileUnavailable<T>(fn: () => Promise<T>): Promise<T> {
    return whileUnavailable(fn);
  }

  private constructor(stack: Stack, tenant: TenantConnection, probeTenant: TenantConnection) {
    this.stack = stack;
    this.tenant = tenant;
    this.probeTenant = probeTenant;
    this.fleet = JSON.parse(fs.readFileSync(path.join(dataPaths(stack.dataDir).storage, "fleet", "fleet.json"), "utf8")) as FleetFile;
    this.secret = fs.readFileSync(dataPaths(stack.dataDir).fleetSecret, "utf8").trim();
  }

  get nodeCount(): number {
    return this.fleet.nodes.length;
  }

  connect = async (): Promise<BankDb> => warrenBankDb(new NeonHttpClient({ http: this.stack.http, connectionString: this.tenant.pg, timeoutMs: 30_000 }));
  private connectProbe = async (): Promise<BankDb> => warrenBankDb(new NeonHttpClient({ http: this.stack.http, connectionString: this.probeTenant.pg, timeoutMs: 30_000 }));

  /** Every node's GET /v1/state (a node that is down or stopped is left out). */
  async states(): Promise<NodeState[]> {
    this.lastStates = [];
    // A system token per probe (tokens live at most 15 minutes, so one never expires mid-run).
    const token = await mintTenantToken(this.secret, { tenantId: SYSTEM_TENANT_ID, expiresAtMs: Date.now() + 10 * 60_000 });
    const out: NodeState[] = [];
    await Promise.all(
      this.fleet.nodes.map(async (n) => {
        try {
          const res = await fetch(`http://${this.fleet.host}:${n.replPort}/v1/state`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(1_000) });
          const text = await res.text();
          this.lastStates.push(`${n.id}: ${res.status} ${text.slice(0, 200)}`);
          out.push(JSON.parse(text) as NodeState);
        } catch (err) {
          this.lastStates.push(`${n.id}: ${err instanceof Error ? err.message : String(err)}`); // down, restarting or stopped
        }
      }),
    );
    return out;
  }

  /** The node that holds the lease with its KV service up, if any. */
  async leaseholder(): Promise<NodeState | undefined> {
    return (await this.states()).find((s) => s.leaseholder && s.kvUrl !== null);
  }

  /** The leaseholder, once its configuration holds every node of the shard as a replica. */
  async fullShardLeaseholder(): Promise<NodeState | undefined> {
    const l = await this.leaseholder();
    return l !== undefined && l.replicas.length === this.nodeCount ? l : undefined;
  }

  async until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; nodes said:\n${this.lastStates.join("\n")}`);
      await sleep(50);
    }
  }

  /** Median latency of the probe's read with a healthy shard (the floor under sqlMs). */
  async steadyReadMs(samples: number): Promise<number> {
    const db = await this.connectProbe();
    try {
      const ms: number[] = [];
      for (let i = 0; i < samples; i++) {
        const t0 = performance.now();
        await this.whileUnavailable(() => db.query("SELECT count(*) FROM probe"));
        ms.push(performance.now() - t0);
      }
      return percentile(ms.sort((a, b) => a - b), 50);
    } finally {
      await db.close();
    }
  }

  /** Milliseconds from `startMs` (performance.now()) until an SQL read of the probe tenant's table answers. */
  async sqlServesAfter(startMs: number, giveUpMs = 60_000): Promise<number> {
    const db = await this.connectProbe();
    try {
      for (;;) {
        try {
          await db.query("SELECT count(*) FROM probe");
          return performance.now() - startMs;
        } catch {
          await sleep(50);
        }
        if (performance.now() - startMs > giveUpMs) throw new Error(`no SQL answer within ${giveUpMs} ms after the fault`);
      }
    } finally {
      await db.close();
    }
  }
}

/**
 * Runs `fn` again while it fails with 57P01 (storage unavailable: nothing was applied, so it is
 * safe), for up to a minute; `onRetry` counts the retries.
 */
export async function whileUnavailable<T>(fn: () => Promise<T>, onRetry: () => void = () => {}): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof SqlError && err.code === "57P01") || Date.now() > deadline) throw err;
      onRetry();
      await sleep(200);
    }
  }
}

export interface KillRound {
  victim: string;
  successor: string;
  /** performance.now() of the SIGKILL. */
  atMs: number;
  /** Until a node of a newer epoch reported itself leaseholder (its KV service perhaps not started yet). */
  promotedMs: number;
  leaseholderMs: number;
  sqlMs: number;
  /** Until the bank's first acknowledged transfer once the new leaseholder served (filled in once the workload has ended). */
  transferMs: number;
}

export interface LeaderKillsReport {
  rounds: KillRound[];
  /** The probe read's median latency while the shard is healthy, measured before the kills with the workload running. */
  steadyReadMs: number;
  bank: BankReport;
  /** verifyBank's findings: empty when the total holds and every acknowledged transfer is present. */
  problems: string[];
  /** Set when the shard did not become whole again before a kill, so the run stopped early. */
  stoppedEarly?: string;
}

export interface LeaderKillsOptions {
  kills: number;
  /** Random pause before each kill: between these many ms (the workload runs meanwhile). */
  pauseMsMin: number;
  pauseMsMax: number;
  accounts: number;
}

/** Creates the bank tables (dropping old ones), runs the workload through `kills` SIGKILLs of the leaseholder, verifies. */
export async function runLeaderKills(probe: FleetProbe, o: LeaderKillsOptions, log: (line: string) => void): Promise<LeaderKillsReport> {
  await probe.until("a leaseholder with every replica in its configuration", () => probe.fullShardLeaseholder(), 60_000);
  const admin = await probe.connect();
  try {
    // The workload runs as long as the kills take (it is stopped by a flag, not a fixed duration):
    // a round is a pause, the failover, and the victim's catch-up.
    const bankOptions: BankOptions = { ...bankDefaults, accounts: o.accounts, durationMs: 24 * 3600_000 };
    // From scratch on each try: a 57P01 may come after some of the statements applied.
    await probe.whileUnavailable(async () => {
      await admin.query("DROP TABLE IF EXISTS accounts");
      await admin.query("DROP TABLE IF EXISTS transfers");
      await setupBank(admin, bankOptions);
    });
    const stop = { at: Number.POSITIVE_INFINITY };
    const running = runBank(probe.connect, { ...bankOptions, durationMs: 0 }, () => performance.now() < stop.at);
    const rounds: KillRound[] = [];
    let steadyReadMs = Number.NaN;
    let stoppedEarly: string | undefined;
    try {
      steadyReadMs = await probe.steadyReadMs(20);
      for (let k = 0; k < o.kills; k++) {
        await sleep(o.pauseMsMin + Math.random() * (o.pauseMsMax - o.pauseMsMin));
        let victim: NodeState;
        try {
          victim = await probe.until("a leaseholder with every replica in its configuration", () => probe.fullShardLeaseholder(), 60_000);
        } catch (err) {
          // The shard did not become whole again: further kills would test a smaller shard. The
          // invariants are still checked on what ran (the shard serves with fewer replicas).
          stoppedEarly = `stopped after ${k} of ${o.kills} kills: ${err instanceof Error ? err.message : String(err)}`;
          log(stoppedEarly);
          break;
        }
        const at = performance.now();
        process.kill(victim.pid, "SIGKILL"); // warren dev starts it again; it rejoins as a backup
        // The protocol's failover in two parts: promoted (a node of a newer epoch holds the lease)
        // and serving (its KV service started, replicated-node.ts), from the same polls.
        let promotedMs = Number.NaN;
        const [successor, sqlMs] = await Promise.all([
          probe.until("a new leaseholder", async () => {
            // A newer epoch's leaseholder: usually another replica, but the restarted victim may
            // take the new epoch itself (it never resumes its old one: replication/README.md, "Restarts").
            const l = (await probe.states()).find((s) => s.leaseholder && s.epoch > victim.epoch);
            if (l !== undefined && Number.isNaN(promotedMs)) promotedMs = performance.now() - at;
            return l !== undefined && l.kvUrl !== null ? { id: l.id, ms: performance.now() - at } : undefined;
          }, 60_000),
          probe.sqlServesAfter(at),
        ]);
        const round: KillRound = { victim: victim.id, successor: successor.id, atMs: at, promotedMs, leaseholderMs: successor.ms, sqlMs, transferMs: Number.NaN };
        rounds.push(round);
        log(`kill ${k + 1}/${o.kills}: ${round.victim} → ${round.successor}: promoted after ${round.promotedMs.toFixed(0)} ms, serving KV after ${round.leaseholderMs.toFixed(0)} ms, SQL served after ${round.sqlMs.toFixed(0)} ms`);
      }
      await sleep(o.pauseMsMin); // the workload runs on the last new leaseholder for a while
    } finally {
      stop.at = performance.now();
    }
    const bank = await running;
    // The first acknowledgement once the new leaseholder serves (an earlier one can be an answer of
    // the old leaseholder still on its way through a loaded machine).
    for (const r of rounds) r.transferMs = Math.min(...bank.committedSpansMs.filter((t) => t.ackedMs > r.atMs + r.leaseholderMs).map((t) => t.ackedMs)) - r.atMs;
    // The end state is read once the shard is whole again (every replica in the configuration),
    // or from the leaseholder there is if it did not become whole.
    if (stoppedEarly === undefined) await probe.until("a leaseholder with every replica in its configuration", () => probe.fullShardLeaseholder(), 60_000);
    else await probe.until("a leaseholder", () => probe.leaseholder(), 60_000);
    const problems = await probe.whileUnavailable(() => verifyBank(admin, bank));
    return { rounds, steadyReadMs, bank, problems, ...(stoppedEarly !== undefined ? { stoppedEarly } : {}) };
  } finally {
    await admin.close();
  }
}

/** The lines a caller prints: the bank summary and the failover times with their baseline. */
export function leaderKillsSummary(r: LeaderKillsReport, targetMs: number): string[] {
  const sql = r.rounds.map((x) => x.sqlMs).sort((a, b) => a - b);
  const lease = r.rounds.map((x) => x.leaseholderMs).sort((a, b) => a - b);
  const promoted = r.rounds.map((x) => x.promotedMs).sort((a, b) => a - b);
  const transfer = r.rounds.map((x) => x.transferMs).sort((a, b) => a - b);
  const over = sql.filter((ms) => ms >= targetMs).length;
  const p = (xs: number[], q: number) => percentile(xs, q).toFixed(0);
  return [
    `bank: ${summarizeBank(r.bank)}`,
    `failover over ${r.rounds.length} SIGKILLs of the leaseholder: SQL served again p50 ${p(sql, 50)} ms, p99 ${p(sql, 99)} ms, max ${p(sql, 100)} ms; ${over} of ${sql.length} at or over the ${targetMs} ms target`,
    `  the bank's first acknowledged transfer after a kill p50 ${p(transfer, 50)} ms, p99 ${p(transfer, 99)} ms (its clients' retry pauses and the tenant's /sql line included)`,
    `  baseline (same run): a new leaseholder promoted p50 ${p(promoted, 50)} ms, p99 ${p(promoted, 99)} ms, serving KV p50 ${p(lease, 50)} ms, p99 ${p(lease, 99)} ms; the edge's share (SQL served − new leaseholder) p50 ${p(r.rounds.map((x) => x.sqlMs - x.leaseholderMs).sort((a, b) => a - b), 50)} ms, of which the read itself takes ${r.steadyReadMs.toFixed(0)} ms (its median with a healthy shard, under the workload)`,
    ...(r.stoppedEarly !== undefined ? [`INCOMPLETE: ${r.stoppedEarly.split("\n")[0]}`] : []),
    r.problems.length === 0 ? `invariants: total balance unchanged, every one of ${r.bank.committed.size} acknowledged transfers present` : `INVARIANTS BROKEN: ${r.problems.join("; ")}`,
  ];
}
