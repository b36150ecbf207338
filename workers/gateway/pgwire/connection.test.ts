// PgConnection over the engine's real Session on the in-memory KV (the storage stand-in for unit
// tests): the startup tail, simple and extended query protocols, COPY FROM STDIN, and bad input.
// What the client sees is read back with a client-side parser (wire-test-client.ts).
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { createSession } from "../sql/session.ts";
import type { StatementResult } from "../sql/result.ts";
import { PgConnection } from "./connection.ts";
import { pgwireLimits } from "./limits.ts";
import type { SqlSession } from "../sql/result.ts";
import { recordingSession } from "../sql/testing/recording-session.ts";
import { fe, message, parseBackend, summary, text, type BackendMsg } from "./wire-test-client.ts";

interface Harness {
  conn: PgConnection;
  session: SqlSession;
  /** Sends bytes (one chunk) and returns everything the server answered to them. */
  send(...chunks: Uint8Array[]): Promise<BackendMsg[]>;
  closed(): { code: number; reason: string } | null;
  executed: string[];
}

/** Each connection gets its own tenant id: the SQL layer caches catalogs per tenant in the isolate. */
let nextTenantId = 100;

async function connect(opts: { wrap?: (s: SqlSession) => SqlSession } = {}): Promise<Harness & { startup: BackendMsg[] }> {
  const base = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: nextTenantId++, settings: { user: "app", application_name: "unit" } });
  const counting = recordingSession(base);
  const executed = counting.executed;
  const session = opts.wrap ? opts.wrap(counting) : counting;
  let received: Uint8Array[] = [];
  let closed: { code: number; reason: string } | null = null;
  const conn = new PgConnection({
    session,
    user: "app",
    io: { send: (b) => received.push(b), close: (code, reason) => (closed = { code, reason }) },
  });
  const take = () => {
    const msgs = received.flatMap((b) => parseBackend(b));
    received = [];
    return msgs;
  };
  await conn.start();
  const startup = take();
  return {
    conn,
    session,
    startup,
    executed,
    closed: () => closed,
    send: async (...chunks) => {
      for (const c of chunks) await conn.receive(c);
      return take();
    },
  };
}

describe("startup", () => {
  it("sends AuthenticationOk, PG 15's ParameterStatus set, BackendKeyData and ReadyForQuery I", async () => {
    const h = await connect();
    const s = summary(h.startup);
    expect(s[0]).toBe("R 0");
    expect(s.slice(-2)).toEqual(["K", "Z I"]);
    const params = Object.fromEntries(h.startup.filter((m) => m.type === "S").map((m) => [(m as { name: string }).name, (m as { value: string }).value]));
    expect(Object.keys(params).sort()).toEqual(
      [
        "application_name",
        "client_encoding",
        "DateStyle",
        "default_transaction_read_only",
        "in_hot_standby",
        "integer_datetimes",
        "IntervalStyle",
        "is_superuser",
        "server_encoding",
        "server_version",
        "session_authorization",
        "standard_conforming_strings",
        "TimeZone",
      ].sort(),
    );
    expect(params).toMatchObject({ application_name: "unit", client_encoding: "UTF8", DateStyle: "ISO, MDY", integer_datetimes: "on", standard_conforming_strings: "on", IntervalStyle: "postgres", session_authorization: "app", server_encoding: "UTF8" });
    const [version] = await h.session.execute("select version()");
    expect(version!.rows[0]![0]).toContain(`PostgreSQL ${params["server_version"]} `);
  });
});

