// Serial test group (vitest.config.ts): it loads 200k rows and measures heap growth, which other
// test files running beside it on two cores skew (one clean-clone CI run saw 118 MB against the
// 96 MB bound while the unit project ran in parallel; two others passed).
// Acceptance at scale, over the real storage node: a 2-million-row table is scanned, counted and
// aggregated by one session without holding the table in memory; LIMIT 10 reads about ten rows;
// a sort larger than the work-memory budget fails with 53200 and the session keeps serving.
// Rows are loaded through SQL (INSERT … SELECT generate_series) in transactions of the size the
// storage node accepts per commit. The default run uses 200,000 rows and a 4 MB work_mem so that
// it stays quick; WARREN_BIG_ROWS=2000000 runs the full acceptance size with the default
// 64 MiB budget (about 7 minutes on a loaded 2-core machine).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "./session.ts";
import { startRealStorage, type RealStorage } from "./testing/storage-node.ts";

const ROWS = Number((globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env["WARREN_BIG_ROWS"] ?? 200_000);
/** Below a million rows the sort fits 64 MiB; a smaller work_mem keeps the 53200 case meaningful. */
const WORK_MEM = ROWS >= 1_000_000 ? null : "4MB";
const CHUNK = 8000;

let storage: RealStorage;
let s: Session;

function heapUsed(): number {
  return (globalThis as unknown as { process: { memoryUsage(): { heapUsed: number } } }).process.memoryUsage().heapUsed;
}

/** A full garbage collection, where the runtime lets a test ask for one (Node: via --expose-gc at run time). */
function forcedGc(): (() => void) | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.("node:v8") as { setFlagsFromString(flags: string): void } | undefined;
  const vm = proc?.getBuiltinModule?.("node:vm") as { runInNewContext(code: string): unknown } | undefined;
  if (!v8 || !vm) return null;
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc");
  return typeof gc === "function" ? (gc as () => void) : null;
}

/** Runs `f` while sampling the heap; returns its result and the peak growth in bytes. */
async function measured<T>(f: () => Promise<T>): Promise<{ value: T; peakGrowth: number }> {
  const base = heapUsed();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, heapUsed());
  }, 5);
  try {
    const value = await f();
    peak = Math.max(peak, heapUsed());
    return { value, peakGrowth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

async function one(sql: string): Promise<Array<string | null>> {
  const r = await s.execute(sql);
  return r[r.length - 1]!.rows[0]!;
}

beforeAll(async () => {
  storage = await startRealStorage();
  s = new Session({ kv: await storage.capability(77), tenantId: 77 });
  await s.execute("CREATE TABLE big (id INT PRIMARY KEY, grp INT NOT NULL, pad TEXT NOT NULL)");
  for (let a = 1; a <= ROWS; a += CHUNK) {
    const b = Math.min(ROWS, a + CHUNK - 1);
    await s.execute(`INSERT INTO big SELECT g, g % 100, 'row-' || g || '-padding-padding' FROM generate_series(${a}, ${b}) g`);
  }
}, 900_000);

afterAll(async () => {
  await storage?.close();
});

describe(`a ${ROWS}-row table through one session`, () => {
  it("counts and sums every row while memory stays flat", async () => {
    const n = BigInt(ROWS);
    const { value, peakGrowth } = await measured(() => one("SELECT count(*), sum(id), min(pad), max(id) FROM big"));
    expect(value).toEqual([String(n), String((n * (n + 1n)) / 2n), "row-1-padding-padding", String(ROWS)]);
    // The table is hundreds of MB as JavaScript rows; a streaming scan holds a page or two.
    expect(peakGrowth).toBeLessThan(96 * 1024 * 1024);
  }, 600_000);

  it("pages every row of a full scan to the client without holding the result", async () => {
    let rows = 0;
    let lastId = 0;
    let ordered = true;
    // What is *held* while rows stream: the heap right after a forced collection, sampled every
    // 16 batches. (Sampling without collecting counts garbage not yet collected, which swings with
    // GC timing: one clean-clone CI run saw 118 MB of it against this bound.)
    const gc = forcedGc();
    gc?.();
    const base = heapUsed();
    let peakRetained = 0;
    let batches = 0;
    const { value: result, peakGrowth } = await measured(() =>
      s.executeStreaming("SELECT id, grp, pad FROM big", [], async (_fields, batch) => {
        for (const r of batch) {
          const id = Number(r[0]);
          if (id <= lastId) ordered = false;
          lastId = id;
        }
        rows += batch.length;
        if (gc && ++batches % 16 === 0) {
          gc();
          peakRetained = Math.max(peakRetained, heapUsed() - base);
        }
      }),
    );
    expect(result).toMatchObject({ command: "SELECT", rowCount: ROWS, rows: [] });
    expect(rows).toBe(ROWS);
    expect(ordered).toBe(true);
    expect(gc ? peakRetained : peakGrowth).toBeLessThan(96 * 1024 * 1024);
  }, 600_000);

  it("aggregates by group on the fly", async () => {
    const { value: rows, peakGrowth } = await measured(async () => (await s.execute("SELECT grp, count(*) FROM big GROUP BY grp ORDER BY grp")).at(-1)!.rows);
    expect(rows.length).toBe(100);
    expect(rows[0]).toEqual(["0", String(Math.floor(ROWS / 100))]);
    expect(peakGrowth).toBeLessThan(96 * 1024 * 1024);
  }, 600_000);

  it("LIMIT 10 reads about ten rows", async () => {
    const lines = (await s.execute("EXPLAIN ANALYZE SELECT * FROM big LIMIT 10")).at(-1)!.rows.map((r) => r[0]!);
    const kv = lines.find((l) => l.startsWith("KV: "))!;
    expect(kv).toMatch(/requests=1 gets=0 scans=1 rows_read=10 /);
  });

  it("fails a sort over the memory budget with 53200 and keeps serving", async () => {
    if (WORK_MEM !== null) await s.execute(`SET work_mem = '${WORK_MEM}'`);
    // ~100 bytes per row held by the sort: over the budget (64 MiB at 2M rows, 4 MB at 200k).
    await expect(s.execute("SELECT id, pad FROM big ORDER BY pad DESC")).rejects.toMatchObject({ code: "53200" });
    await s.execute("RESET work_mem");
    expect(await one("SELECT pad FROM big WHERE id = 12345")).toEqual(["row-12345-padding-padding"]);
    expect(await one("SELECT count(*) FROM big WHERE id <= 100")).toEqual(["100"]);
  }, 600_000);
});
