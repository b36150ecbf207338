// npm run bench:tenants — the cost of the tenant lifecycle on the local stack (issue 11,
// acceptance 1), over TRIES tries each (default 100, --tries N, --short = 10; half
// through each path):
//
//   warm         first query of a new connection to an active tenant with a warm gateway isolate
//                (the baseline, measured in the same run)
//   resume       first query of a new connection to a tenant suspended for idleness (its gateway
//                isolate released): router resume + a fresh gateway isolate + the query
//   create       POST /admin/tenants + the first query of a new connection to the new tenant
//   evicted      first query of a new connection to a tenant whose isolate was evicted past the
//                isolate budget (a stack of its own, measureEvicted)
//
// Each is measured for a Postgres wire connection through `warren tunnel` (pg: connect + query)
// and for POST /sql (one request carries connection and query), and split by hop (Hops: from the
// Server-Timing of the POST /sql tries; PgSplit: connect vs first query, client side). The idle
// time is set to IDLE_MS; a suspended tenant is confirmed through the admin API before each resume
// try. Goals: resume p50 < 50 ms (issue 11; CockroachDB Serverless publishes ~650 ms), create +
// first query p50 < 100 ms (issue 11) and ≤ 50 ms (issue 12), evicted → first query p50 ≤ 30 ms
// (issue 12). --pool-only skips the no-pool baseline stack; --evicted-only runs only the evicted one.
import { parseArgs } from "node:util";
import pg from "pg";
import { httpSql, startStack, type Stack, type TenantConnection } from "../test/harness/stack.ts";
import { parseServerTiming } from "../workers/edge/server-timing.ts";

const { values } = parseArgs({
  options: { tries: { type: "string" }, short: { type: "boolean", default: false }, "pool-only": { type: "boolean", default: false }, "evicted-only": { type: "boolean", default: false } },
});
// --short: the smoke run CI's bench step uses (10 tries each); the figures of record use the default 100.
const TRIES = Number(values.tries ?? (values.short ? "10" : "100"));
if (!Number.isInteger(TRIES) || TRIES < 1) throw new Error("--tries must be a positive integer");
const IDLE_MS = 300;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

/** The client's side of a Postgres wire try: connect (TCP, tunnel, WebSocket, startup, SCRAM, session) and the first query. */
interface PgSplit {
  connect: number[];
  query: number[];
}
const newPgSplit = (): PgSplit => ({ connect: [], query: [] });

async function pgFirstQuery(t: TenantConnection, split?: PgSplit): Promise<number> {
  const t0 = performance.now();
  const c = new pg.Client({ connectionString: t.pg });
  c.on("error", () => {});
  await c.connect();
  const connected = performance.now();
  await c.query("select 1");
  const ms = performance.now() - t0;
  split?.connect.push(connected - t0);
  split?.query.push(performance.now() - connected);
  await c.end();
  return ms;
}

/**
 * Hops of the POST /sql tries, from the Server-Timing the edge and gateway send (ms, one entry per
 * try): auth = the route (RouteCache, or a TenantRouter call: password check, resume), gateway =
 * the edge's call into the gateway, of which quota = the gateway's wait for a Request-Unit
 * admission and exec = the session's work; kv = exec's KV round trips (catalog load and the
 * query's reads through TenantKV to the storage node); engine = exec - kv (parse, plan, catalog
 * decoding, session set-up); enter = gateway - quota - exec: getting into the gateway (binding a
 * pooled isolate or starting one, and the loopback call); edge = the client's whole time minus
 * auth and gateway (HTTP to the edge, wrangler dev's proxy, body and response handling).
 */
type Hops = Record<"auth" | "gateway" | "quota" | "exec" | "kv" | "engine" | "enter" | "edge" | "admin", number[]>;
const newHops = (): Hops => ({ auth: [], gateway: [], quota: [], exec: [], kv: [], engine: [], enter: [], edge: [], admin: [] });

