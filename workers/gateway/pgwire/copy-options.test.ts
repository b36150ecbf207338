// COPY's option checks, statement in → options or Postgres's error out. Every expected error was
// produced by PostgreSQL 15.18 for the same statement (psql, VERBOSITY verbose); positions are
// those of its ErrorResponse.
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { createSession } from "../sql/session.ts";
import { copyOptions, forcedColumns, type CopyOptions } from "./copy-options.ts";

// The statement as pgwire gets it: parsed by a session (pgwire never calls the parser itself).
const session = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: 9_800 });

async function options(sql: string): Promise<CopyOptions> {
  const [stmt] = await session.parse(sql);
  const copy = stmt!.copy!;
  return copyOptions(copy.statement, copy.position);
}

async function failure(sql: string): Promise<{ code: string; message: string; position?: number }> {
  try {
    await options(sql);
  } catch (err) {
    const e = err as { code: string; message: string; position?: number };
    return e.position === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, position: e.position };
  }
  throw new Error(`no error for ${sql}`);
}

describe("defaults and old syntax", () => {
  it("text: tab and \\N; csv: comma, empty NULL, double quote", async () => {
    expect(await options("copy t to stdout")).toMatchObject({ format: "text", delimiter: "\t", nullString: "\\N", header: false });
    expect(await options("copy t to stdout (format csv)")).toMatchObject({ format: "csv", delimiter: ",", nullString: "", quote: '"', escape: '"' });
  });

  it("reads the pre-9.0 spellings the grammar still accepts", async () => {
    expect(await options("COPY t TO STDOUT WITH CSV HEADER")).toMatchObject({ format: "csv", header: true });
    expect(await options("COPY t TO STDOUT WITH DELIMITER ','")).toMatchObject({ format: "text", delimiter: "," });
    expect(await options("COPY t FROM STDIN BINARY")).toMatchObject({ format: "binary" });
    expect(await options("COPY t TO STDOUT WITH NULL AS 'x' CSV QUOTE AS '''' ESCAPE AS 'e' FORCE QUOTE *")).toMatchObject({
      nullString: "x", quote: "'", escape: "e", forceQuote: "*",
    });
    expect(await options("copy t from stdin csv header force not null a, b force null c")).toMatchObject({ forceNotNull: ["a", "b"], forceNull: ["c"] });
  });

  it("HEADER takes Booleans, 0/1 and MATCH (COPY FROM only); ENCODING takes UTF8 and its aliases", async () => {
    expect(await options("copy t to stdout (header on)")).toMatchObject({ header: true });
    expect(await options("copy t to stdout (format csv, header 0)")).toMatchObject({ header: false });
    expect(await options("copy t from stdin (format csv, header 'MATCH')")).toMatchObject({ header: "match" });
    for (const e of ["UTF8", "utf-8", "unicode", "Utf8", "SQL_ASCII"]) expect(await options(`copy t to stdout (encoding '${e}')`)).toMatchObject({ format: "text" });
    expect(await options("copy t to stdout (freeze true, null 'a.b')")).toMatchObject({ nullString: "a.b" });
    expect(await options("copy t to stdout (format csv, delimiter '1', escape 'a', quote 'b')")).toMatchObject({ delimiter: "1" });
  });
});

