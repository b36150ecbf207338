// pgbench 15 runs as issue 8's acceptance 5 has them, shared by the soak script
// (scripts/pgbench-soak.ts) and its CI test (test/pgbench-soak.test.ts): -T runs with
// `-c 4 -j 2 --max-tries=10` in each query mode and select-only, each watched for a hang, and the
// balance check that follows them.
import { spawn } from "node:child_process";

export const MODES = ["simple", "extended", "prepared", "select"] as const;
export type Mode = (typeof MODES)[number];

/**
 * How long after its -T a run may still take before it counts as hung. pgbench stops starting
 * transactions at -T and waits for the ones in flight; on Warren a statement ends within the
 * tenant's statement_timeout (30 s in the local stack), so 60 s more means a reply that never came.
 */
export const hangGraceSeconds = 60;
/** `pgbench -i -s 1` (100,000 accounts through COPY, then the primary keys) takes 30–90 s here. */
const initTimeoutMs = 300_000;

export interface RunResult {
  mode: Mode;
  /** ok: exit 0 with its summary; failed: ended without one or with an error; hung: killed after -T + hangGraceSeconds. */
  outcome: "ok" | "failed" | "hung";
  code: number | null;
  ms: number;
  tps: number | null;
  processed: number | null;
  failed: number | null;
  retried: number | null;
  out: string;
}

interface Exec {
  code: number | null;
  out: string;
  killed: boolean;
  ms: number;
}

function exec(cmd: string, args: string[], timeoutMs: number): Promise<Exec> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PGCONNECT_TIMEOUT: "20" } });
    let out = "";
    let killed = false;
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out, killed, ms: Date.now() - t0 });
    });
  });
}

export async function pgbenchInit(url: string): Promise<{ ok: boolean; ms: number; out: string }> {
  const r = await exec("pgbench", ["-i", "-s", "1", "-q", url], initTimeoutMs);
  return { ok: r.code === 0, ms: r.ms, out: r.out };
}

function figure(out: string, re: RegExp): number | null {
  const m = out.match(re);
  return m === null ? null : Number(m[1]);
}

/** Clients and threads of a run: the acceptance's -c 4 -j 2 unless a stress run asks for more. */
export interface RunShape {
  clients: number;
  threads: number;
}

export async function pgbenchRun(url: string, mode: Mode, seconds: number, shape: RunShape = { clients: 4, threads: 2 }, graceSeconds = hangGraceSeconds): Promise<RunResult> {
  const modeArgs = mode === "select" ? ["-S"] : ["-M", mode];
  const r = await exec("pgbench", ["-n", "-T", String(seconds), "-c", String(shape.clients), "-j", String(shape.threads), "--max-tries=10", ...modeArgs, url], (seconds + graceSeconds) * 1000);
  const tps = figure(r.out, /^tps = ([\d.]+) \(without initial connection time\)$/m);
  return {
    mode,
    outcome: r.killed ? "hung" : r.code === 0 && tps !== null ? "ok" : "failed",
    code: r.code,
    ms: r.ms,
    tps,
    processed: figure(r.out, /^number of transactions actually processed: (\d+)/m),
    failed: figure(r.out, /^number of failed transactions: (\d+)/m),
    retried: figure(r.out, /^number of transactions retried: (\d+)/m),
    out: r.out,
  };
}

/** sum(abalance), sum(bbalance), sum(tbalance), sum(delta) and the history's row count; ok when the four sums are equal. */
export async function balancesAgree(url: string): Promise<{ ok: boolean; text: string }> {
  const sql =
    "select (select coalesce(sum(abalance), 0) from pgbench_accounts), (select coalesce(sum(bbalance), 0) from pgbench_branches), " +
    "(select coalesce(sum(tbalance), 0) from pgbench_tellers), (select coalesce(sum(delta), 0) from pgbench_history), (select count(*) from pgbench_history)";
  const r = await exec("psql", [url, "-X", "-At", "-F", ",", "-c", sql], 120_000);
  const text = r.out.trim();
  const [a, b, t, d] = text.split(",");
  return { ok: r.code === 0 && a !== undefined && a === b && b === t && t === d, text };
}
