// Fills in a testdata file's expectations (workers/gateway/sql/testing/testdata-runner.ts format)
// from PostgreSQL 15, the oracle: each block runs on a throwaway server and the file is rewritten
// with what PostgreSQL answered — query rows, SQLSTATE and message of `statement error`, notices.
// A `statement ok` that fails on PostgreSQL is reported (the file is wrong, not the oracle).
//
//   node_modules/.bin/node scripts/testdata-from-postgres.ts workers/gateway/sql/testdata/x.test
import { readFileSync, writeFileSync } from "node:fs";
import pg from "pg";
import { startPostgres } from "../test/harness/postgres.ts";

interface Block {
  head: string;
  sql: string;
  comments: string[];
}

function parseBlocks(text: string): { blocks: Block[]; header: string[] } {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  const header: string[] = [];
  let comments: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.trim() === "") {
      i++;
      continue;
    }
    if (l.startsWith("#")) {
      comments.push(l);
      i++;
      continue;
    }
    if (blocks.length === 0 && header.length === 0) header.push(...comments.splice(0));
    const head = l.trim();
    i++;
    const sql: string[] = [];
    while (i < lines.length && lines[i]!.trim() !== "" && lines[i] !== "----") sql.push(lines[i++]!);
    if (lines[i] === "----") {
      i++;
      while (i < lines.length && lines[i]!.trim() !== "") i++;
    }
    blocks.push({ head, sql: sql.join("\n"), comments });
    comments = [];
  }
  return { blocks, header };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const file = process.argv[2];
if (file === undefined) throw new Error("usage: testdata-from-postgres.ts FILE");
const { blocks, header } = parseBlocks(readFileSync(file, "utf8"));
const server = await startPostgres();
const clients = new Map<string, pg.Client>();
const notices: string[] = [];
async function open(name: string): Promise<pg.Client> {
  let c = clients.get(name);
  if (c === undefined) {
    c = new pg.Client({ connectionString: server.url, types: { getTypeParser: () => (v: string) => v } });
    c.on("notice", (n) => notices.push(`${n.severity}:  ${n.message}`));
    await c.connect();
    clients.set(name, c);
  }
  return c;
}
const out: string[] = [...header];
let problems = 0;
try {
  let client = await open("default");
  for (const b of blocks) {
    if (out.length > 0) out.push("");
    out.push(...b.comments);
    const words = b.head.split(/\s+/);
    if (words[0] === "session") {
      client = await open(words[1]!);
      out.push(b.head);
      continue;
    }
    notices.length = 0;
    let result: pg.QueryResult | pg.QueryResult[] | null = null;
    let error: (Error & { code?: string }) | null = null;
    try {
      result = await client.query({ text: b.sql, rowMode: "array" });
    } catch (err) {
      error = err as Error & { code?: string };
    }
    if (words[0] === "statement") {
      if (error !== null) out.push(`statement error ${error.code} ${escapeRegex(error.message)}`);
      else {
        if (words[1] === "error") {
          console.error(`${file}: expected an error, PostgreSQL succeeded:\n  ${b.sql}`);
          problems++;
        }
        out.push("statement ok");
      }
      out.push(b.sql);
      continue;
    }
    if (error !== null) {
      console.error(`${file}: ${words[0]} failed on PostgreSQL: ${error.code} ${error.message}\n  ${b.sql}`);
      problems++;
      out.push(b.head, b.sql);
      continue;
    }
    if (words[0] === "notices") {
      out.push(b.head, b.sql, "----", ...notices);
      continue;
    }
    const last = Array.isArray(result) ? result[result.length - 1]! : result!;
    let rows = (last.rows as unknown[][]).map((r) => r.map((v) => (v === null ? "NULL" : String(v))).join(" | "));
    if (words.includes("rowsort")) rows = rows.sort();
    if (words.includes("colnames")) rows = [last.fields.map((f: { name: string }) => f.name).join(" | "), ...rows];
    out.push(b.head, b.sql, "----", ...rows);
  }
} finally {
  for (const c of clients.values()) await c.end();
  await server.stop();
}
writeFileSync(file, `${out.join("\n")}\n`);
console.log(`${file}: ${blocks.length} blocks from PostgreSQL 15${problems > 0 ? `, ${problems} problems` : ""}`);
process.exitCode = problems > 0 ? 1 : 0;