// [statement, SQLSTATE, message, position?] — Postgres 15's answers.
const REFUSED: Array<[string, string, string, number?]> = [
  ["copy t from stdin (format binary, header)", "0A000", "cannot specify HEADER in BINARY mode"],
  ["copy t to stdout (format xml)", "22023", 'COPY format "xml" not recognized', 19],
  ["copy t to stdout (format 'CSV')", "22023", 'COPY format "CSV" not recognized', 19],
  ["copy t to stdout (format csv, format csv)", "42601", "conflicting or redundant options", 31],
  ["copy t to stdout (header on, freeze true, header 1)", "42601", "conflicting or redundant options", 43],
  ["copy t from stdin (format csv, force_not_null (a), force_not_null(b))", "42601", "conflicting or redundant options", 52],
  ["copy t to stdout (delimiter ',,')", "0A000", "COPY delimiter must be a single one-byte character"],
  ["copy t to stdout (delimiter 'ä')", "0A000", "COPY delimiter must be a single one-byte character"],
  ["copy t to stdout (delimiter '\\')", "22023", 'COPY delimiter cannot be "\\"'],
  ["copy t to stdout (delimiter '.')", "22023", 'COPY delimiter cannot be "."'],
  ["copy t to stdout (delimiter 'a')", "22023", 'COPY delimiter cannot be "a"'],
  ["copy t to stdout (delimiter E'\\n')", "22023", "COPY delimiter cannot be newline or carriage return"],
  ["copy t to stdout (format csv, delimiter E'\\r')", "22023", "COPY delimiter cannot be newline or carriage return"],
  ["copy t to stdout (format csv, null E'\\n')", "22023", "COPY null representation cannot use newline or carriage return"],
  ["copy t to stdout (format csv, quote '')", "0A000", "COPY quote must be a single one-byte character"],
  ["copy t to stdout (format csv, quote 'ab')", "0A000", "COPY quote must be a single one-byte character"],
  ["copy t to stdout (quote '\"')", "0A000", "COPY quote available only in CSV mode"],
  ["copy t to stdout (escape '\"')", "0A000", "COPY escape available only in CSV mode"],
  ["copy t to stdout (format csv, escape '')", "0A000", "COPY escape must be a single one-byte character"],
  ["copy t to stdout (format csv, delimiter ',', quote ',')", "22023", "COPY delimiter and quote must be different"],
  ["copy t to stdout (format binary, delimiter ',')", "42601", "cannot specify DELIMITER in BINARY mode"],
  ["copy t to stdout (format binary, null 'x')", "42601", "cannot specify NULL in BINARY mode"],
  ["copy t to stdout (format binary, quote '\"')", "0A000", "COPY quote available only in CSV mode"],
  ["copy t to stdout (force_quote (a))", "0A000", "COPY force quote available only in CSV mode"],
  ["copy t from stdin (format csv, force_quote (a))", "0A000", "COPY force quote only available using COPY TO"],
  ["copy t to stdout (format csv, force_not_null (a))", "0A000", "COPY force not null only available using COPY FROM"],
  ["copy t to stdout (format csv, force_null (a))", "0A000", "COPY force null only available using COPY FROM"],
  ["copy t from stdin (force_not_null (a))", "0A000", "COPY force not null available only in CSV mode"],
  ["copy t from stdin (format csv, force_null *)", "22023", 'argument to option "force_null" must be a list of column names', 32],
  ["copy t to stdout (encoding 'nope')", "22023", 'argument to option "encoding" must be a valid encoding name', 19],
  ["copy t to stdout (bogus 1)", "42601", 'option "bogus" not recognized', 19],
  ["copy t to stdout (header 'maybe')", "42601", 'header requires a Boolean value or "match"'],
  ["copy t to stdout (format csv, header 2)", "42601", 'header requires a Boolean value or "match"'],
  ["copy t to stdout (format csv, header match)", "0A000", 'cannot use "match" with HEADER in COPY TO'],
  ["copy t to stdout (header 'MATCH', format csv)", "0A000", 'cannot use "MATCH" with HEADER in COPY TO'],
  ["copy t to stdout (freeze 'maybe')", "42601", "freeze requires a Boolean value"],
  ["copy t to stdout (format)", "42601", "format requires a parameter"],
  ["copy t to stdout (delimiter '|', null '|')", "0A000", "COPY delimiter must not appear in the NULL specification"],
  ["copy t to stdout (format csv, null 'a,b')", "0A000", "COPY delimiter must not appear in the NULL specification"],
  ["copy t to stdout (format csv, null '\"')", "0A000", "CSV quote character must not appear in the NULL specification"],
];

describe("refused as Postgres 15 refuses them", () => {
  for (const [sql, code, message, position] of REFUSED) {
    it(sql, async () => {
      expect(await failure(sql)).toEqual(position === undefined ? { code, message } : { code, message, position });
    });
  }

  it("ENCODING takes Postgres's names and aliases in any spelling", async () => {
    expect(await options("copy t to stdout (encoding 'iso-8859-1')")).toMatchObject({ encoding: "LATIN1" });
    expect(await options("copy t to stdout (encoding 'Windows-1251')")).toMatchObject({ encoding: "WIN1251" });
    expect(await options("copy t to stdout (encoding 'unicode')")).toMatchObject({ encoding: "UTF8" });
    expect(await options("copy t to stdout (encoding 'sql_ascii')")).toMatchObject({ encoding: "SQL_ASCII" });
    expect(await options("copy t to stdout")).toMatchObject({ encoding: null });
  });

  it("a multi-byte encoding Postgres knows but Warren does not convert is 0A000 naming what is supported, not wrong bytes", async () => {
    const e = await failure("copy t to stdout (encoding 'sjis')");
    expect(e).toMatchObject({ code: "0A000", message: "COPY ENCODING 'SJIS' is not supported" });
  });
});

describe("FORCE_* column lists", () => {
  it("mark the named COPY columns; * marks all", () => {
    expect(forcedColumns("FORCE_QUOTE", ["b"], "t", ["a", "b", "c"], ["a", "b"])).toEqual([false, true]);
    expect(forcedColumns("FORCE_QUOTE", "*", "t", ["a", "b"], ["a", "b"])).toEqual([true, true]);
  });

  it("refuse unknown, repeated and uncopied columns with Postgres's codes", () => {
    expect(() => forcedColumns("FORCE_QUOTE", ["zz"], "t", ["a"], ["a"])).toThrow(expect.objectContaining({ code: "42703", message: 'column "zz" of relation "t" does not exist' }));
    expect(() => forcedColumns("FORCE_QUOTE", ["a"], null, null, ["x"])).toThrow(expect.objectContaining({ code: "42703", message: 'column "a" does not exist' }));
    expect(() => forcedColumns("FORCE_QUOTE", ["a", "a"], "t", ["a"], ["a"])).toThrow(expect.objectContaining({ code: "42701", message: 'column "a" specified more than once' }));
    expect(() => forcedColumns("FORCE_NULL", ["b"], "t", ["a", "b"], ["a"])).toThrow(expect.objectContaining({ code: "42P10", message: 'FORCE_NULL column "b" not referenced by COPY' }));
  });
});
