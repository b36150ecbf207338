// DROP TABLE / TRUNCATE / DROP INDEX / DROP SCHEMA … CASCADE / ALTER TABLE … DROP COLUMN over the
// real storage node: they are catalog changes with a clearRange of the old span, so they work on
// tables larger than one commit could delete key by key (this node allows only 50 tombstones per
// deleteRange), they commit transactionally (a rolled-back DROP or TRUNCATE keeps every row), the
// old spans are then emptied on disk (checked with the system credential), and a transaction whose
// snapshot predates the change gets 40001 rather than a half-deleted table. Expected results and
// messages are PostgreSQL 15's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import { decodeResponse, encodeRequest } from "../../../common/kv-protocol/codec.ts";
import { tenantSpan } from "../../../common/tenant-prefix.ts";
import { relationOid } from "../catalog/oids.ts";
import { prefixEnd } from "../../../common/bytes.ts";
import { tablePrefix } from "../keys/doc.ts";
import { Session } from "./session.ts";
import { startRealStorage, type RealStorage } from "./testing/storage-node.ts";

let storage: RealStorage;
let tenant = 700;

beforeAll(async () => {
  // 50 tombstones per deleteRange: the old way (one tombstone per row) fails at 54000 past that.
  storage = await startRealStorage({ deleteRangeKeysMax: 50, clearChunkKeysMax: 64, clearChunkPauseMs: 1 });
}, 60_000);

afterAll(async () => {
  await storage?.close();
});

async function session(tenantId: number): Promise<Session> {
  return new Session({ kv: await storage.capability(tenantId), tenantId, settings: { user: "app", database: "app" } });
}

async function rows(s: Session, sql: string): Promise<Array<Array<string | null>>> {
  const r = await s.execute(sql);
  return r[r.length - 1]!.rows;
}

async function one(s: Session, sql: string): Promise<string | null> {
  return (await rows(s, sql))[0]![0]!;
}

async function admin(path: string): Promise<any> {
  const res = await fetch(`${storage.url}${path}`, { headers: { authorization: `Bearer ${await storage.systemToken()}` } });
  expect(res.status).toBe(200);
  return res.json();
}

const hex = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** Versions stored on disk under /<tenant>/<id>/… (a table's or sequence's data span), at most 100,000. */
async function versionsUnder(tenantId: number, id: number): Promise<number> {
  const p = tablePrefix(tenantId, id);
  return (await admin(`/v1/admin/span-versions?tenantId=${tenantId}&start=${hex(p)}&end=${hex(prefixEnd(p))}`)).versions;
}

async function settled(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((await admin("/v1/admin/stats")).node.clearsPending > 0) {
    if (Date.now() > deadline) throw new Error("background clears did not finish");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The descriptor id of a relation (its OID less FirstNormalObjectId). */
async function descId(s: Session, name: string): Promise<number> {
  const oid = Number(await one(s, `SELECT oid FROM pg_class WHERE relname = '${name}'`));
  return oid - relationOid(0);
}

async function pgError(p: Promise<unknown>): Promise<PgError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PgError);
  return err as PgError;
}

async function fill(s: Session, table: string, n: number): Promise<void> {
  await s.execute(`INSERT INTO ${table} (v) SELECT 'row ' || g FROM generate_series(1, ${n}) g`);
}

