// The CI-sized version of `npm run bench:pgbench-soak` (issue 8, acceptance 5): pgbench 15's -T
// runs with `-c 4 -j 2 --max-tries=10` in simple, extended and prepared mode and -S, each mode
// twice for 5 s, against the local stack through the tunnel. Every run must end with its summary:
// one still going 60 s after its -T is a client waiting for a reply that never comes, and fails
// the test (scripts/pgbench-runs.ts kills it). Afterwards the money is conserved. The full
// acceptance (5 rounds × 30 s) is the script; its figures are in the pgwire README.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { balancesAgree, hangGraceSeconds, MODES, pgbenchInit, pgbenchRun, type RunResult } from "../scripts/pgbench-runs.ts";
import { startStack, type Stack } from "./harness/stack.ts";

const seconds = 5;
const rounds = 2;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
  const init = await pgbenchInit(stack.demo.pg);
  expect(init.ok, `pgbench -i -s 1 failed:\n${init.out}`).toBe(true);
}, 400_000);

afterAll(async () => {
  await stack?.stop();
});

describe("pgbench -T runs never hang", () => {
  for (let round = 1; round <= rounds; round++) {
    for (const mode of MODES) {
      it(`round ${round}: pgbench -T ${seconds} -c 4 -j 2 --max-tries=10 ${mode === "select" ? "-S" : `-M ${mode}`} ends with its summary`, async () => {
        const r: RunResult = await pgbenchRun(stack.demo.pg, mode, seconds);
        expect(r.outcome, `${r.outcome} after ${r.ms} ms:\n${r.out}`).toBe("ok");
        expect(r.out).toContain("number of transactions actually processed:");
        console.warn(`pgbench ${mode} round ${round}: tps ${r.tps} txns ${r.processed} failed ${r.failed} retried ${r.retried} in ${r.ms} ms`);
      }, (seconds + hangGraceSeconds + 30) * 1000);
    }
  }

  it("money is conserved: sum(abalance) = sum(bbalance) = sum(tbalance) = sum(delta)", async () => {
    const check = await balancesAgree(stack.demo.pg);
    expect(check.ok, check.text).toBe(true);
  }, 120_000);
});
