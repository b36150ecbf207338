// npm run bench — one command that starts its own local stack (and, for sections that compare,
// its own PostgreSQL 15), runs the benchmark sections, writes their JSON under bench/results/ and
// renders bench/REPORT.md with SVG charts under bench/charts/. It leaves no process behind.
//
//   npm run bench                      every section at full length
//   npm run bench -- --short           a smoke run of about a minute (what CI runs)
//   npm run bench -- --sections noisy-neighbour
//   npm run bench -- --short --sections cold-start --beyond-budget 40   (memory as tenants come and go)
//   npm run bench -- --only "200 concurrent /sql requests;500 logged-in WebSockets"   (those aggressors, no saturation)
//
// Sections: per-query (scripts/bench/per-query.ts), cold-start (scripts/bench/cold-start.ts),
// noisy-neighbour (scripts/bench/noisy-neighbour.ts), pgbench (scripts/bench/pgbench-tpcb.ts:
// TPC-B-like at scale 10, 16 clients, next to PostgreSQL 15 in the same run). The storage and SQL micro-benchmarks
// stay separate commands for now (`npm run bench:storage`, `npm run bench:sql`).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startStack } from "../../test/harness/stack.ts";
import { noisyReport, runNoisyNeighbour } from "./noisy-neighbour.ts";
import { perQueryReport, runPerQuery } from "./per-query.ts";
import { coldReport, runColdStart } from "./cold-start.ts";
import { writeReport, type SectionReport } from "./report.ts";
import { pgbenchReport, runPgbench } from "./pgbench-tpcb.ts";
import { postgresAvailable, startPostgres, type PostgresServer } from "../../test/harness/postgres.ts";

const { values: opts } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    sections: { type: "string", default: "per-query,cold-start,noisy-neighbour,pgbench" },
    // cold-start: tenants created past the isolate budget (default 4 short, 16 full).
    "beyond-budget": { type: "string" },
    // Only these noisy-neighbour aggressors (names as printed, separated by ";"), e.g. while working on one.
    only: { type: "string" },
    out: { type: "string", default: path.resolve(import.meta.dirname, "..", "..", "bench") },
  },
});
const sections = new Set(opts.sections.split(",").map((s) => s.trim()));
const known = new Set(["per-query", "cold-start", "noisy-neighbour", "pgbench"]);
for (const s of sections) if (!known.has(s)) throw new Error(`unknown section ${JSON.stringify(s)}; known: ${[...known].join(", ")}`);

const short = opts.short;
/** Storage limits of the pgbench section's stack: no per-tenant or node RU rate limit (see there). */
const PGBENCH_STORAGE_LIMITS = JSON.stringify({ tenantRuPerSecond: 1e9, tenantBurstRu: 1e9, nodeRuPerSecond: 1e9 });
// The product default statement_timeout is 30 s; the short run shortens it so each unbounded
// aggressor costs seconds, not half a minute.
const statementTimeoutMs = short && sections.has("noisy-neighbour") ? 3_000 : 30_000;
const resultsDir = path.join(opts.out, "results");
fs.mkdirSync(resultsDir, { recursive: true });

const log = (line: string) => console.log(line);
const started = Date.now();
// The product default isolate budget (64) at full length; the short run uses 8 so that a few tenants
// already go past it (cold-start's evicted tenants); noisy-neighbour's short run uses fewer tenants.
const isolatesMax = short ? 8 : 64;
const stack = await startStack({ env: { STATEMENT_TIMEOUT_MS: String(statementTimeoutMs), GATEWAY_ISOLATES_MAX: String(isolatesMax) } });
const reports: SectionReport[] = [];
try {
  log(`bench: stack ready in ${(stack.readyMs / 1000).toFixed(1)} s (${short ? "short run" : "full run"})`);
  if (sections.has("per-query")) {
    log("per-query:");
    const r = await runPerQuery(stack, short ? { iterations: 100, warmup: 20 } : { iterations: 1_000, warmup: 100 }, log);
    fs.writeFileSync(path.join(resultsDir, "per-query.json"), JSON.stringify(r, null, 2));
    reports.push(perQueryReport(r));
  }
  if (sections.has("cold-start")) {
    log("cold-start:");
    const r = await runColdStart(stack, { isolatesMax, beyondBudget: opts["beyond-budget"] !== undefined ? Number(opts["beyond-budget"]) : short ? 4 : 16, v8Samples: short ? 3 : 10 }, log);
    fs.writeFileSync(path.join(resultsDir, "cold-start.json"), JSON.stringify(r, null, 2));
    reports.push(coldReport(r));
  }
  if (sections.has("noisy-neighbour")) {
    log("noisy-neighbour:");
    const only = opts.only === undefined ? undefined : { only: opts.only.split(";").map((s) => s.trim()), saturation: [] };
    const r = await runNoisyNeighbour(
      stack,
      only !== undefined
        ? { windowMs: short ? 3_000 : 10_000, statementTimeoutMs, ...only }
        : short
        ? { windowMs: 3_000, statementTimeoutMs, saturation: [1, 4], only: ["backtracking regex", "count(*) over 1e10 rows", "200 concurrent /sql requests"] }
        : { windowMs: 10_000, statementTimeoutMs, saturation: [1, 4, 16] },
      log,
    );
    fs.writeFileSync(path.join(resultsDir, "noisy-neighbour.json"), JSON.stringify(r, null, 2));
    reports.push(noisyReport(r));
  }
  if (sections.has("pgbench")) {
    log("pgbench:");
    // PostgreSQL 15 in the same run, serializable like Warren.
    let pgServer: PostgresServer | null = null;
    if (postgresAvailable()) pgServer = await startPostgres({ settings: { default_transaction_isolation: "serializable", max_connections: "100" } });
    // Its own stack, with the storage node's per-tenant rate limit lifted: at the product default
    // (8,000 RU/s a tenant, storage-node/limits.ts) loading scale 10 (~1.1 M write RU, and as much
    // again for ADD PRIMARY KEY) would wait ~4 minutes for tokens alone, which measures the
    // limit, not the engine. The other sections keep the default (noisy-neighbour depends on it).
    const pgStack = await startStack({ env: { STATEMENT_TIMEOUT_MS: String(statementTimeoutMs), GATEWAY_ISOLATES_MAX: String(isolatesMax), WARREN_STORAGE_LIMITS: PGBENCH_STORAGE_LIMITS } });
    try {
      const r = await runPgbench(pgStack, pgServer, short ? { scale: 1, clients: 4, jobs: 2, seconds: 5, maxTries: 10 } : { scale: 10, clients: 16, jobs: 2, seconds: 60, maxTries: 10 }, log);
      fs.writeFileSync(path.join(resultsDir, "pgbench.json"), JSON.stringify(r, null, 2));
      reports.push(pgbenchReport(r));
    } finally {
      await pgStack.stop();
      await pgServer?.stop();
    }
  }
} finally {
  await stack.stop();
}
const header = [
  "# Warren benchmark report",
  "",
  `Produced by \`npm run bench${short ? " -- --short" : ""}\` on ${new Date(started).toISOString().slice(0, 10)}, ` +
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}. ` +
    "Every ratio compares figures measured in the same run on the same machine.",
].join("\n");
const file = writeReport(opts.out, header, reports);
log(`bench: wrote ${path.relative(process.cwd(), file)} and ${path.relative(process.cwd(), resultsDir)}/ in ${((Date.now() - started) / 1000).toFixed(0)} s`);
