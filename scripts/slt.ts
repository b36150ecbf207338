// sqllogictest runner: `npm run slt -- [options] [files/dirs…]`
//
//   --target warren|postgres|both   default: both when PostgreSQL 15 is installed, else warren
//   --warren stack|engine           stack (default): the real local stack over HTTP; engine: the SQL
//                                   engine in this process over an in-memory KV (engine-target.ts),
//                                   the whole corpus in minutes
//   --jobs N                        scripts run at the same time (default 2: the machine has 2 cores)
//   --stop-on-first-failure         end each script at its first failing record
//   --verbose                       print every failure: SQL, expected and actual
//   --postgres-url URL              use this PostgreSQL (superuser) instead of a throwaway one
//   --causes N                      how many top failure causes to print (default 15)
//   --max-records N                 run only the first N records of each script (a quick sample)
//
// Files default to the whole corpus (WARREN_SLT_DIR, else ../shared/conformance/slt); relative
// names are also looked up inside the corpus (`npm run slt -- select1.test index`).
// Warren is reached through the real local stack: an already running one when WARREN_STACK_DIR
// names its data dir (its ready.json), or WARREN_HTTP_URL,
// WARREN_ADMIN_URL and WARREN_ADMIN_TOKEN are set, else one started by test/harness/stack.ts.
// With both targets, records that real PostgreSQL fails are reported and left out of Warren's
// counts. Exit status: 0 when every counted record passed, 1 otherwise, 2 on usage errors.
import { parseArgs } from "node:util";
import { postgresAvailable } from "../test/harness/postgres.ts";
import { collectFiles, resolveCorpusDir, runCorpus } from "./slt/corpus.ts";
import { createEngineTarget } from "./slt/engine-target.ts";
import { createPostgresTarget } from "./slt/postgres-target.ts";
import { formatFailure, formatFileReport, formatSummary } from "./slt/report.ts";
import type { SqlTarget } from "./slt/target.ts";
import { createWarrenTarget } from "./slt/warren-target.ts";

function usage(message: string): never {
  console.error(`slt: ${message}`);
  process.exit(2);
}

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    target: { type: "string" },
    warren: { type: "string", default: "stack" },
    jobs: { type: "string", default: "2" },
    "stop-on-first-failure": { type: "boolean", default: false },
    verbose: { type: "boolean", short: "v", default: false },
    "postgres-url": { type: "string" },
    causes: { type: "string", default: "15" },
    "max-records": { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  console.log("usage: npm run slt -- [--target warren|postgres|both] [--warren stack|engine] [--jobs N] [--stop-on-first-failure] [--verbose] [--max-records N] [--postgres-url URL] [files/dirs…]");
  process.exit(0);
}
const pgInstalled = opts["postgres-url"] !== undefined || postgresAvailable();
const target = opts.target ?? (pgInstalled ? "both" : "warren");
if (!["warren", "postgres", "both"].includes(target)) usage(`--target must be warren, postgres or both, not "${target}"`);
if (target !== "warren" && !pgInstalled) usage("PostgreSQL 15 is not installed (/usr/lib/postgresql/15/bin); use --target warren or --postgres-url");
if (!["stack", "engine"].includes(opts.warren)) usage(`--warren must be stack or engine, not "${opts.warren}"`);
const jobs = Number(opts.jobs);
if (!Number.isInteger(jobs) || jobs < 1 || jobs > 16) usage("--jobs must be an integer from 1 to 16");

const recordsMax = opts["max-records"] === undefined ? undefined : Number(opts["max-records"]);
if (recordsMax !== undefined && !(Number.isInteger(recordsMax) && recordsMax > 0)) usage("--max-records must be a positive integer");

const corpus = resolveCorpusDir();
if (!corpus.found && positionals.length === 0) {
  usage(`sqllogictest corpus not found (looked in ${corpus.tried.join(", ")}); set WARREN_SLT_DIR to its directory`);
}
let files: string[];
try {
  files = collectFiles(positionals, corpus.dir);
} catch (err) {
  usage((err as Error).message);
}
if (files.length === 0) usage("no .test files to run");

let postgres: SqlTarget | undefined;
let warren: SqlTarget | undefined;
try {
  if (target !== "warren") postgres = await createPostgresTarget({ url: opts["postgres-url"] });
  if (target !== "postgres") warren = opts.warren === "engine" ? createEngineTarget() : await createWarrenTarget();
} catch (err) {
  await postgres?.close();
  console.error(`slt: could not start a target: ${(err as Error).message}`);
  process.exit(1);
}

console.log(`sqllogictest: ${files.length} file(s) from ${corpus.dir}, target ${target}${target === "postgres" ? "" : ` (warren: ${opts.warren})`}, ${jobs} at a time`);
let reports;
try {
  reports = await runCorpus({
    files,
    postgres,
    warren,
    jobs,
    stopOnFirstFailure: opts["stop-on-first-failure"],
    recordsMax,
    onFailure: opts.verbose ? (f, t) => console.log(formatFailure(f, t, corpus.dir)) : undefined,
    onFileDone: (r) => console.log(formatFileReport(r, corpus.dir)),
  });
} finally {
  await Promise.all([postgres?.close(), warren?.close()]);
}
console.log(formatSummary(reports, Number(opts.causes)));
// The exit status answers "did the target under test pass everything it is counted on": Warren
// when it ran (records PostgreSQL fails are already excluded), else PostgreSQL.
const judged = reports.map((r) => (warren ? r.warren : r.postgres));
const allPassed = judged.every((x) => x !== undefined && !x.abortedBy && x.failedLines.length === 0);
process.exit(allPassed ? 0 : 1);
