// The density section of `npm run bench` (issue 12, acceptance 3): many tenants on one stack, then
// a hundred of them active, against the same stack when it held one tenant.
//
//   1. baseline   a fresh stack whose only tenant is the demo tenant: sequential `select 1` over
//                 POST /sql (a stack with one tenant, measured in the same run);
//   2. fill       N tenants created through the admin API and each queried once (`select 1`, POST
//                 /sql), a few at a time; the resident memory of every process of the stack is
//                 sampled at ten checkpoints, and the bytes on disk of the storage node (LMDB) and
//                 of the Durable Objects' state (wrangler's persistence directory);
//   3. active     ACTIVE of those tenants, spread over the whole range (so most have long lost
//                 their gateway isolate), queried round-robin: p50 / p99 against the baseline.
//
// The memory bound the report prints, per process: its resident memory at the first checkpoint
// (N/10 tenants, when the isolate budget and caches are already full) plus 25 %. Memory that grows
// with the number of tenants — state kept per tenant that is never let go — breaks it; a process
// that holds a bounded working set does not. Filling stops early, and says so, if the stack's total
// resident memory passes DENSITY_STACK_RSS_MIB_MAX (the machine is shared, and a stack that grows
// without bound would take it down before proving anything more) or after DENSITY_FILL_MS_MAX.
import fs from "node:fs";
import path from "node:path";
import { dataPaths, readJson } from "../../cli/data-dir.ts";
import { startStack, type Stack, type TenantConnection } from "../../test/harness/stack.ts";
import { formatMs, summarize, type LatencySummary } from "../../test/isolation/noisy-neighbour.ts";
import type { SectionReport } from "./report.ts";
import { postSqlOk, timed } from "./timed-sql.ts";

export interface DensityOptions {
  readonly tenants: number;
  readonly active: number;
  /** Round-robin passes over the active tenants. */
  readonly passes: number;
  /** Baseline requests (after a warm-up of a tenth as many). */
  readonly baselineRequests: number;
  /** Tenants created and queried at once while filling. */
  readonly concurrency: number;
  /** The stack's GATEWAY_ISOLATES_MAX (undefined: the product default from wrangler.toml). */
  readonly isolatesMax?: number;
}

/** Above this total resident memory of the stack, filling stops (see the header). */
const DENSITY_STACK_RSS_MIB_MAX = 4096;
/**
 * Filling stops after this long, and says so: `npm run bench` as a whole should end within 30
 * minutes, and creating a tenant and its first query took ~0.15–0.6 s each here (2 cores, shared),
 * so 10,000 tenants do not fit yet; the report then shows how far it got and at what cost.
 */
const DENSITY_FILL_MS_MAX = 12 * 60_000;
/** The bound: the first checkpoint's memory plus this share. */
const DENSITY_GROWTH_ALLOWED = 0.25;

export interface Checkpoint {
  readonly tenants: number;
  readonly elapsedMs: number;
  readonly rssMiB: Record<string, number>;
  readonly storageBytes: number;
  readonly durableObjectBytes: number;
}

export interface DensityResult {
  readonly options: DensityOptions;
  readonly baseline: LatencySummary;
  readonly fill: LatencySummary;
  readonly createErrors: number;
  readonly checkpoints: Checkpoint[];
  readonly active: LatencySummary;
  readonly tenantsCreated: number;
  /** Why filling stopped before options.tenants, if it did. */
  readonly stoppedEarly?: string;
}

type Proc = "workerd" | "storage node" | "wrangler" | "esbuild" | "warren dev + tunnel" | "other";

