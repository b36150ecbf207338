// Every ERROR inside a transaction block fails the block, whatever raised it: the parser, the
// protocol layer (Parse, Bind, Describe, Execute of a missing portal), COPY or the executor. Later
// statements get 25P02, ReadyForQuery says E, and COMMIT answers ROLLBACK with nothing committed.
// The expected messages are PostgreSQL 15's, recorded with a raw wire client against a real
// server (BEGIN; INSERT …; <case>; SELECT 1; COMMIT; SELECT count(*)).
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { createSession } from "../sql/session.ts";
import { PgConnection } from "./connection.ts";
import type { SqlSession } from "../sql/result.ts";
import { recordingSession } from "../sql/testing/recording-session.ts";
import { fe, parseBackend, summary } from "./wire-test-client.ts";

let nextTenantId = 9_100;

/** A connection over the engine's session on the in-memory KV; returns a send-and-summarize function. */
async function connect(): Promise<Send> {
  const session = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: nextTenantId++, settings: { user: "app" } });
  let received: Uint8Array[] = [];
  const conn = new PgConnection({ session, user: "app", io: { send: (b) => received.push(b), close: () => {} } });
  await conn.start();
  received = [];
  return async (...chunks) => {
    for (const c of chunks) await conn.receive(c);
    const out = summary(received.flatMap((b) => parseBackend(b)));
    received = [];
    return out;
  };
}

type Send = (...chunks: Uint8Array[]) => Promise<string[]>;

const cases: Array<{ name: string; run: (send: Send) => Promise<string[]>; pg: string[] }> = [
  { name: "a syntax error in a simple query", run: (s) => s(fe.Query("insert into tb values (1); INVALID SQL")), pg: ["E 42601", "Z E"] },
  { name: "a syntax error in Parse", run: (s) => s(fe.Parse("", "selec 1"), fe.Sync()), pg: ["E 42601", "Z E"] },
  { name: "Parse of an unknown table", run: (s) => s(fe.Parse("", "select * from nosuch"), fe.Sync()), pg: ["E 42P01", "Z E"] },
  { name: "Bind of a missing statement", run: (s) => s(fe.Bind("", "nosuch", []), fe.Sync()), pg: ["E 26000", "Z E"] },
  { name: "Bind with the wrong parameter count", run: (s) => s(fe.Parse("", "select $1::int"), fe.Bind("", "", []), fe.Sync()), pg: ["1", "E 08P01", "Z E"] },
  { name: "Describe of a missing portal", run: (s) => s(fe.Describe("P", "nosuch"), fe.Sync()), pg: ["E 34000", "Z E"] },
  { name: "Execute of a missing portal", run: (s) => s(fe.Execute("nosuch"), fe.Sync()), pg: ["E 34000", "Z E"] },
  { name: "an error in Execute", run: (s) => s(fe.Parse("", "select 1/0"), fe.Bind("", "", []), fe.Execute(""), fe.Sync()), pg: ["1", "2", "E 22012", "Z E"] },
  { name: "COPY into an unknown table", run: (s) => s(fe.Query("copy nosuch from stdin")), pg: ["E 42P01", "Z E"] },
  {
    name: "COPY of a bad row",
    run: async (s) => [...(await s(fe.Query("copy tb from stdin"))), ...(await s(fe.CopyData("x\n"), fe.CopyDone()))],
    pg: ["G 1", "E 22P02", "Z E"],
  },
  { name: "CopyFail", run: async (s) => [...(await s(fe.Query("copy tb from stdin"))), ...(await s(fe.CopyFail("nope")))], pg: ["G 1", "E 57014", "Z E"] },
  { name: "RELEASE of an unknown savepoint", run: (s) => s(fe.Query("release savepoint nosuch")), pg: ["E 3B001", "Z E"] },
];

describe("an error fails the transaction block", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const send = await connect();
      expect(await send(fe.Query("create table tb (id int primary key)"))).toEqual(["C CREATE TABLE", "Z I"]);
      expect(await send(fe.Query("begin; insert into tb values (100)"))).toEqual(["C BEGIN", "C INSERT 0 1", "Z T"]);
      expect(await c.run(send)).toEqual(c.pg);
      expect(await send(fe.Query("select 1"))).toEqual(["E 25P02", "Z E"]);
      expect(await send(fe.Query("commit"))).toEqual(["C ROLLBACK", "Z I"]);
      expect(await send(fe.Query("select count(*) from tb"))).toEqual(["T count", "D 0", "C SELECT 1", "Z I"]);
    });
  }

  it("Parse in a failed block is 25P02, except ROLLBACK; a ROLLBACK TO SAVEPOINT ends the failed state", async () => {
    const send = await connect();
    await send(fe.Query("create table tb (id int primary key)"));
    expect(await send(fe.Query("begin; savepoint a; insert into tb values (1); select 1/0"))).toEqual(["C BEGIN", "C SAVEPOINT", "C INSERT 0 1", "E 22012", "Z E"]);
    expect(await send(fe.Parse("", "select 1"), fe.Sync())).toEqual(["E 25P02", "Z E"]);
    expect(await send(fe.Parse("", "rollback to savepoint a"), fe.Bind("", "", []), fe.Execute(""), fe.Sync())).toEqual(["1", "2", "C ROLLBACK", "Z T"]);
    expect(await send(fe.Query("insert into tb values (2); commit"))).toEqual(["C INSERT 0 1", "C COMMIT", "Z I"]);
    expect(await send(fe.Query("select id from tb"))).toEqual(["T id", "D 2", "C SELECT 1", "Z I"]);
  });
});

describe("Parse analyses the statement, as Postgres does", () => {
  it("a name whose Parse failed is free for the next Parse", async () => {
    const send = await connect();
    expect(await send(fe.Parse("s1", "select * from nosuch"), fe.Sync())).toEqual(["E 42P01", "Z I"]);
    expect(await send(fe.Parse("s1", "select 1 as one"), fe.Bind("", "s1", []), fe.Execute(""), fe.Sync())).toEqual(["1", "2", "D 1", "C SELECT 1", "Z I"]);
    expect(await send(fe.Parse("s1", "select 2"), fe.Sync())).toEqual(["E 42P05", "Z I"]);
  });

  it("types parameters at Parse: an empty binary parameter for a text column is '' (node-postgres sends Buffers so)", async () => {
    const send = await connect();
    await send(fe.Query("create table eb (id int, t text)"));
    expect(await send(fe.Parse("", "insert into eb values (1, $1)"), fe.Bind("", "", [new Uint8Array(0)], [1]), fe.Execute(""), fe.Sync())).toEqual(["1", "2", "C INSERT 0 1", "Z I"]);
    expect(await send(fe.Parse("", "select $1::text = '' as empty, $1 is null as isnull"), fe.Bind("", "", [new Uint8Array(0)], [1]), fe.Execute(""), fe.Sync())).toEqual(["1", "2", "D t|f", "C SELECT 1", "Z I"]);
    expect(await send(fe.Query("select id, t = '', t is null from eb"))).toEqual(["T id,?column?,?column?", "D 1|t|f", "C SELECT 1", "Z I"]);
  });
});
