// The data-driven SQL tests in testdata/*.test: SQL in, rows or SQLSTATE out, run by
// testdata.test.ts over the in-memory KV and by testdata-storage-node.serial.test.ts over a real
// storage node process — the same files, so the engine cannot pass on one KV and not the other.
//
//   statement ok              the statement succeeds
//   statement error 23505     it fails with that SQLSTATE (optionally followed by a message regex)
//   query [rowsort] [colnames]
//   SELECT …
//   ----
//   expected rows, one per line, columns joined by " | ", NULL for SQL NULL
//
//   notices
//   SELECT f()
//   ----
//   NOTICE:  the messages the statement raised, as psql prints them (SEVERITY, two spaces, text)
//
// Blocks are separated by blank lines; lines starting with # are comments. `session NAME`
// switches to (or opens) another session of the same tenant.
/// <reference types="vite/client" />
import { PgError } from "../../../../common/errors.ts";
import type { TenantKvCapability } from "../../kv/capability.ts";
import { Session } from "../session.ts";

/** Every testdata file: its name (e.g. "basic.test") and its text. */
export function testdataFiles(): Array<[name: string, text: string]> {
  const files = import.meta.glob("../testdata/*.test", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
  return Object.entries(files).map(([path, text]) => [path.replace("../testdata/", ""), text]);
}

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

/**
 * Runs one testdata file against a fresh tenant reached through `kv`; returns the failures, each
 * with its file and line (empty when every block matched).
 */
export async function runTestdataFile(file: string, text: string, kv: TenantKvCapability, tenantId: number): Promise<string[]> {
  const sessions = new Map<string, Session>();
  const open = (name: string): Session => {
    let s = sessions.get(name);
    if (s === undefined) {
      s = new Session({ kv, tenantId, settings: { user: "tester", database: "testdb" } });
      sessions.set(name, s);
    }
    return s;
  };
  let session = open("default");
  const failures: string[] = [];
  for (const b of parseBlocks(text)) {
    const where = `${file}:${b.line}`;
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
    if (words[0] === "notices") {
      try {
        const results = await session.execute(b.sql);
        const got = results.flatMap((r) => (r.notices ?? []).map((n) => `${n.severity}:  ${n.error.message}`));
        const want = b.expected ?? [];
        if (JSON.stringify(got) !== JSON.stringify(want)) {
          failures.push(`${where}: notices differ\n  ${b.sql}\n  want:\n    ${want.join("\n    ")}\n  got:\n    ${got.join("\n    ")}`);
        }
      } catch (err) {
        failures.push(`${where}: statement failed: ${(err as PgError).code ?? ""} ${(err as Error).message}\n  ${b.sql}`);
      }
      continue;
    }
    failures.push(`${where}: unknown directive "${b.head}"`);
  }
  return failures;
}
