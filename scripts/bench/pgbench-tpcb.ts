// Section "pgbench" of `npm run bench`: PostgreSQL 15's pgbench, select-only (`-S`, at each of
// `selectClients` clients) and the TPC-B-like builtin script, against
// Warren (through the local stack's pgwire tunnel) and against PostgreSQL 15 itself in the same run
// (SERIALIZABLE, as Warren always is), in simple and prepared query modes, with --max-tries so
// 40001/40P01 are retried. Prints and reports TPS, failed and retried transactions side by side,
// and the time of `pgbench -i` (scale 10 loads 1,000,000 accounts rows in one COPY transaction)
// with pgbench's own split of it and, for Warren, the gateway isolate's heap during the load and
// during ADD PRIMARY KEY (test/harness/gateway-heap.ts) against txnLimits.bulkLiveHeapBytesMax.
import { spawn, spawnSync } from "node:child_process";
import { txnLimits } from "../../workers/gateway/txn/limits.ts";
import { formatHeap, type GatewayHeapReport } from "../../test/harness/gateway-heap.ts";
import { pgbenchInit } from "../../test/harness/pgbench-init.ts";
import type { Stack } from "../../test/harness/stack.ts";
import type { PostgresServer } from "../../test/harness/postgres.ts";
import type { SectionReport } from "./report.ts";

export interface PgbenchOptions {
  scale: number;
  /** `pgbench -S` (select-only) runs: one per client count, simple query mode, `selectSeconds` each. */
  selectClients: number[];
  selectSeconds: number;
  clients: number;
  jobs: number;
  seconds: number;
  maxTries: number;
}

export interface PgbenchRun {
  target: "warren" | "postgres";
  script: "select-only" | "tpcb";
  clients: number;
  mode: "simple" | "prepared";
  tps: number;
  transactions: number;
  failed: number;
  retried: number;
  exitCode: number | null;
}

export interface PgbenchResult {
  options: PgbenchOptions;
  initMs: Record<string, number>;
  /** pgbench -i's own split ("drop tables 0.08 s, create tables 0.31 s, client-side generate …"), per target. */
  initSteps: Record<string, string>;
  /** Warren's gateway heap per phase of the load ("load", "primary keys"). */
  initHeap: GatewayHeapReport[];
  runs: PgbenchRun[];
}

function run(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // The load is one long COPY statement: ask for the longest statement_timeout the server allows
    // (Warren caps it at sqlLimits.statementTimeoutMsMax, 5 minutes).
    const child = spawn("pgbench", args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, PGCONNECT_TIMEOUT: "20", PGOPTIONS: "-c statement_timeout=0" } });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/**
 * After a large load the gateway's local Request-Unit balance is in debt (it spent before its
 * grants caught up) and new statements get 53400 until grants trickle in: wait for a query to pass
 * (at most two minutes) so the TPC-B runs measure the engine.
 */
