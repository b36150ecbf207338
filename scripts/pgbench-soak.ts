// npm run bench:pgbench-soak — issue 8's acceptance 5 for pgbench 15 against the local stack:
// `pgbench -i -s 1`, then `-T SECONDS -c 4 -j 2 --max-tries=10` in simple, extended and prepared
// mode and `-S`, ROUNDS times each. Every run must end with its summary (a run still going
// SECONDS + graceSeconds after its start is a hang: the script kills it and fails), and afterwards
// the money is conserved: sum(abalance) = sum(bbalance) = sum(tbalance) = sum(delta).
// The same runs against a throwaway PostgreSQL 15 (default isolation, same flags) are the
// baseline printed beside Warren's figures.
//
//   npm run bench:pgbench-soak                               5 rounds × 4 modes × 30 s (about 12 min)
//   npm run bench:pgbench-soak -- --rounds 2 --seconds 5     a short run
//   npm run bench:pgbench-soak -- --no-baseline              Warren only
//   npm run bench:pgbench-soak -- --clients 8 --threads 4     a harder run than the acceptance's
//
// Prints one line per run and a summary table; writes bench/results/pgbench-soak.json; exits 1
// when any run hung or failed or the balances differ.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { postgresAvailable, startPostgres } from "../test/harness/postgres.ts";
import { startStack } from "../test/harness/stack.ts";
import { balancesAgree, MODES, pgbenchInit, pgbenchRun, type Mode, type RunResult } from "./pgbench-runs.ts";

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "30" },
    clients: { type: "string", default: "4" },
    threads: { type: "string", default: "2" },
    "no-baseline": { type: "boolean", default: false },
    out: { type: "string", default: path.resolve(import.meta.dirname, "..", "bench") },
  },
});
const rounds = Number(opts.rounds);
const seconds = Number(opts.seconds);
const shape = { clients: Number(opts.clients), threads: Number(opts.threads) };
for (const v of [rounds, seconds, shape.clients, shape.threads]) if (!(Number.isInteger(v) && v > 0)) throw new Error("--rounds, --seconds, --clients and --threads take positive integers");

interface Target {
  name: string;
  url: string;
  runs: RunResult[];
  balances?: string;
  balancesOk?: boolean;
}

async function soak(target: Target, roundsOfTarget: number): Promise<void> {
  const init = await pgbenchInit(target.url);
  if (!init.ok) throw new Error(`${target.name}: pgbench -i -s 1 failed:\n${init.out}`);
  console.log(`${target.name}: pgbench -i -s 1 in ${(init.ms / 1000).toFixed(1)} s`);
  for (let round = 1; round <= roundsOfTarget; round++) {
    for (const mode of MODES) {
      const r = await pgbenchRun(target.url, mode, seconds, shape);
      target.runs.push(r);
      console.log(`${target.name} round ${round} ${mode.padEnd(8)} ${r.outcome.padEnd(6)} ${(r.ms / 1000).toFixed(1).padStart(5)} s  tps ${r.tps?.toFixed(1) ?? "-"}  txns ${r.processed ?? "-"}  failed ${r.failed ?? "-"}  retried ${r.retried ?? "-"}`);
      if (r.outcome !== "ok") console.log(r.out.split("\n").map((l) => `    | ${l}`).join("\n"));
    }
  }
  const check = await balancesAgree(target.url);
  target.balances = check.text;
  target.balancesOk = check.ok;
  console.log(`${target.name}: sum(abalance), sum(bbalance), sum(tbalance), sum(delta), history rows = ${check.text} → ${check.ok ? "equal" : "DIFFERENT"}`);
}

function summary(t: Target, mode: Mode): { runs: number; ok: number; hung: number; tpsMedian: number | null } {
  const runs = t.runs.filter((r) => r.mode === mode);
  const tps = runs.map((r) => r.tps).filter((v): v is number => v !== null).sort((a, b) => a - b);
  return { runs: runs.length, ok: runs.filter((r) => r.outcome === "ok").length, hung: runs.filter((r) => r.outcome === "hung").length, tpsMedian: tps.length ? tps[Math.floor(tps.length / 2)]! : null };
}

const warren: Target = { name: "warren", url: "", runs: [] };
const baseline: Target = { name: "postgres", url: "", runs: [] };
const started = Date.now();
const stack = await startStack();
try {
  warren.url = stack.demo.pg;
  await soak(warren, rounds);
} finally {
  await stack.stop();
}
if (!opts["no-baseline"] && postgresAvailable()) {
  const pg = await startPostgres();
  try {
    baseline.url = pg.url;
    await soak(baseline, 1);
  } finally {
    await pg.stop();
  }
}

console.log("");
console.log(`pgbench -T ${seconds} -c ${shape.clients} -j ${shape.threads} --max-tries=10, ${rounds} round(s) on Warren${baseline.runs.length ? ", 1 on PostgreSQL 15" : ""}:`);
console.log("mode      warren ok/runs  hung  tps (median)  postgres tps  ratio");
const table: Record<string, unknown> = {};
for (const mode of MODES) {
  const w = summary(warren, mode);
  const p = summary(baseline, mode);
  const ratio = w.tpsMedian !== null && p.tpsMedian ? (w.tpsMedian / p.tpsMedian).toFixed(4) : "-";
  console.log(`${mode.padEnd(9)} ${`${w.ok}/${w.runs}`.padStart(14)}  ${String(w.hung).padStart(4)}  ${(w.tpsMedian?.toFixed(1) ?? "-").padStart(12)}  ${(p.tpsMedian?.toFixed(1) ?? "-").padStart(12)}  ${ratio}`);
  table[mode] = { warren: w, postgres: p };
}
const failed = warren.runs.filter((r) => r.outcome !== "ok").length + (warren.balancesOk === false ? 1 : 0);
console.log(`${warren.runs.length - warren.runs.filter((r) => r.outcome !== "ok").length} of ${warren.runs.length} Warren runs ended with their summary; balances ${warren.balancesOk ? "equal" : "DIFFERENT"}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`);
fs.mkdirSync(path.join(opts.out, "results"), { recursive: true });
fs.writeFileSync(
  path.join(opts.out, "results", "pgbench-soak.json"),
  JSON.stringify({ seconds, rounds, table, warren: { balances: warren.balances, runs: warren.runs.map(({ out: _o, ...r }) => r) }, postgres: { balances: baseline.balances, runs: baseline.runs.map(({ out: _o, ...r }) => r) } }, null, 2),
);
process.exit(failed === 0 ? 0 : 1);
