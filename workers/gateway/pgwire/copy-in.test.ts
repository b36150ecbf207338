// COPY … FROM STDIN through a PgConnection over the real session (in-memory KV): formats and
// options end to end, the batches it writes (and their bounds), the line Postgres names when a row
// fails, and what stays written. Expected errors are PostgreSQL 15.18's for the same input
// (CONTEXT included); loading PG-produced bytes of every type is test/clients/copy.test.ts.
import { describe, expect, it } from "vitest";
import { pgwireLimits } from "./limits.ts";
import { txnLimits } from "../txn/limits.ts";
import { openTestConnection, type TestConnection } from "./test-connection.ts";
import { copyOutBytes, fe, summary, type BackendMsg } from "./wire-test-client.ts";

const dec = new TextDecoder();

function errorOf(msgs: BackendMsg[]): Record<string, string> {
  const e = msgs.find((m) => m.type === "E");
  if (e === undefined || e.type !== "E") throw new Error(`no error in ${summary(msgs).join(" ")}`);
  const { S, V, ...rest } = e.fields;
  void S;
  void V;
  return rest;
}

async function load(h: TestConnection, copy: string, ...data: Array<string | Uint8Array>): Promise<BackendMsg[]> {
  const start = await h.send(fe.Query(copy));
  if (!start.some((m) => m.type === "G")) return start;
  return h.send(...data.map((d) => fe.CopyData(d)), fe.CopyDone());
}

async function rows(h: TestConnection, sql: string): Promise<string> {
  return dec.decode(copyOutBytes(await h.send(fe.Query(`copy (${sql}) to stdout`))));
}

describe("COPY FROM STDIN formats", () => {
  it("CSV: HEADER MATCH, quoted line ends across CopyData, FORCE_NOT_NULL and FORCE_NULL", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table c (id int primary key, a text, b text)"));
    const start = await h.send(fe.Query("copy c from stdin (format csv, header match, force_not_null (a), force_null (b))"));
    expect(summary(start)).toEqual(["G 3"]);
    const out = await h.send(fe.CopyData('id,a,b\n1,,""\n2,"multi\nli'), fe.CopyData('ne",x\n3,"",\n'), fe.CopyDone());
    expect(summary(out)).toEqual(["C COPY 3", "Z I"]);
    expect(await rows(h, "select id, a, b, a is null, b is null from c order by id")).toBe("1\t\t\\N\tf\tt\n2\tmulti\\nline\tx\tf\tf\n3\t\t\\N\tf\tt\n");
  });

  it("binary: reads back what COPY TO BINARY wrote", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table b (id int primary key, t text, n numeric, d date, a int[]); insert into b values (1, 'é', 1.50, '2024-02-29', '{1,NULL}'), (2, null, null, null, null)"));
    const bytes = copyOutBytes(await h.send(fe.Query("copy b to stdout (format binary)")));
    await h.send(fe.Query("create table b2 (id int primary key, t text, n numeric, d date, a int[])"));
    const start = await h.send(fe.Query("copy b2 from stdin (format binary)"));
    const g = start[0]!;
    expect(g.type === "G" && [g.format, g.columnFormats]).toEqual([1, [1, 1, 1, 1, 1]]);
    expect(summary(await h.send(fe.CopyData(bytes.subarray(0, 30)), fe.CopyData(bytes.subarray(30)), fe.CopyDone()))).toEqual(["C COPY 2", "Z I"]);
    expect(await rows(h, "select * from b2 order by id")).toBe("1\té\t1.50\t2024-02-29\t{1,NULL}\n2\t\\N\t\\N\t\\N\t\\N\n");
  });

  it("ignores Flush and Sync during the copy, as Postgres does; CopyFail ends it with 57014", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table t (a int)"));
    await h.send(fe.Query("copy t from stdin"));
    expect(summary(await h.send(fe.CopyData("1\n"), fe.Flush(), fe.Sync(), fe.CopyData("2\n"), fe.CopyDone()))).toEqual(["C COPY 2", "Z I"]);
    await h.send(fe.Query("begin"), fe.Query("copy t from stdin"));
    expect(summary(await h.send(fe.CopyData("3\n"), fe.CopyFail("client gave up")))).toEqual(["E 57014", "Z E"]);
    await h.send(fe.Query("rollback"));
    expect(await rows(h, "select count(*) from t")).toBe("2\n");
  });
});

