// On the real local stack (one workerd thread runs every tenant's gateway isolate): while one
// tenant's statement computes without end, another tenant's queries are answered, and the
// statement ends at its statement_timeout with 57014. Before the statement budget, the same
// `count(*)` over generate_series(1, 1e10) never ended and no tenant was answered meanwhile.
import pg from "pg";
import { afterAll, beforeAll, expect, test } from "vitest";
import { httpSql, startStack, type Stack } from "./harness/stack.ts";

/** Longest another tenant's query may take while the statement computes (generous: loaded CI machine). */
const OTHER_QUERY_MS_MAX = 2000;

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await stack?.stop();
});

test("another tenant is served while a statement computes; the statement ends at its timeout", async () => {
  const quiet = await stack.createTenant("quiet");
  await httpSql(quiet, "select 1");
  const busy = new pg.Client({ connectionString: stack.demo.pg });
  await busy.connect();
  try {
    await busy.query("set statement_timeout = '4s'");
    const t0 = Date.now();
    const running = busy.query("select count(*) from generate_series(1, 1e10)").then(
      () => null,
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 300));
    const latencies: number[] = [];
    while (Date.now() - t0 < 3000) {
      const t = Date.now();
      const res = await httpSql(quiet, "select 1 as one");
      latencies.push(Date.now() - t);
      expect(res.rows).toEqual([{ one: 1 }]);
    }
    const err = await running;
    const took = Date.now() - t0;
    console.log(`other tenant's select 1 while computing: ${latencies.length} runs, max ${Math.max(...latencies)} ms; the statement ended after ${took} ms`);
    expect(err).toMatchObject({ code: "57014", message: "canceling statement due to statement timeout" });
    expect(took).toBeGreaterThanOrEqual(4000);
    expect(took).toBeLessThan(4000 + OTHER_QUERY_MS_MAX);
    expect(latencies.length).toBeGreaterThan(5);
    expect(Math.max(...latencies)).toBeLessThan(OTHER_QUERY_MS_MAX);
    // The connection runs the next statement.
    expect((await busy.query("select 2 as two")).rows).toEqual([{ two: 2 }]);
  } finally {
    await busy.end();
  }
});
