// Stored SQL text (stored-sql.ts): what is stored reads back as the tree it came from, what
// cannot be stored faithfully is refused before anything is written, format-1 descriptors are
// upgraded on read, and the isolate's cache of parsed texts stays within its bound.
import { describe, expect, it } from "vitest";
import { DESCRIPTOR_FORMAT, type TableDesc, type ViewDesc } from "../../catalog/descriptors.ts";
import { sqlLimits } from "../limits.ts";
import type { PgNode } from "../parse/ast.ts";
import { clearParseCache, parseSql, storedTrees } from "../parse/parser.ts";
import { exprNode, queryNode, sameTree, storeExpr, storeQuery, upgradeDescriptor } from "./stored-sql.ts";

async function exprTree(sql: string): Promise<PgNode> {
  const [s] = await parseSql(`SELECT ${sql}`);
  return ((s!.stmt["SelectStmt"] as PgNode)["targetList"] as PgNode[])[0]!["ResTarget"]["val"] as PgNode;
}

function table(fields: Partial<TableDesc>): TableDesc {
  return {
    kind: "table", id: 100, name: "t", schemaId: 2, version: 1, nextColumnId: 3, nextIndexId: 3, foreignKeys: [], pkeyName: "t_pkey", options: {},
    columns: [
      { id: 1, name: "a", type: { oid: 23, typmod: -1 }, nullable: false, defaultExpr: null, hidden: false, identity: "" },
      { id: 2, name: "b", type: { oid: 25, typmod: -1 }, nullable: true, defaultExpr: null, hidden: false, identity: "" },
    ],
    primaryIndex: { id: 1, name: "t_pkey", unique: true, primary: true, columns: [{ columnId: 1, desc: false }] },
    indexes: [], checks: [],
    ...fields,
  };
}

describe("stored SQL", () => {
  it("stores an expression as text that reads back as its tree", async () => {
    const tree = await exprTree("a > 0 AND b LIKE 'x%'");
    const text = storeExpr(tree);
    expect(text).toBe(`("a" > 0) AND ("b" LIKE 'x%')`);
    clearParseCache();
    expect(sameTree(exprNode(text), tree)).toBe(true);
  });

  it("refuses with 0A000 what it cannot print, or what would read back as something else", async () => {
    expect(() => storeExpr({ XmlExpr: { op: "IS_XMLCONCAT" } })).toThrow(expect.objectContaining({ code: "0A000" }));
    const coldefs = (await parseSql("SELECT * FROM f() AS x(a int)"))[0]!.stmt;
    expect(() => storeQuery(coldefs)).toThrow(expect.objectContaining({ code: "0A000" }));
    // A tree no parser makes (a unary "-" over a number it would have folded) prints as text that reads back folded.
    expect(() => storeExpr({ A_Expr: { kind: "AEXPR_OP", name: [{ String: { sval: "-" } }], rexpr: { A_Const: { ival: { ival: 1 } } } } })).toThrow(
      expect.objectContaining({ code: "0A000", message: expect.stringContaining("reads back differently") }),
    );
  });

  it("upgrades a format-1 table: trees become text, one it cannot print stays a marked legacy tree", async () => {
    const check = await exprTree("a > 0");
    const dflt = await exprTree("upper('x')");
    const odd = { XmlExpr: { op: "IS_XMLCONCAT" } };
    const old = table({
      checks: [{ name: "t_a_check", expr: check as never }],
      indexes: [{ id: 2, name: "t_b_idx", unique: false, primary: false, columns: [{ columnId: 2, desc: false }], predicate: odd as never }],
    });
    old.columns[1]!.defaultExpr = dflt as never;
    const up = upgradeDescriptor(old) as TableDesc;
    expect(up.format).toBe(DESCRIPTOR_FORMAT);
    expect(up.checks[0]!.expr).toBe(`"a" > 0`);
    expect(up.columns[1]!.defaultExpr).toBe(`"upper"('x')`);
    expect(up.indexes[0]!.predicate).toEqual({ legacyTree: odd });
    expect(exprNode(up.indexes[0]!.predicate!)).toBe(odd);
    // Upgrading again changes nothing.
    expect(upgradeDescriptor(up)).toBe(up);
  });

  it("upgrades a format-1 view", async () => {
    const q = (await parseSql("SELECT a, count(*) FROM t GROUP BY a"))[0]!.stmt;
    const view: ViewDesc = { kind: "view", id: 101, name: "v", schemaId: 2, version: 1, query: q as never, columnNames: [] };
    const up = upgradeDescriptor(view) as ViewDesc;
    expect(up.query).toBe(`SELECT "a", "count"(*) FROM "t" GROUP BY "a"`);
    expect(sameTree(queryNode(up.query), q)).toBe(true);
  });

  it("refuses a descriptor of a newer format (XX000) rather than misreading it", () => {
    expect(() => upgradeDescriptor({ ...table({}), format: DESCRIPTOR_FORMAT + 1 })).toThrow(expect.objectContaining({ code: "XX000" }));
  });

  it("keeps at most storedSqlCacheEntriesMax parsed texts", async () => {
    await parseSql("SELECT 1");
    clearParseCache();
    for (let i = 0; i < sqlLimits.storedSqlCacheEntriesMax; i++) exprNode(`${i}`);
    expect(storedTrees.size).toBe(sqlLimits.storedSqlCacheEntriesMax);
    exprNode("-1");
    expect(storedTrees.size).toBe(sqlLimits.storedSqlCacheEntriesMax);
    // The oldest went first: reading it parses it again (a new tree, equal to the old one).
    expect(storedTrees.get("e:0")).toBeUndefined();
    expect(storedTrees.get("e:-1")).toBeDefined();
  });
});