describe("COPY FROM STDIN errors carry Postgres's CONTEXT", () => {
  it("a bad value names line, column and value; a value before a missing column is checked first", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table e (id int primary key, v varchar(3) not null, n numeric(4,1), arr int[])"));
    expect(errorOf(await load(h, "copy e from stdin", "1\tabc\t1\t{1}\n2\tabcd\t1\t{1}\n"))).toEqual({
      C: "22001", M: "value too long for type character varying(3)", W: 'COPY e, line 2, column v: "abcd"',
    });
    expect(errorOf(await load(h, "copy e from stdin", "1\ta\t1000\t{1}\n"))).toMatchObject({ C: "22003", M: "numeric field overflow", W: 'COPY e, line 1, column n: "1000"' });
    expect(errorOf(await load(h, "copy e from stdin", "1\ta\t1\t{x}\n"))).toMatchObject({ C: "22P02", M: 'invalid input syntax for type integer: "x"', W: 'COPY e, line 1, column arr: "{x}"' });
    // Postgres 15 converts column by column: for an empty line the first column's value fails first.
    expect(errorOf(await load(h, "copy e from stdin", "\n"))).toEqual({ C: "22P02", M: 'invalid input syntax for type integer: ""', W: 'COPY e, line 1, column id: ""' });
    expect(errorOf(await load(h, "copy e from stdin", "1\ta\n"))).toEqual({ C: "22P04", M: 'missing data for column "n"', W: 'COPY e, line 1: "1\ta"' });
    expect(errorOf(await load(h, "copy e from stdin", "1\ta\t1\t{1}\t9\n"))).toEqual({ C: "22P04", M: "extra data after last expected column", W: 'COPY e, line 1: "1\ta\t1\t{1}\t9"' });
    expect(await rows(h, "select count(*) from e")).toBe("0\n");
  });

  it("values longer than 100 bytes are clipped in the context at a character boundary", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table e (id int)"));
    const value = "x" + "é".repeat(120);
    expect(errorOf(await load(h, "copy e from stdin", value + "\n")).W).toBe(`COPY e, line 1, column id: "x${"é".repeat(49)}..."`);
  });

  it("header mismatches (HEADER MATCH)", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table c (a int, b text)"));
    expect(errorOf(await load(h, "copy c from stdin (format csv, header match)", "a,c\n1,2\n"))).toEqual({ C: "22P04", M: 'column name mismatch in header line field 2: got "c", expected "b"', W: 'COPY c, line 1: "a,c"' });
    expect(errorOf(await load(h, "copy c from stdin (format csv, header match)", "a\n"))).toMatchObject({ M: "wrong number of fields in header line: got 1, expected 2" });
    expect(errorOf(await load(h, "copy c from stdin (format text, header match)", "a\t\\N\n"))).toMatchObject({ M: 'column name mismatch in header line field 2: got null value ("\\N"), expected "b"' });
    expect(errorOf(await load(h, "copy c (b, a) from stdin (format csv, header match)", "a,b\n"))).toMatchObject({ M: 'column name mismatch in header line field 1: got "a", expected "b"' });
  });

  it("a duplicate key inside a batch: the batch is replayed to name the line, and none of it stays", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table u (id int primary key, v text)"));
    const out = await load(h, "copy u from stdin", "1\ta\n2\tb\n1\tc\n");
    expect(errorOf(out)).toMatchObject({ C: "23505", M: 'duplicate key value violates unique constraint "u_pkey"', D: "Key (id)=(1) already exists.", W: "COPY u, line 3" });
    expect(summary(out).slice(-1)).toEqual(["Z I"]);
    expect(await rows(h, "select count(*) from u")).toBe("0\n");
  });

  it("NOT NULL and CHECK show the line (as Postgres, which checks them before storing the row); a foreign key shows none", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table p (id int primary key); insert into p values (1); create table f (a int references p, b text check (b <> 'bad'), c text not null)"));
    expect(errorOf(await load(h, "copy f from stdin", "1\tok\tc\n1\tok\t\\N\n"))).toMatchObject({ C: "23502", W: 'COPY f, line 2: "1\tok\t\\N"' });
    expect(errorOf(await load(h, "copy f from stdin (format csv)", "1,bad,c\n"))).toMatchObject({ C: "23514", W: 'COPY f, line 1: "1,bad,c"' });
    const fk = errorOf(await load(h, "copy f from stdin", "2\tok\tc\n"));
    expect(fk).toMatchObject({ C: "23503" });
    expect(fk["W"]).toBeUndefined();
  });

  it("inside a transaction: a failed batch leaves the transaction aborted, earlier rows of the COPY roll back with it", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table u (id int primary key)"));
    const n = pgwireLimits.copyBatchRowsMax + 2;
    const data = Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("") + "1\n";
    expect(summary(await h.send(fe.Query("begin")))).toEqual(["C BEGIN", "Z T"]);
    const out = await load(h, "copy u from stdin", data);
    expect(errorOf(out)).toMatchObject({ C: "23505", W: `COPY u, line ${n + 1}` });
    expect(summary(out).slice(-1)).toEqual(["Z E"]);
    await h.send(fe.Query("rollback"));
    expect(await rows(h, "select count(*) from u")).toBe("0\n");
  });

  it("a bad row after more rows than the transaction buffers (earlier batches already sent to storage as intents) is still located", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table u (id int primary key)"));
    const n = txnLimits.flushKeys + 2 * pgwireLimits.copyBatchRowsMax;
    const data = Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("") + "7\n";
    for (const inBlock of [false, true]) {
      if (inBlock) await h.send(fe.Query("begin"));
      const out = await load(h, "copy u from stdin", data);
      expect(errorOf(out)).toMatchObject({ C: "23505", W: `COPY u, line ${n + 1}` });
      expect(summary(out).slice(-1)).toEqual([inBlock ? "Z E" : "Z I"]);
      if (inBlock) await h.send(fe.Query("rollback"));
      expect(await rows(h, "select count(*) from u")).toBe("0\n");
    }
  });

  it("outside a transaction the COPY is one transaction: a bad row after written batches leaves nothing (as in Postgres)", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table u (id int primary key)"));
    const n = 2 * pgwireLimits.copyBatchRowsMax;
    const data = Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("") + "x\n";
    const bad = await load(h, "copy u from stdin", data);
    expect(errorOf(bad)).toMatchObject({ C: "22P02", W: `COPY u, line ${n + 1}, column id: "x"` });
    expect(summary(bad).slice(-1)).toEqual(["Z I"]);
    expect(await rows(h, "select count(*) from u")).toBe("0\n");
    // A duplicate of a row of an earlier batch: found by the batch's replay, and nothing stays either.
    const dup = await load(h, "copy u from stdin", Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("") + "7\n");
    expect(errorOf(dup)).toMatchObject({ C: "23505", W: `COPY u, line ${n + 1}` });
    expect(summary(dup).slice(-1)).toEqual(["Z I"]);
    expect(await rows(h, "select count(*) from u")).toBe("0\n");
    // CopyFail after written batches: nothing stays.
    const failed = await h.send(fe.Query("copy u from stdin"), fe.CopyData(Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("")), fe.CopyFail("stop"));
    expect(errorOf(failed)).toMatchObject({ C: "57014" });
    expect(summary(failed).slice(-1)).toEqual(["Z I"]);
    expect(await rows(h, "select count(*) from u")).toBe("0\n");
    expect(summary(await load(h, "copy u from stdin", Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("")))).toEqual([`C COPY ${n}`, "Z I"]);
    expect(await rows(h, "select count(*) from u")).toBe(`${n}\n`);
  });

  it("refuses WHERE with a hint, and views with Postgres's hint", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table t (a int); create view v as select a from t"));
    expect(errorOf(await h.send(fe.Query("copy t from stdin where a > 1")))).toMatchObject({ C: "0A000", H: "Load into a staging table, then INSERT … SELECT … WHERE." });
    expect(errorOf(await h.send(fe.Query("copy v from stdin")))).toEqual({ C: "42809", M: 'cannot copy to view "v"', H: "To enable copying to a view, provide an INSTEAD OF INSERT trigger." });
  });
});

