// npm run bench — one command that starts its own local stacks, storage nodes and PostgreSQL 15,
// runs the benchmark sections, writes their JSON under bench/results/ and renders bench/REPORT.md
// with SVG charts under bench/charts/ (scripts/bench/report.ts: plain SVG, no library). It leaves no
// process behind: every stack is stopped in a `finally`, and the standalone scripts run as child
// process groups that are killed if they outlive their time (scripts/bench/child.ts).
//
//   npm run bench                      every section at full length (the figures of record)
//   npm run bench -- --short           every section at smoke length (a few minutes)
//   npm run bench -- --short --sections per-query,storage,density   (what .ci/run runs: about a minute)
//   npm run bench -- --sections noisy-neighbour
//   npm run bench -- --short --sections cold-start --beyond-budget 40   (memory as tenants come and go)
//   npm run bench -- --only "200 concurrent /sql requests;500 logged-in WebSockets"   (those aggressors, no saturation)
//   npm run bench -- --density-tenants 1000   (the density section's tenant count; 10,000 at full length)
//   npm run bench -- --short --sections pgbench --pgbench-scale 1 --pgbench-clients 4 --pgbench-seconds 20
//   npm run bench -- --out DIR          write REPORT.md, charts/ and results/ under DIR instead of bench/
//
// Sections, in the report's order (a comparison table built from them comes first):
//   per-query        point select over HTTP, WebSocket and tunnel, split by hop, the floor beside (per-query.ts)
//   fast-path        the KV stream before/after and PostgreSQL, `pgbench -S -c 4` (bench:fast-path, fast-path.ts)
//   pgbench          select-only at 1/4/16 clients and TPC-B-like, scale 10, against PostgreSQL 15 (pgbench-tpcb.ts)
//   storage          the storage node over HTTP and the KV stream against raw LMDB (bench:storage, storage.ts)
//   cold-start       new and evicted tenants' first query, memory, V8's share (cold-start.ts)
//   tenants          resume and create → first query, with and without the warm pool (bench:tenants, tenants.ts)
//   density          10,000 tenants then 100 active, memory per process, bytes per tenant (density.ts)
//   noisy-neighbour  a victim beside each aggressor of the isolation issue and 1/4/16 saturating tenants (noisy-neighbour.ts)
//   fleet            leaseholder SIGKILLs under the bank workload (bench:fleet, fleet.ts)
//   moves            tenant moves between shards under writes: the write pause (bench:moves, moves.ts)
// The data-scale section of the issue (10 M rows) is not built yet.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { startStack, type Stack } from "../../test/harness/stack.ts";
import { noisyReport, runNoisyNeighbour } from "./noisy-neighbour.ts";
import { perQueryReport, runPerQuery } from "./per-query.ts";
import { coldReport, runColdStart } from "./cold-start.ts";
import { writeReport, type SectionReport } from "./report.ts";
import { pgbenchReport, runPgbench } from "./pgbench-tpcb.ts";
import { postgresAvailable, startPostgres, type PostgresServer } from "../../test/harness/postgres.ts";
import { runStorage, storageReport } from "./storage.ts";
import { fastPathReport, runFastPath } from "./fast-path.ts";
import { runTenants, tenantsReport } from "./tenants.ts";
import { fleetReport, runFleet } from "./fleet.ts";
import { movesReport, runMoves } from "./moves.ts";
import { densityReport, runDensity } from "./density.ts";
import { comparisonReport, type AllResults } from "./comparison.ts";

const ALL = ["per-query", "fast-path", "pgbench", "storage", "cold-start", "tenants", "density", "noisy-neighbour", "fleet", "moves"] as const;
type Section = (typeof ALL)[number];

const { values: opts } = parseArgs({
  options: {
    short: { type: "boolean", default: false },
    sections: { type: "string", default: ALL.join(",") },
    // cold-start: tenants created past the isolate budget (default 4 short, 16 full).
    "beyond-budget": { type: "string" },
    // Only these noisy-neighbour aggressors (names as printed, separated by ";"), e.g. while working on one.
    only: { type: "string" },
    // density: tenants created (default 24 short, 10,000 full, the issue's figure).
    "density-tenants": { type: "string" },
    // pgbench: TPC-B at another scale / client count / length than the run's default (e.g. scale 1, 4 clients, 20 s).
    "pgbench-scale": { type: "string" },
    "pgbench-clients": { type: "string" },
    "pgbench-seconds": { type: "string" },
    out: { type: "string", default: path.resolve(import.meta.dirname, "..", "..", "bench") },
  },
});
const sections = new Set(opts.sections.split(",").map((s) => s.trim()).filter((s) => s !== ""));
for (const s of sections) if (!(ALL as readonly string[]).includes(s)) throw new Error(`unknown section ${JSON.stringify(s)}; known: ${ALL.join(", ")}`);
const has = (s: Section) => sections.has(s);