describe("simple query protocol", () => {
  it("runs multi-statement strings with Postgres's tags, and EmptyQueryResponse for an empty one", async () => {
    const h = await connect();
    expect(summary(await h.send(fe.Query("create table t (id int primary key, v text); insert into t values (1, 'a'), (2, null)")))).toEqual(["C CREATE TABLE", "C INSERT 0 2", "Z I"]);
    expect(summary(await h.send(fe.Query("select * from t order by id; update t set v = 'b' where id = 2; delete from t where id = 9")))).toEqual([
      "T id,v",
      "D 1|a",
      "D 2|NULL",
      "C SELECT 2",
      "C UPDATE 1",
      "C DELETE 0",
      "Z I",
    ]);
    expect(summary(await h.send(fe.Query("  ; -- nothing\n")))).toEqual(["I", "Z I"]);
  });

  it("sends results before a failing statement, stops there, and tracks I/T/E", async () => {
    const h = await connect();
    await h.send(fe.Query("create table t (id int primary key)"));
    expect(summary(await h.send(fe.Query("select 1; select * from nope; select 2")))).toEqual(["T ?column?", "D 1", "C SELECT 1", "E 42P01", "Z I"]);
    expect(summary(await h.send(fe.Query("begin")))).toEqual(["C BEGIN", "Z T"]);
    expect(summary(await h.send(fe.Query("insert into t values (1)")))).toEqual(["C INSERT 0 1", "Z T"]);
    expect(summary(await h.send(fe.Query("select 1/0")))).toEqual(["E 22012", "Z E"]);
    expect(summary(await h.send(fe.Query("select 1")))).toEqual(["E 25P02", "Z E"]);
    expect(summary(await h.send(fe.Query("rollback")))).toEqual(["C ROLLBACK", "Z I"]);
    expect(summary(await h.send(fe.Query("select count(*) from t")))).toEqual(["T count", "D 0", "C SELECT 1", "Z I"]);
  });

  it("a syntax error anywhere in a query string is 42601 with its position, and nothing in the string runs", async () => {
    const h = await connect();
    await h.send(fe.Query("create table t (id int primary key)"));
    // Postgres parses the whole string before running any of it, so the valid statements before
    // the bad one do not run either.
    const bad = "insert into t values (1); create table u (a int); selec 2";
    const out = await h.send(fe.Query(bad));
    expect(summary(out)).toEqual(["E 42601", "Z I"]);
    const fields = (out[0] as { fields: Record<string, string> }).fields;
    expect(fields["M"]).toMatch(/syntax error/);
    expect(Number(fields["P"])).toBe(bad.indexOf("selec") + 1);
    expect(summary(await h.send(fe.Query("select count(*) from t")))).toEqual(["T count", "D 0", "C SELECT 1", "Z I"]);
    expect(summary(await h.send(fe.Query("select * from u")))).toEqual(["E 42P01", "Z I"]);
  });

  it("runs a DML-only multi-statement string as one implicit transaction", async () => {
    const h = await connect();
    await h.send(fe.Query("create table t (id int primary key)"));
    expect(summary(await h.send(fe.Query("insert into t values (1); insert into t values (1)")))).toEqual(["C INSERT 0 1", "E 23505", "Z I"]);
    expect(summary(await h.send(fe.Query("select count(*) from t")))).toEqual(["T count", "D 0", "C SELECT 1", "Z I"]);
  });

  it("reports a changed setting with ParameterStatus", async () => {
    const h = await connect();
    const out = await h.send(fe.Query("set application_name = 'renamed'"));
    expect(summary(out)).toEqual(["S application_name", "C SET", "Z I"]);
    expect((out[0] as { value: string }).value).toBe("renamed");
  });
});

