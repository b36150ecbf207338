// bench:sql — Warren against PostgreSQL 15 on the same machine, in the same run.
//
//   npm run bench:sql -- [--seconds 3] [--clients 8] [--target both|warren|postgres] [--rows 10000]
//                        [--warren-via http|pg] [--postgres-url URL]
//
// Workloads (parameterized statements, random keys): point select by primary key, point insert,
// 100-row range scan by primary key, a two-table join (10 orders by primary-key range, each joined
// to its customer), and a group-by over 1000 orders. Each runs twice per target:
//   - sequential: one client issuing one statement at a time, for --seconds;
//   - concurrent: --clients clients doing the same at once, for --seconds.
// Client style, stated because it shapes the numbers: a "client" is one pg connection to
// PostgreSQL (kept open, extended protocol), and one sequential requester of Warren's HTTP API
// (POST /sql in Neon's format, keep-alive fetch), which is how serverless clients reach Warren.
// With --warren-via pg, a Warren client is a pg connection through the tunnel instead (the same
// driver and protocol as the PostgreSQL side; the tunnel adds a WebSocket hop).
// PostgreSQL runs with default settings (fsync on). Latencies are per statement, client side.
import { parseArgs } from "node:util";
import pg from "pg";
import { postgresAvailable, startPostgres, type PostgresServer } from "../test/harness/postgres.ts";
import { SqlError } from "./slt/target.ts";
import {
  acquireWarrenStack, createTenant, scratchTenantName, tenantClient, tenantPgUrl, warrenStackUnavailableReason,
  type WarrenStack,
} from "./slt/warren-stack.ts";

type Params = Array<string | number | null>;

interface BenchDb {
  query(sql: string, params?: Params): Promise<number>; // returns the row count
  close(): Promise<void>;
}

interface Target {
  name: string;
  connect(): Promise<BenchDb>;
  close(): Promise<void>;
}

const { values: opts } = parseArgs({
  options: {
    seconds: { type: "string", default: "3" },
    clients: { type: "string", default: "8" },
    target: { type: "string", default: "both" },
    rows: { type: "string", default: "10000" },
    "postgres-url": { type: "string" },
    "warren-via": { type: "string", default: "http" },
  },
});
const seconds = Number(opts.seconds);
const clients = Number(opts.clients);
const rows = Number(opts.rows);
if (!(seconds > 0 && seconds <= 600)) throw new Error("--seconds must be in (0, 600]");
if (!(Number.isInteger(clients) && clients >= 1 && clients <= 64)) throw new Error("--clients must be 1..64");
if (!(Number.isInteger(rows) && rows >= 1000 && rows <= 1_000_000)) throw new Error("--rows must be 1000..1000000");
if (opts["warren-via"] !== "http" && opts["warren-via"] !== "pg") throw new Error("--warren-via must be http or pg");
const customers = Math.max(10, Math.floor(rows / 10));

// ---- targets ---------------------------------------------------------------------------------

const textTypes = { getTypeParser: () => (v: string) => v };

async function pgBenchDb(url: string): Promise<BenchDb> {
  const c = new pg.Client({ connectionString: url, types: textTypes });
  c.on("error", () => {});
  await c.connect();
  return {
    async query(sql, params) {
      try {
        return (await c.query({ text: sql, values: params ?? [], rowMode: "array" })).rows.length;
      } catch (err) {
        const e = err as { code?: string; message?: string };
        throw e.code ? new SqlError(e.code, e.message ?? "") : err;
      }
    },
    close: async () => await c.end(),
  };
}

async function postgresTarget(): Promise<Target> {
  let server: PostgresServer | undefined;
  let url = opts["postgres-url"];
  if (!url) {
    server = await startPostgres();
    url = server.url;
  }
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query("CREATE DATABASE bench");
  await admin.end();
  const dbUrl = new URL(url);
  dbUrl.pathname = "/bench";
  return {
    name: "PostgreSQL 15",
    connect: () => pgBenchDb(dbUrl.toString()),
    async close() {
      if (server) await server.stop();
      else {
        const c = new pg.Client({ connectionString: url });
        await c.connect();
        await c.query("DROP DATABASE IF EXISTS bench WITH (FORCE)");
        await c.end();
      }
    },
  };
}

