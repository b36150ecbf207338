// sqllogictest through the real local stack: a bounded subset of the corpus runs against Warren
// (each script in a fresh tenant, every record one HTTP POST /sql), with real PostgreSQL 15
// alongside so that records PostgreSQL itself fails are left out of Warren's counts. The test
// asserts a pass-rate floor; `npm run slt` runs the whole corpus and prints per-file rates.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectFiles, passRate, resolveCorpusDir, runCorpus, totals } from "../scripts/slt/corpus.ts";
import { createPostgresTarget } from "../scripts/slt/postgres-target.ts";
import { formatFileReport, formatSummary } from "../scripts/slt/report.ts";
import type { SqlTarget } from "../scripts/slt/target.ts";
import { createWarrenTarget } from "../scripts/slt/warren-target.ts";
import { acquireWarrenStack, warrenStackUnavailableReason, type WarrenStack } from "../scripts/slt/warren-stack.ts";
import { postgresAvailable } from "./harness/postgres.ts";

/**
 * Pass-rate floor over the subset's counted records (statements and queries together). Measured
 * at commit 6b8ef0d: 100 % of this subset (select1 and the first 1100 records of each index/*
 * script). Kept a little below that to tolerate a flaky record, not a regression; raise it with
 * the engine, never lower it to hide a regression.
 */
const passRateFloor = 0.98;

const corpus = resolveCorpusDir();
/** The vendored fallback corpus (test/slt-corpus) holds select1.test only. */
function corpusHas(name: string): boolean {
  return existsSync(join(corpus.dir, name));
}
/**
 * The subset: select1.test whole (1031 records) and the first recordsMax records of every index/*
 * script (setup plus about a thousand queries each): about 10k records, a few minutes over HTTP
 * on CI's 2 cores (about 45 ms a record measured locally).
 */
const subset = ["select1.test", "index"].filter((name) => corpusHas(name));
const recordsMax = 1_100;
const timeoutMs = 40 * 60_000;
const stackReason = warrenStackUnavailableReason();

describe.skipIf(!corpus.found || stackReason !== undefined)("sqllogictest subset on Warren", () => {
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
      files: collectFiles(subset, corpus.dir),
      recordsMax,
      postgres,
      warren,
      jobs: 2,
      onFileDone: (r) => console.log(formatFileReport(r, corpus.dir)),
    });
    console.log(formatSummary(reports));
    for (const r of reports) expect(r.warren?.abortedBy, r.file).toBeUndefined();
    const t = totals(reports.map((r) => r.warren));
    const rate = passRate({ run: t.statements.run + t.queries.run, passed: t.statements.passed + t.queries.passed });
    // The whole subset is about 10k records; the vendored fallback (select1.test alone) is 1,031.
    expect(t.statements.run + t.queries.run).toBeGreaterThanOrEqual(subset.includes("index") ? 5_000 : 1_031);
    expect(rate).toBeGreaterThanOrEqual(passRateFloor);
  }, timeoutMs);
});