describe("extended query protocol", () => {
  it("Parse/Bind/Describe/Execute/Sync with named and unnamed statements and portals", async () => {
    const h = await connect();
    await h.send(fe.Query("create table t (id int primary key, v text); insert into t values (1, 'a'), (2, 'b'), (3, 'c')"));
    const out = await h.send(fe.Parse("byid", "select v from t where id = $1"), fe.Describe("S", "byid"), fe.Bind("", "byid", ["2"]), fe.Execute(""), fe.Sync());
        // $1 compared with an int column is int4 (23), as PostgreSQL 15 describes it.
    expect(summary(out)).toEqual(["1", "t 23", "T v", "2", "D b", "C SELECT 1", "Z I"]);
    const unnamed = await h.send(fe.Parse("", "insert into t values ($1, $2)"), fe.Bind("", "", ["4", "d"]), fe.Describe("P", ""), fe.Execute(""), fe.Sync());
    expect(summary(unnamed)).toEqual(["1", "2", "n", "C INSERT 0 1", "Z I"]);
    // Describe of a portal answers from the statement bound at Parse; the rows come at Execute.
    const portal = await h.send(fe.Bind("p1", "byid", ["4"]), fe.Describe("P", "p1"), fe.Execute("p1"), fe.Close("P", "p1"), fe.Close("S", "byid"), fe.Sync());
    expect(summary(portal)).toEqual(["2", "T v", "D d", "C SELECT 1", "3", "3", "Z I"]);
    expect(summary(await h.send(fe.Bind("", "byid", ["1"]), fe.Sync()))).toEqual(["E 26000", "Z I"]);
  });

  it("describes INSERT … RETURNING before it runs, without writing anything", async () => {
    const h = await connect();
    await h.send(fe.Query("create table r (id int primary key, note text)"));
    const out = await h.send(fe.Parse("ins", "insert into r as x values ($1, $2) returning x.id, note as \"n\";"), fe.Describe("S", "ins"), fe.Sync());
    expect(summary(out)).toEqual(["1", "t 23,25", "T id,n", "Z I"]);
    expect((out[2] as { fields: Array<{ typeOid: number }> }).fields.map((f) => f.typeOid)).toEqual([23, 25]);
    expect(summary(await h.send(fe.Query("select count(*) from r")))).toEqual(["T count", "D 0", "C SELECT 1", "Z I"]);
    const run = await h.send(fe.Bind("", "ins", ["5", "five"]), fe.Execute(""), fe.Sync());
    expect(summary(run)).toEqual(["2", "D 5|five", "C INSERT 0 1", "Z I"]);
  });

  it("Execute with max rows suspends the portal", async () => {
    const h = await connect();
    await h.send(fe.Query("create table t (id int primary key); insert into t values (1), (2), (3)"));
    const out = await h.send(fe.Parse("", "select id from t order by id"), fe.Bind("", "", []), fe.Execute("", 2), fe.Execute("", 2), fe.Sync());
    expect(summary(out)).toEqual(["1", "2", "D 1", "D 2", "s", "D 3", "C SELECT 1", "Z I"]);
  });

  it("skips everything after an error until Sync, then carries on", async () => {
    const h = await connect();
    const out = await h.send(fe.Parse("", "select $1::int + 41"), fe.Bind("", "", []), fe.Execute(""), fe.Sync(), fe.Bind("", "", ["1"]), fe.Execute(""), fe.Sync());
    expect(summary(out)).toEqual(["1", "E 08P01", "Z I", "2", "D 42", "C SELECT 1", "Z I"]);
    expect(h.executed.filter((s) => s.includes("41"))).toHaveLength(1);
    const failed = await h.send(fe.Parse("", "select * from missing"), fe.Bind("", "", []), fe.Execute(""), fe.Parse("", "select 2"), fe.Sync());
    // Parse binds the statement, as Postgres's does: a missing table fails at Parse.
    expect(summary(failed)).toEqual(["E 42P01", "Z I"]);
  });

  it("refuses duplicate names, wrong parameter counts and multiple statements", async () => {
    const h = await connect();
    expect(summary(await h.send(fe.Parse("a", "select 1"), fe.Parse("a", "select 2"), fe.Sync()))).toEqual(["1", "E 42P05", "Z I"]);
    expect(summary(await h.send(fe.Parse("b", "select $1::int"), fe.Bind("", "b", []), fe.Sync()))).toEqual(["1", "E 08P01", "Z I"]);
    expect(summary(await h.send(fe.Parse("", "select 1; select 2"), fe.Sync()))).toEqual(["E 42601", "Z I"]);
    expect(summary(await h.send(fe.Bind("c1", "a", []), fe.Bind("c1", "a", []), fe.Sync()))).toEqual(["2", "E 42P03", "Z I"]);
  });

  it("takes binary parameters and returns binary results for the common types", async () => {
    const h = await connect();
    await h.send(fe.Query("create table b (i int4 primary key, l int8, f float8, t text, ok bool)"));
    const i4 = Uint8Array.of(0, 0, 1, 0);
    const i8 = Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0);
    const f8 = new Uint8Array(new Float64Array([1.5]).buffer).reverse();
    const out = await h.send(
      fe.Parse("", "insert into b values ($1, $2, $3, $4, $5)", [23, 20, 701, 25, 16]),
      fe.Bind("", "", [i4, i8, f8, "hé", Uint8Array.of(1)], [1]),
      fe.Execute(""),
      fe.Parse("", "select i, l, f, t, ok from b"),
      fe.Bind("", "", [], [], [1]),
      fe.Describe("P", ""),
      fe.Execute(""),
      fe.Sync(),
    );
    expect(summary(out).slice(0, 3)).toEqual(["1", "2", "C INSERT 0 1"]);
    const row = out.find((m) => m.type === "D") as { values: Uint8Array[] };
    expect(Array.from(row.values[0]!)).toEqual([0, 0, 1, 0]);
    expect(Array.from(row.values[1]!)).toEqual(Array.from(i8));
    expect(new DataView(row.values[2]!.buffer).getFloat64(0)).toBe(1.5);
    expect(text(row.values[3]!)).toBe("hé");
    expect(Array.from(row.values[4]!)).toEqual([1]);
    const t = out.find((m) => m.type === "T") as { fields: Array<{ format: number }> };
    expect(t.fields.map((f) => f.format)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe("COPY FROM STDIN", () => {
  it("loads text-format rows split across CopyData messages, with tabs, escapes and \\N", async () => {
    const h = await connect();
    await h.send(fe.Query("create table c (id int primary key, name text, note varchar(20))"));
    const start = await h.send(fe.Query("copy c from stdin"));
    expect(summary(start)).toEqual(["G 3"]);
    const out = await h.send(fe.CopyData("1\tone\t\\N\n2\ttw"), fe.CopyData("o\ta\\tb\\\\c\n3\t\\x41\\101\t\n"), fe.CopyData("\\.\n"), fe.CopyDone());
    expect(summary(out)).toEqual(["C COPY 3", "Z I"]);
    expect(summary(await h.send(fe.Query("select id, name, note from c order by id")))).toEqual(["T id,name,note", "D 1|one|NULL", "D 2|two|a\tb\\c", "D 3|AA|", "C SELECT 3", "Z I"]);
  });

  it("batches rows into copyRows calls of at most copyBatchRowsMax rows, inside the open transaction", async () => {
    const h = await connect();
    await h.send(fe.Query("create table c (id int primary key)"));
    await h.send(fe.Query("begin"), fe.Query("truncate c"), fe.Query("copy c (id) from stdin with (freeze on)"));
    const n = pgwireLimits.copyBatchRowsMax + 1;
    const rows = Array.from({ length: n }, (_, i) => `${i + 1}\n`).join("");
    const before = h.executed.length;
    expect(summary(await h.send(fe.CopyData(rows), fe.CopyDone()))).toEqual([`C COPY ${n}`, "Z T"]);
    expect(h.executed.slice(before).filter((s) => s.startsWith("COPY ROWS"))).toHaveLength(2);
    await h.send(fe.Query("rollback"));
    expect(summary(await h.send(fe.Query("select count(*) from c")))).toEqual(["T count", "D 0", "C SELECT 1", "Z I"]);
  });

  it("FREEZE only on a table created or truncated in the current subtransaction (55000 otherwise, as PostgreSQL 15)", async () => {
    const h = await connect();
    await h.send(fe.Query("create table c (id int)"));
    // Each: the statements before the COPY, and whether PostgreSQL 15 accepts the FREEZE after them.
    const cases: Array<[string[], boolean]> = [
      [[], false],
      [["begin"], false],
      [["begin", "truncate c"], true],
      [["begin", "create table d (id int)"], true],
      [["begin", "truncate c", "savepoint s"], false],
      [["begin", "truncate c", "savepoint s", "truncate c"], true],
      [["begin", "truncate c", "savepoint s", "release savepoint s"], true],
      [["begin", "truncate c", "savepoint s", "rollback to savepoint s"], false],
    ];
    for (const [before, accepted] of cases) {
      for (const q of before) await h.send(fe.Query(q));
      const table = before.some((q) => q.startsWith("create")) ? "d" : "c";
      const start = summary(await h.send(fe.Query(`copy ${table} from stdin (freeze)`)));
      const inBlock = before.length > 0;
      if (accepted) {
        expect(start, before.join("; ")).toEqual(["G 1"]);
        expect(summary(await h.send(fe.CopyData("1\n"), fe.CopyDone()))).toEqual(["C COPY 1", "Z T"]);
      } else {
        expect(start, before.join("; ")).toEqual(["E 55000", inBlock ? "Z E" : "Z I"]);
      }
      if (inBlock) await h.send(fe.Query("rollback"));
    }
    // FREEZE false is no FREEZE.
    expect(summary(await h.send(fe.Query("copy c from stdin (freeze false)")))).toEqual(["G 1"]);
    expect(summary(await h.send(fe.CopyData("1\n"), fe.CopyDone()))).toEqual(["C COPY 1", "Z I"]);
  });

  it("CopyFail ends it with 57014; a bad row with 22P04; the session goes on", async () => {
    const h = await connect();
    await h.send(fe.Query("create table c (a int, b int)"));
    await h.send(fe.Query("copy c from stdin"));
    expect(summary(await h.send(fe.CopyData("1\t2\n"), fe.CopyFail("client gave up")))).toEqual(["E 57014", "Z I"]);
    await h.send(fe.Query("copy c from stdin"));
    expect(summary(await h.send(fe.CopyData("1\n")))).toEqual(["E 22P04", "Z I"]);
    // The client's CopyDone after the error is ignored, as Postgres does.
    expect(summary(await h.send(fe.CopyDone(), fe.Query("select 1")))).toEqual(["T ?column?", "D 1", "C SELECT 1", "Z I"]);
  });

  it("refuses a line longer than copyLineBytesMax", async () => {
    const h = await connect();
    await h.send(fe.Query("create table c (a text)"));
    await h.send(fe.Query("copy c from stdin"));
    const long = new Uint8Array(pgwireLimits.copyLineBytesMax + 1).fill(0x61);
    expect(summary(await h.send(fe.CopyData(long)))).toEqual(["E 54000", "Z I"]);
  });
});

describe("bad input", () => {
  it("garbage after startup is FATAL 08P01, closes, and nothing runs", async () => {
    const h = await connect();
    const out = await h.send(Uint8Array.of(0x01, 0x02, 0x03, 0x04, 0x05, 0x06), fe.Query("create table never (a int)"));
    expect(summary(out)).toEqual(["E 08P01"]);
    expect((out[0] as { fields: Record<string, string> }).fields["S"]).toBe("FATAL");
    expect(h.closed()).not.toBeNull();
    expect(h.executed.filter((s) => s.includes("never"))).toEqual([]);
  });

  it("an oversized message is refused from its header (08P01)", async () => {
    const h = await connect();
    const len = pgwireLimits.messageBytesMax + 1;
    const out = await h.send(Uint8Array.of(0x51, len >>> 24, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff));
    expect(summary(out)).toEqual(["E 08P01"]);
    expect(h.closed()).not.toBeNull();
  });

  it("a malformed message in the middle of a batch closes before it runs; earlier ones ran", async () => {
    const h = await connect();
    const out = await h.send(new Uint8Array([...fe.Query("select 1"), ...message("B", [0, 0, 0, 1])]));
    expect(summary(out)).toEqual(["T ?column?", "D 1", "C SELECT 1", "Z I", "E 08P01"]);
  });

  it("a password message after authentication is a protocol violation", async () => {
    const h = await connect();
    expect(summary(await h.send(message("p", [0x78, 0])))).toEqual(["E 08P01"]);
  });

  it("bounds the bytes queued ahead of the server (pendingBytesMax)", async () => {
    const h = await connect();
    // Not awaited: the first chunk is still being handled when the second arrives.
    void h.conn.receive(fe.Query("select 1"));
    await h.conn.receive(new Uint8Array(pgwireLimits.pendingBytesMax + 1));
    expect(h.closed()).not.toBeNull();
  });

  it("queues exactly pendingBytesMax ahead of a busy server; one byte more is FATAL 54000", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding = false; // startup runs statements of its own; hold only the test's first query
    const h = await connect({
      // The first query holds the server busy, so everything after it waits in the queue.
      wrap: (s) =>
        recordingSession(s, {
          run: async (stmt, params, sink) => {
            if (holding) await gate;
            return s.run(stmt, params, sink);
          },
        }),
    });
    const q = fe.Query("select 1");
    holding = true;
    void h.conn.receive(q);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the first query is now running (blocked)
    const max = pgwireLimits.pendingBytesMax;
    const stream = new Uint8Array(max + 1);
    for (let at = 0; at < stream.length; at += q.length) stream.set(q.subarray(0, Math.min(q.length, stream.length - at)), at);
    void h.conn.receive(stream.subarray(0, max));
    expect(h.closed()).toBeNull();
    void h.conn.receive(stream.subarray(max));
    expect(h.closed()).toEqual({ code: 1000, reason: "54000" });
    release();
    const out = await h.send();
    expect(summary(out)).toContain("E 54000");
    // Nothing queued behind the limit ran: the blocked query finished after the close, the rest never started.
    expect(h.executed.filter((sql) => sql === "select 1").length).toBeLessThanOrEqual(1);
  });

  it("bounds prepared statements (preparedStatementsMax) and portals (portalsMax)", async () => {
    const h = await connect({
      // A session stub is enough here: the limits are pgwire's own.
      wrap: (s) => ({ ...s, execute: async (): Promise<StatementResult[]> => [], inTransaction: false }),
    });
    const parses: Uint8Array[] = [];
    for (let i = 0; i < pgwireLimits.preparedStatementsMax; i++) parses.push(fe.Parse(`s${i}`, "select 1"));
    const ok = await h.send(concat(parses), fe.Sync());
    expect(summary(ok).filter((x) => x !== "1")).toEqual(["Z I"]);
    expect(summary(await h.send(fe.Parse("one-more", "select 1"), fe.Sync()))).toEqual(["E 54000", "Z I"]);
    const binds: Uint8Array[] = [];
    for (let i = 0; i < pgwireLimits.portalsMax; i++) binds.push(fe.Bind(`p${i}`, "s0", []));
    const b = await h.send(concat(binds), fe.Bind("p-extra", "s0", []), fe.Sync());
    expect(summary(b).filter((x) => x !== "2")).toEqual(["E 54000", "Z I"]);
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
