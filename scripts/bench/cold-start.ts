// The cold-path section of `npm run bench`: what a tenant's first query costs when its gateway
// isolate does not exist yet, and what memory the stack holds as tenants come and go.
//
//   new tenant → first query     create a tenant through the admin API, then time its first
//                                POST /sql (`select 1`): a new gateway isolate (module evaluation,
//                                parser WebAssembly), the route lookup, the first KV round trips;
//   second query                 the same tenant again (warm isolate): the difference is the start;
//   evicted tenant → first query after more tenants than the isolate budget (GATEWAY_ISOLATES_MAX)
//                                were queried, the least recently used ones have lost their pin
//                                (workers/edge/gateway-host.ts); time their next query;
//   memory                       resident memory of every process of the stack (storage node,
//                                wrangler, workerd) before and after, and per tenant;
//   V8 start floors              the gateway bundle's compile + evaluation and the parser's
//                                WebAssembly compile in fresh Node processes (isolate-start.ts):
//                                what of the new isolate's start is the engine's own work.
//
// Sequential requests, one client; read ratios, not absolutes, on a shared machine.
import fs from "node:fs";
import { dataPaths, readJson } from "../../cli/data-dir.ts";
import type { Stack, TenantConnection } from "../../test/harness/stack.ts";
import { formatMs, summarize, type LatencySummary } from "../../test/isolation/noisy-neighbour.ts";
import { runIsolateStart, type IsolateStartResult } from "./isolate-start.ts";
import type { SectionReport } from "./report.ts";
import { postSqlOk, timed } from "./timed-sql.ts";

export interface ColdOptions {
  /** The stack's GATEWAY_ISOLATES_MAX (what run.ts started it with). */
  readonly isolatesMax: number;
  /** Tenants created beyond the budget, so that this many are evicted. */
  readonly beyondBudget: number;
  /** Fresh processes for the V8 start floors. */
  readonly v8Samples: number;
}

export interface ColdResult {
  readonly isolatesMax: number;
  readonly tenants: number;
  readonly create: LatencySummary;
  readonly newTenantFirstQuery: LatencySummary;
  readonly secondQuery: LatencySummary;
  readonly evictedFirstQuery: LatencySummary;
  readonly roundRobin: LatencySummary;
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
  readonly rssByProcessMiB: Record<string, number>;
  readonly v8: IsolateStartResult;
}