async function warrenTarget(): Promise<Target> {
  const stack: WarrenStack = await acquireWarrenStack();
  try {
    const tenant = await createTenant(stack, scratchTenantName("bench"));
    const viaPg = opts["warren-via"] === "pg";
    const pgUrl = viaPg ? tenantPgUrl(stack, tenant) : "";
    return {
      name: "Warren",
      async connect() {
        if (viaPg) return await pgBenchDb(pgUrl);
        const http = tenantClient(stack, tenant, 60_000);
        return {
          query: async (sql, params) => (await http.query(sql, params ?? [])).rows.length,
          close: async () => {},
        };
      },
      close: async () => await stack.stop(),
    };
  } catch (err) {
    await stack.stop();
    throw err;
  }
}

// ---- schema and workloads ----------------------------------------------------------------------

async function load(db: BenchDb): Promise<void> {
  await db.query("CREATE TABLE kv (id INT PRIMARY KEY, v INT NOT NULL, s TEXT NOT NULL)");
  await db.query("CREATE TABLE ins (id INT PRIMARY KEY, v INT NOT NULL, s TEXT NOT NULL)");
  await db.query("CREATE TABLE customers (id INT PRIMARY KEY, name TEXT NOT NULL, region INT NOT NULL)");
  await db.query("CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, status INT NOT NULL, amount INT NOT NULL)");
  // 500 rows per statement keeps each request far below the HTTP API's 1 MB body limit.
  const chunk = 500;
  for (let i = 1; i <= rows; i += chunk) {
    const kv: string[] = [];
    const orders: string[] = [];
    for (let j = i; j < Math.min(i + chunk, rows + 1); j++) {
      kv.push(`(${j}, ${(j * 7919) % 10007}, 'value-${j}')`);
      orders.push(`(${j}, ${1 + (j % customers)}, ${j % 10}, ${(j * 31) % 1000})`);
    }
    await db.query(`INSERT INTO kv (id, v, s) VALUES ${kv.join(", ")}`);
    await db.query(`INSERT INTO orders (id, customer_id, status, amount) VALUES ${orders.join(", ")}`);
  }
  for (let i = 1; i <= customers; i += chunk) {
    const cs: string[] = [];
    for (let j = i; j < Math.min(i + chunk, customers + 1); j++) cs.push(`(${j}, 'customer-${j}', ${j % 7})`);
    await db.query(`INSERT INTO customers (id, name, region) VALUES ${cs.join(", ")}`);
  }
}

const rand = (n: number): number => 1 + Math.floor(Math.random() * n);
let insertSeq = 0;

interface Workload {
  name: string;
  /** Rows each execution must return (checked once per phase: a wrong answer is not a result). */
  rowsExpected: number;
  next(): { sql: string; params: Params };
}

const workloads: Workload[] = [
  {
    name: "point select",
    rowsExpected: 1,
    next: () => ({ sql: "SELECT id, v, s FROM kv WHERE id = $1", params: [rand(rows)] }),
  },
  {
    name: "point insert",
    rowsExpected: 0,
    next: () => {
      const id = ++insertSeq;
      return { sql: "INSERT INTO ins (id, v, s) VALUES ($1, $2, $3)", params: [id, id % 1000, `row-${id}`] };
    },
  },
  {
    name: "range scan 100",
    rowsExpected: 100,
    next: () => {
      const lo = rand(rows - 100);
      return { sql: "SELECT id, v FROM kv WHERE id >= $1 AND id < $2 ORDER BY id", params: [lo, lo + 100] };
    },
  },
  {
    name: "join 10×1",
    rowsExpected: 10,
    next: () => {
      const lo = rand(rows - 10);
      return {
        sql: "SELECT o.id, o.amount, c.name FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.id >= $1 AND o.id < $2",
        params: [lo, lo + 10],
      };
    },
  },
  {
    name: "group-by 1000",
    rowsExpected: 10,
    next: () => {
      const lo = rand(rows - 1000);
      return {
        sql: "SELECT status, count(*), sum(amount) FROM orders WHERE id >= $1 AND id < $2 GROUP BY status",
        params: [lo, lo + 1000],
      };
    },
  },
];

