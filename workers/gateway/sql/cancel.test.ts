// Session.cancel() from a concurrent task while a statement runs: the statement ends with 57014
// "canceling statement due to user request" soon after, whatever it is doing (a scan, a cross
// join, a sort, an aggregation, pg_sleep, a result being streamed), and the session runs the next
// statement. Between statements cancel() does nothing and reports so.
import { beforeAll, describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { Session } from "./session.ts";

/** How long after cancel() the statement must have ended. Generous: the machine may be loaded. */
const CANCEL_LATENCY_MS_MAX = 1500;

function session(): Session {
  return new Session({ kv: memoryCapability(new MemoryKv()), tenantId: 21, statementTimeoutMsDefault: 120_000 });
}

/** Runs `sql`, cancels it after `afterMs`, and returns how long the statement took to end after that. */
async function cancelDuring(s: Session, sql: string, afterMs = 150): Promise<number> {
  const running = s.execute(sql);
  const outcome = running.then(
    () => null,
    (e: unknown) => e,
  );
  await new Promise((r) => setTimeout(r, afterMs));
  const t0 = Date.now();
  expect(s.cancel()).toBe(true);
  const err = await outcome;
  const took = Date.now() - t0;
  expect(err).toMatchObject({ code: "57014", message: "canceling statement due to user request" });
  return took;
}

describe("Session.cancel()", () => {
  const s = session();

  beforeAll(async () => {
    await s.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
    await s.execute("INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g");
  }, 60_000);

  const cases: Array<[string, string]> = [
    ["a table scan", "SELECT count(*) FROM t WHERE md5(repeat(v, 200)) = 'x'"],
    ["the inner loop of a cross join", "SELECT count(*) FROM t a, t b"],
    ["a sort", "SELECT count(*) FROM (SELECT g FROM generate_series(1, 3000000) g ORDER BY g DESC) s"],
    ["an aggregation", "SELECT g % 100, count(DISTINCT g) FROM generate_series(1, 1e10) g GROUP BY 1"],
    ["a window function", "SELECT max(x) FROM (SELECT sum(id) OVER (ORDER BY id ROWS BETWEEN 20000 PRECEDING AND CURRENT ROW) AS x FROM t) s"],
    ["pg_sleep", "SELECT pg_sleep(60)"],
  ];
  for (const [what, sql] of cases) {
    it(`ends ${what} with 57014 soon after, and the session goes on`, async () => {
      const took = await cancelDuring(s, sql);
      expect(took).toBeLessThan(CANCEL_LATENCY_MS_MAX);
      expect((await s.execute("SELECT 1"))[0]!.rows).toEqual([["1"]]);
      // The flag does not outlive its statement.
      expect(s.cancel()).toBe(false);
    }, 30_000);
  }

  it("stops an online index build between chunks and removes the half-built index", async () => {
    const took = await cancelDuring(s, "CREATE INDEX t_v ON t (v)", 100);
    expect(took).toBeLessThan(CANCEL_LATENCY_MS_MAX);
    expect((await s.execute("SELECT indexname FROM pg_indexes WHERE tablename = 't' ORDER BY 1"))[0]!.rows).toEqual([["t_pkey"]]);
    await s.execute("CREATE INDEX t_v ON t (v)");
    expect((await s.execute("SELECT count(*) FROM t WHERE v = md5('77')"))[0]!.rows).toEqual([["1"]]);
  }, 60_000);

  it("does nothing between statements", async () => {
    expect(s.cancel()).toBe(false);
    expect((await s.execute("SELECT count(*) FROM t"))[0]!.rows).toEqual([["20000"]]);
  });

  it("cancels a streamed result while the client is slow, and aborts an open transaction", async () => {
    await s.execute("BEGIN");
    let batches = 0;
    const running = s.executeStreaming("SELECT g FROM generate_series(1, 1e10) g", [], async () => {
      batches++;
      await new Promise((r) => setTimeout(r, 5));
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(s.cancel()).toBe(true);
    await expect(running).rejects.toMatchObject({ code: "57014" });
    expect(batches).toBeGreaterThan(0);
    await expect(s.execute("SELECT 1")).rejects.toMatchObject({ code: "25P02" });
    await s.execute("ROLLBACK");
    expect((await s.execute("SELECT 1"))[0]!.rows).toEqual([["1"]]);
  }, 30_000);

  it("reports CPU time per statement and per session, not counting waits", async () => {
    const before = s.usage;
    await s.execute("SELECT count(*) FROM generate_series(1, 300000)");
    const busy = s.lastStatementStats!;
    expect(busy.cpuMs).toBeGreaterThan(0);
    expect(busy.workUnits).toBeGreaterThan(300_000);
    await s.execute("SELECT pg_sleep(0.3)");
    const idle = s.lastStatementStats!;
    expect(idle.wallMs).toBeGreaterThanOrEqual(290);
    expect(idle.cpuMs).toBeLessThan(idle.wallMs / 2);
    const after = s.usage;
    expect(after.statements).toBe(before.statements + 2);
    expect(after.cpuMs).toBeCloseTo(before.cpuMs + busy.cpuMs + idle.cpuMs, 6);
  }, 30_000);
});
