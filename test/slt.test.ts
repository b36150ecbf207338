// sqllogictest through the real local stack: a bounded subset of the corpus runs against Warren
// (each script in a fresh tenant, every record one HTTP POST /sql), with real PostgreSQL 15
// alongside so that records PostgreSQL itself fails are left out of Warren's counts. The test
// asserts a pass-rate floor; `npm run slt` runs the whole corpus and prints per-file rates.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { passRate, resolveCorpusDir, runCorpus, totals } from "../scripts/slt/corpus.ts";
import { createPostgresTarget } from "../scripts/slt/postgres-target.ts";
import { formatFileReport, formatSummary } from "../scripts/slt/report.ts";
import type { SqlTarget } from "../scripts/slt/target.ts";
import { createWarrenTarget } from "../scripts/slt/warren-target.ts";
import { acquireWarrenStack, warrenStackUnavailableReason, type WarrenStack } from "../scripts/slt/warren-stack.ts";
import { postgresAvailable } from "./harness/postgres.ts";

/**
 * Pass-rate floor over the subset's counted records (statements and queries together). Raise it
 * as the engine improves, to the rate last measured minus a little; never lower it to hide a
 * regression.
 */
const passRateFloor = 0.5;

/** The subset: small enough for CI's 2 cores (a few minutes over HTTP), wide enough to mean something. */
const subset = ["select1.test", "index/between_1000_0.test", "index/commute_10_10.test", "index/in_10_5.test"];
const timeoutMs = 30 * 60_000;

// The gateway answers every statement with 0A000 "the SQL engine is not wired into the gateway
// yet" (workers/gateway/http/engine.ts): a pass rate of 0 would make this test hollow, so it is
// skipped with that reason until the engine runs SQL through the stack. Remove when it does.
const engineNotWired = true;

const corpus = resolveCorpusDir();
const stackReason = warrenStackUnavailableReason();

describe.skipIf(!corpus.found || stackReason !== undefined || engineNotWired)("sqllogictest subset on Warren", () => {
  let stack: WarrenStack;
  let warren: SqlTarget;
  let postgres: SqlTarget | undefined;
  beforeAll(async () => {
    stack = await acquireWarrenStack();
    warren = await createWarrenTarget(stack);
    if (postgresAvailable()) postgres = await createPostgresTarget();
  }, 180_000);
  afterAll(async () => {
    await postgres?.close();
    await warren?.close();
    await stack?.stop();
  }, 60_000);

  it(`passes at least ${passRateFloor * 100}% of the counted records`, async () => {
    const reports = await runCorpus({
      files: subset.map((f) => join(corpus.dir, f)),
      postgres,
      warren,
      jobs: 2,
      onFileDone: (r) => console.log(formatFileReport(r, corpus.dir)),
    });
    console.log(formatSummary(reports));
    for (const r of reports) expect(r.warren?.abortedBy, r.file).toBeUndefined();
    const t = totals(reports.map((r) => r.warren));
    const rate = passRate({ run: t.statements.run + t.queries.run, passed: t.statements.passed + t.queries.passed });
    expect(t.statements.run + t.queries.run).toBeGreaterThan(1000);
    expect(rate).toBeGreaterThanOrEqual(passRateFloor);
  }, timeoutMs);
});
