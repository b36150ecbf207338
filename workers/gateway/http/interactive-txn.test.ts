// The gateway's side of HTTP interactive transactions, with real sessions over the in-memory KV
// (snapshot reads, optimistic commits that conflict): the state leaves the gateway with the
// response and is all a later request needs; the end record refuses every copy of the handle
// after COMMIT or ROLLBACK; two copies racing to commit cannot both win.
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { capabilityTransport, KvClient } from "../kv/kv-client.ts";
import { Session } from "../sql/session.ts";
import { InteractiveTxn } from "./interactive-txn.ts";
import { TXN_HEADERS } from "../edge-contract.ts";
import { handleSql } from "./sql-handler.ts";

const TENANT = 41;

function gateway() {
  const cap = memoryCapability(new MemoryKv());
  /** One request to a fresh "gateway instance": new session, new KV client, nothing shared but storage. */
  // The edge fixes the expiry at BEGIN and sends the same one with every request of the transaction.
  const expiresAtMs = Date.now() + 60_000;
  const send = async (query: string, state: string | null, params: unknown[] = []) => {
    const headers = new Headers({ "content-type": "application/json", [TXN_HEADERS.expiresAtMs]: String(expiresAtMs) });
    if (state !== null) headers.set(TXN_HEADERS.state, state);
    const request = new Request("http://gateway/sql", { method: "POST", headers, body: JSON.stringify({ query, params }) });
    const kv = new KvClient(capabilityTransport(cap));
    const res = await handleSql(request, () => new Session({ kv: cap, tenantId: TENANT }), undefined, () => InteractiveTxn.fromRequest(request, kv, TENANT));
    const body = (await res.json()) as { code?: string; rows?: unknown[]; command?: string; message?: string };
    return { status: res.status, body, state: res.headers.get(TXN_HEADERS.state) };
  };
  return { send, cap, expiresAtMs };
}