/** Resident memory (MiB) of every process of the stack, by kind (Linux /proc). */
export function stackRssByKind(stack: Stack): Record<Proc, number> {
  const pids = readJson<{ supervisor: number; children: { pid: number }[] }>(dataPaths(stack.dataDir).pids);
  const groups = new Set([stack.pid, ...(pids?.children.map((c) => c.pid) ?? [])]);
  const out: Record<Proc, number> = { workerd: 0, "storage node": 0, wrangler: 0, esbuild: 0, "warren dev + tunnel": 0, other: 0 };
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (!groups.has(Number(fields[2]))) continue;
      const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const kind: Proc = cmd.includes("workerd")
        ? "workerd"
        : cmd.includes("storage-node")
          ? "storage node"
          : cmd.includes("esbuild")
            ? "esbuild"
            : cmd.includes("wrangler")
              ? "wrangler"
              : cmd.includes("warren.mjs")
                ? "warren dev + tunnel"
                : "other";
      out[kind] += (Number(fields[21]) * 4096) / 2 ** 20;
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Bytes allocated on disk under a directory (blocks, so sparse LMDB maps count what they use). */
function diskBytes(dir: string): number {
  let total = 0;
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        try {
          total += fs.statSync(p).blocks * 512;
        } catch {
          // removed meanwhile
        }
      }
    }
  };
  walk(dir);
  return total;
}

const totalOf = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

export async function runDensity(o: DensityOptions, log: (line: string) => void): Promise<DensityResult> {
  const stack = await startStack({ env: o.isolatesMax !== undefined ? { GATEWAY_ISOLATES_MAX: String(o.isolatesMax) } : {}, timeoutMs: 180_000 });
  const paths = dataPaths(stack.dataDir);
  try {
    // 1. One tenant on the stack: the baseline.
    const warm = Math.max(5, Math.round(o.baselineRequests / 10));
    for (let i = 0; i < warm; i++) await postSqlOk(stack.demo, "select 1");
    const base: number[] = [];
    const baseErrors: string[] = [];
    for (let i = 0; i < o.baselineRequests; i++) await timed(() => postSqlOk(stack.demo, "select 1"), base, baseErrors);
    const baseline = summarize(base, baseErrors);
    log(`  one tenant: POST /sql select 1 p50 ${formatMs(baseline.p50)} p99 ${formatMs(baseline.p99)}`);

    // 2. Fill.
    const started = performance.now();
    const checkpoints: Checkpoint[] = [];
    const snapshot = (tenants: number) => {
      const cp: Checkpoint = {
        tenants,
        elapsedMs: performance.now() - started,
        rssMiB: stackRssByKind(stack),
        storageBytes: diskBytes(paths.storage),
        durableObjectBytes: diskBytes(paths.wrangler),
      };
      checkpoints.push(cp);
      log(
        `  ${tenants} tenants (${(cp.elapsedMs / 1000).toFixed(0)} s): ` +
          Object.entries(cp.rssMiB).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v.toFixed(0)} MiB`).join(", ") +
          `; storage ${(cp.storageBytes / 2 ** 20).toFixed(1)} MiB, Durable Objects ${(cp.durableObjectBytes / 2 ** 20).toFixed(1)} MiB`,
      );
      return cp;
    };
    snapshot(0);
    const step = Math.max(1, Math.ceil(o.tenants / 10));
    const created: TenantConnection[] = [];
    const fillMs: number[] = [];
    const fillErrors: string[] = [];
    let createErrors = 0;
    let next = 0;
    let stoppedEarly: string | undefined;
    let nextCheckpoint = step;
    const tag = Date.now().toString(36);
    await Promise.all(
      Array.from({ length: o.concurrency }, async () => {
        while (next < o.tenants && stoppedEarly === undefined) {
          if (performance.now() - started > DENSITY_FILL_MS_MAX) {
            stoppedEarly ??= `filling took longer than ${DENSITY_FILL_MS_MAX / 60_000} minutes (DENSITY_FILL_MS_MAX)`;
            break;
          }
          const i = next++;
          let t: TenantConnection;
          try {
            t = await stack.createTenant(`dn${i}-${tag}`);
          } catch (e) {
            createErrors++;
            if (createErrors > Math.max(10, o.tenants / 100)) stoppedEarly = `more than ${createErrors - 1} tenant creations failed; last: ${String(e).slice(0, 200)}`;
            continue;
          }
          created[i] = t;
          await timed(() => postSqlOk(t, "select 1"), fillMs, fillErrors);
          const done = created.filter(Boolean).length;
          if (done >= nextCheckpoint) {
            nextCheckpoint += step;
            const cp = snapshot(done);
            const total = totalOf(cp.rssMiB);
            if (total > DENSITY_STACK_RSS_MIB_MAX) stoppedEarly = `the stack's resident memory reached ${total.toFixed(0)} MiB (> ${DENSITY_STACK_RSS_MIB_MAX} MiB) at ${done} tenants`;
          }
        }
      }),
    );
    const tenants = created.filter(Boolean);
    if (checkpoints.at(-1)!.tenants !== tenants.length) snapshot(tenants.length);
    if (stoppedEarly !== undefined) log(`  stopped filling: ${stoppedEarly}`);

    // 3. The active tenants, spread over the whole range, round-robin.
    const active: TenantConnection[] = [];
    const count = Math.min(o.active, tenants.length);
    for (let k = 0; k < count; k++) active.push(tenants[Math.floor((k * tenants.length) / count)]!);
    const act: number[] = [];
    const actErrors: string[] = [];
    for (const t of active) await postSqlOk(t, "select 1").catch(() => undefined); // each active tenant's first return is a cold path, measured by cold-start
    for (let pass = 0; pass < o.passes; pass++) for (const t of active) await timed(() => postSqlOk(t, "select 1"), act, actErrors);
    const activeSummary = summarize(act, actErrors);
    log(
      `  ${count} of ${tenants.length} tenants round-robin ×${o.passes}: p50 ${formatMs(activeSummary.p50)} p99 ${formatMs(activeSummary.p99)} ` +
        `(${(activeSummary.p50 / baseline.p50).toFixed(2)}× the one-tenant stack)`,
    );
    snapshot(tenants.length);
    return {
      options: o,
      baseline,
      fill: summarize(fillMs, fillErrors),
      createErrors,
      checkpoints,
      active: activeSummary,
      tenantsCreated: tenants.length,
      ...(stoppedEarly !== undefined ? { stoppedEarly } : {}),
    };
  } finally {
    await stack.stop();
  }
}