async function quotaSettled(url: string, log: (l: string) => void): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < 120_000) {
    const r = spawnSync("psql", [url, "-X", "-q", "-c", "select count(*) from pgbench_branches"], { encoding: "utf8", timeout: 30_000 });
    if (r.status === 0) {
      if (Date.now() - t0 > 1_000) log(`  (waited ${((Date.now() - t0) / 1000).toFixed(1)} s for the tenant's RU quota after the load)`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
  }
  log("  (the tenant's RU quota did not recover within 120 s of the load)");
}

const mib = (n: number): string => `${(n / 1024 / 1024).toFixed(0)} MiB`;

function num(re: RegExp, out: string): number {
  const m = re.exec(out);
  return m ? Number(m[1]) : NaN;
}

export async function runPgbench(stack: Stack, pgServer: PostgresServer | null, o: PgbenchOptions, log: (l: string) => void): Promise<PgbenchResult> {
  const targets: Array<{ name: "warren" | "postgres"; url: string }> = [{ name: "warren", url: stack.demo.pg }];
  if (pgServer !== null) targets.push({ name: "postgres", url: pgServer.url });
  const result: PgbenchResult = { options: o, initMs: {}, initSteps: {}, initHeap: [], runs: [] };
  // The demo tenant's Request-Unit quota (free tier: 100 RU/s after a 10 M burst) would be spent
  // by the scale-10 load itself, and the TPC-B runs after it would get 53400: give it the most the
  // directory allows, so the section measures the engine, not the quota.
  const alter = await stack.warren(["tenant", "alter", stack.demo.name, "--ru-per-second", "1000000", "--burst", "1000000000000"]);
  if (alter.code !== 0) log(`  (could not raise the demo tenant's RU quota: ${alter.stderr.trim()})`);
  for (const t of targets) {
    const t0 = Date.now();
    const init = t.name === "warren" ? await pgbenchInit(stack, t.url, o.scale, 3_600_000, ["-q"]) : await run(["-i", "-s", String(o.scale), "-q", t.url], 3_600_000);
    result.initMs[t.name] = Date.now() - t0;
    result.initSteps[t.name] = /done in [\d.]+ s \((.*)\)/.exec(init.out)?.[1] ?? "";
    log(`  ${t.name}: pgbench -i -s ${o.scale} ${init.code === 0 ? "ok" : `FAILED (${init.out.trim().split("\n").slice(-2).join(" | ")})`} in ${(result.initMs[t.name]! / 1000).toFixed(1)} s (${result.initSteps[t.name]})`);
    if ("heap" in init) {
      result.initHeap = [...init.heap];
      for (const h of init.heap) log(`  warren gateway heap, ${h.phase}: ${formatHeap(h)} (bound ${mib(txnLimits.bulkLiveHeapBytesMax)} live${h.liveSamples > 0 && h.peakLiveBytes >= txnLimits.bulkLiveHeapBytesMax ? ": OVER" : ""})`);
    }
    if (init.code !== 0) continue;
    if (t.name === "warren") await quotaSettled(t.url, log);
    const plan: Array<{ script: PgbenchRun["script"]; mode: PgbenchRun["mode"]; clients: number; seconds: number }> = [
      ...o.selectClients.map((clients) => ({ script: "select-only" as const, mode: "simple" as const, clients, seconds: o.selectSeconds })),
      ...(["simple", "prepared"] as const).map((mode) => ({ script: "tpcb" as const, mode, clients: o.clients, seconds: o.seconds })),
    ];
    for (const { script, mode, clients, seconds } of plan) {
      const jobs = Math.min(o.jobs, clients);
      const r = await run(["-c", String(clients), "-j", String(jobs), "-T", String(seconds), `--max-tries=${o.maxTries}`, "-M", mode, ...(script === "select-only" ? ["-S"] : []), t.url], (seconds + 120) * 1000);
      const runRes: PgbenchRun = {
        target: t.name,
        script,
        clients,
        mode,
        tps: num(/tps = ([\d.]+) \(without initial connection time\)/, r.out),
        transactions: num(/number of transactions actually processed: (\d+)/, r.out),
        failed: num(/number of failed transactions: (\d+)/, r.out),
        retried: num(/number of transactions retried: (\d+)/, r.out),
        exitCode: r.code,
      };
      result.runs.push(runRes);
      const pct = (n: number): string => (runRes.transactions > 0 ? `${((n / (runRes.transactions + runRes.failed)) * 100).toFixed(1)} %` : "-");
      log(`  ${t.name} ${script === "select-only" ? `-S -c ${clients}` : `TPC-B -c ${clients}`} ${mode}: ${runRes.tps.toFixed(1)} TPS, ${runRes.transactions} transactions, ${runRes.failed} failed (${pct(runRes.failed)}), ${runRes.retried} retried (${pct(runRes.retried)})${r.code === 0 ? "" : `, exit ${r.code}: ${r.out.trim().split("\n").slice(-2).join(" | ")}`}`);
    }
  }
  for (const line of ratioLines(result)) log(`  ${line}`);
  return result;
}

export function runLabel(x: Pick<PgbenchRun, "script" | "mode" | "clients">): string {
  return `${x.script === "select-only" ? "select-only (-S)" : "TPC-B-like"}, ${x.clients} client${x.clients === 1 ? "" : "s"}, ${x.mode}`;
}

/** Warren beside PostgreSQL: load time and TPS per query mode, as ratios (absent when either failed). */
function ratioLines(r: PgbenchResult): string[] {
  const lines: string[] = [];
  const w = r.initMs["warren"];
  const p = r.initMs["postgres"];
  if (w !== undefined && p !== undefined) lines.push(`load (pgbench -i -s ${r.options.scale}): Warren ${(w / 1000).toFixed(1)} s, PostgreSQL ${(p / 1000).toFixed(1)} s: ${(w / p).toFixed(1)}× as long`);
  for (const [target, steps] of Object.entries(r.initSteps ?? {})) if (steps) lines.push(`pgbench -i steps, ${target}: ${steps}`);
  if ((r.initHeap ?? []).length > 0) lines.push(`Warren's gateway heap during pgbench -i: ${r.initHeap.map((h) => `${h.phase} ${formatHeap(h)}`).join("; ")} (bound ${mib(txnLimits.bulkLiveHeapBytesMax)} live, txnLimits.bulkLiveHeapBytesMax)`);
  for (const wr of r.runs.filter((x) => x.target === "warren")) {
    const pr = r.runs.find((x) => x.target === "postgres" && x.script === wr.script && x.mode === wr.mode && x.clients === wr.clients);
    if (pr === undefined || !(pr.tps > 0) || Number.isNaN(wr.tps)) continue;
    lines.push(`TPS ${runLabel(wr)}: Warren ${wr.tps.toFixed(1)}, PostgreSQL ${pr.tps.toFixed(1)}: Warren/PostgreSQL = ${(wr.tps / pr.tps).toFixed(3)}`);
  }
  return lines;
}

export function pgbenchReport(r: PgbenchResult): SectionReport {
  const o = r.options;
  const rows = r.runs.map((x) => {
    const total = x.transactions + (Number.isNaN(x.failed) ? 0 : x.failed);
    const pct = (n: number): string => (total > 0 && !Number.isNaN(n) ? `${((n / total) * 100).toFixed(1)} %` : "-");
    return `| ${x.target} | ${runLabel(x)} | ${x.tps.toFixed(1)} | ${x.transactions} | ${x.failed} (${pct(x.failed)}) | ${x.retried} (${pct(x.retried)}) |`;
  });
  const markdown = [
    "## pgbench: select-only and TPC-B-like",
    "",
    `pgbench -i -s ${o.scale}; then \`pgbench -S -T ${o.selectSeconds}\` (select-only) at ${o.selectClients.join(", ")} client(s), simple query mode, and ` +
      `\`pgbench -c ${o.clients} -j ${o.jobs} -T ${o.seconds} --max-tries=${o.maxTries}\` (TPC-B-like) in simple and prepared mode. ` +
      "Warren through the local stack's pgwire tunnel; PostgreSQL 15 on the same machine in the same run with default_transaction_isolation = serializable.",
    "",
    `Load (pgbench -i): ${Object.entries(r.initMs).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(", ")}. ` +
      "Warren's stack runs without the storage node's per-tenant RU rate limit for this section (scripts/bench/run.ts).",
    "",
    ...ratioLines(r).map((l) => `- ${l}`),
    "",
    "| target | run | TPS | transactions | failed | retried |",
    "|---|---|---|---|---|---|",
    ...rows,
    "",
    "![pgbench TPS, Warren and PostgreSQL](charts/pgbench.svg)",
  ].join("\n");
  const labels = [...new Set(r.runs.map(runLabel))];
  const tpsOf = (target: PgbenchRun["target"], label: string) => r.runs.find((x) => x.target === target && runLabel(x) === label)?.tps ?? NaN;
  return {
    name: "pgbench",
    markdown,
    charts: [
      {
        file: "pgbench.svg",
        chart: {
          title: "pgbench TPS: Warren through the tunnel, PostgreSQL 15 direct (same run)",
          unit: "TPS",
          series: ["Warren", "PostgreSQL 15"],
          groups: labels.map((label) => ({ label, values: [tpsOf("warren", label), tpsOf("postgres", label)] })),
        },
      },
    ],
  };
}