const short = opts.short;
/** Storage limits of the pgbench section's stack: no per-tenant or node RU rate limit (see there). */
const PGBENCH_STORAGE_LIMITS = JSON.stringify({ tenantRuPerSecond: 1e9, tenantBurstRu: 1e9, nodeRuPerSecond: 1e9 });
// The product default statement_timeout is 30 s; the short run shortens it so each unbounded
// aggressor costs seconds, not half a minute.
const statementTimeoutMs = short && has("noisy-neighbour") ? 3_000 : 30_000;
const resultsDir = path.join(opts.out, "results");
fs.mkdirSync(resultsDir, { recursive: true });

// A loaded machine starts a stack slowly (wrangler dev alone took over a minute at load 20): every
// stack of this run, including those of the child scripts, gets three minutes to be ready.
process.env.WARREN_READY_TIMEOUT_MS ??= "180000";
const started = Date.now();
const log = (line: string) => console.log(line);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
const save = (name: string, value: unknown) => fs.writeFileSync(path.join(resultsDir, `${name}.json`), JSON.stringify(value, null, 2));
// The product default isolate budget (64) at full length; the short run uses 8 so that a few tenants
// already go past it (cold-start's evicted tenants); noisy-neighbour's short run uses fewer tenants.
const isolatesMax = short ? 8 : 64;
const reports = new Map<Section, SectionReport>();
const all: AllResults = {};

/**
 * Runs one section; if it throws, the report says so in its place and the run goes on with the
 * next (a stack that did not start on a loaded machine must not cost the whole report).
 */
async function section(name: Section, run: () => Promise<void>): Promise<void> {
  if (!has(name)) return;
  log(`${name} (${elapsed()}):`);
  try {
    await run();
  } catch (err) {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`  ${name} FAILED: ${text.split("\n").slice(0, 12).join("\n  ")}`);
    reports.set(name, { name, markdown: [`## ${name}`, "", "This section failed in this run:", "", "```", text.split("\n").slice(0, 20).join("\n"), "```"].join("\n"), charts: [] });
    failures.push(name);
  }
}
const failures: Section[] = [];

