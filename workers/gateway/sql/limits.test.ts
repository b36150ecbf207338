// Each SQL-layer limit at its edge (sql/limits.ts): the last value accepted and the first refused.
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { ARRAY_ELEMENTS_MAX, STRING_RESULT_CHARS_MAX } from "./functions/limits.ts";
import { sqlLimits } from "./limits.ts";
import { parseSql } from "./parse/parser.ts";
import { parseTreeDepth } from "./parse/tree-depth.ts";
import { Session } from "./session.ts";
import { Settings } from "./settings.ts";

function session(): Session {
  // These statements are long on purpose; the default statement_timeout must not end them.
  return new Session({ kv: memoryCapability(new MemoryKv()), tenantId: 11, statementTimeoutMsDefault: sqlLimits.statementTimeoutMsMax });
}

describe("SQL limits", () => {
  it("holds at most sqlPreparedStatementsMax SQL-level prepared statements per session (54000 past it)", async () => {
    const s = session();
    const n = sqlLimits.sqlPreparedStatementsMax;
    await s.execute(Array.from({ length: n }, (_, i) => `PREPARE p${i} AS SELECT ${i}`).join(";"));
    expect((await s.execute(`EXECUTE p${n - 1}`))[0]!.rows).toEqual([[String(n - 1)]]);
    await expect(s.execute("PREPARE one_more AS SELECT 1")).rejects.toMatchObject({ code: "54000" });
    await s.execute("DEALLOCATE p0");
    await s.execute("PREPARE one_more AS SELECT 1");
  });

  it("returns at most resultRowsMax rows at once (54000 past it; streaming has no such bound)", async () => {
    const s = session();
    const n = sqlLimits.resultRowsMax;
    expect((await s.execute(`SELECT count(*) FROM (SELECT generate_series(1, ${n})) g`))[0]!.rows).toEqual([[String(n)]]);
    const at = await s.execute(`SELECT * FROM generate_series(1, ${n})`);
    expect(at[0]!.rows.length).toBe(n);
    await expect(s.execute(`SELECT * FROM generate_series(1, ${n + 1})`)).rejects.toMatchObject({ code: "54000" });
    let streamed = 0;
    await s.executeStreaming(`SELECT * FROM generate_series(1, ${n + 1})`, [], async (_f, rows) => {
      streamed += rows.length;
    });
    expect(streamed).toBe(n + 1);
  }, 120_000);

  it("bounds the bytes of a result returned at once", async () => {
    const s = session();
    const rows = 1024;
    const width = Math.floor(sqlLimits.resultBytesMax / rows);
    await expect(s.execute(`SELECT repeat('x', ${width}) FROM generate_series(1, ${rows})`)).resolves.toHaveLength(1);
    await expect(s.execute(`SELECT repeat('x', ${width + 1}) FROM generate_series(1, ${rows})`)).rejects.toMatchObject({ code: "54000" });
  }, 60_000);

  it("accepts domainChecksMax CHECK constraints on a domain and refuses one more (54000)", async () => {
    const s = session();
    const checks = (n: number): string => Array.from({ length: n }, (_, i) => `CHECK (VALUE <> ${i + 1000})`).join(" ");
    await s.execute(`CREATE DOMAIN at_edge AS int ${checks(sqlLimits.domainChecksMax)}`);
    expect((await s.execute("SELECT 5::at_edge"))[0]!.rows).toEqual([["5"]]);
    await expect(s.execute("SELECT 1000::at_edge")).rejects.toMatchObject({ code: "23514" });
    await expect(s.execute(`CREATE DOMAIN past_edge AS int ${checks(sqlLimits.domainChecksMax + 1)}`)).rejects.toMatchObject({ code: "54000" });
  });

  it("inlines SQL functions functionInlineDepthMax deep and refuses one level more (54001)", async () => {
    const s = session();
    const n = sqlLimits.functionInlineDepthMax;
    await s.execute("CREATE FUNCTION c1(x int) RETURNS int LANGUAGE sql AS 'SELECT x'");
    for (let k = 2; k <= n + 1; k++) await s.execute(`CREATE FUNCTION c${k}(x int) RETURNS int LANGUAGE sql AS 'SELECT c${k - 1}(x) + 1'`);
    expect((await s.execute(`SELECT c${n}(0)`))[0]!.rows).toEqual([[String(n - 1)]]);
    await expect(s.execute(`SELECT c${n + 1}(0)`)).rejects.toMatchObject({ code: "54001" });
  });

  it("accepts functionArgsMax arguments and a body of functionBodyCharsMax characters, not more (54023, 54000)", async () => {
    const s = session();
    const args = (k: number): string => Array.from({ length: k }, () => "int").join(", ");
    await s.execute(`CREATE FUNCTION many(${args(sqlLimits.functionArgsMax)}) RETURNS int LANGUAGE sql AS 'SELECT $1'`);
    await expect(s.execute(`CREATE FUNCTION toomany(${args(sqlLimits.functionArgsMax + 1)}) RETURNS int LANGUAGE sql AS 'SELECT $1'`)).rejects.toMatchObject({ code: "54023" });
    const body = (k: number): string => `SELECT 1${" ".repeat(k - "SELECT 1".length)}`;
    await s.execute(`CREATE FUNCTION big() RETURNS int LANGUAGE sql AS '${body(sqlLimits.functionBodyCharsMax)}'`);
    expect((await s.execute("SELECT big()"))[0]!.rows).toEqual([["1"]]);
    await expect(s.execute(`CREATE FUNCTION big2() RETURNS int LANGUAGE sql AS '${body(sqlLimits.functionBodyCharsMax + 1)}'`)).rejects.toMatchObject({ code: "54000" });
  });

  it("stops a recursive CTE after recursiveIterationsMax iterations", async () => {
    const s = session();
    const max = sqlLimits.recursiveIterationsMax;
    const ok = await s.execute(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${max}) SELECT max(i) FROM n`);
    expect(ok[0]!.rows).toEqual([[String(max)]]);
    await expect(s.execute(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i <= ${max}) SELECT max(i) FROM n`)).rejects.toMatchObject({ code: "54000" });
  }, 120_000);

  it("refuses parse trees nested deeper than parseTreeDepthMax (54001) and parses one at it", async () => {
    // Joins nest one node each in FROM and the binder counts no level for them.
    const joins = (n: number): string => `SELECT 1 FROM (SELECT 1 a) t0${Array.from({ length: n }, (_, i) => ` JOIN (SELECT 1 a) t${i + 1} ON true`).join("")}`;
    // The tree of `joins(n)` is n + c nodes deep for a constant c.
    const c = parseTreeDepth(await parseSql(joins(10))) - 10;
    const n = sqlLimits.parseTreeDepthMax - c;
    await expect(parseSql(joins(n))).resolves.toHaveLength(1);
    await expect(parseSql(joins(n + 1))).rejects.toMatchObject({ code: "54001", message: "stack depth limit exceeded" });
  });

  it("caps statement_timeout at statementTimeoutMsMax; 0 means the cap; the tenant default is capped too", () => {
    const max = sqlLimits.statementTimeoutMsMax;
    const st = new Settings({}, sqlLimits.statementTimeoutMsDefault);
    expect(st.statementTimeoutMs(max)).toBe(sqlLimits.statementTimeoutMsDefault);
    st.set("statement_timeout", "0");
    expect(st.statementTimeoutMs(max)).toBe(max);
    st.set("statement_timeout", String(max));
    expect(st.statementTimeoutMs(max)).toBe(max);
    st.set("statement_timeout", String(max - 1));
    expect(st.statementTimeoutMs(max)).toBe(max - 1);
    st.set("statement_timeout", String(max + 1));
    expect(st.statementTimeoutMs(max)).toBe(max);
    const greedy = new Session({ kv: memoryCapability(new MemoryKv()), tenantId: 12, statementTimeoutMsDefault: 10 * max });
    return expect(greedy.execute("SHOW statement_timeout")).resolves.toMatchObject([{ rows: [["5min"]] }]);
  });

  it("aggregates a value of exactly STRING_RESULT_CHARS_MAX characters / ARRAY_ELEMENTS_MAX elements, not one more (54000)", async () => {
    const s = session();
    const k = 1024;
    const rows = STRING_RESULT_CHARS_MAX / k;
    expect((await s.execute(`SELECT length(string_agg(repeat('x', ${k}), '')) FROM generate_series(1, ${rows})`))[0]!.rows).toEqual([[String(STRING_RESULT_CHARS_MAX)]]);
    await expect(s.execute(`SELECT length(string_agg(repeat('x', ${k}), '') || 'y') FROM generate_series(1, ${rows})`)).rejects.toMatchObject({ code: "54000" });
    await expect(s.execute(`SELECT length(string_agg(repeat('x', ${k}), '')) FROM generate_series(1, ${rows + 1})`)).rejects.toMatchObject({ code: "54000" });
    expect((await s.execute(`SELECT cardinality(array_agg(g)) FROM generate_series(1, ${ARRAY_ELEMENTS_MAX}) g`))[0]!.rows).toEqual([[String(ARRAY_ELEMENTS_MAX)]]);
    await expect(s.execute(`SELECT cardinality(array_agg(g)) FROM generate_series(1, ${ARRAY_ELEMENTS_MAX + 1}) g`)).rejects.toMatchObject({ code: "54000" });
  }, 120_000);

  it("string_agg keeps every piece in order across the chunks it joins along the way (64 Ki characters each)", async () => {
    const s = session();
    // 1,000 pieces of ~300 characters: about five internal chunks, joined with the separator between them.
    const expected = Array.from({ length: 1000 }, (_, i) => `${i + 1}${"y".repeat(300)}`).join(",");
    const r = await s.execute(`SELECT string_agg(g::text || repeat('y', 300), ',' ORDER BY g) FROM generate_series(1, 1000) g`);
    const got = r[0]!.rows[0]![0] as string;
    expect(got.length).toBe(expected.length);
    expect(got === expected).toBe(true);
  });

  it("refuses expressions nested deeper than nestingDepthMax (54001)", async () => {
    const s = session();
    const nest = (d: number): string => `SELECT ${"abs(".repeat(d)}1${")".repeat(d)}`;
    // The query itself is one level, each abs( … ) one more, the constant inside the last.
    await expect(s.execute(nest(sqlLimits.nestingDepthMax - 2))).resolves.toHaveLength(1);
    await expect(s.execute(nest(sqlLimits.nestingDepthMax - 1))).rejects.toMatchObject({ code: "54001" });
  });
});
