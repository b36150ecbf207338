// The tenant-lifecycle section of `npm run bench`: `npm run bench:tenants` (scripts/bench-tenants.ts)
// run as a child. It measures, on stacks of its own with and without the gateway warm pool, a new
// connection's first query to a warm tenant (the baseline), to a tenant suspended for idleness
// (resume), and to a tenant just created (create + first query). That script prints its figures
// (it is owned by the cold-start work); this section reads them from its output lines
// `LABEL p50 X ms p99 Y ms n=N`, grouped under the two stack headings, and keeps the output whole
// in the results JSON in case a line changes shape.
import { runBenchScript, tail } from "./child.ts";
import type { SectionReport } from "./report.ts";

export interface TenantFigure {
  readonly label: string;
  readonly p50: number;
  readonly p99: number;
  readonly n: number;
}

export interface TenantsResult {
  /** By stack heading ("with the warm pool", "baseline: no warm pool"), the figures in printed order. */
  readonly stacks: Record<string, TenantFigure[]>;
  /** Lines after "warm pool vs none" and the goals line, verbatim. */
  readonly summary: string[];
  readonly output: string;
  readonly failure?: string;
}

const FIGURE = /^(.+?)\s+p50\s+([\d.]+) ms\s+p99\s+([\d.]+) ms\s+n=(\d+)/;
const HEADING = /^(.+?) \(GATEWAY_WARM_POOL=\d+\)/;

export function parseTenantsOutput(output: string): Pick<TenantsResult, "stacks" | "summary"> {
  const stacks: Record<string, TenantFigure[]> = {};
  const summary: string[] = [];
  let current: string | null = null;
  let inSummary = false;
  for (const raw of output.split("\n")) {
    const line = raw.trimEnd();
    const h = HEADING.exec(line);
    if (h) {
      current = h[1]!.trim();
      stacks[current] = [];
      inSummary = false;
      continue;
    }
    if (line.startsWith("warm pool vs none")) {
      inSummary = true;
      continue;
    }
    if (inSummary || line.startsWith("goals:")) {
      if (line.trim() !== "") summary.push(line.trim());
      continue;
    }
    const f = FIGURE.exec(line);
    if (f && current !== null) stacks[current]!.push({ label: f[1]!.trim(), p50: Number(f[2]), p99: Number(f[3]), n: Number(f[4]) });
  }
  return { stacks, summary };
}

export async function runTenants(short: boolean, log: (line: string) => void): Promise<TenantsResult> {
  const r = await runBenchScript("scripts/bench-tenants.ts", short ? ["--short"] : [], { timeoutMs: short ? 600_000 : 1_800_000, log, prefix: "tenants" });
  const parsed = parseTenantsOutput(r.output);
  const ok = r.code === 0 && Object.values(parsed.stacks).some((xs) => xs.length > 0);
  return { ...parsed, output: r.output, ...(ok ? {} : { failure: `bench:tenants exited ${r.timedOut ? "after its time limit" : `with ${r.code}`}:\n${tail(r.output)}` }) };
}

export function tenantsReport(r: TenantsResult): SectionReport {
  const names = Object.keys(r.stacks);
  if (r.failure !== undefined || names.length === 0) {
    return { name: "tenants", markdown: ["## Tenant lifecycle: resume and create", "", "Not measured in this run:", "", "```", r.failure ?? "no figures", "```"].join("\n"), charts: [] };
  }
  const labels = [...new Set(names.flatMap((n) => r.stacks[n]!.map((f) => f.label)))];
  const get = (stack: string, label: string) => r.stacks[stack]!.find((f) => f.label === label);
  const warmOf = (stack: string, label: string): TenantFigure | undefined => {
    // The baseline of each row: the warm figure of the same path (tunnel or POST /sql).
    if (label.startsWith("warm")) return undefined;
    return get(stack, label.includes("POST /sql") ? "warm: POST /sql" : label.includes("pg connection") ? "warm: new pg connection + query" : "");
  };
  const md = [
    "## Tenant lifecycle: resume and create",
    "",
    "`npm run bench:tenants`: on stacks of its own (no isolate budget, as in production), a new connection's first query to a tenant " +
      "with a warm gateway isolate (the baseline), to a tenant suspended for idleness (its isolate released), and to a tenant just " +
      "created, through the tunnel (`pg`: connect + query) and over POST /sql; once with the gateway warm pool (the default) and once " +
      "without, in the same run. Ratios: p50 against the warm baseline of the same path and stack.",
    "",
    `| first query | ${names.map((n) => `${n}: p50 / p99 (× warm)`).join(" | ")} |`,
    `|---|${names.map(() => "---|").join("")}`,
    ...labels.map(
      (label) =>
        `| ${label} | ${names
          .map((n) => {
            const f = get(n, label);
            if (f === undefined) return "–";
            const w = warmOf(n, label);
            return `${f.p50.toFixed(1)} / ${f.p99.toFixed(1)} ms${w !== undefined ? ` (${(f.p50 / w.p50).toFixed(1)}×)` : ""}`;
          })
          .join(" | ")} |`,
    ),
    "",
    ...r.summary.map((l) => `- ${l}`),
    "",
    "![tenant lifecycle](charts/tenants.svg)",
  ].join("\n");
  const chartLabels = labels.filter((l) => /both|warm: POST/.test(l));
  return {
    name: "tenants",
    markdown: md,
    charts: [
      {
        file: "tenants.svg",
        chart: {
          title: "First query of a resumed or new tenant, p50 (warm tenant beside)",
          unit: "ms",
          series: names,
          groups: chartLabels.map((l) => ({ label: l, values: names.map((n) => get(n, l)?.p50 ?? NaN) })),
        },
      },
    ],
  };
}