// Sections that share one stack: per-query, cold-start, noisy-neighbour.
if (has("per-query") || has("cold-start") || has("noisy-neighbour")) {
  let stack: Stack | null = null;
  try {
    stack = await startStack({ env: { STATEMENT_TIMEOUT_MS: String(statementTimeoutMs), GATEWAY_ISOLATES_MAX: String(isolatesMax) } });
    log(`bench: stack ready in ${(stack.readyMs / 1000).toFixed(1)} s (${short ? "short run" : "full run"})`);
  } catch (err) {
    stack = null;
    for (const name of ["per-query", "cold-start", "noisy-neighbour"] as const) await section(name, () => Promise.reject(err));
  }
  if (stack !== null) {
    const s = stack;
    try {
      await section("per-query", async () => {
        // PostgreSQL 15 beside it, same client loop, same run.
        const pgServer = postgresAvailable() ? await startPostgres() : null;
        let r: Awaited<ReturnType<typeof runPerQuery>>;
        try {
          r = await runPerQuery(s, short ? { iterations: 100, warmup: 20 } : { iterations: 1_000, warmup: 100 }, log, pgServer?.url);
        } finally {
          await pgServer?.stop();
        }
        save("per-query", r);
        all.perQuery = r;
        reports.set("per-query", perQueryReport(r));
      });
      await section("cold-start", async () => {
        const r = await runColdStart(s, { isolatesMax, beyondBudget: opts["beyond-budget"] !== undefined ? Number(opts["beyond-budget"]) : short ? 4 : 16, v8Samples: short ? 3 : 10 }, log);
        save("cold-start", r);
        all.cold = r;
        reports.set("cold-start", coldReport(r));
      });
      await section("noisy-neighbour", async () => {
        const only = opts.only === undefined ? undefined : { only: opts.only.split(";").map((x) => x.trim()), saturation: [] };
        const r = await runNoisyNeighbour(
          s,
          only !== undefined
            ? { windowMs: short ? 3_000 : 10_000, statementTimeoutMs, ...only }
            : short
              ? { windowMs: 3_000, statementTimeoutMs, saturation: [1, 4], only: ["backtracking regex", "count(*) over 1e10 rows", "200 concurrent /sql requests"] }
              : { windowMs: 10_000, statementTimeoutMs, saturation: [1, 4, 16] },
          log,
        );
        save("noisy-neighbour", r);
        all.noisy = r;
        reports.set("noisy-neighbour", noisyReport(r));
      });
    } finally {
      await s.stop();
    }
  }
}
await section("storage", async () => {
  const r = await runStorage(resultsDir, short, log);
  save("storage", r);
  all.storage = r;
  reports.set("storage", storageReport(r));
  if (r.failure !== undefined) failures.push("storage");
});
await section("density", async () => {
  const tenants = opts["density-tenants"] !== undefined ? Number(opts["density-tenants"]) : short ? 24 : 10_000;
  if (!Number.isInteger(tenants) || tenants < 1) throw new Error("--density-tenants must be a positive integer");
  const r = await runDensity(
    short
      ? { tenants, active: 8, passes: 2, baselineRequests: 40, concurrency: 4, isolatesMax: 4 }
      : { tenants, active: 100, passes: 5, baselineRequests: 500, concurrency: 4 },
    log,
  );
  save("density", r);
  all.density = r;
  reports.set("density", densityReport(r));
});
await section("pgbench", async () => {
  // PostgreSQL 15 in the same run, serializable like Warren.
  let pgServer: PostgresServer | null = null;
  if (postgresAvailable()) pgServer = await startPostgres({ settings: { default_transaction_isolation: "serializable", max_connections: "100" } });
  // Its own stack, with the storage node's per-tenant rate limit lifted: at the product default
  // (8,000 RU/s a tenant, storage-node/limits.ts) loading scale 10 (~1.1 M write RU, and as much
  // again for ADD PRIMARY KEY) would wait ~4 minutes for tokens alone, which measures the
  // limit, not the engine. The other sections keep the default (noisy-neighbour depends on it).
  try {
    const pgStack = await startStack({ env: { STATEMENT_TIMEOUT_MS: String(statementTimeoutMs), GATEWAY_ISOLATES_MAX: String(isolatesMax), WARREN_STORAGE_LIMITS: PGBENCH_STORAGE_LIMITS } });
    try {
      const r = await runPgbench(
        pgStack,
        pgServer,
        {
          ...(short
            ? { scale: 1, selectClients: [4], selectSeconds: 3, clients: 4, jobs: 2, seconds: 5, maxTries: 10 }
            : { scale: 10, selectClients: [1, 4, 16], selectSeconds: 20, clients: 16, jobs: 2, seconds: 60, maxTries: 10 }),
          ...(opts["pgbench-scale"] === undefined ? {} : { scale: Number(opts["pgbench-scale"]) }),
          ...(opts["pgbench-clients"] === undefined ? {} : { clients: Number(opts["pgbench-clients"]) }),
          ...(opts["pgbench-seconds"] === undefined ? {} : { seconds: Number(opts["pgbench-seconds"]) }),
        },
        log,
      );
      save("pgbench", r);
      all.pgbench = r;
      reports.set("pgbench", pgbenchReport(r));
    } finally {
      await pgStack.stop();
    }
  } finally {
    await pgServer?.stop();
  }
});
await section("fast-path", async () => {
  const r = await runFastPath(resultsDir, short, log);
  save("fast-path", r);
  all.fastPath = r;
  reports.set("fast-path", fastPathReport(r));
  if (r.failure !== undefined) failures.push("fast-path");
});
await section("tenants", async () => {
  const r = await runTenants(short, log);
  save("tenants", r);
  all.tenants = r;
  reports.set("tenants", tenantsReport(r));
  if (r.failure !== undefined) failures.push("tenants");
});
await section("fleet", async () => {
  const r = await runFleet(short, log);
  save("fleet", r);
  reports.set("fleet", fleetReport(r));
  if (r.failure !== undefined) failures.push("fleet");
});
await section("moves", async () => {
  const r = await runMoves(short, log);
  save("moves", r);
  reports.set("moves", movesReport(r));
  if (r.failure !== undefined) failures.push("moves");
});

const notRun = ALL.filter((s) => !has(s));
const header = [
  "# Warren benchmark report",
  "",
  `Produced by \`npm run bench${process.argv.slice(2).length > 0 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}\` on ${new Date(started).toISOString().slice(0, 16).replace("T", " ")} UTC in ${elapsed()}, ` +
    `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown CPU"}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
    `load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(" ")}. ` +
    "Every ratio compares figures measured in the same run on the same machine; on a shared machine read the ratios, not the absolutes." +
    (short ? " **Short run**: smoke-test lengths, the figures are indicative only." : ""),
  ...(notRun.length > 0 ? ["", `Sections not run in this invocation: ${notRun.join(", ")}.`] : []),
].join("\n");
const ordered = [comparisonReport(all), ...ALL.flatMap((s) => (reports.has(s) ? [reports.get(s)!] : []))];
const file = writeReport(opts.out, header, ordered);
log(`bench: wrote ${path.relative(process.cwd(), file)} and ${path.relative(process.cwd(), resultsDir)}/ in ${elapsed()}`);
if (failures.length > 0) {
  log(`bench: ${failures.length} section(s) failed: ${failures.join(", ")}`);
  process.exitCode = 1;
}
