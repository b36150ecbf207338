// The storage printer (sql-text.ts) against the parser: each text it prints parses back into the
// tree it was printed from, for hand-picked forms and for every expression and query in the
// sql/testdata corpus that it accepts.
import { describe, expect, it } from "vitest";
import { testdataFiles } from "../testing/testdata-runner.ts";
import { nodeKind, type PgNode } from "./ast.ts";
import { parseSql } from "./parser.ts";
import { expr, selectStmt, Unprintable } from "./sql-text.ts";
import { sameTree } from "../bind/stored-sql.ts";

async function exprTree(sql: string): Promise<PgNode> {
  const [s] = await parseSql(`SELECT ${sql}`);
  return ((s!.stmt["SelectStmt"] as PgNode)["targetList"] as PgNode[])[0]!["ResTarget"]["val"] as PgNode;
}

async function roundTrip(tree: PgNode, isQuery: boolean): Promise<{ ok: boolean; text: string }> {
  const text = isQuery ? selectStmt(tree) : expr(tree);
  const back = isQuery ? (await parseSql(text))[0]!.stmt : await exprTree(text);
  return { ok: sameTree(back, tree), text };
}

const EXPRESSIONS = [
  "5000000000", "-3", "-1.5", "1.5e10", "'it''s'", "E'a\\\\b'", "true", "false", "NULL", "B'0101'", "X'FF'",
  "(1 + 2) * 3", "a - -1", "- a", "NOT a", "a AND b AND c", "a AND (b AND c)", "a OR b AND c", "'x' || 'y'",
  "a IS NULL", "a IS NOT NULL", "a IS TRUE", "a IS NOT UNKNOWN", "a IS DISTINCT FROM b", "a IS NOT DISTINCT FROM b",
  "a IN (1, 2, 3)", "a NOT IN (1, 2)", "a BETWEEN 1 AND 10", "a NOT BETWEEN SYMMETRIC 1 AND 10",
  "b LIKE 'x%'", "b NOT ILIKE 'x%'", "b LIKE 'x!%' ESCAPE '!'", "b SIMILAR TO 'a|b'", "b NOT SIMILAR TO 'a' ESCAPE '#'", "b ~ '^x'",
  "a = ANY (ARRAY[1, 2])", "a < ALL ('{1,2}')", "a OPERATOR(pg_catalog.+) 1",
  "a::text", "CAST(a AS varchar(5))", "a::numeric(10, 2)[]", "'1 day'::interval", "interval '1' day", "timestamp with time zone '2020-01-01'",
  "a::\"char\"", "a::double precision", "a::bit", "a::char", "a::timestamp(3)", "'x' COLLATE \"C\"",
  "coalesce(a, 0)", "nullif(a, 0)", "greatest(a, b)", "least(a, 1)", "upper('q')", "pg_catalog.now()", "count(*)", "count(DISTINCT a)",
  "string_agg(a, ',' ORDER BY b DESC NULLS LAST)", "percentile_cont(0.5) WITHIN GROUP (ORDER BY a)", "sum(a) FILTER (WHERE a > 0)",
  "row_number() OVER (PARTITION BY a ORDER BY b ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)", "sum(a) OVER w", "sum(a) OVER (w ORDER BY b)",
  "sum(a) OVER (ORDER BY b RANGE UNBOUNDED PRECEDING EXCLUDE TIES)", "sum(a) OVER (GROUPS BETWEEN CURRENT ROW AND 2 FOLLOWING)",
  "f(VARIADIC ARRAY[1])", "f(x => 1, y => 2)",
  "CASE WHEN a > 0 THEN 'p' WHEN a < 0 THEN 'n' ELSE 'z' END", "CASE a WHEN 1 THEN 'one' END",
  "ARRAY[1, 2]", "ARRAY[[1, 2], [3, 4]]", "ARRAY[]::int[]", "ROW(1, 'a')", "(1, 'a')", "ROW()",
  "(a).f", "a[1]", "a[1:2]", "a[:2]", "(a).*",
  "current_date", "current_timestamp", "current_timestamp(3)", "localtime", "current_user", "session_user", "current_schema", "user",
  "extract(year FROM a)", "EXTRACT('epoch' FROM a)", "position('x' IN b)", "substring(b FROM 2 FOR 3)", "substring(b FROM 2)", "substring(b FOR 3)",
  "trim(b)", "trim(BOTH 'x' FROM b)", "trim(LEADING FROM b)", "overlay(b PLACING 'x' FROM 2 FOR 1)", "a AT TIME ZONE 'UTC'",
  "EXISTS (SELECT 1)", "(SELECT max(a) FROM t)", "ARRAY(SELECT a FROM t)", "a IN (SELECT a FROM t)", "a = ANY (SELECT a FROM t)",
  "a > ALL (SELECT a FROM t)", "NOT (a IN (SELECT a FROM t))", "nextval('s'::regclass)", "$1 + $2", "\"Weird \"\"name\"\"\" + \"select\"",
  "value > 0 AND value < 100", "GROUPING(a, b)",
];