interface PhaseResult {
  ops: number;
  errors: number;
  firstError?: string;
  p50Ms: number;
  p99Ms: number;
  opsPerSec: number;
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function phase(target: Target, w: Workload, nClients: number, durationMs: number): Promise<PhaseResult> {
  const dbs = await Promise.all(Array.from({ length: nClients }, () => target.connect()));
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  // Warm-up: each client runs a few statements first (connections, caches, JIT), and the answer
  // is checked once.
  for (const db of dbs) {
    for (let i = 0; i < 5; i++) {
      const q = w.next();
      const n = await db.query(q.sql, q.params);
      if (n !== w.rowsExpected) throw new Error(`${target.name} ${w.name}: ${n} rows instead of ${w.rowsExpected}`);
    }
  }
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    dbs.map(async (db) => {
      while (performance.now() < deadline) {
        const q = w.next();
        const t0 = performance.now();
        try {
          await db.query(q.sql, q.params);
          latencies.push(performance.now() - t0);
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await Promise.all(dbs.map((db) => db.close()));
  latencies.sort((a, b) => a - b);
  return { ops: latencies.length, errors, firstError, p50Ms: pct(latencies, 50), p99Ms: pct(latencies, 99), opsPerSec: latencies.length / elapsed };
}

// ---- main -----------------------------------------------------------------------------------

const targets: Target[] = [];
const notes: string[] = [];
const want = opts.target;
if (!["both", "warren", "postgres"].includes(want)) throw new Error("--target must be both, warren or postgres");
try {
  if (want !== "warren") {
    if (opts["postgres-url"] || postgresAvailable()) targets.push(await postgresTarget());
    else notes.push("PostgreSQL 15 is not installed: no baseline (install postgresql-15 or pass --postgres-url)");
  }
  if (want !== "postgres") {
    const reason = warrenStackUnavailableReason();
    if (reason) notes.push(`Warren not measured: ${reason}`);
    else {
      try {
        targets.push(await warrenTarget());
      } catch (err) {
        notes.push(`Warren not measured: ${(err as Error).message}`);
      }
    }
  }
  for (const n of notes) console.log(`note: ${n}`);
  if (targets.length === 0) process.exit(1);

  console.log(`bench:sql — ${rows} rows in kv and orders, ${customers} customers; ${seconds} s per phase; concurrent = ${clients} clients`);
  console.log(`  clients: PostgreSQL = pg connection each; Warren = ${opts["warren-via"] === "pg" ? "pg connection each through the tunnel" : "sequential HTTP POST /sql requester each"}`);
  const usable: Target[] = [];
  for (const t of targets) {
    const t0 = performance.now();
    const db = await t.connect();
    try {
      await load(db);
      usable.push(t);
      console.log(`  loaded ${t.name} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      console.log(`  ${t.name}: loading failed, not measured: ${(err as Error).message}`);
    } finally {
      await db.close();
    }
  }

  type Row = { workload: string; mode: string; results: Map<string, PhaseResult | string> };
  const table: Row[] = [];
  for (const w of workloads) {
    for (const [mode, n] of [["1 client", 1], [`${clients} clients`, clients]] as const) {
      const row: Row = { workload: w.name, mode, results: new Map() };
      for (const t of usable) {
        try {
          row.results.set(t.name, await phase(t, w, n, seconds * 1000));
        } catch (err) {
          row.results.set(t.name, `failed: ${(err as Error).message.slice(0, 60)}`);
        }
      }
      table.push(row);
    }
  }

  // ---- report ----
  const f = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : "-");
  const cell = (r: PhaseResult | string | undefined): string => {
    if (r === undefined) return "-".padEnd(30);
    if (typeof r === "string") return r.slice(0, 30).padEnd(30);
    return `${f(r.p50Ms).padStart(7)} ${f(r.p99Ms).padStart(8)} ${f(r.opsPerSec, 0).padStart(8)}${r.errors ? ` E${r.errors}` : ""}`.padEnd(30);
  };
  const names = usable.map((t) => t.name);
  console.log("");
  console.log(`${"workload".padEnd(16)} ${"mode".padEnd(11)} ${names.map((n) => `${n}: p50ms    p99ms    ops/s`.padStart(30)).join(" | ")}${names.length === 2 ? " | Warren/PG: p50 ×   ops/s ×" : ""}`);
  for (const row of table) {
    let line = `${row.workload.padEnd(16)} ${row.mode.padEnd(11)} ${names.map((n) => cell(row.results.get(n))).join(" | ")}`;
    const pgR = row.results.get("PostgreSQL 15");
    const wR = row.results.get("Warren");
    if (typeof pgR === "object" && typeof wR === "object") {
      line += ` | ${f(wR.p50Ms / pgR.p50Ms, 1).padStart(12)} ${f(wR.opsPerSec / pgR.opsPerSec, 3).padStart(9)}`;
    }
    console.log(line);
  }
  for (const row of table) {
    for (const [n, r] of row.results) {
      if (typeof r === "object" && r.firstError) console.log(`  ${n} ${row.workload} ${row.mode}: ${r.errors} errors, first: ${r.firstError}`);
    }
  }
} finally {
  await Promise.all(targets.map((t) => t.close().catch(() => {})));
}