describe("HTTP interactive transactions in the gateway", () => {
  it("BEGIN returns the state; later requests continue it anywhere; COMMIT ends it and every copy is refused after", async () => {
    const g = gateway();
    await g.send("create table t (id int primary key, v int)", null);
    const begin = await g.send("BEGIN", null);
    expect(begin.body.command).toBe("BEGIN");
    expect(begin.state).not.toBeNull();
    const ins = await g.send("insert into t values (1, 10)", begin.state);
    expect(ins.status).toBe(200);
    expect((await g.send("select count(*) from t", null)).body.rows).toEqual([{ count: "0" }]);
    const sel = await g.send("select v from t", ins.state);
    expect(sel.body.rows).toEqual([{ v: 10 }]);
    const commit = await g.send("COMMIT", sel.state);
    expect(commit.body.command).toBe("COMMIT");
    expect(commit.state).toBeNull();
    expect((await g.send("select count(*) from t", null)).body.rows).toEqual([{ count: "1" }]);
    for (const s of [begin.state, ins.state, sel.state]) {
      const again = await g.send("insert into t values (2, 20)", s);
      expect(again.body.code).toBe("25P01");
      expect(again.state).toBeNull();
    }
    expect((await g.send("select count(*) from t", null)).body.rows).toEqual([{ count: "1" }]);
  });

  it("two copies of one handle racing to COMMIT: one wins, the other gets 40001 and writes nothing", async () => {
    const g = gateway();
    await g.send("create table t (id int primary key, v int)", null);
    const begin = await g.send("BEGIN", null);
    // The same state continued twice (a client that retried, or a copied handle): two forks.
    const a = await g.send("insert into t values (1, 1)", begin.state);
    const b = await g.send("insert into t values (2, 2)", begin.state);
    // Sent at once: both pass the end-record check before either commits, so only the read span
    // over the record (written by the winner's commit) can stop the second.
    const [ra, rb] = await Promise.all([g.send("COMMIT", a.state), g.send("COMMIT", b.state)]);
    const outcomes = [ra.body.command ?? ra.body.code, rb.body.command ?? rb.body.code].sort();
    expect(outcomes[1]).toBe("COMMIT");
    expect(["40001", "25P01"]).toContain(outcomes[0]);
    const rows = (await g.send("select id from t order by id", null)).body.rows;
    expect(rows).toEqual(ra.body.command === "COMMIT" ? [{ id: 1 }] : [{ id: 2 }]);
    // And a third copy afterwards is refused by the record itself.
    expect((await g.send("COMMIT", begin.state)).body.code).toBe("25P01");
  });

  it("a copy that passed the end-record check before the other committed still cannot commit (40001)", async () => {
    const g = gateway();
    await g.send("create table t (id int primary key)", null);
    const begin = await g.send("BEGIN", null);
    // Two gateway instances resume the same state, one step at a time, so both pass the check.
    const resumed = await Promise.all(
      [1, 2].map(async () => {
        const request = new Request("http://gateway/sql", { method: "POST", headers: { [TXN_HEADERS.state]: begin.state!, [TXN_HEADERS.expiresAtMs]: String(g.expiresAtMs) } });
        const txn = await InteractiveTxn.fromRequest(request, new KvClient(capabilityTransport(g.cap)), TENANT);
        const session = new Session({ kv: g.cap, tenantId: TENANT });
        await txn.resume(session);
        return session;
      }),
    );
    await resumed[0]!.execute("insert into t values (1)");
    await resumed[1]!.execute("insert into t values (2)");
    await resumed[0]!.execute("COMMIT");
    await expect(resumed[1]!.execute("COMMIT")).rejects.toMatchObject({ code: "40001" });
    expect((await g.send("select id from t", null)).body.rows).toEqual([{ id: 1 }]);
  });

  it("ROLLBACK and a failed statement: the aborted state travels, COMMIT rolls back, the end is recorded", async () => {
    const g = gateway();
    await g.send("create table t (id int primary key)", null);
    const begin = await g.send("BEGIN", null);
    const one = await g.send("insert into t values (1)", begin.state);
    const dup = await g.send("insert into t values (1)", one.state);
    expect(dup.body.code).toBe("23505");
    expect(dup.state).not.toBeNull(); // an error inside the transaction still carries it, aborted
    expect((await g.send("select 1", dup.state)).body.code).toBe("25P02");
    const end = await g.send("COMMIT", dup.state);
    expect(end.body.command).toBe("ROLLBACK");
    expect((await g.send("select 1", one.state)).body.code).toBe("25P01");
    expect((await g.send("select count(*) from t", null)).body.rows).toEqual([{ count: "0" }]);
  });

  it("a transaction of small rows fits a few hundred of them before its handle is full (54000)", async () => {
    const g = gateway();
    await g.send("create table t (id int primary key, name text)", null);
    let state = (await g.send("BEGIN", null)).state;
    let rows = 0;
    let failed: { code?: string } | null = null;
    while (failed === null && rows < 10_000) {
      const r = await g.send("insert into t select g, 'customer ' || g from generate_series($1::int, $2::int) g", state, [rows + 1, rows + 50]);
      if (r.status === 200) rows += 50;
      else failed = r.body;
      state = r.state;
    }
    expect(failed?.code).toBe("54000");
    expect(rows).toBeGreaterThanOrEqual(200);
    console.log(`a handle held ${rows} rows of (int, 'customer N') before the 54000`);
    expect((await g.send("COMMIT", state)).body.command).toBe("ROLLBACK");
    expect((await g.send("select count(*) from t", null)).body.rows).toEqual([{ count: "0" }]);
  });

  it("a gateway without an expiry from the edge refuses to leave a transaction open", async () => {
    const cap = memoryCapability(new MemoryKv());
    const request = new Request("http://gateway/sql", { method: "POST", body: JSON.stringify({ query: "BEGIN" }) });
    const kv = new KvClient(capabilityTransport(cap));
    const res = await handleSql(request, () => new Session({ kv: cap, tenantId: TENANT }), undefined, () => InteractiveTxn.fromRequest(request, kv, TENANT));
    expect(((await res.json()) as { code: string }).code).toBe("0A000");
    expect(res.headers.get(TXN_HEADERS.state)).toBeNull();
  });
});
