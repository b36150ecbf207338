import { describe, expect, it } from "vitest";
import { parseMovesOutput } from "./moves.ts";

// Lines as scripts/bench-moves.ts prints them (a --short run's summary).
const output = [
  "bench:moves: tenant 5003 (20143 keys): fenced 503 ms [fence+tail 216], 15 ops in the fenced tail, move 7178 ms",
  "bench:moves: small tenants (3 moves, 27/67/103 keys): write pause p50 506 ms, p99 710 ms; held (fence → adopted) p50 432 ms, p99 529 ms; fenced p50 533 ms; fence+tail p50 175 ms",
  "bench:moves: large tenants (1 moves, 20143 keys): write pause p50 1162 ms, p99 1162 ms; held (fence → adopted) p50 375 ms, p99 375 ms; fenced p50 503 ms",
  "bench:moves: all tenants (4 moves, 27/67/103/20143 keys): write pause p50 710 ms, p99 1162 ms; held (fence → adopted) p50 432 ms, p99 529 ms",
  "bench:moves: baseline (same run): writes of tenants not moving p50 213 ms, p99 1162 ms; load 15.1 14.2 12.8",
  "bench:moves: invariants: every acknowledged write present once on 10 tenants",
].join("\n");

describe("parseMovesOutput", () => {
  it("reads the pause and held figures per size and the baseline", () => {
    const r = parseMovesOutput(output);
    expect(r.small).toEqual({ moves: 3, pauseP50: 506, pauseP99: 710, heldP50: 432, heldP99: 529 });
    expect(r.large).toEqual({ moves: 1, pauseP50: 1162, pauseP99: 1162, heldP50: 375, heldP99: 375 });
    expect(r.baseline).toEqual({ p50: 213, p99: 1162 });
    expect(r.summary).toHaveLength(4);
  });
  it("has no figures when the script printed none", () => {
    expect(parseMovesOutput("bench:moves: FAILED")).toEqual({ summary: ["FAILED"] });
  });
});
