// The prepared-statement path end to end inside the gateway (PgConnection over the engine's real
// Session on the in-memory KV, every storage request counted at the KV capability): a statement
// text is parsed once per session however often it is prepared, bound or run, and describing a
// prepared statement or a portal runs nothing and sends no storage request.
import { describe, expect, it } from "vitest";
import type { TenantKvCapability } from "../kv/capability.ts";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { Session } from "../sql/session.ts";
import { recordingSession } from "../sql/testing/recording-session.ts";
import { PgConnection } from "./connection.ts";
import { fe, parseBackend, summary } from "./wire-test-client.ts";

async function connect() {
  const inner = memoryCapability(new MemoryKv());
  const kv = { requests: 0 };
  const counted: TenantKvCapability = {
    batch: (req) => {
      kv.requests++;
      return inner.batch(req);
    },
  };
  const session = new Session({ kv: counted, tenantId: 9_700, settings: { user: "app" } });
  const recorded = recordingSession(session);
  let received: Uint8Array[] = [];
  const conn = new PgConnection({ session: recorded, user: "app", io: { send: (b) => received.push(b), close: () => {} } });
  await conn.start();
  const send = async (...chunks: Uint8Array[]): Promise<string[]> => {
    for (const c of chunks) await conn.receive(c);
    const out = summary(received.flatMap((b) => parseBackend(b)));
    received = [];
    return out;
  };
  return { session, kv, executed: recorded.executed, send };
}

describe("prepared statements", () => {
  it("parse each statement text once per session, however often it is prepared, bound or run", async () => {
    const c = await connect();
    await c.send(fe.Query("create table t (id int primary key, v text)"), fe.Query("insert into t values (1, 'a'), (2, 'b')"));
    const before = c.session.parseStats;
    const byId = "select v from t where id = $1";
    expect(await c.send(fe.Parse("s", byId), fe.Sync())).toEqual(["1", "Z I"]);
    for (let i = 0; i < 5; i++) {
      expect(await c.send(fe.Bind("", "s", ["1"]), fe.Execute(""), fe.Sync())).toEqual(["2", "D a", "C SELECT 1", "Z I"]);
    }
    // The same text prepared again (an unnamed statement, as pg and postgres.js send) and run.
    for (let i = 0; i < 3; i++) {
      expect(await c.send(fe.Parse("", byId), fe.Bind("", "", ["2"]), fe.Execute(""), fe.Sync())).toEqual(["1", "2", "D b", "C SELECT 1", "Z I"]);
    }
    // A simple Query sent in a loop.
    for (let i = 0; i < 4; i++) expect(await c.send(fe.Query("select count(*) from t"))).toEqual(["T count", "D 2", "C SELECT 1", "Z I"]);
    const after = c.session.parseStats;
    expect(after.parses - before.parses).toBe(2); // byId and the count query, once each
    expect(after.hits - before.hits).toBe(3 + 3); // the three unnamed Parses, then the three Query repeats
  });

  it("describe a prepared statement and its portal without running it or sending a storage request", async () => {
    const c = await connect();
    await c.send(fe.Query("create table r (id int primary key, note text)"), fe.Query("insert into r values (1, 'one')"));
    const parsed = await c.send(fe.Parse("ins", 'insert into r as x values ($1, $2) returning x.id, note as "n"'), fe.Parse("sel", "select note from r where id = $1"), fe.Sync());
    expect(parsed).toEqual(["1", "1", "Z I"]);
    const requests = c.kv.requests;
    const ran = c.executed.length;
    // $1 and $2 typed from the target columns (int4, text), as PostgreSQL 15 describes them.
    expect(await c.send(fe.Describe("S", "ins"), fe.Describe("S", "sel"), fe.Sync())).toEqual(["t 23,25", "T id,n", "t 23", "T note", "Z I"]);
    expect(await c.send(fe.Bind("p", "ins", ["2", "two"]), fe.Describe("P", "p"), fe.Bind("q", "sel", ["1"]), fe.Describe("P", "q"), fe.Sync())).toEqual(["2", "T id,n", "2", "T note", "Z I"]);
    expect(c.kv.requests).toBe(requests);
    expect(c.executed.length).toBe(ran);
    // Nothing was written by describing the INSERT; running it writes.
    expect(await c.send(fe.Query("select count(*) from r"))).toEqual(["T count", "D 1", "C SELECT 1", "Z I"]);
    expect(await c.send(fe.Bind("", "ins", ["2", "two"]), fe.Execute(""), fe.Sync())).toEqual(["2", "D 2|two", "C INSERT 0 1", "Z I"]);
  });
});
