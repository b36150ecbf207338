import { describe, expect, it } from "vitest";
import { parseSql } from "./parser.ts";
import { parseTreeDepth } from "./tree-depth.ts";

const depthOf = async (sql: string): Promise<number> => parseTreeDepth(await parseSql(sql));

describe("parseTreeDepth", () => {
  it("counts nodes, not parentheses or fields", async () => {
    // SelectStmt → ResTarget → A_Const → Integer.
    const base = await depthOf("SELECT 1");
    expect(await depthOf("SELECT ((((1))))")).toBe(base);
    expect(await depthOf("SELECT 1+1")).toBe(base + 1);
    expect(await depthOf("SELECT 1+1+1")).toBe(base + 2);
  });

  it("counts a UNION chain's left spine as one level and right nesting as one level each", async () => {
    const chain = (n: number): string => Array.from({ length: n }, (_, i) => `SELECT ${i}`).join(" UNION ALL ");
    expect(await depthOf(chain(50))).toBe(await depthOf(chain(2)));
    const right = (n: number): string => `SELECT ${"1 UNION ALL (SELECT ".repeat(n)}1${")".repeat(n)}`;
    expect((await depthOf(right(20))) - (await depthOf(right(10)))).toBe(10);
  });
});
