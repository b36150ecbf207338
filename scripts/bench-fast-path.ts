// `npm run bench:fast-path [-- --short] [--json FILE]`: the point-select path before and after the KV stream, with
// PostgreSQL 15 beside it, all in one run on one machine.
//
// Two stacks side by side (own data directories and ports), taking turns with PostgreSQL round by
// round so that load coming and going on a shared machine falls on all three: "before" runs the edge with
// STORAGE_TRANSPORT=http (every KV batch of a session is a fetch() to the storage node, as before the
// stream), "after" with the default (a Postgres session's batches go over one persistent KV stream,
// workers/edge/tenant-kv.ts). Each measures, on the demo tenant:
//   tunnel   empty query, `select 1`, point select and simple insert with `pg` through `warren tunnel`,
//            sequential (the first two stop before storage, so the differences split the time by hop);
//   HTTP     the same over POST /sql (keep-alive fetch; a single TenantKV call per batch either way);
//   pgbench  `pgbench -S -c 4 -j 2 -T S` through the tunnel (scale 1, loaded once).
// PostgreSQL 15 (a throwaway server on a free port) gets the same client loops and pgbench run.
// Also the CPU each process of a stack spent per query (Linux /proc: tunnel, wrangler's proxy, workerd,
// storage node), which a loaded machine distorts far less than latency.
// Prints p50/p99 and TPS with the ratios after/before and Warren/PostgreSQL, and writes the figures
// as JSON under bench/results/. The machine is shared: read ratios of the same run, not absolutes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { dataPaths } from "../cli/data-dir.ts";
import { mintTenantToken } from "../common/tenant-token.ts";
import { startPostgres, type PostgresServer } from "../test/harness/postgres.ts";
import { startStack, type Stack } from "../test/harness/stack.ts";
import { formatMs, summarize, type LatencySummary } from "../test/isolation/noisy-neighbour.ts";
import { pgbenchInit, pgbenchRun } from "./pgbench-runs.ts";

const short = process.argv.includes("--short");
function flag(name: string): number | undefined {
  const at = process.argv.indexOf(name);
  return at < 0 ? undefined : Number(process.argv[at + 1]);
}
/** Measured requests per loop in total, split over ROUNDS (`--iterations N`). */
const N = flag("--iterations") ?? (short ? 120 : 600);
const WARMUP = short ? 20 : 50;
/** Rounds: the targets take turns (order rotated each round), so load that comes and goes on a shared machine falls on all of them (`--rounds R`). */
const ROUNDS = flag("--rounds") ?? (short ? 2 : 5);
const PGBENCH_SECONDS_PER_ROUND = short ? 3 : 6;
const ROWS = 1000;

interface Figures {
  tunnelEmpty: LatencySummary;
  tunnelSelect1: LatencySummary;
  tunnelPoint: LatencySummary;
  tunnelInsert: LatencySummary;
  httpPoint: LatencySummary | null;
  httpInsert: LatencySummary | null;
  /** Median over rounds. */
  pgbenchS: number | null;
  pgbenchSRounds: Array<number | null>;
}

interface Target {
  name: "before" | "after" | "postgres";
  pg: string;
  /** HTTP POST /sql of the stack (null for PostgreSQL). */
  stack: Stack | null;
  client?: pg.Client;
  samples: Record<Loop, number[]>;
  /** CPU ms of the stack's processes spent during each loop (summed over rounds), by process. */
  cpu: Record<Loop, Record<Proc, number>>;
  errors: string[];
  tps: Array<number | null>;
  nextId: number;
}

type Proc = "workerd" | "storage node" | "wrangler" | "warren dev + tunnel" | "other";
const PROCS: readonly Proc[] = ["warren dev + tunnel", "wrangler", "workerd", "storage node", "other"];
const CLK_TCK = 100;

/** CPU milliseconds used so far by `root` and every process below it, by kind (Linux /proc). */
function cpuByProcess(root: number): Record<Proc, number> {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      parent.set(Number(name), Number(f[1]));
      ticks.set(Number(name), Number(f[11]) + Number(f[12]));
    } catch {
      // gone meanwhile
    }
  }
  const out: Record<Proc, number> = { "warren dev + tunnel": 0, wrangler: 0, workerd: 0, "storage node": 0, other: 0 };
  for (const [pid, t] of ticks) {
    let p: number | undefined = pid;
    while (p !== undefined && p !== root && p > 1) p = parent.get(p);
    if (p !== root) continue;
    let cmd = "";
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    const kind: Proc = pid === root ? "warren dev + tunnel" : cmd.includes("workerd") ? "workerd" : cmd.includes("storage-node") ? "storage node" : cmd.includes("wrangler") ? "wrangler" : "other";
    out[kind] += (t * 1000) / CLK_TCK;
  }
  return out;
}

