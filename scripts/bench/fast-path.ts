// The KV-stream section of `npm run bench`: `npm run bench:fast-path` (scripts/bench-fast-path.ts)
// run as a child with `--json`, so its figures land in bench/REPORT.md. Two stacks side by side —
// "before" (every KV batch a fetch() to the storage node) and "after" (a session's batches on one
// persistent KV stream) — and PostgreSQL 15, taking turns round by round: point select, insert,
// `select 1` and an empty query through the tunnel and over HTTP, `pgbench -S -c 4`, and the CPU
// each process of a stack spends per query.
import fs from "node:fs";
import path from "node:path";
import type { LatencySummary } from "../../test/isolation/noisy-neighbour.ts";
import { formatMs } from "../../test/isolation/noisy-neighbour.ts";
import { runBenchScript, tail } from "./child.ts";
import type { SectionReport } from "./report.ts";

interface Figures {
  readonly tunnelEmpty: LatencySummary;
  readonly tunnelSelect1: LatencySummary;
  readonly tunnelPoint: LatencySummary;
  readonly tunnelInsert: LatencySummary;
  readonly httpPoint: LatencySummary | null;
  readonly httpInsert: LatencySummary | null;
  readonly pgbenchS: number | null;
}

export interface FastPathResult {
  readonly iterations?: number;
  readonly rounds?: number;
  readonly loadavg?: number[];
  readonly transport?: Record<string, { requests: number; streamRequests: number; streamsOpened: number }>;
  readonly cpuMsPerQuery?: Record<string, Record<string, Record<string, number>>>;
  readonly before?: Figures;
  readonly after?: Figures;
  readonly postgres?: Figures;
  readonly failure?: string;
}

export async function runFastPath(resultsDir: string, short: boolean, log: (line: string) => void): Promise<FastPathResult> {
  const file = path.join(resultsDir, "fast-path.raw.json");
  fs.rmSync(file, { force: true });
  const args = [...(short ? ["--short", "--iterations", "60", "--rounds", "1"] : []), "--json", file];
  const r = await runBenchScript("scripts/bench-fast-path.ts", args, { timeoutMs: short ? 900_000 : 2_400_000, log, prefix: "fast-path" });
  if (r.code !== 0 || !fs.existsSync(file)) {
    return { failure: `bench:fast-path exited ${r.timedOut ? "after its time limit" : `with ${r.code}`}:\n${tail(r.output)}` };
  }
  const result = JSON.parse(fs.readFileSync(file, "utf8")) as FastPathResult;
  fs.rmSync(file); // run.ts saves the result under the section's own name
  return result;
}

const lat = (s: LatencySummary | null | undefined) => (s == null ? "–" : `${formatMs(s.p50)} / ${formatMs(s.p99)}`);
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? "–" : `${(a / b).toFixed(2)}×`;

