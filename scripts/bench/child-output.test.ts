// `npm run bench` reads the figures of bench:tenants and bench:fleet from what those scripts print
// (they belong to other parts of the work and print for people). These tests hold the parsers to
// the scripts' real output: the fleet summary is produced by the very function bench:fleet prints
// with, so a change of its wording fails here rather than leaving a section of the report empty.
import { describe, expect, it } from "vitest";
import { leaderKillsSummary, type LeaderKillsReport } from "../../test/fleet/leader-kills.ts";
import { parseFleetOutput } from "./fleet.ts";
import { parseTenantsOutput } from "./tenants.ts";
import { barChartSvg } from "./report.ts";

describe("bench:fleet output", () => {
  it("reads SQL-served-again and the protocol's failover from leaderKillsSummary's lines", () => {
    const bank = {
      committed: new Map([["a", {}], ["b", {}]]),
      ambiguous: new Map(),
      abandoned: new Map(),
      serializationRetries: 3,
      otherErrors: new Map(),
      auditorReads: 10,
      auditorWrongTotals: [],
      latenciesMs: [5, 7],
      elapsedMs: 2_000,
    };
    const report = {
      rounds: [
        { victim: "n1", successor: "n2", atMs: 0, promotedMs: 900, leaseholderMs: 1_100, sqlMs: 1_500, transferMs: 1_700 },
        { victim: "n2", successor: "n3", atMs: 0, promotedMs: 900, leaseholderMs: 1_100, sqlMs: 1_500, transferMs: 1_700 },
        { victim: "n3", successor: "n1", atMs: 0, promotedMs: 1_000, leaseholderMs: 1_300, sqlMs: 6_000, transferMs: 6_200 },
      ],
      steadyReadMs: 12,
      bank,
      problems: [],
    } as unknown as LeaderKillsReport;
    const output = ["bench:fleet: fleet ready in 9.0 s", ...leaderKillsSummary(report, 5_000).map((l) => `bench:fleet: ${l}`)].join("\n");
    const parsed = parseFleetOutput(output);
    expect(parsed.sql).toEqual({ p50: 1_500, p99: 6_000, max: 6_000, over: 1, of: 3, targetMs: 5_000 });
    expect(parsed.promoted).toEqual({ p50: 900, p99: 1_000 });
    expect(parsed.leaseholder).toEqual({ p50: 1_100, p99: 1_300 });
    expect(parsed.summary[0]).toMatch(/^bank: 2 transfers committed/);
    expect(parsed.summary.at(-1)).toMatch(/^invariants: total balance unchanged/);
  });

  it("finds nothing in the output of a run that failed before its summary", () => {
    const parsed = parseFleetOutput("bench:fleet: 1 SIGKILLs of the leaseholder\nbench:fleet: FAILED: Error: stack did not start");
    expect(parsed.sql).toBeUndefined();
    expect(parsed.summary).toEqual(["FAILED: Error: stack did not start"]);
  });
});

describe("bench:tenants output", () => {
  // The shape bench-tenants.ts prints (its line(): label padded to 34, p50, p99, n, optional ratio).
  const output = `
with the warm pool (GATEWAY_WARM_POOL=2) — 10 tries each, idle time 300 ms, local stack (wrangler dev + storage node)
warm: new pg connection + query    p50    12.5 ms   p99    30.1 ms   n=5
warm: POST /sql                    p50     9.0 ms   p99    20.0 ms   n=5
resume: POST /sql                  p50    45.0 ms   p99    80.0 ms   n=5  (p50 5.0x warm)
resume: both paths                 p50    40.0 ms   p99    81.0 ms   n=10
create + first query: both paths   p50   120.0 ms   p99   300.0 ms   n=10
hops (p50 ms; POST /sql tries, from Server-Timing; admin = POST /admin/tenants, all create tries):
  resume   auth 1.0   gateway 30.0
gateway pool: 8 first requests found a started isolate, 2 started one; 12 isolates created

baseline: no warm pool (GATEWAY_WARM_POOL=0) — 10 tries each, idle time 300 ms, local stack (wrangler dev + storage node)
warm: POST /sql                    p50    10.0 ms   p99    21.0 ms   n=5
resume: both paths                 p50    90.0 ms   p99   150.0 ms   n=10

warm pool vs none, p50:
  resume → first query           40.0 ms vs 90.0 ms (0.44x)
goals: resume p50 < 50 ms (CockroachDB Serverless ~650 ms); create + first query p50 < 100 ms
`;

  it("groups the figures by stack and keeps the comparison lines", () => {
    const parsed = parseTenantsOutput(output);
    expect(Object.keys(parsed.stacks)).toEqual(["with the warm pool", "baseline: no warm pool"]);
    expect(parsed.stacks["with the warm pool"]).toHaveLength(5);
    expect(parsed.stacks["with the warm pool"]![2]).toEqual({ label: "resume: POST /sql", p50: 45, p99: 80, n: 5 });
    expect(parsed.stacks["baseline: no warm pool"]!.map((f) => f.label)).toEqual(["warm: POST /sql", "resume: both paths"]);
    expect(parsed.summary).toEqual([
      "resume → first query           40.0 ms vs 90.0 ms (0.44x)",
      "goals: resume p50 < 50 ms (CockroachDB Serverless ~650 ms); create + first query p50 < 100 ms",
    ]);
  });
});

describe("bar chart", () => {
  it("wraps a legend wider than the chart onto further lines and draws one bar per finite value", () => {
    const svg = barChartSvg({
      title: "t",
      unit: "ms",
      series: ["a rather long first series name", "a rather long second series name", "third series", "fourth series <&>"],
      groups: [{ label: "g", values: [1, NaN, 3, 4] }],
    });
    const legendYs = [...svg.matchAll(/<rect x="\d+(?:\.\d+)?" y="(\d+)" width="10" height="10"/g)].map((m) => Number(m[1]));
    expect(legendYs).toHaveLength(4);
    expect(new Set(legendYs).size).toBeGreaterThan(1);
    // Four legend swatches and three bars (the NaN draws none).
    expect(svg.match(/<rect /g)).toHaveLength(7);
    expect(svg).toContain("fourth series &lt;&amp;&gt;");
  });
});