type Loop = "tunnelEmpty" | "tunnelSelect1" | "tunnelPoint" | "tunnelInsert" | "httpPoint" | "httpInsert";
const LOOPS: readonly Loop[] = ["tunnelEmpty", "tunnelSelect1", "tunnelPoint", "tunnelInsert", "httpPoint", "httpInsert"];

async function timed(t: Target, into: number[], count: number, op: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i++) {
    const s = performance.now();
    try {
      await op();
      into.push(performance.now() - s);
    } catch (e) {
      t.errors.push(String(e));
    }
  }
}

async function postSql(s: Stack, query: string, params: unknown[] = []): Promise<void> {
  const res = await fetch(s.demo.http, {
    method: "POST",
    headers: { "content-type": "application/json", "neon-connection-string": s.demo.pg },
    body: JSON.stringify({ query, params }),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`POST /sql ${res.status}: ${body.slice(0, 200)}`);
}

let keyAt = 0;
const nextKey = () => (keyAt++ * 7919) % ROWS;

async function setup(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query("create table kv (id int primary key, v text)");
    await c.query(`insert into kv select g, repeat('v', 100) from generate_series(0, ${ROWS - 1}) g`);
    await c.query("create table ins (id int primary key, v text)");
  } finally {
    await c.end();
  }
  // The load is long statements (COPY of 100,000 rows, then the primary key): on a loaded machine they
  // outlast the stack's 30 s statement_timeout, so ask for the longest the server allows (as the
  // pgbench section of `npm run bench` does; Warren caps it at 5 minutes).
  const previous = process.env.PGOPTIONS;
  process.env.PGOPTIONS = "-c statement_timeout=0";
  const init = await pgbenchInit(url).finally(() => {
    if (previous === undefined) delete process.env.PGOPTIONS;
    else process.env.PGOPTIONS = previous;
  });
  if (!init.ok) throw new Error(`pgbench -i failed: ${init.out.trim().split("\n").slice(-3).join(" | ")}`);
  console.log(`  pgbench -i -s 1 on ${new URL(url).port} in ${(init.ms / 1000).toFixed(1)} s`);
}

/** One round of a target: its share of each loop, then a pgbench -S run. */
async function round(t: Target, count: number, warm: boolean): Promise<void> {
  const c = t.client!;
  const sink: number[] = [];
  const point = () => c.query("select v from kv where id = $1", [nextKey()]);
  const insert = () => c.query("insert into ins values ($1, 'x')", [t.nextId++]);
  const loop = async (name: Loop, op: () => Promise<unknown>) => {
    if (warm) await timed(t, sink, WARMUP, op);
    const before = t.stack === null ? null : cpuByProcess(t.stack.pid);
    await timed(t, t.samples[name], count, op);
    if (before !== null) {
      const after = cpuByProcess(t.stack!.pid);
      for (const p of PROCS) t.cpu[name][p] += after[p] - before[p];
    }
  };
  // Cheaper requests on the same path, which stop at earlier hops: an empty query (Sync →
  // ReadyForQuery through tunnel, edge and gateway) and `select 1` (parse, plan, execute; no storage).
  await loop("tunnelEmpty", () => c.query(""));
  await loop("tunnelSelect1", () => c.query("select 1"));
  await loop("tunnelPoint", point);
  await loop("tunnelInsert", insert);
  if (t.stack !== null) {
    const s = t.stack;
    await loop("httpPoint", () => postSql(s, "select v from kv where id = $1", [nextKey()]));
    await loop("httpInsert", () => postSql(s, "insert into ins values ($1, 'x')", [t.nextId++]));
  }
  const r = await pgbenchRun(t.pg, "select", PGBENCH_SECONDS_PER_ROUND);
  if (r.outcome !== "ok") console.log(`    ${t.name}: pgbench -S ${r.outcome}: ${r.out.trim().split("\n").slice(-3).join(" | ")}`);
  t.tps.push(r.tps);
}

