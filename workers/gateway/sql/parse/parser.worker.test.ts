// The parser inside workerd: libpg-query's WASM loads through wasm-loader.ts (the .wasm imported as
// a module, no filesystem, no self.location) and parses; syntax errors carry 42601 and a position.
import { describe, expect, it } from "vitest";
import { parseSql } from "./parser.ts";

describe("parser in workerd", () => {
  it("parses statements and reports syntax errors with their position", async () => {
    const stmts = await parseSql("SELECT 1; INSERT INTO t VALUES ($1)");
    expect(stmts.map((s) => Object.keys(s.stmt)[0])).toEqual(["SelectStmt", "InsertStmt"]);
    await expect(parseSql("SELECT FROM WHERE")).rejects.toMatchObject({ code: "42601", position: 13 });
  });
});
