// Serial test group (vitest.config.ts): it writes a million rows in one transaction and measures
// the gateway's heap, which other test files running beside it would skew.
// Transactions of any size (issue 10): pgbench -i's shape at scale 10 — 1,000,000 accounts rows
// written by ONE transaction — then ALTER TABLE … ADD PRIMARY KEY and CREATE INDEX over them, all
// against the real storage node, with the session's (the gateway's) heap growth sampled and
// printed. Writes past the buffer bound go to the node as intents as the statement runs
// (txn/limits.ts flushKeys…), so the heap stays flat whatever the row count.
// WARREN_BIG_TXN_ROWS sets the row count (default 100,000; 1,000,000 for the full acceptance size).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "./session.ts";
import { startRealStorage, type RealStorage } from "./testing/storage-node.ts";

/** 100,000 by default (3-8 minutes on the shared 2-core dev box); 1,000,000 is issue 10's size (its 1,000,000-row INSERT outlasts the 5-minute statement_timeout cap here). */
const ROWS = Number((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env["WARREN_BIG_TXN_ROWS"] ?? 100_000);
/** The Workers isolate limit is 128 MB; the gateway's working set must stay well inside it. */
const HEAP_GROWTH_MAX = 96 * 1024 * 1024;

let storage: RealStorage;
let s: Session;

function heapUsed(): number {
  return (globalThis as unknown as { process: { memoryUsage(): { heapUsed: number } } }).process.memoryUsage().heapUsed;
}

/** A full garbage collection (Node: --expose-gc switched on at run time), or null. */
function forcedGc(): (() => void) | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.("node:v8") as { setFlagsFromString(flags: string): void } | undefined;
  const vm = proc?.getBuiltinModule?.("node:vm") as { runInNewContext(code: string): unknown } | undefined;
  if (!v8 || !vm) return null;
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  return typeof gc === "function" ? (gc as () => void) : null;
}

/**
 * Runs `f` while sampling the LIVE heap: every 200 ms a full collection, then heapUsed. Peaks of
 * heapUsed without collections mostly measure how lazily V8 collects, not what the gateway holds;
 * an isolate near its limit collects, so the live peak is what has to fit 128 MB. The storage
 * node's HTTP thread shares this heap (its writer thread does not), so the figure is an upper bound.
 */
async function measured<T>(f: () => Promise<T>): Promise<{ value: T; peakGrowth: number; ms: number }> {
  const gc = forcedGc();
  gc?.();
  const base = heapUsed();
  let peak = base;
  const t0 = Date.now();
  const timer = setInterval(() => {
    gc?.();
    peak = Math.max(peak, heapUsed());
  }, 200);
  try {
    const value = await f();
    peak = Math.max(peak, heapUsed());
    return { value, peakGrowth: peak - base, ms: Date.now() - t0 };
  } finally {
    clearInterval(timer);
  }
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

async function one(sql: string): Promise<Array<string | null>> {
  const r = await s.execute(sql);
  return r[r.length - 1]!.rows[0]!;
}

beforeAll(async () => {
  storage = await startRealStorage();
  s = new Session({ kv: await storage.capability(78), tenantId: 78 });
  await s.execute("SET statement_timeout = 0");
}, 120_000);

afterAll(async () => {
  await storage?.close();
});

describe(`one transaction writing ${ROWS} rows`, () => {
  it("loads pgbench_accounts in one transaction, then ADD PRIMARY KEY and CREATE INDEX, with the heap bounded", async () => {
    await s.execute("CREATE TABLE pgbench_accounts (aid INT NOT NULL, bid INT, abalance INT, filler CHAR(84))");
    const load = await measured(async () => {
      await s.execute("BEGIN");
      await s.execute(`INSERT INTO pgbench_accounts SELECT i, (i - 1) / 100000 + 1, 0, '' FROM generate_series(1, ${ROWS}) i`);
      await s.execute("COMMIT");
    });
    console.log(`load of ${ROWS} rows in one transaction: ${load.ms} ms, gateway heap peak growth ${mb(load.peakGrowth)} (bound ${mb(HEAP_GROWTH_MAX)})`);
    const n = BigInt(ROWS);
    expect(await one("SELECT count(*), sum(aid) FROM pgbench_accounts")).toEqual([String(n), String((n * (n + 1n)) / 2n)]);
    const pk = await measured(() => s.execute("ALTER TABLE pgbench_accounts ADD PRIMARY KEY (aid)"));
    console.log(`ALTER TABLE … ADD PRIMARY KEY on ${ROWS} rows: ${pk.ms} ms, gateway heap peak growth ${mb(pk.peakGrowth)}`);
    expect(await one(`SELECT abalance, bid FROM pgbench_accounts WHERE aid = ${ROWS - 1}`)).toEqual(["0", String(Math.floor((ROWS - 2) / 100000) + 1)]);
    const ix = await measured(() => s.execute("CREATE INDEX acc_bid ON pgbench_accounts (bid)"));
    console.log(`CREATE INDEX on ${ROWS} rows: ${ix.ms} ms, gateway heap peak growth ${mb(ix.peakGrowth)}`);
    expect(await one("SELECT count(*) FROM pgbench_accounts WHERE bid = 1")).toEqual([String(Math.min(ROWS, 100000))]);
    expect(load.peakGrowth).toBeLessThan(HEAP_GROWTH_MAX);
    expect(pk.peakGrowth).toBeLessThan(HEAP_GROWTH_MAX);
    expect(ix.peakGrowth).toBeLessThan(HEAP_GROWTH_MAX);
  }, 3_600_000);
});
