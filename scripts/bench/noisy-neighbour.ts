// The noisy-neighbour section of `npm run bench`: what a victim tenant sees while other tenants
// misbehave, measured against the victim alone in the same run.
//   1. each aggressor of test/isolation/noisy-neighbour.ts in turn (the abusive statements and loads
//      of the tenant-isolation issue): victim point-query p50/p99 and new-connection p99 vs solo;
//   2. saturation: 1, 4 and 16 aggressor tenants each looping a CPU-heavy statement through the
//      tunnel: victim p50/p99 vs solo.
import pg from "pg";
import type { Stack, TenantConnection } from "../../test/harness/stack.ts";
import { runAggressorInThread } from "../../test/isolation/aggressor-thread.ts";
import { aggressors, formatMs, Victim, type LatencySummary, type Observation } from "../../test/isolation/noisy-neighbour.ts";
import type { SectionReport } from "./report.ts";

export interface NoisyOptions {
  readonly windowMs: number;
  readonly statementTimeoutMs: number;
  readonly saturation: readonly number[];
  /** Only these aggressors (by name); all when undefined. */
  readonly only?: readonly string[];
}

interface Row {
  readonly name: string;
  readonly outcomes: Record<string, number>;
  readonly longestMs: number;
  readonly victim: Observation;
}

export interface NoisyResult {
  readonly solo: Observation;
  readonly aggressors: Row[];
  readonly saturation: Array<{ aggressors: number; victim: Observation; aggressorStatements: number }>;
}

