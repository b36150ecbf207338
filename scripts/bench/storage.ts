// The storage section of `npm run bench`: `npm run bench:storage` (scripts/bench-storage.ts) run as
// a child with BENCH_JSON, so its table — the storage node's API over HTTP and over the KV stream
// next to raw LMDB, same operations, same run — lands in bench/REPORT.md. Issue 12's acceptance 4:
// single-key requests ≥ 10 % of raw LMDB throughput, batched ≥ 50 %.
import fs from "node:fs";
import path from "node:path";
import { runBenchScript, tail } from "./child.ts";
import type { SectionReport } from "./report.ts";

interface Figure {
  readonly opsPerSec: number;
  readonly p50: number;
  readonly p99: number;
  readonly cpuUsPerOp: number;
}

export interface StorageRow {
  readonly name: string;
  readonly op: string;
  readonly concurrency: number;
  readonly opsPerRequest: number;
  readonly api: Figure;
  readonly raw: Figure;
  /** API ops/s ÷ raw LMDB ops/s, median of the per-run ratios. */
  readonly ratio: number;
}

export interface StorageResult {
  readonly runs: number;
  readonly msPerFigure: number;
  readonly rows: StorageRow[];
  /** Set when the child failed: its last lines. */
  readonly failure?: string;
}

export async function runStorage(resultsDir: string, short: boolean, log: (line: string) => void): Promise<StorageResult> {
  const file = path.join(resultsDir, "storage.raw.json");
  fs.rmSync(file, { force: true });
  // Short: one 400 ms run per figure (a smoke run: the figures are noisy, the path is exercised).
  // The warm-up stays at the full run's 300 ms: after 100 ms on a loaded machine the node's code was
  // not yet optimised (216 µs of node CPU per single-key stream read against 11 µs warm), and the
  // report's ratios measured the compiler.
  const env: Record<string, string> = { BENCH_JSON: file, ...(short ? { BENCH_MS: "400", BENCH_RUNS: "1", BENCH_WARMUP_MS: "300" } : {}) };
  const r = await runBenchScript("scripts/bench-storage.ts", [], { timeoutMs: short ? 300_000 : 900_000, env, log, prefix: "storage" });
  if (r.code !== 0 || !fs.existsSync(file)) {
    return { runs: 0, msPerFigure: 0, rows: [], failure: `bench:storage exited ${r.timedOut ? "after its time limit" : `with ${r.code}`}:\n${tail(r.output)}` };
  }
  const result = JSON.parse(fs.readFileSync(file, "utf8")) as StorageResult;
  fs.rmSync(file); // run.ts saves the result under the section's own name
  return result;
}

/** Issue 12's acceptance 4, as rows of this table: [label, row name, goal %]. */
export const STORAGE_GOALS: ReadonlyArray<readonly [string, string, number]> = [
  ["single-key requests (KV stream, 64 pipelined)", "stream: point read, 64 pipelined (1 get/request)", 10],
  ["batched requests (KV stream, 100 gets)", "stream: point read, batched (100 gets/request)", 50],
  ["single-key requests (HTTP, 16 clients)", "point read, 16 clients (1 get/request)", 10],
  ["batched requests (HTTP, 100 gets)", "point read, batched (100 gets/request)", 50],
];

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const us = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(0)) : "–");

export function storageReport(r: StorageResult): SectionReport {
  if (r.failure !== undefined) {
    return { name: "storage", markdown: ["## Storage node vs raw LMDB", "", "Not measured in this run:", "", "```", r.failure, "```"].join("\n"), charts: [] };
  }
  const md = [
    "## Storage node vs raw LMDB",
    "",
    `\`npm run bench:storage\`: the storage node (its own process, durable commits) over HTTP (\`POST /v1/kv\`, keep-alive) and over ` +
      `the KV stream (one connection, pipelined: what the edge uses for a session), next to the same operations on raw LMDB in the ` +
      `benchmark's process, measured back to back; median of ${r.runs} run(s) × ${r.msPerFigure} ms per figure. ` +
      "node µs/op is the node's CPU time (all threads) per operation, which the machine's load distorts least.",
    "",
    "| operation | API ops/s | p50 / p99 ms | node µs/op | raw LMDB ops/s | API / raw |",
    "|---|---|---|---|---|---|",
    ...r.rows.map((x) => `| ${x.name} | ${int(x.api.opsPerSec)} | ${x.api.p50.toFixed(2)} / ${x.api.p99.toFixed(1)} | ${us(x.api.cpuUsPerOp)} | ${int(x.raw.opsPerSec)} | ${(100 * x.ratio).toFixed(1)} % |`),
    "",
    "Acceptance 4 of the performance issue (share of raw LMDB throughput):",
    "",
    "| figure | measured | goal | |",
    "|---|---|---|---|",
    ...STORAGE_GOALS.flatMap(([label, row, goal]) => {
      const x = r.rows.find((y) => y.name === row);
      return x === undefined ? [] : [`| ${label} | ${(100 * x.ratio).toFixed(1)} % | ≥ ${goal} % | ${100 * x.ratio >= goal ? "met" : "not met"} |`];
    }),
    "",
    "![storage node vs raw LMDB](charts/storage.svg)",
  ].join("\n");
  return {
    name: "storage",
    markdown: md,
    charts: [
      {
        file: "storage.svg",
        chart: {
          title: "Storage node throughput as a share of raw LMDB (same run)",
          unit: "%",
          series: ["API / raw LMDB"],
          groups: r.rows.map((x) => ({ label: x.name.length > 38 ? `${x.name.slice(0, 37)}…` : x.name, values: [100 * x.ratio] })),
        },
      },
    ],
  };
}
