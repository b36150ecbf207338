// Runs the data-driven SQL tests in testdata/*.test: SQL in, rows or SQLSTATE out. Each file gets
// a fresh tenant over the in-memory KV (through the wire codec and the capability interface).
//
//   statement ok              the statement succeeds
//   statement error 23505     it fails with that SQLSTATE (optionally followed by a message regex)
//   query [rowsort] [colnames]
//   SELECT …
//   ----
//   expected rows, one per line, columns joined by " | ", NULL for SQL NULL
//
// Blocks are separated by blank lines; lines starting with # are comments. `session NAME`
// switches to (or opens) another session of the same tenant.
/// <reference types="vite/client" />
import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { Session } from "./session.ts";

const files = import.meta.glob("./testdata/*.test", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

interface Block {
  line: number;
  head: string;
  sql: string;
  expected: string[] | null;
}

function parseBlocks(text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === "" || l.startsWith("#")) {
      i++;
      continue;
    }
    const head = l.trim();
    const start = i + 1;
    i++;
    if (head.startsWith("session ")) {
      blocks.push({ line: start, head, sql: "", expected: null });
      continue;
    }
    const sql: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== "" && lines[i] !== "----") sql.push(lines[i++]!);
    let expected: string[] | null = null;
    if (lines[i] === "----") {
      i++;
      expected = [];
      while (i < lines.length && lines[i]!.trim() !== "") expected.push(lines[i++]!);
    }
    blocks.push({ line: start, head, sql: sql.join("\n"), expected });
  }
  return blocks;
}

function render(rows: Array<Array<string | null>>): string[] {
  return rows.map((r) => r.map((v) => (v === null ? "NULL" : v)).join(" | "));
}

let nextTenant = 1000;
for (const [path, text] of Object.entries(files)) {
  const tenantId = nextTenant++;
  describe(path.replace("./testdata/", ""), () => {
    it("matches", async () => {
      const mem = new MemoryKv();
      const cap = memoryCapability(mem);
      const sessions = new Map<string, Session>();
      const open = (name: string): Session => {
        let s = sessions.get(name);
        if (s === undefined) {
          s = new Session({ kv: cap, tenantId, settings: { user: "tester", database: "testdb" } });
          sessions.set(name, s);
        }
        return s;
      };
      let session = open("default");
      const failures: string[] = [];
      for (const b of parseBlocks(text)) {
        const where = `${path}:${b.line}`;
        if (b.head.startsWith("session ")) {
          session = open(b.head.slice(8).trim());
          continue;
        }
        const words = b.head.split(/\s+/);
        if (words[0] === "statement") {
          try {
            await session.execute(b.sql);
            if (words[1] === "error") failures.push(`${where}: expected error ${words[2]}, statement succeeded\n  ${b.sql}`);
          } catch (err) {
            const e = err instanceof PgError ? err : null;
            if (words[1] !== "error") failures.push(`${where}: unexpected error ${e?.code ?? ""} ${String((err as Error).message)}\n  ${b.sql}`);
            else if (e === null || e.code !== words[2]) failures.push(`${where}: expected ${words[2]}, got ${e?.code ?? "non-PgError"} ${String((err as Error).message)}`);
            else if (words.length > 3 && !new RegExp(words.slice(3).join(" ")).test(e.message)) failures.push(`${where}: message "${e.message}" does not match /${words.slice(3).join(" ")}/`);
          }
          continue;
        }
        if (words[0] === "query") {
          try {
            const results = await session.execute(b.sql);
            const last = results[results.length - 1]!;
            let got = render(last.rows);
            if (words.includes("rowsort")) got = got.sort();
            if (words.includes("colnames")) got = [last.fields.map((f) => f.name).join(" | "), ...got];
            const want = b.expected ?? [];
            if (JSON.stringify(got) !== JSON.stringify(want)) {
              failures.push(`${where}: query results differ\n  ${b.sql}\n  want:\n    ${want.join("\n    ")}\n  got:\n    ${got.join("\n    ")}`);
            }
          } catch (err) {
            failures.push(`${where}: query failed: ${(err as PgError).code ?? ""} ${(err as Error).message}\n  ${b.sql}`);
          }
          continue;
        }
        failures.push(`${where}: unknown directive "${b.head}"`);
      }
      expect(failures.join("\n\n")).toBe("");
    });
  });
}

