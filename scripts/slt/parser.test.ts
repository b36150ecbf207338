import { describe, expect, it } from "vitest";
import { appliesTo, parseRecords, type SltRecord } from "./parser.ts";

async function parse(text: string): Promise<SltRecord[]> {
  const out: SltRecord[] = [];
  for await (const r of parseRecords(text.split("\n"), "t.test")) out.push(r);
  return out;
}

describe("sqllogictest parser", () => {
  it("reads statements, queries, conditions, comments, hashes and control records", async () => {
    const script = [
      "# leading comment",
      "hash-threshold 8",
      "",
      "statement ok",
      "CREATE TABLE t1(a INTEGER,",
      "# a comment inside SQL is stripped",
      " b INTEGER)",
      "",
      "statement error",
      "INSERT INTO nowhere VALUES(1)",
      "",
      "skipif mysql # not compatible",
      "onlyif postgresql",
      "query IT rowsort label-7",
      "SELECT a, b FROM t1",
      "----",
      "1",
      "(empty)",
      "",
      "query I nosort",
      "SELECT a FROM t1",
      "----",
      "30 values hashing to 3c13dee48d9356ae19af2515e05e6b54",
      "",
      "query R",
      "SELECT 1.5",
      "",
      "halt",
      "",
    ].join("\r\n"); // CRLF, as in the index/ and random/ corpus files
    const rs = await parse(script);
    expect(rs.map((r) => [r.kind, r.line])).toEqual([
      ["hash-threshold", 2], ["statement", 4], ["statement", 9], ["query", 14], ["query", 20], ["query", 25], ["halt", 28],
    ]);
    expect(rs[0]).toMatchObject({ threshold: 8 });
    expect(rs[1]).toMatchObject({ expectError: false, sql: "CREATE TABLE t1(a INTEGER,\n b INTEGER)", conditions: [] });
    expect(rs[2]).toMatchObject({ expectError: true });
    expect(rs[3]).toMatchObject({
      types: "IT", sortMode: "rowsort", label: "label-7", sql: "SELECT a, b FROM t1",
      conditions: [{ kind: "skipif", engine: "mysql" }, { kind: "onlyif", engine: "postgresql" }],
      expected: { kind: "values", values: ["1", "(empty)"] },
    });
    expect(rs[4]).toMatchObject({ sortMode: "nosort", expected: { kind: "hash", count: 30, hash: "3c13dee48d9356ae19af2515e05e6b54" } });
    // No "----": the query must return no rows.
    expect(rs[5]).toMatchObject({ types: "R", sortMode: "nosort", label: undefined, expected: { kind: "values", values: [] } });
  });

  it("rejects malformed records with the file and line", async () => {
    await expect(parse("query X\nSELECT 1\n")).rejects.toThrow(/t\.test:1: bad query type string "X"/);
    await expect(parse("\nquery I sideways\nSELECT 1\n")).rejects.toThrow(/t\.test:2: bad sort mode/);
    await expect(parse("statement maybe\nSELECT 1\n")).rejects.toThrow(/statement ok" or "statement error/);
    await expect(parse("frobnicate\n")).rejects.toThrow(/unknown record type "frobnicate"/);
    await expect(parse("skipif mysql\n")).rejects.toThrow(/conditions without a statement/);
    await expect(parse("statement ok\n")).rejects.toThrow(/statement without SQL/);
  });

  it("applies skipif/onlyif the way the format says", () => {
    expect(appliesTo([], "postgresql")).toBe(true);
    expect(appliesTo([{ kind: "skipif", engine: "postgresql" }], "postgresql")).toBe(false);
    expect(appliesTo([{ kind: "skipif", engine: "mysql" }], "postgresql")).toBe(true);
    expect(appliesTo([{ kind: "onlyif", engine: "postgresql" }], "postgresql")).toBe(true);
    expect(appliesTo([{ kind: "onlyif", engine: "mysql" }], "postgresql")).toBe(false);
    expect(appliesTo([{ kind: "skipif", engine: "mssql" }, { kind: "onlyif", engine: "mssql" }], "postgresql")).toBe(false);
  });
});