const QUERIES = [
  "SELECT a, b AS bb, count(*) AS n, max(c) FROM zz WHERE a > 1 AND b = 'x' GROUP BY a, b HAVING count(*) > 1 ORDER BY a LIMIT 5",
  "SELECT x.a, y.b FROM zz x JOIN zz y ON x.a = y.a LEFT JOIN zz z ON z.a = x.a WHERE x.a IN (1, 2)",
  "SELECT * FROM a NATURAL FULL JOIN b, c CROSS JOIN d, e RIGHT JOIN (f JOIN g USING (x)) ON true",
  "SELECT t.* FROM ONLY s.t AS t(a, b)",
  "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT n FROM r",
  "WITH m AS MATERIALIZED (SELECT 1) SELECT * FROM m",
  "SELECT 1 UNION SELECT 2 INTERSECT SELECT 3 EXCEPT ALL SELECT 4 ORDER BY 1 LIMIT 2 OFFSET 1",
  "(SELECT 1 ORDER BY 1 LIMIT 1) UNION (SELECT 2)",
  "VALUES (1, 'a'), (2, 'b') ORDER BY 1",
  "SELECT DISTINCT a FROM t", "SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b DESC",
  "SELECT a, sum(b) FROM t GROUP BY ROLLUP (a, (b, c)), CUBE (d), GROUPING SETS ((a), ()) ",
  "SELECT a FROM t GROUP BY DISTINCT a",
  "SELECT sum(a) OVER w FROM t WINDOW w AS (PARTITION BY b ORDER BY c)",
  "SELECT * FROM generate_series(1, 3) WITH ORDINALITY AS g(i, n), LATERAL (SELECT i) s, ROWS FROM (f(1), g(2)) r",
  "SELECT * FROM t LIMIT ALL", "SELECT a FROM t ORDER BY a FETCH FIRST 3 ROWS WITH TIES", "SELECT FROM t",
  "SELECT * FROM a JOIN b USING (x) AS j",
  "SELECT a FROM t FOR UPDATE OF t SKIP LOCKED FOR SHARE NOWAIT", "SELECT a FROM t FOR NO KEY UPDATE FOR KEY SHARE",
];

describe("sql-text", () => {
  it.each(EXPRESSIONS)("expression %s", async (sql) => {
    const r = await roundTrip(await exprTree(sql), false);
    expect(r.ok, r.text).toBe(true);
  });
  it.each(QUERIES)("query %s", async (sql) => {
    const r = await roundTrip((await parseSql(sql))[0]!.stmt, true);
    expect(r.ok, r.text).toBe(true);
  });
  it("refuses what it does not print", async () => {
    expect(() => expr(({ XmlExpr: {} }))).toThrow(Unprintable);
    const coldefs = (await parseSql("SELECT * FROM f() AS x(a int)"))[0]!.stmt;
    expect(() => selectStmt(coldefs)).toThrow(Unprintable);
  });

  it("prints every stored expression and query of the testdata corpus faithfully", async () => {
    let stored = 0;
    const bad: string[] = [];
    const check = async (tree: PgNode, isQuery: boolean, where: string) => {
      stored++;
      try {
        const r = await roundTrip(tree, isQuery);
        if (!r.ok) bad.push(`${where}: reads back differently: ${r.text}`);
      } catch (err) {
        bad.push(`${where}: ${(err as Error).message}`);
      }
    };
    // What the catalog stores: defaults, generated columns, CHECKs (of tables and domains), index predicates, view queries.
    const walk = async (n: unknown, where: string): Promise<void> => {
      if (Array.isArray(n)) {
        for (const x of n) await walk(x, where);
        return;
      }
      if (n === null || typeof n !== "object") return;
      const o = n as PgNode;
      const con = o["Constraint"] as PgNode | undefined;
      if (con?.["raw_expr"] !== undefined) await check(con["raw_expr"] as PgNode, false, where);
      const ix = o["IndexStmt"] as PgNode | undefined;
      if (ix?.["whereClause"] !== undefined) await check(ix["whereClause"] as PgNode, false, where);
      const view = o["ViewStmt"] as PgNode | undefined;
      if (view !== undefined) await check(view["query"] as PgNode, true, where);
      for (const v of Object.values(o)) await walk(v, where);
    };
    let queries = 0;
    let printedQueries = 0;
    for (const [file, text] of testdataFiles()) {
      for (const block of text.split(/\n\s*\n/)) {
        const lines = block.split("\n").filter((l) => !l.startsWith("#"));
        const head = lines[0] ?? "";
        if (!/^(statement|query)/.test(head)) continue;
        const sql = lines.slice(1).join("\n").split("\n----")[0]!;
        let stmts;
        try {
          stmts = await parseSql(sql);
        } catch {
          continue;
        }
        for (const s of stmts) {
          await walk(s.stmt, `${file}: ${sql.slice(0, 80)}`);
          if (nodeKind(s.stmt)[0] === "SelectStmt") {
            queries++;
            try {
              if ((await roundTrip(s.stmt, true)).ok) printedQueries++;
              else bad.push(`${file}: query reads back differently: ${sql.slice(0, 120)}`);
            } catch (err) {
              if (!(err instanceof Unprintable)) throw err;
            }
          }
        }
      }
    }
    console.log(`sql-text: ${stored} stored expressions/queries in the corpus; ${printedQueries} of ${queries} top-level queries printable`);
    expect(bad).toEqual([]);
    expect(stored).toBeGreaterThan(80);
  });
});
