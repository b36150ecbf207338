import { describe, expect, it } from "vitest";
import { sqlLimits } from "../limits.ts";
import { parseSql } from "./parser.ts";

describe("parser in Node", () => {
  it("splits a query string into statements with their locations", async () => {
    const sql = "SELECT 1; SELECT 2";
    const stmts = await parseSql(sql);
    expect(stmts.length).toBe(2);
    expect(sql.slice(stmts[1]!.location, stmts[1]!.location + stmts[1]!.length).trim()).toBe("SELECT 2");
  });

  it("reports syntax errors as 42601 with Postgres's 1-based position", async () => {
    await expect(parseSql("SELECT * FROM t WHERE")).rejects.toMatchObject({ code: "42601", message: "syntax error at end of input", position: 22 });
  });

  it("refuses a statement longer than the limit (54000) and accepts one at it", async () => {
    const atLimit = `SELECT 1 ${"-".repeat(sqlLimits.statementCharsMax - 9)}`;
    expect(atLimit.length).toBe(sqlLimits.statementCharsMax);
    await expect(parseSql(atLimit)).resolves.toHaveLength(1);
    await expect(parseSql(`${atLimit} `)).rejects.toMatchObject({ code: "54000" });
  });

  it("refuses more than setOperationsMax UNION / INTERSECT / EXCEPT before parsing (54001) and parses a chain at it", async () => {
    const chain = (n: number) => `select count(*) from (${Array.from({ length: n + 1 }, () => "select 1").join(" union all ")}) s`;
    await expect(parseSql(chain(sqlLimits.setOperationsMax))).resolves.toHaveLength(1);
    // Refused by the scan of the text (its hint), not by running the parser out of its stack.
    await expect(parseSql(chain(sqlLimits.setOperationsMax + 1))).rejects.toMatchObject({
      code: "54001",
      message: "stack depth limit exceeded",
      hint: expect.stringContaining(`more than ${sqlLimits.setOperationsMax} UNION / INTERSECT / EXCEPT`),
    });
  }, 60_000);
});
