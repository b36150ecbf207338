// COPY's parse tree as a typed value, the query text of COPY (query) TO, and the refusals that do
// not depend on the interface (server files and programs, with Postgres 15's messages for a role
// without the server-file roles).
import { describe, expect, it } from "vitest";
import { nodeKind } from "../parse/ast.ts";
import { parseSql } from "../parse/parser.ts";
import { copyQueryText, copyStatement, refuseCopyOutsideWire, refuseServerSideCopy } from "./copy-statement.ts";

async function copy(sql: string) {
  const [raw] = await parseSql(sql);
  return copyStatement(nodeKind(raw!.stmt)[1]);
}

describe("copyStatement", () => {
  it("reads direction, relation, columns, options and endpoint", async () => {
    expect(await copy("COPY s.t (a, b) FROM STDIN WITH (FORMAT csv, FORCE_NULL (a), HEADER)")).toEqual({
      direction: "from",
      relation: { schema: "s", name: "t" },
      query: null,
      columns: ["a", "b"],
      options: [
        { name: "format", arg: { kind: "string", value: "csv" }, location: 33 },
        { name: "force_null", arg: { kind: "list", items: ["a"] }, location: 45 },
        { name: "header", arg: { kind: "none" }, location: 61 },
      ],
      endpoint: { kind: "stdio" },
      hasWhere: false,
    });
    expect(await copy("copy (insert into t values (1) returning a) to stdout csv force quote *")).toMatchObject({
      direction: "to", relation: null, query: { kind: "InsertStmt", returning: true }, options: [{ name: "format" }, { name: "force_quote", arg: { kind: "star" } }],
    });
    expect((await copy("copy t from '/x'")).endpoint).toEqual({ kind: "file", path: "/x" });
    expect((await copy("copy t to program 'gzip'")).endpoint).toEqual({ kind: "program", command: "gzip" });
    expect((await copy("copy t from stdin where a > 1")).hasWhere).toBe(true);
    expect((await copy("copy t to stdout (header 1, null 1.5)")).options.map((o) => o.arg)).toEqual([{ kind: "string", value: "1" }, { kind: "string", value: "1.5" }]);
  });
});

describe("copyQueryText", () => {
  it("finds the parenthesised query past strings, identifiers, dollar quotes and comments", () => {
    expect(copyQueryText("COPY (SELECT 1) TO STDOUT")).toEqual({ text: "SELECT 1", offset: 6 });
    const tricky = `copy /* (x) */ ( select ')', ")(", $$)$$, $q$ ) $q$, E'\\')' -- )\n , (1) ) to stdout`;
    const q = copyQueryText(tricky)!;
    expect(q.text).toBe(` select ')', ")(", $$)$$, $q$ ) $q$, E'\\')' -- )\n , (1) `);
    expect(tricky.slice(q.offset, q.offset + q.text.length)).toBe(q.text);
    expect(copyQueryText("copy t to stdout")).toBeNull();
    expect(copyQueryText("copy t (a) to stdout")).toBeNull();
  });
});

describe("refusals", () => {
  it("server files and programs: 42501 with Postgres's message and hint", async () => {
    const hint = "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.";
    expect(() => refuseServerSideCopy(copyStatementOf("copy t to stdout"))).not.toThrow();
    const cases: Array<[string, string]> = [
      ["copy t to '/tmp/x'", "must be superuser or have privileges of the pg_write_server_files role to COPY to a file"],
      ["copy (select 1) to '/tmp/x'", "must be superuser or have privileges of the pg_write_server_files role to COPY to a file"],
      ["copy t from '/tmp/x'", "must be superuser or have privileges of the pg_read_server_files role to COPY from a file"],
      ["copy t to program 'cat'", "must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program"],
      ["copy t from program 'cat'", "must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program"],
    ];
    for (const [sql, message] of cases) {
      expect(() => refuseServerSideCopy(copyStatementOf(sql))).toThrow(expect.objectContaining({ code: "42501", message, hint }));
    }
  });

  it("a COPY the session itself receives (POST /sql) is 0A000 with a hint; server files still 42501", async () => {
    expect(() => refuseCopyOutsideWire(bodyOf("copy t to stdout"))).toThrow(expect.objectContaining({ code: "0A000", message: "COPY … TO STDOUT needs the Postgres wire protocol: this interface has no COPY data stream" }));
    expect(() => refuseCopyOutsideWire(bodyOf("copy t from stdin"))).toThrow(expect.objectContaining({ code: "0A000", hint: expect.stringContaining("warren tunnel") }));
    expect(() => refuseCopyOutsideWire(bodyOf("copy t from '/x'"))).toThrow(expect.objectContaining({ code: "42501" }));
  });
});

// The parser is asynchronous (WASM); these tests parse once up front.
const parsed = new Map<string, Awaited<ReturnType<typeof parseSql>>>();
const ALL = ["copy t to stdout", "copy t from stdin", "copy t from '/x'", "copy t to '/tmp/x'", "copy (select 1) to '/tmp/x'", "copy t from '/tmp/x'", "copy t to program 'cat'", "copy t from program 'cat'"];
await Promise.all(ALL.map(async (s) => parsed.set(s, await parseSql(s))));
function bodyOf(sql: string) {
  return nodeKind(parsed.get(sql)![0]!.stmt)[1];
}
function copyStatementOf(sql: string) {
  return copyStatement(bodyOf(sql));
}