async function httpFirstQuery(t: TenantConnection, hops?: Hops): Promise<number> {
  const t0 = performance.now();
  const res = await fetch(t.http, {
    method: "POST",
    headers: { "content-type": "application/json", "neon-connection-string": t.pg },
    body: JSON.stringify({ query: "select 1", params: [] }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST /sql: HTTP ${res.status} ${text.slice(0, 300)}`);
  const ms = performance.now() - t0;
  if (hops) {
    const st = parseServerTiming(res.headers.get("server-timing"));
    for (const k of ["auth", "gateway", "quota", "exec", "kv"] as const) hops[k].push(st[k] ?? 0);
    hops.engine.push(Math.max(0, (st.exec ?? 0) - (st.kv ?? 0)));
    hops.enter.push(Math.max(0, (st.gateway ?? 0) - (st.quota ?? 0) - (st.exec ?? 0)));
    hops.edge.push(Math.max(0, ms - (st.auth ?? 0) - (st.gateway ?? 0)));
  }
  return ms;
}

async function stateOf(stack: Stack, name: string): Promise<{ state: string; lifecycle?: { gatewayIsolate: boolean } }> {
  const res = await fetch(`${stack.admin.url}/admin/tenants/${name}`, { headers: { authorization: `Bearer ${stack.admin.token}` } });
  return (await res.json()) as { state: string; lifecycle?: { gatewayIsolate: boolean } };
}

/** Waits until the tenant is suspended for idleness and its isolate released. */
async function suspendedByIdle(stack: Stack, name: string): Promise<void> {
  await sleep(IDLE_MS + 100);
  for (let i = 0; i < 50; i++) {
    const v = await stateOf(stack, name);
    if (v.state === "suspended" && v.lifecycle?.gatewayIsolate === false) return;
    await sleep(50);
  }
  throw new Error(`${name} was not suspended after ${IDLE_MS} ms idle`);
}

function line(label: string, xs: number[], baseline?: number[]): string {
  const ratio = baseline ? `  (p50 ${(pct(xs, 50) / pct(baseline, 50)).toFixed(1)}x warm)` : "";
  return `${label.padEnd(34)} p50 ${pct(xs, 50).toFixed(1).padStart(7)} ms   p99 ${pct(xs, 99).toFixed(1).padStart(7)} ms   n=${xs.length}${ratio}`;
}

/** The edge's gateway-pool counters from /metrics (admin token). */
async function poolCounters(stack: Stack): Promise<Record<string, number>> {
  const text = await (await fetch(`${stack.admin.url}/metrics`, { headers: { authorization: `Bearer ${stack.admin.token}` } })).text();
  const out: Record<string, number> = {};
  for (const name of ["warren_edge_gateway_pool_hits_total", "warren_edge_gateway_pool_misses_total", "warren_edge_gateway_isolates_created_total"]) {
    const m = new RegExp(`^${name} ([0-9.e+]+)$`, "m").exec(text);
    out[name.replace(/^warren_edge_gateway_/, "")] = m ? Number(m[1]) : NaN;
  }
  return out;
}

interface Measured {
  resume: number[];
  create: number[];
  createFirstQuery: number[];
}

/**
 * One stack, TRIES tries of each measurement; prints them and returns the figures of both paths.
 * GATEWAY_ISOLATES_MAX=0: no budget, as in production (the platform evicts idle isolates): every
 * resumed or new tenant is bound to a pooled isolate when one is ready, else starts one.
 */
async function measure(label: string, warmPool: string): Promise<Measured> {
  const stack = await startStack({ env: { TENANT_IDLE_SUSPEND_MS: String(IDLE_MS), GATEWAY_ISOLATES_MAX: "0", GATEWAY_WARM_POOL: warmPool } });
  try {
    const t = await stack.createTenant("benchresume");
    await httpSql(t, "select 1");
    const warm = { pg: [] as number[], http: [] as number[] };
    const resume = { pg: [] as number[], http: [] as number[] };
    const create = { pg: [] as number[], http: [] as number[] };
    const createFirstQuery: number[] = [];
    const hops = { warm: newHops(), resume: newHops(), create: newHops() };
    const pgSplit = { warm: newPgSplit(), resume: newPgSplit(), create: newPgSplit() };
    // Tries alternate between the two paths: TRIES in all for each measurement.
    for (let i = 0; i < TRIES; i++) {
      const via = i % 2 === 0 ? "pg" : "http";
      // Warm: the tenant was just used, its isolate is loaded.
      await httpSql(t, "select 1");
      warm[via].push(via === "pg" ? await pgFirstQuery(t, pgSplit.warm) : await httpFirstQuery(t, hops.warm));
      await suspendedByIdle(stack, t.name);
      // Behind the suspension the edge tops its pool up; give it the time a real idle period would.
      await sleep(200);
      resume[via].push(via === "pg" ? await pgFirstQuery(t, pgSplit.resume) : await httpFirstQuery(t, hops.resume));
    }
    const run = Date.now().toString(36);
    for (let i = 0; i < TRIES; i++) {
      const via = i % 2 === 0 ? "pg" : "http";
      const t0 = performance.now();
      const c = await stack.createTenant(`bench-${run}-${i}`);
      const created = performance.now();
      hops.create.admin.push(created - t0);
      await (via === "pg" ? pgFirstQuery(c, pgSplit.create) : httpFirstQuery(c, hops.create));
      create[via].push(performance.now() - t0);
      createFirstQuery.push(performance.now() - created);
      // The new tenant goes idle and is suspended IDLE_MS later (a release, a usage report, a
      // router write): wait for that, so the next try does not overlap work that, with the real
      // idle time (minutes), would come long after it.
      await suspendedByIdle(stack, c.name);
      await sleep(200); // as above: the pool refills behind each tenant's first request
    }
    const pool = await poolCounters(stack);
    console.log(`\n${label} (GATEWAY_WARM_POOL=${warmPool}) — ${TRIES} tries each, idle time ${IDLE_MS} ms, local stack (wrangler dev + storage node)`);
    console.log(line("warm: new pg connection + query", warm.pg));
    console.log(line("warm: POST /sql", warm.http));
    console.log(line("resume: new pg connection + query", resume.pg, warm.pg));
    console.log(line("resume: POST /sql", resume.http, warm.http));
    console.log(line("create + pg connection + query", create.pg, warm.pg));
    console.log(line("create + POST /sql", create.http, warm.http));
    console.log(line("resume: both paths", [...resume.pg, ...resume.http]));
    console.log(line("create + first query: both paths", [...create.pg, ...create.http]));
    console.log(line("first query after create: both", createFirstQuery));
    console.log("hops, p50 ms (POST /sql tries, from Server-Timing; see Hops; admin = POST /admin/tenants, all create tries):");
    for (const [name, h] of Object.entries(hops)) {
      const parts = (Object.keys(h) as Array<keyof Hops>).filter((k) => h[k].length > 0).map((k) => `${k} ${pct(h[k], 50).toFixed(1)}`);
      console.log(`  ${name.padEnd(8)} ${parts.join("   ")}`);
    }
    console.log("pg wire tries, p50 ms (client side): connect = TCP + tunnel + WebSocket + startup + SCRAM + session; query = the first select 1");
    for (const [name, sp] of Object.entries(pgSplit)) {
      console.log(`  ${name.padEnd(8)} connect ${pct(sp.connect, 50).toFixed(1)}   query ${pct(sp.query, 50).toFixed(1)}`);
    }
    console.log(`gateway pool: ${pool["pool_hits_total"]} first requests found a started isolate, ${pool["pool_misses_total"]} started one; ${pool["isolates_created_total"]} isolates created`);
    return { resume: [...resume.pg, ...resume.http], create: [...create.pg, ...create.http], createFirstQuery };
  } finally {
    await stack.stop();
  }
}

/**
 * A tenant whose isolate was evicted (issue 12: first query p50 ≤ 30 ms): GATEWAY_ISOLATES_MAX=2,
 * no idle suspension, EVICT_TENANTS tenants queried in turn, so each query's tenant was evicted
 * (least recently used) since its previous one and is bound to a pooled isolate again. The
 * baseline is the same query repeated at once (the isolate still pinned). Both paths alternate.
 */
const EVICT_TENANTS = 3;
async function measureEvicted(): Promise<void> {
  const stack = await startStack({ env: { TENANT_IDLE_SUSPEND_MS: "0", GATEWAY_ISOLATES_MAX: "2", GATEWAY_WARM_POOL: "2" } });
  try {
    const run = Date.now().toString(36);
    const tenants: TenantConnection[] = [];
    for (let i = 0; i < EVICT_TENANTS; i++) {
      const t = await stack.createTenant(`evict-${run}-${i}`);
      await httpSql(t, "select 1");
      tenants.push(t);
    }
    const warm = { pg: [] as number[], http: [] as number[] };
    const evicted = { pg: [] as number[], http: [] as number[] };
    const hops = { warm: newHops(), evicted: newHops() };
    const pgSplit = { warm: newPgSplit(), evicted: newPgSplit() };
    for (let i = 0; i < TRIES; i++) {
      const via = i % 2 === 0 ? "pg" : "http";
      const t = tenants[i % EVICT_TENANTS]!;
      evicted[via].push(via === "pg" ? await pgFirstQuery(t, pgSplit.evicted) : await httpFirstQuery(t, hops.evicted));
      warm[via].push(via === "pg" ? await pgFirstQuery(t, pgSplit.warm) : await httpFirstQuery(t, hops.warm));
      await sleep(100); // the pool refills behind each rebinding
    }
    const pool = await poolCounters(stack);
    console.log(`\nevicted isolates (GATEWAY_ISOLATES_MAX=2, ${EVICT_TENANTS} tenants in turn, GATEWAY_WARM_POOL=2) — ${TRIES} tries each`);
    console.log(line("warm: new pg connection + query", warm.pg));
    console.log(line("warm: POST /sql", warm.http));
    console.log(line("evicted: new pg connection + query", evicted.pg, warm.pg));
    console.log(line("evicted: POST /sql", evicted.http, warm.http));
    console.log(line("evicted: both paths", [...evicted.pg, ...evicted.http]));
    console.log("hops, p50 ms (POST /sql tries; see Hops):");
    for (const [name, h] of Object.entries(hops)) {
      const parts = (Object.keys(h) as Array<keyof Hops>).filter((k) => h[k].length > 0).map((k) => `${k} ${pct(h[k], 50).toFixed(1)}`);
      console.log(`  ${name.padEnd(8)} ${parts.join("   ")}`);
    }
    console.log("pg wire tries, p50 ms (client side):");
    for (const [name, sp] of Object.entries(pgSplit)) console.log(`  ${name.padEnd(8)} connect ${pct(sp.connect, 50).toFixed(1)}   query ${pct(sp.query, 50).toFixed(1)}`);
    console.log(`gateway pool: ${pool["pool_hits_total"]} bindings found a started isolate, ${pool["pool_misses_total"]} started one; ${pool["isolates_created_total"]} isolates created`);
  } finally {
    await stack.stop();
  }
}

if (values["evicted-only"]) {
  await measureEvicted();
  console.log("goal (issue 12): evicted isolate → first query p50 ≤ 30 ms");
  process.exit(0);
}

// The warm pool's effect, measured in the same run: the product default, then no pool (every
// resumed or new tenant starts its isolate on its first request).
// --pool-only skips the no-pool stack (quicker, for comparing two builds).
const pooled = await measure("with the warm pool", "2");
await measureEvicted();
if (values["pool-only"]) process.exit(0);
const cold = await measure("baseline: no warm pool", "0");
const ratio = (a: number[], b: number[]) => `${pct(a, 50).toFixed(1)} ms vs ${pct(b, 50).toFixed(1)} ms (${(pct(a, 50) / pct(b, 50)).toFixed(2)}x)`;
console.log("\nwarm pool vs none, p50:");
console.log(`  resume → first query           ${ratio(pooled.resume, cold.resume)}`);
console.log(`  create + first query           ${ratio(pooled.create, cold.create)}`);
console.log(`  first query after create       ${ratio(pooled.createFirstQuery, cold.createFirstQuery)}`);
console.log("goals: resume p50 < 50 ms (CockroachDB Serverless ~650 ms); create + first query p50 < 100 ms (issue 12: ≤ 50 ms); evicted isolate → first query p50 ≤ 30 ms");
