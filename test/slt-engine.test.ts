// sqllogictest on Warren's SQL engine in this process (scripts/slt/engine-target.ts: a Session over
// an in-memory KV per script, no stack): the first recordsMax records of EVERY corpus script, so
// CI covers every kind of script (select1-5, index/*, random/*) in under a minute, where the stack
// subset (slt.test.ts) runs a few over HTTP. Real PostgreSQL 15 runs the same records first and
// the ones it fails are left out of the engine's counts. Every counted record must pass: the
// engine passed the whole corpus (112,974 records) when this was written, and in-process there is
// no transport to flake. `npm run slt -- --warren engine` runs the whole corpus (about 6 minutes
// of engine time; PostgreSQL takes longer on random/select_0).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectFiles, resolveCorpusDir, runCorpus, totals } from "../scripts/slt/corpus.ts";
import { createEngineTarget } from "../scripts/slt/engine-target.ts";
import { createPostgresTarget } from "../scripts/slt/postgres-target.ts";
import { formatFileReport, formatSummary } from "../scripts/slt/report.ts";
import type { SqlTarget } from "../scripts/slt/target.ts";
import { postgresAvailable } from "./harness/postgres.ts";

/** Records per script: setup plus several hundred queries of each (the corpus has 17 scripts). */
const recordsMax = 400;
const corpus = resolveCorpusDir();

describe.skipIf(!corpus.found || !postgresAvailable())("sqllogictest slice of every script on the engine", () => {
  let postgres: SqlTarget;
  beforeAll(async () => {
    postgres = await createPostgresTarget();
  }, 120_000);
  afterAll(async () => {
    await postgres?.close();
  }, 60_000);

  it("passes every counted record", async () => {
    const reports = await runCorpus({
      files: collectFiles([], corpus.dir),
      recordsMax,
      postgres,
      warren: createEngineTarget(),
      jobs: 2,
      onFileDone: (r) => console.log(formatFileReport(r, corpus.dir)),
    });
    console.log(formatSummary(reports));
    const t = totals(reports.map((r) => r.warren));
    const counted = t.statements.run + t.queries.run;
    const passed = t.statements.passed + t.queries.passed;
    // The vendored fallback corpus (select1.test alone) gives 400; the full one about 6,800.
    expect(counted).toBeGreaterThanOrEqual(reports.length > 1 ? 5_000 : 390);
    for (const r of reports) expect(r.warren?.abortedBy, r.file).toBeUndefined();
    expect(passed).toBe(counted);
  }, 15 * 60_000);
});