/** Per process: the bound (first checkpoint after filling began, + 25 %) and the highest seen after it. */
export function memoryBounds(r: DensityResult): Array<{ proc: string; boundMiB: number; maxMiB: number; met: boolean }> {
  const filled = r.checkpoints.filter((c) => c.tenants > 0);
  if (filled.length === 0) return [];
  const first = filled[0]!;
  return Object.keys(first.rssMiB)
    .filter((p) => first.rssMiB[p]! > 0)
    .map((proc) => {
      const boundMiB = first.rssMiB[proc]! * (1 + DENSITY_GROWTH_ALLOWED);
      const maxMiB = Math.max(...filled.map((c) => c.rssMiB[proc] ?? 0));
      return { proc, boundMiB, maxMiB, met: maxMiB <= boundMiB };
    });
}

export function densityReport(r: DensityResult): SectionReport {
  const cell = (s: LatencySummary) => `${formatMs(s.p50)} / ${formatMs(s.p99)}${s.errors > 0 ? ` (${s.errors} errors)` : ""}`;
  const cps = r.checkpoints;
  const first = cps.find((c) => c.tenants > 0);
  const last = cps.at(-1)!;
  const zero = cps[0]!;
  const procs = Object.keys(last.rssMiB).filter((p) => cps.some((c) => (c.rssMiB[p] ?? 0) > 0));
  const perTenant = (a: number, b: number, n: number) => (n > 0 ? `${((b - a) / n / 1024).toFixed(2)} KiB` : "–");
  const ratio = r.active.p50 / r.baseline.p50;
  const bounds = memoryBounds(r);
  const md = [
    "## Density: many tenants, a hundred active",
    "",
    `A fresh stack (isolate budget ${r.options.isolatesMax ?? "the product default"}). Baseline: its only tenant, sequential \`select 1\` over POST /sql. ` +
      `Then ${r.tenantsCreated} tenants created through the admin API and each queried once (${r.options.concurrency} at a time), ` +
      `then ${Math.min(r.options.active, r.tenantsCreated)} of them, spread over the whole range, round-robin ×${r.options.passes}.` +
      (r.stoppedEarly !== undefined ? ` **Filling stopped early** (${r.options.tenants} asked): ${r.stoppedEarly}.` : ""),
    "",
    "| figure | p50 / p99 | ratio to the one-tenant stack (p50) | goal |",
    "|---|---|---|---|",
    `| one tenant on the stack (baseline) | ${cell(r.baseline)} | 1× | |`,
    `| each new tenant's first query while filling | ${cell(r.fill)} | ${(r.fill.p50 / r.baseline.p50).toFixed(1)}× | |`,
    `| active tenants round-robin after the fill | ${cell(r.active)} | ${ratio.toFixed(2)}× | ≤ 1.5×: ${ratio <= 1.5 ? "met" : "not met"} |`,
    "",
    "Resident memory by process (MiB) as tenants were added; bytes on disk of the storage node (LMDB) and of the Durable Objects' state:",
    "",
    `| tenants | elapsed | ${procs.join(" | ")} | total | storage | Durable Objects |`,
    `|---|---|${procs.map(() => "---|").join("")}---|---|---|`,
    ...cps.map(
      (c) =>
        `| ${c.tenants} | ${(c.elapsedMs / 1000).toFixed(0)} s | ${procs.map((p) => (c.rssMiB[p] ?? 0).toFixed(0)).join(" | ")} | ${totalOf(c.rssMiB).toFixed(0)} | ` +
        `${(c.storageBytes / 2 ** 20).toFixed(1)} MiB | ${(c.durableObjectBytes / 2 ** 20).toFixed(1)} MiB |`,
    ),
    "",
    `Per tenant (0 → ${last.tenants}): memory ${perTenant(totalOf(zero.rssMiB) * 2 ** 20, totalOf(last.rssMiB) * 2 ** 20, last.tenants)}, ` +
      `storage ${perTenant(zero.storageBytes, last.storageBytes, last.tenants)}, Durable Objects ${perTenant(zero.durableObjectBytes, last.durableObjectBytes, last.tenants)}` +
      (first !== undefined && last.tenants > first.tenants
        ? `; from ${first.tenants} to ${last.tenants} tenants: memory ${perTenant(totalOf(first.rssMiB) * 2 ** 20, totalOf(last.rssMiB) * 2 ** 20, last.tenants - first.tenants)} per further tenant.`
        : "."),
    "",
    `Memory bound per process: its resident memory at the first checkpoint (${first?.tenants ?? "–"} tenants) + ${DENSITY_GROWTH_ALLOWED * 100} % ` +
      "(memory that keeps growing with the number of tenants breaks it):",
    "",
    "| process | bound | highest seen | |",
    "|---|---|---|---|",
    ...bounds.map((b) => `| ${b.proc} | ${b.boundMiB.toFixed(0)} MiB | ${b.maxMiB.toFixed(0)} MiB | ${b.met ? "within" : "**over**"} |`),
    "",
    "![memory by process as tenants are added](charts/density.svg)",
  ].join("\n");
  return {
    name: "density",
    markdown: md,
    charts: [
      {
        file: "density.svg",
        chart: {
          title: "Resident memory by process as tenants are added",
          unit: "MiB",
          series: ["workerd", "storage node", "whole stack"],
          groups: cps.map((c) => ({ label: `${c.tenants} tenants`, values: [c.rssMiB["workerd"] ?? NaN, c.rssMiB["storage node"] ?? NaN, totalOf(c.rssMiB)] })),
        },
      },
    ],
  };
}
