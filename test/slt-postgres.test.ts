// The sqllogictest runner checked against the reference it is calibrated on: real PostgreSQL 15.
// sqllogictest scripts are engine-neutral apart from skipif/onlyif, so PostgreSQL must pass the
// select1 script completely; and a script with planted mistakes must fail exactly where planted
// (a runner that passes everything would otherwise look perfect).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveCorpusDir } from "../scripts/slt/corpus.ts";
import { createPostgresTarget } from "../scripts/slt/postgres-target.ts";
import { runFile } from "../scripts/slt/runner.ts";
import type { SqlTarget } from "../scripts/slt/target.ts";
import { postgresAvailable } from "./harness/postgres.ts";

const corpus = resolveCorpusDir();

describe.skipIf(!postgresAvailable())("sqllogictest runner on PostgreSQL 15", () => {
  let target: SqlTarget;
  let dir: string;
  beforeAll(async () => {
    target = await createPostgresTarget();
    dir = mkdtempSync(join(tmpdir(), "warren-slt-"));
  });
  afterAll(async () => {
    await target?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(!corpus.found)("passes every record of select1.test", async () => {
    const r = await runFile(join(corpus.dir, "select1.test"), target);
    expect(r.abortedBy).toBeUndefined();
    expect(r.failures).toEqual([]);
    expect(r.statements).toEqual({ run: 31, passed: 31 });
    expect(r.queries).toEqual({ run: 1000, passed: 1000 });
  });

  it("fails exactly the planted mistakes and skips what conditions exclude", async () => {
    // Each record is a list of lines; records are joined with one blank line.
    const records: Record<string, string[]> = {
      create: ["statement ok", "CREATE TABLE t(a INTEGER, b TEXT, c REAL)"],
      insert: ["statement ok", "INSERT INTO t VALUES (1,'x',1.25),(2,'',NULL),(10,'y',-0.5)"],
      allTypes: ["query ITR rowsort", "SELECT a, b, c FROM t", "----",
        "1", "x", "1.250", "10", "y", "-0.500", "2", "(empty)", "NULL"],
      wrongValue: ["query I nosort", "SELECT a FROM t ORDER BY a", "----", "1", "2", "11"],
      wrongHash: ["query I valuesort", "SELECT a FROM t", "----", "3 values hashing to 00000000000000000000000000000000"],
      // md5("1\n10\n2\n") by md5sum: valuesort orders "10" before "2".
      rightHash: ["query I valuesort lbl", "SELECT a FROM t", "----", "3 values hashing to 91ff90854a35e9226df03b9b06c2f9c8"],
      noError: ["statement error", "SELECT 1"],
      error: ["statement error", "SELECT * FROM missing_table"],
      columns: ["query II", "SELECT 1", "----", "1"],
      skipped: ["skipif postgresql", "statement ok", "THIS IS NOT SQL"],
      mysqlOnly: ["onlyif mysql # comment after the engine name", "statement ok", "THIS IS NOT SQL EITHER"],
      label: ["query I nosort lbl", "SELECT a FROM t WHERE a > 1 ORDER BY a", "----", "2", "10"],
      missing: ["statement ok", "INSERT INTO nope VALUES (1)"],
      halt: ["halt"],
      never: ["statement ok", "THIS NEVER RUNS"],
    };
    const at: Record<string, number> = {};
    let text = "";
    let lineNo = 1;
    for (const [name, lines] of Object.entries(records)) {
      at[name] = lineNo + (lines[0]!.startsWith("skipif") || lines[0]!.startsWith("onlyif") ? 1 : 0);
      text += `${lines.join("\n")}\n\n`;
      lineNo += lines.length + 1;
    }
    const file = join(dir, "planted.test");
    writeFileSync(file, text);

    const r = await runFile(file, target, { failureDetailsMax: 100 });
    expect(r.abortedBy).toBeUndefined();
    expect(r.halted).toBe(true);
    expect(r.failures.map((f) => [f.line, f.reason])).toEqual([
      [at.wrongValue, "wrong-result"], [at.wrongHash, "wrong-result"], [at.noError, "unexpected-success"],
      [at.columns, "column-count"], [at.label, "label-mismatch"], [at.missing, "error"],
    ]);
    expect(r.failures.find((f) => f.line === at.missing)?.code).toBe("42P01");
    expect(r.failures.find((f) => f.line === at.wrongValue)).toMatchObject({ expected: ["1", "2", "11"], actual: ["1", "2", "10"] });
    expect(r.statements).toEqual({ run: 5, passed: 3 });
    expect(r.queries).toEqual({ run: 6, passed: 2 });
    expect(r.skipped).toBe(2);

    // Records in `exclude` run (their effects matter) but count in neither tally.
    const ex = await runFile(file, target, { exclude: new Set([at.wrongValue!, at.noError!, at.error!]) });
    expect(ex.failedLines).toEqual([at.wrongHash, at.columns, at.label, at.missing]);
    expect(ex.excluded).toEqual({ statements: 2, queries: 1, passed: 1 });
    expect(ex.statements).toEqual({ run: 3, passed: 2 });
    expect(ex.queries).toEqual({ run: 5, passed: 2 });
  });
});