/** How many KV requests the stack's storage node received in all, and how many of them on KV streams. */
async function transportCounts(s: Stack): Promise<{ requests: number; streamRequests: number; streamsOpened: number }> {
  const secret = fs.readFileSync(dataPaths(s.dataDir).fleetSecret, "utf8").trim();
  const token = await mintTenantToken(secret, { tenantId: 1, expiresAtMs: Date.now() + 60_000 });
  const res = await fetch(`http://127.0.0.1:${s.ports.storage}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  let requests = 0;
  for (const m of text.matchAll(/^warren_storage_requests_total\{tenant="\d+"\} (\d+)$/gm)) requests += Number(m[1]);
  const one = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  return { requests, streamRequests: one("warren_storage_kv_stream_requests_total"), streamsOpened: one("warren_storage_kv_streams_opened_total") };
}

function median(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.floor((v.length - 1) / 2)]!;
}

function figures(t: Target): Figures {
  const sum = (k: keyof Target["samples"]) => summarize(t.samples[k]);
  return {
    tunnelEmpty: sum("tunnelEmpty"),
    tunnelSelect1: sum("tunnelSelect1"),
    tunnelPoint: sum("tunnelPoint"),
    tunnelInsert: sum("tunnelInsert"),
    httpPoint: t.stack === null ? null : sum("httpPoint"),
    httpInsert: t.stack === null ? null : sum("httpInsert"),
    pgbenchS: median(t.tps),
    pgbenchSRounds: t.tps,
  };
}

const pad = (s: string, n: number) => s.padEnd(n);
const lat = (s: LatencySummary | null) => (s === null ? "–" : `${formatMs(s.p50)} / ${formatMs(s.p99)}`);
const ratio = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? "–" : `${(a / b).toFixed(2)}×`);

async function main(): Promise<void> {
  const dirs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), "warren-bench-fast-path-")));
  const stacks: Stack[] = [];
  let server: PostgresServer | undefined;
  const targets: Target[] = [];
  try {
    // "before": every KV batch is a fetch(); "after": a session's batches on one KV stream.
    const [before, after, pgServer] = await Promise.all([
      startStack({ dataDir: dirs[0]!, env: { STORAGE_TRANSPORT: "http" } }),
      startStack({ dataDir: dirs[1]!, env: { STORAGE_TRANSPORT: "stream" } }),
      startPostgres(),
    ]);
    stacks.push(before, after);
    server = pgServer;
    for (const [name, url, stack] of [["before", before.demo.pg, before], ["after", after.demo.pg, after], ["postgres", pgServer.url, null]] as const) {
      const zero = (): Record<Proc, number> => ({ "warren dev + tunnel": 0, wrangler: 0, workerd: 0, "storage node": 0, other: 0 });
      const cpu = { tunnelEmpty: zero(), tunnelSelect1: zero(), tunnelPoint: zero(), tunnelInsert: zero(), httpPoint: zero(), httpInsert: zero() };
      targets.push({ name, pg: url, stack, samples: { tunnelEmpty: [], tunnelSelect1: [], tunnelPoint: [], tunnelInsert: [], httpPoint: [], httpInsert: [] }, cpu, errors: [], tps: [], nextId: 0 });
    }
    console.log(`stacks and PostgreSQL 15 up; loading (kv ${ROWS} rows, pgbench -i -s 1) …`);
    for (const t of targets) {
      try {
        await setup(t.pg);
      } catch (err) {
        if (t.stack !== null) console.log(`${t.name} stack output (tail):\n${t.stack.output().slice(-4000)}`);
        throw err;
      }
    }
    for (const t of targets) {
      t.client = new pg.Client({ connectionString: t.pg });
      t.client.on("error", () => undefined);
      await t.client.connect();
    }
    for (let r = 0; r < ROUNDS; r++) {
      const order = [...targets.slice(r % 3), ...targets.slice(0, r % 3)];
      for (const t of order) await round(t, Math.ceil(N / ROUNDS), r === 0);
      console.log(`  round ${r + 1}/${ROUNDS}: pgbench -S ${targets.map((t) => `${t.name} ${t.tps.at(-1)?.toFixed(0) ?? "–"}`).join(", ")} TPS`);
    }
    const [fb, fa, fp] = targets.map(figures) as [Figures, Figures, Figures];
    const counts = { before: await transportCounts(before), after: await transportCounts(after) };
    for (const [name, c] of Object.entries(counts)) {
      console.log(`  ${name}: the storage node got ${c.requests} KV requests, ${c.streamRequests} of them on ${c.streamsOpened} KV streams`);
    }
    for (const t of targets) if (t.errors.length > 0) console.log(`  ${t.name}: ${t.errors.length} errors, first: ${t.errors[0]}`);
    const rows: Array<[string, LatencySummary | null, LatencySummary | null, LatencySummary | null]> = [
      ["tunnel empty query p50/p99", fb.tunnelEmpty, fa.tunnelEmpty, fp.tunnelEmpty],
      ["tunnel select 1 p50/p99", fb.tunnelSelect1, fa.tunnelSelect1, fp.tunnelSelect1],
      ["tunnel point select p50/p99", fb.tunnelPoint, fa.tunnelPoint, fp.tunnelPoint],
      ["tunnel insert p50/p99", fb.tunnelInsert, fa.tunnelInsert, fp.tunnelInsert],
      ["HTTP point select p50/p99", fb.httpPoint, fa.httpPoint, null],
      ["HTTP insert p50/p99", fb.httpInsert, fa.httpInsert, null],
    ];
    console.log("");
    console.log(`${pad("figure", 30)}${pad("before (http)", 22)}${pad("after (stream)", 22)}${pad("PostgreSQL 15", 22)}${pad("after/before", 14)}after/PG`);
    for (const [name, b, a, p] of rows) {
      console.log(`${pad(name, 30)}${pad(lat(b), 22)}${pad(lat(a), 22)}${pad(lat(p), 22)}${pad(ratio(a?.p50, b?.p50), 14)}${ratio(a?.p50, p?.p50)}`);
    }
    // CPU per request of each process of the stack (ms per query, this run's loops): what each hop costs
    // the machine, which the load of a shared machine distorts far less than latency.
    const cpuRows: Record<string, Record<string, Record<Proc, number>>> = {};
    console.log("");
    console.log(`CPU ms per query by process (${PROCS.join(" / ")}; total)`);
    for (const t of targets.slice(0, 2)) {
      cpuRows[t.name] = {};
      for (const name of LOOPS) {
        const n = t.samples[name].length;
        const per = Object.fromEntries(PROCS.map((p) => [p, t.cpu[name][p] / Math.max(1, n)])) as Record<Proc, number>;
        cpuRows[t.name]![name] = per;
        const total = PROCS.reduce((a, p) => a + per[p], 0);
        console.log(`  ${pad(`${t.name} ${name}`, 24)}${PROCS.map((p) => per[p].toFixed(2)).join(" / ")}; ${total.toFixed(2)}`);
      }
    }
    const tps = (x: number | null) => (x === null ? "–" : `${x.toFixed(0)} TPS`);
    console.log(
      `${pad("pgbench -S -c 4 -j 2 (median)", 30)}${pad(tps(fb.pgbenchS), 22)}${pad(tps(fa.pgbenchS), 22)}${pad(tps(fp.pgbenchS), 22)}${pad(ratio(fa.pgbenchS, fb.pgbenchS), 14)}${ratio(fa.pgbenchS, fp.pgbenchS)}`,
    );
    const out = path.join(import.meta.dirname, "..", "bench", "results");
    fs.mkdirSync(out, { recursive: true });
    // `--json FILE`: where `npm run bench` (scripts/bench/fast-path.ts) reads the figures from.
    const jsonAt = process.argv.indexOf("--json");
    const file = jsonAt >= 0 ? path.resolve(process.argv[jsonAt + 1]!) : path.join(out, `fast-path-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    const load = os.loadavg();
    fs.writeFileSync(file, JSON.stringify({ short, iterations: N, rounds: ROUNDS, pgbenchSecondsPerRound: PGBENCH_SECONDS_PER_ROUND, loadavg: load, transport: counts, cpuMsPerQuery: cpuRows, before: fb, after: fa, postgres: fp }, null, 2));
    console.log(`\nload average at the end ${load.map((x) => x.toFixed(1)).join(" ")}; figures in ${path.relative(process.cwd(), file)}`);
  } finally {
    for (const t of targets) await t.client?.end().catch(() => undefined);
    await Promise.all(stacks.map((s) => s.stop()));
    await server?.stop();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

await main();
