// NoticeResponse for RAISE NOTICE / WARNING / INFO of PL/pgSQL functions and triggers, over the
// simple and the extended query protocol, in the order PostgreSQL 15 sends them (a function in
// the SELECT list raises while the first row is computed: after RowDescription, before DataRow).
import { expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { createSession } from "../sql/session.ts";
import { PgConnection } from "./connection.ts";
import { fe, parseBackend, summary } from "./wire-test-client.ts";

it("sends a statement's notices as NoticeResponse with severity, code and message", async () => {
  const session = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: 9_300, settings: { user: "app" } });
  let received: Uint8Array[] = [];
  const conn = new PgConnection({ session, user: "app", io: { send: (b) => received.push(b), close: () => {} } });
  await conn.start();
  const send = async (...chunks: Uint8Array[]): Promise<ReturnType<typeof parseBackend>> => {
    received = [];
    for (const c of chunks) await conn.receive(c);
    return received.flatMap((b) => parseBackend(b));
  };
  await send(fe.Query("create table t (id int primary key)"));
  await send(fe.Query(`create function f(n int) returns int language plpgsql as $$ begin raise notice 'n is %', n; raise warning 'careful' using errcode = '01000', hint = 'h'; return n; end $$`));
  await send(fe.Query(`create function trg() returns trigger language plpgsql as $$ begin raise info 'row %', new.id; return new; end $$`));
  await send(fe.Query("create trigger t_trg before insert on t for each row execute function trg()"));

  const simple = await send(fe.Query("select f(7)"));
  expect(summary(simple)).toEqual(["T f", "N 00000", "N 01000", "D 7", "C SELECT 1", "Z I"]);
  const notices = simple.filter((m) => m.type === "N") as Array<{ fields: Record<string, string> }>;
  expect(notices.map((n) => [n.fields["S"], n.fields["V"], n.fields["M"], n.fields["H"]])).toEqual([
    ["NOTICE", "NOTICE", "n is 7", undefined],
    ["WARNING", "WARNING", "careful", "h"],
  ]);

  expect(summary(await send(fe.Query("insert into t values (1), (2)")))).toEqual(["N 00000", "N 00000", "C INSERT 0 2", "Z I"]);
  expect(summary(await send(fe.Parse("", "select f($1)"), fe.Bind("", "", ["3"]), fe.Execute(""), fe.Sync()))).toEqual(["1", "2", "N 00000", "N 01000", "D 3", "C SELECT 1", "Z I"]);
});