/** Resident memory (MiB) of every process in the stack's process groups, by command name (Linux /proc). */
export function stackRssMiB(stack: Stack): Record<string, number> {
  const pids = readJson<{ supervisor: number; children: { pid: number }[] }>(dataPaths(stack.dataDir).pids);
  const groups = new Set([stack.pid, ...(pids?.children.map((c) => c.pid) ?? [])]);
  const out: Record<string, number> = {};
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      const pgrp = Number(fields[2]);
      if (!groups.has(pgrp)) continue;
      const rssPages = Number(fields[21]);
      out[name] = (out[name] ?? 0) + (rssPages * 4096) / 2 ** 20;
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

export async function runColdStart(stack: Stack, opts: ColdOptions, log: (line: string) => void): Promise<ColdResult> {
  const rssBefore = stackRssMiB(stack);
  const n = opts.isolatesMax + opts.beyondBudget;
  const create: number[] = [];
  const first: number[] = [];
  const second: number[] = [];
  const errors: string[] = [];
  const tenants: TenantConnection[] = [];
  const tag = Date.now().toString(36);
  for (let i = 0; i < n; i++) {
    let t: TenantConnection | undefined;
    await timed(async () => void (t = await stack.createTenant(`cold${i}-${tag}`)), create, errors);
    if (t === undefined) continue;
    tenants.push(t);
    await timed(() => postSqlOk(t!, "select 1"), first, errors);
    await timed(() => postSqlOk(t!, "select 1"), second, errors);
  }
  // The first `beyondBudget` tenants are now the least recently used: each lost its pin.
  const evicted: number[] = [];
  const evictedErrors: string[] = [];
  for (const t of tenants.slice(0, opts.beyondBudget)) await timed(() => postSqlOk(t, "select 1"), evicted, evictedErrors);
  // Steady state with more tenants than the budget: every tenant in turn, twice (round-robin is the
  // worst order for an LRU budget: each request finds its tenant unpinned).
  const roundRobin: number[] = [];
  const roundRobinErrors: string[] = [];
  for (let pass = 0; pass < 2; pass++) for (const t of tenants) await timed(() => postSqlOk(t, "select 1"), roundRobin, roundRobinErrors);
  const rssAfter = stackRssMiB(stack);
  const v8 = runIsolateStart(opts.v8Samples, log);
  const r: ColdResult = {
    v8,
    isolatesMax: opts.isolatesMax,
    tenants: tenants.length,
    create: summarize(create),
    newTenantFirstQuery: summarize(first, errors),
    secondQuery: summarize(second),
    evictedFirstQuery: summarize(evicted, evictedErrors),
    roundRobin: summarize(roundRobin, roundRobinErrors),
    rssBeforeMiB: total(rssBefore),
    rssAfterMiB: total(rssAfter),
    rssByProcessMiB: rssAfter,
  };
  log(
    `  ${r.tenants} new tenants (budget ${opts.isolatesMax}): first query p50 ${formatMs(r.newTenantFirstQuery.p50)} p99 ${formatMs(r.newTenantFirstQuery.p99)}; ` +
      `second p50 ${formatMs(r.secondQuery.p50)}; evicted → first query p50 ${formatMs(r.evictedFirstQuery.p50)} p99 ${formatMs(r.evictedFirstQuery.p99)}; ` +
      `all ${r.tenants} round-robin p50 ${formatMs(r.roundRobin.p50)} p99 ${formatMs(r.roundRobin.p99)}` +
      (errors.length + evictedErrors.length > 0 ? `; errors: ${[...errors, ...evictedErrors][0]}` : ""),
  );
  log(`  stack memory ${r.rssBeforeMiB.toFixed(0)} → ${r.rssAfterMiB.toFixed(0)} MiB (${JSON.stringify(Object.fromEntries(Object.entries(rssAfter).map(([k, v]) => [k, Math.round(v)])))})`);
  return r;
}

export function coldReport(r: ColdResult): SectionReport {
  const cell = (s: LatencySummary) => `${formatMs(s.p50)} / ${formatMs(s.p99)}${s.errors > 0 ? ` (${s.errors} errors)` : ""}`;
  const perTenant = (r.rssAfterMiB - r.rssBeforeMiB) / Math.max(1, r.tenants);
  const md = [
    "## Cold paths",
    "",
    `${r.tenants} tenants created one after another on a stack with an isolate budget of ${r.isolatesMax} ` +
      "(`GATEWAY_ISOLATES_MAX`: past it, the least recently used tenant's gateway isolate is unpinned). Each tenant's first and second " +
      "`select 1` over POST /sql, then the first query of the tenants that were evicted.",
    "",
    "| path | p50 / p99 |",
    "|---|---|",
    `| create tenant (admin API) | ${cell(r.create)} |`,
    `| new tenant → first query | ${cell(r.newTenantFirstQuery)} |`,
    `| same tenant, second query (warm isolate) | ${cell(r.secondQuery)} |`,
    `| evicted tenant → first query | ${cell(r.evictedFirstQuery)} |`,
    `| all ${r.tenants} tenants round-robin, twice (more tenants than the budget) | ${cell(r.roundRobin)} |`,
    "",
    `V8's own share of a new isolate's start, CPU time in fresh Node processes (same engine, no workerd around it): compiling and evaluating the ` +
      `${(r.v8.bundleBytes / 1024).toFixed(0)} KiB gateway bundle ${cell(r.v8.moduleEval)}; compiling the ${(r.v8.wasmBytes / 1024).toFixed(0)} KiB ` +
      `parser WebAssembly ${cell(r.v8.wasmCompile)} (p50 / p99).`,
    "",
    `Stack resident memory: ${r.rssBeforeMiB.toFixed(0)} MiB before, ${r.rssAfterMiB.toFixed(0)} MiB after ` +
      `(${perTenant.toFixed(2)} MiB per tenant); by process: ` +
      Object.entries(r.rssByProcessMiB).map(([k, v]) => `${k} ${v.toFixed(0)} MiB`).join(", ") + ".",
    "",
    "![cold paths](charts/cold-start.svg)",
  ].join("\n");
  return {
    name: "cold-start",
    markdown: md,
    charts: [
      {
        file: "cold-start.svg",
        chart: {
          title: "First query of a tenant without a warm gateway isolate",
          unit: "ms",
          series: ["p50", "p99"],
          groups: [
            { label: "new tenant → first query", values: [r.newTenantFirstQuery.p50, r.newTenantFirstQuery.p99] },
            { label: "second query (warm)", values: [r.secondQuery.p50, r.secondQuery.p99] },
            { label: "evicted tenant → first query", values: [r.evictedFirstQuery.p50, r.evictedFirstQuery.p99] },
            { label: "round-robin past the budget", values: [r.roundRobin.p50, r.roundRobin.p99] },
            { label: "V8 CPU: gateway bundle compile + eval", values: [r.v8.moduleEval.p50, r.v8.moduleEval.p99] },
            { label: "V8 CPU: parser wasm compile", values: [r.v8.wasmCompile.p50, r.v8.wasmCompile.p99] },
          ],
        },
      },
    ],
  };
}