export function fastPathReport(r: FastPathResult): SectionReport {
  if (r.failure !== undefined || r.before === undefined || r.after === undefined || r.postgres === undefined) {
    return { name: "fast-path", markdown: ["## KV stream: the point-select path before and after", "", "Not measured in this run:", "", "```", r.failure ?? "no figures", "```"].join("\n"), charts: [] };
  }
  const b = r.before;
  const a = r.after;
  const p = r.postgres;
  const rows: Array<[string, LatencySummary | null, LatencySummary | null, LatencySummary | null]> = [
    ["tunnel: empty query", b.tunnelEmpty, a.tunnelEmpty, p.tunnelEmpty],
    ["tunnel: `select 1`", b.tunnelSelect1, a.tunnelSelect1, p.tunnelSelect1],
    ["tunnel: point select", b.tunnelPoint, a.tunnelPoint, p.tunnelPoint],
    ["tunnel: insert", b.tunnelInsert, a.tunnelInsert, p.tunnelInsert],
    ["HTTP: point select", b.httpPoint, a.httpPoint, null],
    ["HTTP: insert", b.httpInsert, a.httpInsert, null],
  ];
  const cpu = r.cpuMsPerQuery ?? {};
  const procs = Object.keys(cpu["after"]?.["tunnelPoint"] ?? {});
  const loops: Array<[string, string]> = [["tunnelEmpty", "tunnel empty query"], ["tunnelSelect1", "tunnel `select 1`"], ["tunnelPoint", "tunnel point select"], ["tunnelInsert", "tunnel insert"], ["httpPoint", "HTTP point select"], ["httpInsert", "HTTP insert"]];
  const total = (x: Record<string, number> | undefined) => (x === undefined ? NaN : Object.values(x).reduce((s, v) => s + v, 0));
  const md = [
    "## KV stream: the point-select path before and after",
    "",
    "`npm run bench:fast-path`: two stacks and PostgreSQL 15 taking turns round by round " +
      `(${r.rounds ?? "?"} round(s), ${r.iterations ?? "?"} measured requests per loop). **before**: every KV batch of a session is a ` +
      "`fetch()` to the storage node (`STORAGE_TRANSPORT=http`); **after**: a Postgres session's batches go over one persistent, pipelined KV " +
      "stream (the default). Sequential requests of one `pg` client through the tunnel, and POST /sql (keep-alive). " +
      `Load average at the end: ${(r.loadavg ?? []).map((x) => x.toFixed(1)).join(" ")}.`,
    "",
    "| figure (p50 / p99) | before (fetch per batch) | after (KV stream) | PostgreSQL 15 | after / before (p50) | after / PostgreSQL (p50) |",
    "|---|---|---|---|---|---|",
    ...rows.map(([name, x, y, z]) => `| ${name} | ${lat(x)} | ${lat(y)} | ${lat(z)} | ${ratio(y?.p50, x?.p50)} | ${ratio(y?.p50, z?.p50)} |`),
    `| \`pgbench -S -c 4 -j 2\` TPS (median of rounds) | ${b.pgbenchS?.toFixed(0) ?? "–"} | ${a.pgbenchS?.toFixed(0) ?? "–"} | ${p.pgbenchS?.toFixed(0) ?? "–"} | ${ratio(a.pgbenchS, b.pgbenchS)} | ${ratio(a.pgbenchS, p.pgbenchS)} |`,
    "",
    ...(procs.length > 0
      ? [
          "CPU per query by process of the stack (ms; Linux /proc), which the machine's load distorts far less than latency:",
          "",
          `| query | ${procs.map((x) => `${x} before / after`).join(" | ")} | total before / after |`,
          `|---|${procs.map(() => "---|").join("")}---|`,
          ...loops.map(
            ([k, label]) =>
              `| ${label} | ${procs.map((x) => `${(cpu["before"]?.[k]?.[x] ?? NaN).toFixed(2)} / ${(cpu["after"]?.[k]?.[x] ?? NaN).toFixed(2)}`).join(" | ")} | ${total(cpu["before"]?.[k]).toFixed(2)} / ${total(cpu["after"]?.[k]).toFixed(2)} |`,
          ),
          "",
        ]
      : []),
    ...Object.entries(r.transport ?? {}).map(([k, t]) => `- ${k}: the storage node got ${t.requests} KV requests, ${t.streamRequests} of them on ${t.streamsOpened} KV streams.`),
    "",
    "![point select before and after the KV stream](charts/fast-path.svg)",
  ].join("\n");
  return {
    name: "fast-path",
    markdown: md,
    charts: [
      {
        file: "fast-path.svg",
        chart: {
          title: "p50 before and after the KV stream, PostgreSQL beside",
          unit: "ms",
          series: ["before (fetch per batch)", "after (KV stream)", "PostgreSQL 15"],
          groups: rows.map(([name, x, y, z]) => ({ label: name.replace(/`/g, ""), values: [x?.p50 ?? NaN, y?.p50 ?? NaN, z?.p50 ?? NaN] })),
        },
      },
    ],
  };
}
