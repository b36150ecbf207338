// Interactive transactions over POST /sql with the sealed Warren-Transaction handle, against the
// real local stack (storage node over LMDB, wrangler dev with the edge and gateway isolates):
// a transaction survives a restart of the whole stack, conflicting read-modify-writes stay exact
// through 40001 and retry, and every kind of bad handle is refused with its SQLSTATE and writes
// nothing. Protocol: workers/gateway/http/README.md.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { warrenHttp, WarrenHttpError } from "../client/warren-http.ts";
import { dataPaths } from "../cli/data-dir.ts";
import { TxnHandleSealer } from "../workers/edge/txn-handle.ts";
import { postSql, TXN_HANDLE_HEADER, type HttpTxnAnswer } from "./harness/http-txn.ts";
import { httpSql, startStack, type Stack, type TenantConnection } from "./harness/stack.ts";

const HANDLE = TXN_HANDLE_HEADER;
const post = postSql;
type Answer = HttpTxnAnswer;

async function count(t: TenantConnection, table: string): Promise<number> {
  const r = await httpSql(t, `select count(*)::int as n from ${table}`);
  return Number((r.rows[0] as { n: number }).n);
}

describe("interactive transactions over HTTP", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-http-txn-"));
  let stack: Stack;
  let demo: TenantConnection;

  beforeAll(async () => {
    stack = await startStack({ dataDir });
    demo = stack.demo;
    await httpSql(demo, "create table kv (k int primary key, v text)");
    await httpSql(demo, "create table acct (id int primary key, bal int not null)");
    await httpSql(demo, "insert into acct values (1, 0), (2, 0)");
  });

  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("BEGIN → INSERT → restart of the whole stack → SELECT sees the insert → COMMIT with the same handle", async () => {
    const begin = await post(demo, "BEGIN");
    expect(begin.status).toBe(200);
    expect(begin.body.command).toBe("BEGIN");
    expect(begin.handle).toMatch(/^wtx1\.[0-9]+\.[A-Za-z0-9_-]+$/);
    const ins = await post(demo, "insert into kv values (1, 'one')", begin.handle);
    expect(ins.status).toBe(200);
    expect(ins.handle).not.toBeNull();
    // Not visible outside the transaction: nothing was committed.
    expect(await count(demo, "kv")).toBe(0);

    await stack.stop();
    stack = await startStack({ dataDir });
    demo = { ...demo, http: stack.demo.http, pg: stack.demo.pg };

    const sel = await post(demo, "select v from kv where k = 1", ins.handle);
    expect(sel.status).toBe(200);
    expect(sel.body.rows).toEqual([{ v: "one" }]);
    expect(await count(demo, "kv")).toBe(0);
    const commit = await post(demo, "COMMIT", sel.handle);
    expect(commit.status).toBe(200);
    expect(commit.body.command).toBe("COMMIT");
    expect(commit.handle).toBeNull();
    expect(await count(demo, "kv")).toBe(1);

    // Replayed after COMMIT, with any of its handles: 25P01, and nothing runs.
    for (const h of [sel.handle, ins.handle, begin.handle]) {
      const replay = await post(demo, "insert into kv values (2, 'replayed')", h);
      expect(replay.status).toBe(400);
      expect(replay.body.code).toBe("25P01");
      expect(replay.handle).toBeNull();
      expect((await post(demo, "COMMIT", h)).body.code).toBe("25P01");
    }
    expect(await count(demo, "kv")).toBe(1);
  });

  it("ROLLBACK ends the transaction and writes nothing; its handle is refused afterwards", async () => {
    const b = await post(demo, "BEGIN");
    const i = await post(demo, "insert into kv values (10, 'ten')", b.handle);
    expect((await post(demo, "select count(*)::int as n from kv", i.handle)).body.rows).toEqual([{ n: 2 }]);
    const r = await post(demo, "ROLLBACK", i.handle);
    expect(r.status).toBe(200);
    expect(r.handle).toBeNull();
    expect(await count(demo, "kv")).toBe(1);
    const again = await post(demo, "COMMIT", i.handle);
    expect(again.body.code).toBe("25P01");
    expect(await count(demo, "kv")).toBe(1);
  });

  it("refuses forged, tampered, expired and another tenant's handles, writing nothing", async () => {
    const b = await post(demo, "BEGIN");
    const i = await post(demo, "insert into kv values (20, 'twenty')", b.handle);
    const handle = i.handle!;
    const [, tenant, body] = /^wtx1\.([0-9]+)\.(.+)$/.exec(handle)!;

    // Tampered: one character of the ciphertext changed.
    const at = Math.floor(body!.length / 2);
    const flipped = body![at] === "A" ? "B" : "A";
    const tampered = `wtx1.${tenant}.${body!.slice(0, at)}${flipped}${body!.slice(at + 1)}`;
    // Forged: the right shape, random bytes.
    const forged = `wtx1.${tenant}.${Buffer.from(crypto.getRandomValues(new Uint8Array(200))).toString("base64url")}`;
    // The tenant id in the clear changed to another tenant's: authenticated data, so it fails too.
    const acme = await stack.createTenant("acme");
    const acmeId = Number(/^wtx1\.([0-9]+)\./.exec((await post(acme, "BEGIN")).handle!)![1]);
    const relabelled = `wtx1.${acmeId}.${body}`;
    for (const [bad, code, message] of [
      [tampered, "25000", /altered, forged/],
      [forged, "25000", /altered, forged/],
      ["not a handle", "25000", /not a transaction handle/],
      [`wtx1.${tenant}.@@`, "25000", /not a transaction handle/],
    ] as const) {
      const r = await post(demo, "COMMIT", bad);
      expect(r.status, bad).toBe(400);
      expect(r.body.code).toBe(code);
      expect(r.body.message).toMatch(message);
    }
    // Demo's handle sent to acme: another tenant's.
    const foreign = await post(acme, "COMMIT", handle);
    expect(foreign.body.code).toBe("25000");
    expect(foreign.body.message).toMatch(/another virtual cluster/);
    const relabelledAtAcme = await post(acme, "COMMIT", relabelled);
    expect(relabelledAtAcme.body.code).toBe("25000");
    expect(relabelledAtAcme.body.message).toMatch(/altered, forged/);

    // Expired: the same state sealed with an expiry in the past, with the edge's real key (the
    // data dir holds it), so only the expiry is wrong.
    const sealer = await TxnHandleSealer.fromSecret(fs.readFileSync(dataPaths(dataDir).txnHandleSecret, "utf8").trim());
    const opened = await sealer.open(handle, Number(tenant), Date.now());
    const expired = await sealer.seal(Number(tenant), Date.now() - 1000, opened.state);
    const e = await post(demo, "COMMIT", expired);
    expect(e.body.code).toBe("25P03");
    expect(e.body.message).toMatch(/expired/);

    expect(await count(demo, "kv")).toBe(1);
    // The real handle still works after all of that, and commits.
    expect((await post(demo, "COMMIT", handle)).status).toBe(200);
    expect(await count(demo, "kv")).toBe(2);
  });

  it("a request from a batch cannot continue a transaction, and a transaction that outgrows its handle is aborted with 54000", async () => {
    const b = await post(demo, "BEGIN");
    const res = await fetch(demo.http, {
      method: "POST",
      headers: { "content-type": "application/json", "neon-connection-string": demo.pg, [HANDLE]: b.handle! },
      body: JSON.stringify({ queries: [{ query: "select 1", params: [] }] }),
    });
    expect(((await res.json()) as { code: string }).code).toBe("08P01");

    // Random text does not compress much, so the handle grows with every row.
    let h = b.handle;
    let failed: Answer | null = null;
    let k = 100;
    for (; k < 200 && failed === null; k++) {
      const r = await post(demo, "insert into kv values ($1, $2)", h, [k, Buffer.from(crypto.getRandomValues(new Uint8Array(750))).toString("base64")]);
      if (r.status !== 200) failed = r;
      h = r.handle;
    }
    expect(failed?.body.code).toBe("54000");
    console.log(`an HTTP transaction held ${k - 101} rows of 1,000 random characters before its handle was full`);
    expect(failed?.body.message).toMatch(/outgrew its handle/);
    expect(h).not.toBeNull(); // the aborted transaction's handle
    expect((await post(demo, "select 1", h)).body.code).toBe("25P02");
    const end = await post(demo, "COMMIT", h);
    expect(end.status).toBe(200);
    expect(end.body.command).toBe("ROLLBACK");
    expect(await count(demo, "kv")).toBe(2);
  });

  it("conflicting read-modify-writes: the second committer gets 40001, retries, and the totals stay exact", async () => {
    // Deterministic: A reads, B reads and commits its update, then A updates the same row → 40001.
    // The UPDATE locks its row on the storage node and finds it changed since A's snapshot, which
    // A has read: like PostgreSQL's "could not serialize access due to concurrent update", the
    // failure comes at the UPDATE and the transaction ends there (its handle is not renewed).
    const a = await post(demo, "BEGIN");
    const aRead = await post(demo, "select bal from acct where id = 1", a.handle);
    const b = await post(demo, "BEGIN");
    const bRead = await post(demo, "select bal from acct where id = 1", b.handle);
    const bUpd = await post(demo, "update acct set bal = $1 where id = 1", bRead.handle, [Number((bRead.body.rows![0] as { bal: number }).bal) + 1]);
    expect((await post(demo, "COMMIT", bUpd.handle)).status).toBe(200);
    const aUpd = await post(demo, "update acct set bal = $1 where id = 1", aRead.handle, [Number((aRead.body.rows![0] as { bal: number }).bal) + 1]);
    expect(aUpd.body.code).toBe("40001");
    // As in a PostgreSQL transaction block, the error leaves the transaction failed, not gone: its
    // handle comes back, and COMMIT with it rolls back (command ROLLBACK) and ends it.
    expect(aUpd.handle).not.toBeNull();
    const aCommit = await post(demo, "COMMIT", aUpd.handle);
    expect(aCommit.status).toBe(200);
    expect(aCommit.body.command).toBe("ROLLBACK");
    expect(aCommit.handle).toBeNull();
    expect((await httpSql(demo, "select bal from acct where id = 1")).rows).toEqual([{ bal: 1 }]);

    // Two clients through the client helper, each adding 1 to both accounts 15 times, concurrently.
    const perClient = 10;
    let conflicts = 0;
    const counting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (res.status === 400) {
        const body = (await res.clone().json()) as { code?: string };
        if (body.code === "40001") conflicts++;
      }
      return res;
    };
    const client = () => warrenHttp({ url: demo.http, connectionString: demo.pg, fetch: counting });
    const work = async (db: ReturnType<typeof client>) => {
      for (let n = 0; n < perClient; n++) {
        await db.transaction(
          async (tx) => {
            for (const id of [1, 2]) {
              const { rows } = await tx.query<{ bal: number }>("select bal from acct where id = $1", [id]);
              await tx.query("update acct set bal = $1 where id = $2", [Number(rows[0]!.bal) + 1, id]);
            }
          },
          { attemptsMax: 50 },
        );
      }
    };
    await Promise.all([work(client()), work(client())]);
    const rows = (await httpSql(demo, "select id, bal from acct order by id")).rows;
    expect(rows).toEqual([
      { id: 1, bal: 1 + 2 * perClient },
      { id: 2, bal: 2 * perClient },
    ]);
    console.log(`HTTP read-modify-write: ${2 * perClient} transactions committed, ${conflicts} serialization failures retried`);
  });

  it("prints what a statement inside an HTTP transaction costs next to an autocommit one (same run)", async () => {
    const rounds = 20;
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    const plain: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      expect((await post(demo, "select v from kv where k = 1")).status).toBe(200);
      plain.push(performance.now() - t0);
    }
    let h = (await post(demo, "BEGIN")).handle;
    const inTxn: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const r = await post(demo, "select v from kv where k = 1", h);
      inTxn.push(performance.now() - t0);
      expect(r.status).toBe(200);
      h = r.handle;
    }
    const handleChars = h!.length;
    expect((await post(demo, "COMMIT", h)).status).toBe(200);
    console.log(
      `POST /sql median over ${rounds}: autocommit ${median(plain).toFixed(1)} ms, inside an HTTP transaction ${median(inTxn).toFixed(1)} ms ` +
        `(open + end-record read + reseal); handle after ${rounds} reads: ${handleChars} characters`,
    );
  });

  it("the client helper reports a Postgres error with its SQLSTATE and rolls the transaction back", async () => {
    const db = warrenHttp({ url: demo.http, connectionString: demo.pg });
    const err = await db
      .transaction(async (tx) => {
        await tx.query("insert into kv values (30, 'thirty')");
        await tx.query("insert into kv values (30, 'again')");
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WarrenHttpError);
    expect((err as WarrenHttpError).code).toBe("23505");
    expect(await count(demo, "kv")).toBe(2);
    expect((await db.query<{ n: number }>("select 41 + 1 as n")).rows).toEqual([{ n: 42 }]);
  });
});