/** Loops a CPU-heavy statement on its own connection until `stop` is set; counts statements finished. */
async function saturate(tenant: TenantConnection, stop: { done: boolean }): Promise<number> {
  const c = new pg.Client({ connectionString: tenant.pg });
  c.on("error", () => undefined);
  await c.connect();
  let n = 0;
  try {
    while (!stop.done) {
      await c.query("select count(*) from generate_series(1, 2000000)").catch(() => undefined);
      n++;
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  return n;
}

export async function runNoisyNeighbour(stack: Stack, opts: NoisyOptions, log: (line: string) => void): Promise<NoisyResult> {
  const victimTenant = await stack.createTenant(`nn-victim-${Date.now().toString(36)}`);
  const aggressorTenant = await stack.createTenant(`nn-aggr-${Date.now().toString(36)}`);
  const victim = new Victim(victimTenant, stack.http);
  await victim.start();
  // Load the aggressor tenant's gateway isolate before any window (a cost of its own, not of the first aggressor).
  const warm = new pg.Client({ connectionString: aggressorTenant.pg });
  await warm.connect();
  await warm.query("select 1");
  await warm.end();
  try {
    await new Promise((r) => setTimeout(r, 2_000));
    victim.reset();
    await new Promise((r) => setTimeout(r, opts.windowMs));
    const solo = victim.take();
    log(`  solo: query p50 ${formatMs(solo.query.p50)} p99 ${formatMs(solo.query.p99)}, connect p99 ${formatMs(solo.connect.p99)}`);
    const rows: Row[] = [];
    for (const a of aggressors(opts.statementTimeoutMs)) {
      if (opts.only !== undefined && !opts.only.includes(a.name)) continue;
      victim.reset();
      const out = await runAggressorInThread({
        name: a.name,
        statementTimeoutMs: opts.statementTimeoutMs,
        env: { tenant: aggressorTenant, edgeUrl: stack.http, tunnelPort: stack.ports.pg },
        windowMs: opts.windowMs,
      });
      const seen = victim.take();
      rows.push({ name: a.name, outcomes: out.outcomes, longestMs: out.longestMs, victim: seen });
      log(`  ${a.name}: victim query p99 ${formatMs(seen.query.p99)} (${(seen.query.p99 / solo.query.p99).toFixed(2)}× solo), connect p99 ${formatMs(seen.connect.p99)} (solo ${formatMs(solo.connect.p99)}), errors ${seen.query.errors + seen.connect.errors}${seen.query.errors + seen.connect.errors > 0 ? ` (${[...seen.query.errorSamples, ...seen.connect.errorSamples].join("; ")})` : ""}; aggressor ${JSON.stringify(out.outcomes)}`);
    }
    const saturation: NoisyResult["saturation"] = [];
    const tenants: TenantConnection[] = [];
    for (const n of opts.saturation) {
      while (tenants.length < n) tenants.push(await stack.createTenant(`nn-sat${tenants.length}-${Date.now().toString(36)}`));
      const stop = { done: false };
      const loops = tenants.slice(0, n).map((t) => saturate(t, stop));
      await new Promise((r) => setTimeout(r, 1_000));
      victim.reset();
      await new Promise((r) => setTimeout(r, opts.windowMs));
      const seen = victim.take();
      stop.done = true;
      const done = (await Promise.all(loops)).reduce((a, b) => a + b, 0);
      saturation.push({ aggressors: n, victim: seen, aggressorStatements: done });
      log(`  ${n} saturating tenants: victim query p50 ${formatMs(seen.query.p50)} p99 ${formatMs(seen.query.p99)} (${(seen.query.p99 / solo.query.p99).toFixed(2)}× solo)`);
    }
    return { solo, aggressors: rows, saturation };
  } finally {
    await victim.stop();
  }
}

function cell(s: LatencySummary): string {
  return `${formatMs(s.p50)} / ${formatMs(s.p99)}${s.errors > 0 ? ` (${s.errors} errors)` : ""}`;
}

export function noisyReport(r: NoisyResult): SectionReport {
  const ratio = (s: LatencySummary) => `${(s.p99 / r.solo.query.p99).toFixed(2)}×`;
  const md = [
    "## Noisy neighbour",
    "",
    "A victim tenant runs a point select every 100 ms and opens a new connection every second (pg through the tunnel) " +
      "while an aggressor tenant runs each abusive statement or load in turn, then while 1/4/16 tenants saturate the stack " +
      `with \`count(*)\` over 2,000,000 generated rows in a loop. Solo: query p50 ${formatMs(r.solo.query.p50)}, p99 ${formatMs(r.solo.query.p99)}; ` +
      `new connection p99 ${formatMs(r.solo.connect.p99)}.`,
    "",
    "| aggressor | aggressor got (longest attempt) | victim query p50 / p99 | p99 vs solo | victim connect p50 / p99 | GET / p99 |",
    "|---|---|---|---|---|---|",
    ...r.aggressors.map(
      (a) =>
        `| ${a.name} | ${Object.entries(a.outcomes).map(([k, v]) => `${k} ×${v}`).join(", ")} (${formatMs(a.longestMs)}) | ${cell(a.victim.query)} | ${ratio(a.victim.query)} | ${cell(a.victim.connect)} | ${formatMs(a.victim.health.p99)} |`,
    ),
    ...r.saturation.map(
      (s) => `| ${s.aggressors} saturating tenant${s.aggressors > 1 ? "s" : ""} | ${s.aggressorStatements} statements | ${cell(s.victim.query)} | ${ratio(s.victim.query)} | ${cell(s.victim.connect)} | ${formatMs(s.victim.health.p99)} |`,
    ),
    "",
    "![victim p99 by aggressor](charts/noisy-neighbour.svg)",
  ].join("\n");
  return {
    name: "noisy-neighbour",
    markdown: md,
    charts: [
      {
        file: "noisy-neighbour.svg",
        chart: {
          title: "Victim point-select latency while a neighbour misbehaves",
          unit: "ms",
          series: ["victim p99", "victim p50", "solo p99"],
          groups: [
            ...r.aggressors.map((a) => ({ label: a.name, values: [a.victim.query.p99, a.victim.query.p50, r.solo.query.p99] })),
            ...r.saturation.map((s) => ({ label: `${s.aggressors} saturating`, values: [s.victim.query.p99, s.victim.query.p50, r.solo.query.p99] })),
          ],
        },
      },
    ],
  };
}