describe("DROP and TRUNCATE over the real storage node", () => {
  it("TRUNCATE of a table larger than a deleteRange allows: new empty span at once, old span emptied in the background, same OID", async () => {
    const t = ++tenant;
    const s = await session(t);
    await s.execute("CREATE TABLE big (id serial PRIMARY KEY, v text)");
    await s.execute("CREATE INDEX big_v ON big (v)");
    await fill(s, "big", 400);
    const id = await descId(s, "big");
    expect(await versionsUnder(t, id)).toBe(800);
    // The old way, a deleteRange (one tombstone per key in one commit), is refused on this table.
    const p = tablePrefix(t, id);
    const cap = await storage.capability(t);
    const old = decodeResponse(await cap.batch(encodeRequest({ type: "batch", reads: [], writes: [{ op: "deleteRange", start: p, end: prefixEnd(p) }] })));
    expect(old).toMatchObject({ type: "error", error: { code: "limit_exceeded" } });
    expect(await s.execute("TRUNCATE big")).toMatchObject([{ command: "TRUNCATE TABLE" }]);
    expect(await one(s, "SELECT count(*) FROM big")).toBe("0");
    expect(await descId(s, "big")).toBe(id);
    // New rows go to the new span; the index works on it; the sequence continues (no RESTART IDENTITY).
    await s.execute("INSERT INTO big (v) VALUES ('after')");
    expect(await rows(s, "SELECT id, v FROM big WHERE v = 'after'")).toEqual([["401", "after"]]);
    await settled();
    expect(await versionsUnder(t, id)).toBe(0);
    expect(await rows(s, "SELECT id, v FROM big")).toEqual([["401", "after"]]);
  });

  it("DROP TABLE, DROP INDEX, DROP SCHEMA … CASCADE and DROP COLUMN of an indexed column clear their spans; the sequence of a serial goes too", async () => {
    const t = ++tenant;
    const s = await session(t);
    await s.execute("CREATE TABLE d (id serial PRIMARY KEY, v text, w int)");
    await s.execute("CREATE INDEX d_v ON d (v)");
    await s.execute("CREATE INDEX d_w ON d (w)");
    await s.execute("INSERT INTO d (v, w) SELECT 'r' || g, g FROM generate_series(1, 300) g");
    const id = await descId(s, "d");
    const seq = await descId(s, "d_id_seq");
    expect(await versionsUnder(t, id)).toBe(900);
    await s.execute("DROP INDEX d_v");
    await s.execute("ALTER TABLE d DROP COLUMN w");
    await settled();
    expect(await versionsUnder(t, id)).toBe(300);
    // Rows keep the dropped column's bytes: no rewrite, and they read back without it.
    expect(await rows(s, "SELECT * FROM d WHERE id = 7")).toEqual([["7", "r7"]]);
    expect(await versionsUnder(t, seq)).toBeGreaterThan(0);
    expect(await s.execute("DROP TABLE d")).toMatchObject([{ command: "DROP TABLE" }]);
    await settled();
    expect(await versionsUnder(t, id)).toBe(0);
    expect(await versionsUnder(t, seq)).toBe(0);
    expect(await pgError(s.execute("SELECT * FROM d"))).toMatchObject({ code: "42P01" });

    await s.execute("CREATE SCHEMA sc");
    await s.execute("CREATE TABLE sc.x (id int PRIMARY KEY, v text)");
    await s.execute("CREATE INDEX x_v ON sc.x (v)");
    await s.execute("INSERT INTO sc.x SELECT g, 'v' || g FROM generate_series(1, 200) g");
    const x = await descId(s, "x");
    await s.execute("DROP SCHEMA sc CASCADE");
    await settled();
    expect(await versionsUnder(t, x)).toBe(0);
    // ADD PRIMARY KEY rewrites the rows into a new span and clears the old one whole.
    await s.execute("CREATE TABLE nk (a int, v text)");
    await s.execute("INSERT INTO nk SELECT g, 'v' || g FROM generate_series(1, 200) g");
    const nk = await descId(s, "nk");
    await s.execute("ALTER TABLE nk ADD PRIMARY KEY (a)");
    await settled();
    expect(await versionsUnder(t, nk)).toBe(0);
    expect(await rows(s, "SELECT a, v FROM nk WHERE a = 150")).toEqual([["150", "v150"]]);
    expect(await one(s, "SELECT count(*) FROM nk")).toBe("200");
    // Only the catalog is left of the tenant's keys, a few dozen at most.
    const all = tenantSpan(t);
    expect((await admin(`/v1/admin/span-versions?tenantId=${t}&start=${hex(all.start)}&end=${hex(all.end)}`)).versions).toBeLessThan(700);
  });

  it("is transactional: a rolled-back TRUNCATE or DROP keeps the data; inside the transaction the table is empty or gone", async () => {
    const t = ++tenant;
    const s = await session(t);
    await s.execute("CREATE TABLE r (id serial PRIMARY KEY, v text)");
    await fill(s, "r", 120);
    const id = await descId(s, "r");
    await s.execute("BEGIN");
    await s.execute("INSERT INTO r (v) VALUES ('in txn')");
    await s.execute("TRUNCATE r");
    expect(await one(s, "SELECT count(*) FROM r")).toBe("0");
    await s.execute("ROLLBACK");
    expect(await one(s, "SELECT count(*) FROM r")).toBe("120");
    await s.execute("BEGIN");
    await s.execute("DROP TABLE r");
    expect(await pgError(s.execute("SELECT count(*) FROM r"))).toMatchObject({ code: "42P01" });
    await s.execute("ROLLBACK");
    expect(await one(s, "SELECT count(*) FROM r")).toBe("120");
    // A failed statement rolls back the implicit transaction too.
    expect(await pgError(s.execute("TRUNCATE r; SELECT 1/0"))).toMatchObject({ code: "22012" });
    expect(await one(s, "SELECT count(*) FROM r")).toBe("120");
    await settled();
    expect(await versionsUnder(t, id)).toBe(120);
    // Rows written in the same transaction after the TRUNCATE stay; those before it go.
    await s.execute("BEGIN");
    await s.execute("INSERT INTO r (v) VALUES ('before')");
    await s.execute("TRUNCATE r");
    await s.execute("INSERT INTO r (v) VALUES ('after')");
    expect(await rows(s, "SELECT v FROM r")).toEqual([["after"]]);
    await s.execute("COMMIT");
    expect(await rows(s, "SELECT v FROM r")).toEqual([["after"]]);
    await settled();
    expect(await versionsUnder(t, id)).toBe(0);
  });

  it("TRUNCATE a, b, foreign keys, CASCADE and RESTART IDENTITY as PostgreSQL 15", async () => {
    const s = await session(++tenant);
    await s.execute("CREATE TABLE a (id serial PRIMARY KEY, v text)");
    await s.execute("CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a(id))");
    await s.execute("CREATE TABLE c (id int PRIMARY KEY, b_id int REFERENCES b(id))");
    await s.execute("INSERT INTO a (v) VALUES ('x'), ('y')");
    await s.execute("INSERT INTO b VALUES (1, 1)");
    await s.execute("INSERT INTO c VALUES (1, 1)");
    expect(await pgError(s.execute("TRUNCATE a"))).toMatchObject({
      code: "0A000",
      message: "cannot truncate a table referenced in a foreign key constraint",
      detail: 'Table "b" references "a".',
      hint: 'Truncate table "b" at the same time, or use TRUNCATE ... CASCADE.',
    });
    expect(await pgError(s.execute("TRUNCATE a, b"))).toMatchObject({ code: "0A000", detail: 'Table "c" references "b".' });
    await s.execute("TRUNCATE a, b, c RESTART IDENTITY");
    await s.execute("INSERT INTO a (v) VALUES ('z')");
    expect(await rows(s, "SELECT * FROM a")).toEqual([["1", "z"]]);
    await s.execute("INSERT INTO a (v) VALUES ('x'), ('y')");
    await s.execute("INSERT INTO b VALUES (1, 2)");
    await s.execute("INSERT INTO c VALUES (1, 1)");
    await s.execute("TRUNCATE a CASCADE");
    expect(await rows(s, "SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b), (SELECT count(*) FROM c)")).toEqual([["0", "0", "0"]]);
    // A rolled-back RESTART IDENTITY keeps the sequence where it was.
    await s.execute("INSERT INTO a (v) VALUES ('w')");
    await s.execute("BEGIN");
    await s.execute("TRUNCATE TABLE a, b, c RESTART IDENTITY");
    await s.execute("ROLLBACK");
    await s.execute("INSERT INTO a (v) VALUES ('w2')");
    expect(await rows(s, "SELECT * FROM a ORDER BY id")).toEqual([["4", "w"], ["5", "w2"]]);
    // Inside the transaction the restarted sequence is used at once; CONTINUE IDENTITY keeps it.
    await s.execute("BEGIN");
    await s.execute("TRUNCATE a, b, c RESTART IDENTITY");
    await s.execute("INSERT INTO a (v) VALUES ('one')");
    await s.execute("COMMIT");
    await s.execute("TRUNCATE ONLY a, b, c CONTINUE IDENTITY");
    await s.execute("INSERT INTO a (v) VALUES ('two')");
    expect(await rows(s, "SELECT * FROM a")).toEqual([["2", "two"]]);
    await s.execute("CREATE VIEW v AS SELECT 1");
    await s.execute("CREATE SEQUENCE sq");
    expect(await pgError(s.execute("TRUNCATE v"))).toMatchObject({ code: "42809", message: '"v" is not a table' });
    expect(await pgError(s.execute("TRUNCATE sq"))).toMatchObject({ code: "42809", message: '"sq" is not a table' });
    expect(await pgError(s.execute("TRUNCATE nosuch"))).toMatchObject({ code: "42P01", message: 'relation "nosuch" does not exist' });
    expect(await pgError(s.execute("DROP INDEX a_pkey"))).toMatchObject({ code: "2BP01" });
    await s.execute("CREATE INDEX ai ON a (v)");
    await s.execute("DROP INDEX ai");
    expect(await pgError(s.execute("DROP INDEX ai"))).toMatchObject({ code: "42704", message: 'index "ai" does not exist' });
    await s.execute("DROP INDEX IF EXISTS ai");
  });

  it("a transaction whose snapshot predates the DROP/TRUNCATE gets 40001, never a half-deleted table; retried, it sees the change", async () => {
    const t = ++tenant;
    const a = await session(t);
    const b = await session(t);
    await a.execute("CREATE TABLE o (id serial PRIMARY KEY, v text)");
    await a.execute("CREATE TABLE other (k int PRIMARY KEY)");
    await fill(a, "o", 150);
    // Reads after the TRUNCATE in a transaction that began before it.
    await b.execute("BEGIN");
    expect(await one(b, "SELECT count(*) FROM other")).toBe("0");
    await a.execute("TRUNCATE o");
    const err = await pgError(b.execute("SELECT count(*) FROM o"));
    expect(err).toMatchObject({ code: "40001", hint: "retry the transaction" });
    expect(err.message).toMatch(/DROP TABLE \/ TRUNCATE \/ DROP INDEX/);
    await b.execute("ROLLBACK");
    expect(await one(b, "SELECT count(*) FROM o")).toBe("0");
    // Writes by such a transaction are refused at commit.
    await fill(a, "o", 10);
    await b.execute("BEGIN");
    expect(await one(b, "SELECT count(*) FROM o")).toBe("10");
    await a.execute("DROP TABLE o");
    await b.execute("INSERT INTO other VALUES (1)");
    expect(await pgError(b.execute("COMMIT"))).toMatchObject({ code: "40001" });
    expect(await one(b, "SELECT count(*) FROM other")).toBe("0");
    // A session with a cached catalog that has not seen the change simply reloads it.
    await a.execute("CREATE TABLE o2 (id int PRIMARY KEY)");
    await a.execute("INSERT INTO o2 SELECT g FROM generate_series(1, 80) g");
    expect(await one(b, "SELECT count(*) FROM o2")).toBe("80");
    await a.execute("TRUNCATE o2");
    await a.execute("INSERT INTO o2 VALUES (1)");
    expect(await one(b, "SELECT count(*) FROM o2")).toBe("1");
  });

  it("the tenant's byte counts go down once the background clear is done", async () => {
    const t = ++tenant;
    const s = await session(t);
    await s.execute("CREATE TABLE sz (id serial PRIMARY KEY, v text)");
    await s.execute("INSERT INTO sz (v) SELECT repeat('x', 200) FROM generate_series(1, 300)");
    const live = async () => ((await admin("/v1/admin/stats")).tenants.find((x: { tenantId: number }) => x.tenantId === t)?.liveBytes ?? 0) as number;
    const before = await live();
    expect(before).toBeGreaterThan(300 * 200);
    await s.execute("DROP TABLE sz");
    await settled();
    expect(before - (await live())).toBeGreaterThan(300 * 200);
  });
});
