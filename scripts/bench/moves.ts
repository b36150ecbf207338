// The moves section of `npm run bench`: `npm run bench:moves` (scripts/bench-moves.ts) run as a
// child: two one-replica shards, writers through the edge's routing code, small and large tenants
// moved between the shards; the write pause (issue 13 acceptance 4: p99 < 1 s) against the same
// run's writes of tenants that do not move. This section reads the summary lines that script prints.
import { runBenchScript, tail } from "./child.ts";
import type { SectionReport } from "./report.ts";

interface Figures {
  moves: number;
  pauseP50: number;
  pauseP99: number;
  heldP50: number;
  heldP99: number;
}

export interface MovesResult {
  readonly small?: Figures;
  readonly large?: Figures;
  readonly baseline?: { p50: number; p99: number };
  /** The summary lines, verbatim (without the script's prefix). */
  readonly summary: string[];
  readonly exitCode: number | null;
  readonly output: string;
  readonly failure?: string;
}

export function parseMovesOutput(output: string): Pick<MovesResult, "small" | "large" | "baseline" | "summary"> {
  const lines = output.split("\n").map((l) => l.replace(/^bench:moves: /, "").trim());
  const summary = lines.filter((l) => /^(small tenants|large tenants|baseline|invariants:|INVARIANTS BROKEN|FAILED)/.test(l));
  const group = (label: string): Figures | undefined => {
    const m = new RegExp(`^${label} tenants \\((\\d+) moves.*write pause p50 (\\d+) ms, p99 (\\d+) ms; held \\(fence → adopted\\) p50 (\\d+) ms, p99 (\\d+) ms`, "m").exec(lines.join("\n"));
    return m ? { moves: +m[1]!, pauseP50: +m[2]!, pauseP99: +m[3]!, heldP50: +m[4]!, heldP99: +m[5]! } : undefined;
  };
  const base = /^baseline \(same run\): writes of tenants not moving p50 (\d+) ms, p99 (\d+) ms/m.exec(lines.join("\n"));
  const small = group("small");
  const large = group("large");
  return { summary, ...(small ? { small } : {}), ...(large ? { large } : {}), ...(base ? { baseline: { p50: +base[1]!, p99: +base[2]! } } : {}) };
}

export async function runMoves(short: boolean, log: (line: string) => void): Promise<MovesResult> {
  const r = await runBenchScript("scripts/bench-moves.ts", short ? ["--short"] : [], { timeoutMs: short ? 600_000 : 1_200_000, log, prefix: "moves" });
  const parsed = parseMovesOutput(r.output);
  const ok = r.code === 0 && parsed.small !== undefined;
  return { ...parsed, exitCode: r.code, output: r.output, ...(ok ? {} : { failure: `bench:moves exited ${r.timedOut ? "after its time limit" : `with ${r.code}`}:\n${tail(r.output)}` }) };
}

export function movesReport(r: MovesResult): SectionReport {
  const title = "## Fleet: tenant moves, the write pause";
  if (r.failure !== undefined || r.small === undefined) {
    return { name: "moves", markdown: [title, "", "Not measured in this run:", "", "```", r.failure ?? "no figures", "```"].join("\n"), charts: [] };
  }
  const row = (label: string, f: Figures) => `| ${label} (${f.moves} moves) | ${f.pauseP50} ms | ${f.pauseP99} ms | ${f.heldP50} ms | ${f.heldP99} ms |`;
  const md = [
    title,
    "",
    "`npm run bench:moves`: two one-replica shards, writers (a read and a commit each, through the edge's routing code) on every moving " +
      "tenant and on tenants that stay, tenants moved one after another. *Write pause*: the longest write of a moved tenant that overlapped " +
      "its move (including that write's own latency); *held*: from the fence sent to the target's adopt answered. Target: p99 < 1 s.",
    "",
    "| moved tenants | write pause p50 | p99 | held p50 | p99 |",
    "|---|---|---|---|---|",
    row("small", r.small),
    ...(r.large ? [row("large", r.large)] : []),
    ...(r.baseline ? [`| baseline: writes of tenants not moving | ${r.baseline.p50} ms | ${r.baseline.p99} ms | | |`] : []),
    "",
    ...r.summary.map((l) => `- ${l}`),
    "",
    "![tenant moves](charts/moves.svg)",
  ].join("\n");
  return {
    name: "moves",
    markdown: md,
    charts: [
      {
        file: "moves.svg",
        chart: {
          title: "Tenant move: longest write of a moved tenant, against ordinary writes",
          unit: "ms",
          series: ["p50", "p99"],
          groups: [
            { label: "small tenants moved", values: [r.small.pauseP50, r.small.pauseP99] },
            ...(r.large ? [{ label: "large tenants moved", values: [r.large.pauseP50, r.large.pauseP99] }] : []),
            ...(r.baseline ? [{ label: "tenants not moving", values: [r.baseline.p50, r.baseline.p99] }] : []),
          ],
        },
      },
    ],
  };
}