describe("COPY FROM STDIN batches and their bounds", () => {
  function batches(h: TestConnection, from: number): number {
    return h.executed.slice(from).filter((s) => s.startsWith("COPY ROWS")).length;
  }

  it("a batch closes at copyBatchBytesMax of input: exactly that much is one batch, one more row is two", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table t (v text)"));
    const line = "y".repeat(2047) + "\n"; // 2048 bytes, so 256 lines are exactly copyBatchBytesMax
    const fit = pgwireLimits.copyBatchBytesMax / line.length;
    let before = h.executed.length;
    expect(summary(await load(h, "copy t from stdin", line.repeat(fit)))).toEqual([`C COPY ${fit}`, "Z I"]);
    expect(batches(h, before)).toBe(1);
    before = h.executed.length;
    expect(summary(await load(h, "copy t from stdin", line.repeat(fit + 1)))).toEqual([`C COPY ${fit + 1}`, "Z I"]);
    expect(batches(h, before)).toBe(2);
  });

  it("a wide table takes fewer rows per batch so one batch holds at most copyBatchParamsMax fields", async () => {
    const h = await openTestConnection();
    const cols = 100;
    await h.send(fe.Query(`create table w (${Array.from({ length: cols }, (_, i) => `c${i} int`).join(", ")})`));
    const perInsert = Math.floor(pgwireLimits.copyBatchParamsMax / cols);
    const line = Array.from({ length: cols }, (_, i) => String(i)).join("\t") + "\n";
    let before = h.executed.length;
    expect(summary(await load(h, "copy w from stdin", line.repeat(perInsert)))).toEqual([`C COPY ${perInsert}`, "Z I"]);
    expect(batches(h, before)).toBe(1);
    before = h.executed.length;
    expect(summary(await load(h, "copy w from stdin", line.repeat(perInsert + 1)))).toEqual([`C COPY ${perInsert + 1}`, "Z I"]);
    expect(batches(h, before)).toBe(2);
  });
});
