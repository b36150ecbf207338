// The fleet section of `npm run bench`: `npm run bench:fleet` (scripts/bench-fleet.ts, owned by the
// fleet work) run as a child: a local fleet (one shard, three replicas), the bank workload over
// HTTP SQL, and SIGKILLs of the shard's leaseholder; how long until SQL is served again, against the
// replication protocol's own failover measured in the same run. This section reads the summary
// lines that script prints and keeps its whole output in the results JSON.
import { runBenchScript, tail } from "./child.ts";
import type { SectionReport } from "./report.ts";

export interface FleetResult {
  readonly kills: number;
  readonly sql?: { p50: number; p99: number; max: number; over: number; of: number; targetMs: number };
  readonly promoted?: { p50: number; p99: number };
  readonly leaseholder?: { p50: number; p99: number };
  /** The summary lines, verbatim (without the script's prefix). */
  readonly summary: string[];
  readonly exitCode: number | null;
  readonly output: string;
  readonly failure?: string;
}

export function parseFleetOutput(output: string): Pick<FleetResult, "sql" | "promoted" | "leaseholder" | "summary"> {
  const lines = output.split("\n").map((l) => l.replace(/^bench:fleet: /, "").trim());
  const summary = lines.filter((l) => /^(bank:|failover over|the bank's first|baseline \(same run\)|invariants:|INVARIANTS BROKEN|INCOMPLETE|FAILED)/.test(l));
  const text = lines.join("\n");
  const sql = /SQL served again p50 (\d+) ms, p99 (\d+) ms, max (\d+) ms; (\d+) of (\d+) at or over the (\d+) ms target/.exec(text);
  const base = /a new leaseholder promoted p50 (\d+) ms, p99 (\d+) ms, serving KV p50 (\d+) ms, p99 (\d+) ms/.exec(text);
  return {
    summary,
    ...(sql ? { sql: { p50: +sql[1]!, p99: +sql[2]!, max: +sql[3]!, over: +sql[4]!, of: +sql[5]!, targetMs: +sql[6]! } } : {}),
    ...(base ? { promoted: { p50: +base[1]!, p99: +base[2]! }, leaseholder: { p50: +base[3]!, p99: +base[4]! } } : {}),
  };
}

export async function runFleet(short: boolean, log: (line: string) => void): Promise<FleetResult> {
  const kills = short ? 1 : 20;
  const r = await runBenchScript("scripts/bench-fleet.ts", ["--kills", String(kills)], { timeoutMs: short ? 600_000 : 1_800_000, log, prefix: "fleet" });
  const parsed = parseFleetOutput(r.output);
  return {
    kills,
    ...parsed,
    exitCode: r.code,
    output: r.output,
    ...(parsed.sql === undefined ? { failure: `bench:fleet exited ${r.timedOut ? "after its time limit" : `with ${r.code}`}:\n${tail(r.output)}` } : {}),
  };
}

export function fleetReport(r: FleetResult): SectionReport {
  if (r.failure !== undefined || r.sql === undefined) {
    return { name: "fleet", markdown: ["## Fleet: leaseholder failover under load", "", "Not measured in this run:", "", "```", r.failure ?? "no figures", "```"].join("\n"), charts: [] };
  }
  const s = r.sql;
  const md = [
    "## Fleet: leaseholder failover under load",
    "",
    `\`npm run bench:fleet\`: a local fleet (1 shard × 3 replicas), 8 bank clients over POST /sql, ${r.kills} SIGKILL(s) of the leaseholder ` +
      "at random moments. The figure is the time from the kill until SQL is served again; its baseline, measured in the same run, is " +
      "the replication protocol's own failover (a new leaseholder promoted and serving KV).",
    "",
    "| after a leaseholder SIGKILL | p50 | p99 | ratio to the baseline (p50) |",
    "|---|---|---|---|",
    `| SQL served again (target < ${s.targetMs} ms; ${s.over} of ${s.of} at or over) | ${s.p50} ms | ${s.p99} ms | ${r.leaseholder ? `${(s.p50 / Math.max(1, r.leaseholder.p50)).toFixed(2)}×` : "–"} |`,
    ...(r.promoted ? [`| baseline: new leaseholder promoted | ${r.promoted.p50} ms | ${r.promoted.p99} ms | |`] : []),
    ...(r.leaseholder ? [`| baseline: new leaseholder serving KV | ${r.leaseholder.p50} ms | ${r.leaseholder.p99} ms | 1× |`] : []),
    "",
    ...r.summary.map((l) => `- ${l}`),
    "",
    "![fleet failover](charts/fleet.svg)",
  ].join("\n");
  return {
    name: "fleet",
    markdown: md,
    charts: [
      {
        file: "fleet.svg",
        chart: {
          title: "Leaseholder SIGKILL: until SQL is served again, against the protocol's failover",
          unit: "ms",
          series: ["p50", "p99"],
          groups: [
            { label: "SQL served again", values: [s.p50, s.p99] },
            ...(r.leaseholder ? [{ label: "new leaseholder serving KV", values: [r.leaseholder.p50, r.leaseholder.p99] }] : []),
            ...(r.promoted ? [{ label: "new leaseholder promoted", values: [r.promoted.p50, r.promoted.p99] }] : []),
          ],
        },
      },
    ],
  };
}
