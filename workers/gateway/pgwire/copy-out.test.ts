// COPY … TO STDOUT through a PgConnection over the real session (in-memory KV): the messages a
// client sees, streaming in bounded frames, back-pressure from the transport, and errors. Byte
// equality with PostgreSQL 15 for every type and format is checked end to end in
// test/clients/copy.test.ts; here the protocol and the bounds.
import { describe, expect, it } from "vitest";
import { PGCOPY_HEADER, PGCOPY_TRAILER } from "./copy-binary.ts";
import { pgwireLimits } from "./limits.ts";
import { openTestConnection } from "./test-connection.ts";
import { copyOutBytes, fe, summary, type BackendMsg } from "./wire-test-client.ts";

const dec = new TextDecoder();

function errorOf(msgs: BackendMsg[]): Record<string, string> {
  const e = msgs.find((m) => m.type === "E");
  if (e === undefined || e.type !== "E") throw new Error(`no error in ${summary(msgs).join(" ")}`);
  return e.fields;
}

describe("COPY TO STDOUT", () => {
  it("sends CopyOutResponse, a CopyData per row, CopyDone and COPY n, then the rest of the query string", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table t (id int primary key, name text); insert into t values (1, 'a\tb'), (2, null)"));
    const out = await h.send(fe.Query("copy t to stdout; select 1"));
    expect(summary(out)).toEqual(["H 2", "d 1\ta\\tb\n", "d 2\t\\N\n", "c", "C COPY 2", "T ?column?", "D 1", "C SELECT 1", "Z I"]);
    const h2 = out[0]!;
    expect(h2.type === "H" && [h2.format, h2.columnFormats]).toEqual([0, [0, 0]]);
    // The table form reads through the session's streaming execution.
    expect(h.executed).toContain('SELECT "id", "name" FROM "t"');
  });

  it("binary: format 1 for the copy and every column, the PGCOPY header and trailer around the tuples", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table t (id int primary key); insert into t values (7)"));
    const out = await h.send(fe.Query("copy t to stdout (format binary)"));
    const h2 = out[0]!;
    expect(h2.type === "H" && [h2.format, h2.columnFormats]).toEqual([1, [1]]);
    expect([...copyOutBytes(out)]).toEqual([...PGCOPY_HEADER, 0, 1, 0, 0, 0, 4, 0, 0, 0, 7, ...PGCOPY_TRAILER]);
  });

  it("COPY (query): SELECT, VALUES and DML with RETURNING; DML without RETURNING is 0A000", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table t (id int primary key)"));
    expect(dec.decode(copyOutBytes(await h.send(fe.Query("copy (values (1, 'x'), (2, null)) to stdout (format csv, header)"))))).toBe("column1,column2\n1,x\n2,\n");
    expect(dec.decode(copyOutBytes(await h.send(fe.Query("copy (insert into t values (5), (6) returning id * 10 as ten) to stdout"))))).toBe("50\n60\n");
    expect(summary(await h.send(fe.Query("select count(*) from t")))).toContain("D 2");
    expect(errorOf(await h.send(fe.Query("copy (delete from t) to stdout")))).toMatchObject({ C: "0A000", M: "COPY query must have a RETURNING clause" });
  });

  it("errors in the query point into the COPY statement, as Postgres's do", async () => {
    const h = await openTestConnection();
    // PG 15: LINE 1: copy (select * from nosuch) to stdout — the caret under "nosuch" (position 21).
    expect(errorOf(await h.send(fe.Query("copy (select * from nosuch) to stdout")))).toMatchObject({ C: "42P01", P: "21" });
    expect(errorOf(await h.send(fe.Query("select 1;\n  copy (select * from nosuch) to stdout")))).toMatchObject({ C: "42P01", P: "33" });
    // A missing table or column list has no position (the probe's would point nowhere).
    expect(errorOf(await h.send(fe.Query("copy nosuch to stdout")))).toEqual({ S: "ERROR", V: "ERROR", C: "42P01", M: 'relation "nosuch" does not exist' });
    expect(errorOf(await h.send(fe.Query("copy nosuch.t to stdout")))).toMatchObject({ C: "3F000", M: 'schema "nosuch" does not exist' });
  });

  it("refuses views with Postgres's hint, and a failed COPY leaves the transaction aborted", async () => {
    const h = await openTestConnection();
    await h.send(fe.Query("create table t (id int primary key); create view v as select id from t"));
    expect(errorOf(await h.send(fe.Query("copy v to stdout")))).toMatchObject({ C: "42809", M: 'cannot copy from view "v"', H: "Try the COPY (SELECT ...) TO variant." });
    expect(summary(await h.send(fe.Query("begin"), fe.Query("copy nosuch to stdout")))).toEqual(["C BEGIN", "Z T", "E 42P01", "Z E"]);
    expect(summary(await h.send(fe.Query("copy t to stdout")))).toEqual(["E 25P02", "Z E"]);
    expect(summary(await h.send(fe.Query("rollback")))).toEqual(["C ROLLBACK", "Z I"]);
    // An error of COPY's own (its options), not the session's, fails the transaction too.
    expect(summary(await h.send(fe.Query("begin"), fe.Query("copy t to stdout (format xml)"), fe.Query("select 1")))).toEqual(["C BEGIN", "Z T", "E 22023", "Z E", "E 25P02", "Z E"]);
    await h.send(fe.Query("rollback"));
  });

  it("streams: output leaves in frames of about copyOutFrameBytes, never the whole result at once", async () => {
    const h = await openTestConnection();
    const rows = 20_000;
    const out = await h.send(fe.Query(`copy (select g, repeat('x', 40) from generate_series(1, ${rows}) g) to stdout`));
    expect(summary(out).slice(-3)).toEqual(["c", `C COPY ${rows}`, "Z I"]);
    const total = h.frames.reduce((n, f) => n + f.length, 0);
    expect(total).toBeGreaterThan(3 * pgwireLimits.copyOutFrameBytes);
    // Every frame but the last holds at least the frame size and at most one row more.
    for (const f of h.frames.slice(0, -1)) {
      expect(f.length).toBeGreaterThanOrEqual(pgwireLimits.copyOutFrameBytes);
      expect(f.length).toBeLessThan(pgwireLimits.copyOutFrameBytes + 100);
    }
  });

  it("waits while the transport holds more than copyOutBufferedBytesMax unsent; exactly that much does not wait", async () => {
    let buffered = pgwireLimits.copyOutBufferedBytesMax + 1;
    const h = await openTestConnection({ io: { bufferedBytes: () => buffered } });
    const copying = h.send(fe.Query("copy (select g, repeat('y', 100) from generate_series(1, 20000) g) to stdout"));
    // One frame goes out (however long the first rows take on a loaded machine), then the COPY
    // waits for the transport: no second frame follows while it reports too much unsent.
    for (let waitedMs = 0; h.frames.length === 0 && waitedMs < 20_000; waitedMs += 10) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    expect(h.frames.length).toBe(1);
    buffered = pgwireLimits.copyOutBufferedBytesMax;
    const out = await copying;
    expect(summary(out).slice(-2)).toEqual(["C COPY 20000", "Z I"]);
    expect(h.frames.length).toBeGreaterThan(5);
  });

  it("stops producing rows when the client goes away during a wait", async () => {
    const h = await openTestConnection({ io: { bufferedBytes: () => Number.MAX_SAFE_INTEGER } });
    const copying = h.send(fe.Query("copy (select g from generate_series(1, 1000000) g) to stdout"));
    // Wait for the first frame (on a loaded machine it may take far longer than any fixed pause).
    while (h.frames.length === 0) await new Promise((r) => setTimeout(r, 10));
    h.conn.end();
    await copying; // resolves: the wait ends and the statement fails quietly
    expect(h.frames.length).toBe(1);
  });

  it("is refused in the extended protocol with a hint; server files are 42501 there too", async () => {
    const h = await openTestConnection();
    expect(errorOf(await h.send(fe.Parse("", "copy t to stdout"), fe.Sync()))).toMatchObject({ C: "0A000", M: "COPY is served in the simple query protocol only" });
    expect(errorOf(await h.send(fe.Parse("", "copy t to '/tmp/x'"), fe.Sync()))).toMatchObject({ C: "42501" });
  });
});
