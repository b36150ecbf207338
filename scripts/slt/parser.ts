// Streaming parser for sqllogictest scripts (the format in conformance/slt/FORMAT.wiki).
//
// A script is a sequence of records separated by blank lines; '#' lines are comments wherever
// they appear (also inside SQL, where they are stripped). Records:
//   statement ok|error            SQL on the following lines
//   query <types> [sort] [label]  SQL, then optionally "----" and one expected value per line
//   hash-threshold <n>            results with more than n values are given as an MD5 hash
//   halt                          ignore the rest of the script
// Statement and query records may be prefixed by `skipif <db>` / `onlyif <db>` lines.
//
// Files are read line by line (select*.test and index/* have tens of thousands of records): the
// parser yields one record at a time and never holds more than one record in memory.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";

export type SortMode = "nosort" | "rowsort" | "valuesort";

export interface Condition {
  kind: "skipif" | "onlyif";
  engine: string;
}

export interface StatementRecord {
  kind: "statement";
  /** 1-based line of the `statement` line, used as the record's id in reports. */
  line: number;
  conditions: Condition[];
  expectError: boolean;
  sql: string;
}

export type ExpectedResult =
  | { kind: "values"; values: string[] }
  | { kind: "hash"; count: number; hash: string };

export interface QueryRecord {
  kind: "query";
  line: number;
  conditions: Condition[];
  /** One of I (integer), T (text), R (real) per result column. */
  types: string;
  sortMode: SortMode;
  label: string | undefined;
  sql: string;
  expected: ExpectedResult;
}

export interface HashThresholdRecord {
  kind: "hash-threshold";
  line: number;
  threshold: number;
}

export interface HaltRecord {
  kind: "halt";
  line: number;
  conditions: Condition[];
}

export type SltRecord = StatementRecord | QueryRecord | HashThresholdRecord | HaltRecord;

export class SltParseError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = "SltParseError";
  }
}

const hashLine = /^(\d+) values hashing to ([0-9a-f]{32})$/;
const typeString = /^[ITR]+$/;

/** Parses one record from its non-comment lines (with their line numbers). */
export function parseRecord(file: string, lines: Array<{ text: string; line: number }>): SltRecord {
  const conditions: Condition[] = [];
  let i = 0;
  for (; i < lines.length; i++) {
    const words = lines[i]!.text.trim().split(/\s+/);
    if (words[0] !== "skipif" && words[0] !== "onlyif") break;
    if (words[1] === undefined) throw new SltParseError(file, lines[i]!.line, `${words[0]} without a database name`);
    conditions.push({ kind: words[0], engine: words[1] });
  }
  const head = lines[i];
  if (head === undefined) throw new SltParseError(file, lines[0]!.line, "conditions without a statement or query");
  const words = head.text.trim().split(/\s+/);
  const body = lines.slice(i + 1);
  switch (words[0]) {
    case "statement": {
      if (words[1] !== "ok" && words[1] !== "error") {
        throw new SltParseError(file, head.line, `expected "statement ok" or "statement error", got "${head.text}"`);
      }
      const sql = body.map((l) => l.text).join("\n");
      if (sql.trim() === "") throw new SltParseError(file, head.line, "statement without SQL");
      return { kind: "statement", line: head.line, conditions, expectError: words[1] === "error", sql };
    }
    case "query": {
      const types = words[1] ?? "";
      if (!typeString.test(types)) throw new SltParseError(file, head.line, `bad query type string "${types}"`);
      const sortMode = (words[2] ?? "nosort") as SortMode;
      if (sortMode !== "nosort" && sortMode !== "rowsort" && sortMode !== "valuesort") {
        throw new SltParseError(file, head.line, `bad sort mode "${words[2]}"`);
      }
      const sep = body.findIndex((l) => l.text === "----");
      const sqlLines = sep < 0 ? body : body.slice(0, sep);
      const resultLines = sep < 0 ? [] : body.slice(sep + 1).map((l) => l.text);
      const sql = sqlLines.map((l) => l.text).join("\n");
      if (sql.trim() === "") throw new SltParseError(file, head.line, "query without SQL");
      const m = resultLines.length === 1 ? hashLine.exec(resultLines[0]!.trim()) : null;
      const expected: ExpectedResult = m
        ? { kind: "hash", count: Number(m[1]), hash: m[2]! }
        : { kind: "values", values: resultLines };
      return { kind: "query", line: head.line, conditions, types, sortMode, label: words[3], sql, expected };
    }
    case "hash-threshold": {
      const threshold = Number(words[1]);
      if (!Number.isInteger(threshold) || threshold < 0) {
        throw new SltParseError(file, head.line, `bad hash-threshold "${words[1]}"`);
      }
      return { kind: "hash-threshold", line: head.line, threshold };
    }
    case "halt":
      return { kind: "halt", line: head.line, conditions };
    default:
      throw new SltParseError(file, head.line, `unknown record type "${words[0]}"`);
  }
}

/** Yields the records of a script one at a time. */
export async function* parseRecords(lines: AsyncIterable<string> | Iterable<string>, file = "<input>"): AsyncGenerator<SltRecord> {
  let pending: Array<{ text: string; line: number }> = [];
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    // Some corpus files have CRLF line ends.
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.startsWith("#")) continue;
    if (text.trim() === "") {
      if (pending.length > 0) yield parseRecord(file, pending);
      pending = [];
      continue;
    }
    pending.push({ text, line: lineNo });
  }
  if (pending.length > 0) yield parseRecord(file, pending);
}

export function parseFile(path: string): AsyncGenerator<SltRecord> {
  const rl = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  return parseRecords(rl, path);
}

/**
 * Whether a record runs on `engine`: not if a `skipif` names it, not if an `onlyif` names
 * another engine (the format's rule).
 */
export function appliesTo(conditions: Condition[], engine: string): boolean {
  for (const c of conditions) {
    if (c.kind === "skipif" && c.engine === engine) return false;
    if (c.kind === "onlyif" && c.engine !== engine) return false;
  }
  return true;
}