describe("describe (extended query protocol)", () => {
  it("infers parameter types and result columns without running the statement", async () => {
    const mem = new MemoryKv();
    const s = new Session({ kv: memoryCapability(mem), tenantId: 999 });
    await s.execute("CREATE TABLE d (id INT PRIMARY KEY, name TEXT, price NUMERIC(8,2))");
    const sel = await s.describe("SELECT name, price * 2 AS p FROM d WHERE id = $1 AND name LIKE $2");
    expect(sel.paramTypes).toEqual([23, 25]);
    expect(sel.fields.map((f) => [f.name, f.dataTypeID])).toEqual([["name", 25], ["p", 1700]]);
    const ins = await s.describe("INSERT INTO d VALUES ($1, $2, $3) RETURNING id", [20]);
    expect(ins.paramTypes).toEqual([20, 25, 1700]);
    expect(ins.fields.map((f) => f.name)).toEqual(["id"]);
    expect((await s.execute("SELECT count(*) FROM d"))[0]!.rows).toEqual([["0"]]);
    await expect(s.describe("SELECT * FROM missing")).rejects.toMatchObject({ code: "42P01" });
    expect(s.transactionStatus()).toBe("I");
    await s.execute("BEGIN");
    expect(s.transactionStatus()).toBe("T");
    await s.execute("SELECT 1/0").catch(() => undefined);
    expect(s.transactionStatus()).toBe("E");
    await s.execute("ROLLBACK");
    expect(s.transactionStatus()).toBe("I");
  });
});

describe("executeStreaming", () => {
  it("hands query rows to the sink in batches and returns the tag and count only", async () => {
    const s = new Session({ kv: memoryCapability(new MemoryKv()), tenantId: 998 });
    await s.execute("CREATE TABLE st (id INT PRIMARY KEY)");
    await s.execute("INSERT INTO st SELECT g FROM generate_series(1, 3000) g");
    const batches: number[] = [];
    const r = await s.executeStreaming("SELECT id FROM st", [], async (fields, rows) => {
      expect(fields.map((f) => f.name)).toEqual(["id"]);
      batches.push(rows.length);
    });
    expect(r).toMatchObject({ command: "SELECT", rowCount: 3000, rows: [] });
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(3000);
    const ins = await s.executeStreaming("INSERT INTO st VALUES (5000) RETURNING id", [], async (_f, rows) => {
      expect(rows).toEqual([["5000"]]);
    });
    expect(ins).toMatchObject({ command: "INSERT", rowCount: 1 });
  });
});

describe("sealed transactions", () => {
  it("carries an open transaction to another session, JSON round trip included", async () => {
    const cap = memoryCapability(new MemoryKv());
    const a = new Session({ kv: cap, tenantId: 997 });
    await a.execute("CREATE TABLE h (id INT PRIMARY KEY, v INT)");
    await a.execute("INSERT INTO h VALUES (1, 10)");
    await a.execute("BEGIN");
    await a.execute("UPDATE h SET v = 11 WHERE id = 1");
    await a.execute("CREATE TABLE h2 (x INT)");
    await a.execute("INSERT INTO h2 VALUES (5)");
    const handle = JSON.parse(JSON.stringify(a.sealTransaction()));
    expect(a.transactionStatus()).toBe("I");
    const b = new Session({ kv: cap, tenantId: 997 });
    await b.resumeTransaction(handle);
    expect((await b.execute("SELECT v FROM h WHERE id = 1"))[0]!.rows).toEqual([["11"]]);
    expect((await b.execute("SELECT x FROM h2"))[0]!.rows).toEqual([["5"]]);
    await b.execute("COMMIT");
    expect((await a.execute("SELECT v FROM h"))[0]!.rows).toEqual([["11"]]);
    expect((await a.execute("SELECT count(*) FROM h2"))[0]!.rows).toEqual([["1"]]);
    await expect(b.resumeTransaction({ ...handle, txn: { ...handle.txn, v: 2 } })).rejects.toMatchObject({ code: "25000" });
  });
});
