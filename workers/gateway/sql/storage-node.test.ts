// The engine over the real storage node (HTTP, tenant token, LMDB): the first slice, schema
// changes seen across sessions, conflicts surfacing as 40001, and EXPLAIN ANALYZE proving how
// few KV requests point lookups, range scans and LIMITs need.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import { Session } from "./session.ts";
import { startRealStorage, type RealStorage } from "./testing/storage-node.ts";

let storage: RealStorage;
let tenant = 500;

beforeAll(async () => {
  storage = await startRealStorage();
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

async function explainAnalyze(s: Session, sql: string): Promise<{ lines: string[]; kv: Record<string, number> }> {
  const lines = (await rows(s, `EXPLAIN ANALYZE ${sql}`)).map((r) => r[0]!);
  const kvLine = lines.find((l) => l.startsWith("KV: "))!;
  const kv = Object.fromEntries(kvLine.slice(4).split(" ").map((p) => p.split("=")).map(([k, v]) => [k!, Number(v)]));
  return { lines, kv };
}

describe("engine over the real storage node", () => {
  it("creates, inserts and selects by key and by full scan", async () => {
    const s = await session(++tenant);
    await s.execute("CREATE TABLE kv (k INT PRIMARY KEY, v TEXT)");
    await s.execute("INSERT INTO kv VALUES (1, 'one'), (2, 'two'), (3, NULL)");
    expect(await rows(s, "SELECT v FROM kv WHERE k = 2")).toEqual([["two"]]);
    expect(await rows(s, "SELECT k, v FROM kv")).toEqual([["1", "one"], ["2", "two"], ["3", null]]);
    const r = await s.execute("SELECT k FROM kv WHERE k = 1");
    expect(r[0]!.fields[0]).toMatchObject({ name: "k", dataTypeID: 23, dataTypeSize: 4 });
  });

  it("shows a schema change made by one session to another at its next statement", async () => {
    const id = ++tenant;
    const a = await session(id);
    const b = await session(id);
    await a.execute("CREATE TABLE t (a INT PRIMARY KEY)");
    await b.execute("INSERT INTO t VALUES (1)");
    await a.execute("ALTER TABLE t ADD COLUMN b TEXT DEFAULT 'x'");
    expect(await rows(b, "SELECT a, b FROM t")).toEqual([["1", "x"]]);
    await b.execute("DROP TABLE t");
    await expect(a.execute("SELECT * FROM t")).rejects.toMatchObject({ code: "42P01" });
  });

  it("surfaces a write conflict as 40001 with a retry hint and keeps both sessions usable", async () => {
    const id = ++tenant;
    const a = await session(id);
    const b = await session(id);
    await a.execute("CREATE TABLE acct (id INT PRIMARY KEY, bal INT)");
    await a.execute("INSERT INTO acct VALUES (1, 100), (2, 100)");
    await a.execute("BEGIN");
    await b.execute("BEGIN");
    // B reads the row first: its snapshot predates A's update, so B's own update cannot be
    // serialized after A's (its refresh finds the row changed): 40001.
    expect(await rows(b, "SELECT bal FROM acct WHERE id = 1")).toEqual([["100"]]);
    await a.execute("UPDATE acct SET bal = bal - 10 WHERE id = 1");
    await a.execute("COMMIT");
    const err = await b.execute("UPDATE acct SET bal = bal - 20 WHERE id = 1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PgError);
    expect(err).toMatchObject({ code: "40001", hint: "retry the transaction" });
    await b.execute("ROLLBACK");
    expect(await rows(b, "SELECT bal FROM acct WHERE id = 1")).toEqual([["90"]]);
    expect(await rows(a, "SELECT sum(bal) FROM acct")).toEqual([["190"]]);
  });

  it("ADD PRIMARY KEY (streamed page by page) refuses duplicates across pages and NULLs, and changes nothing then", async () => {
    const s = await session(++tenant);
    await s.execute("CREATE TABLE dup (a INT, b TEXT)");
    // The duplicate pair is far apart: different scan pages of the rewrite.
    await s.execute("INSERT INTO dup SELECT g, 'x' FROM generate_series(1, 3000) g");
    await s.execute("INSERT INTO dup VALUES (1, 'again')");
    await expect(s.execute("ALTER TABLE dup ADD PRIMARY KEY (a)")).rejects.toMatchObject({ code: "23505", detail: "Key (a)=(1) is duplicated." });
    expect(await rows(s, "SELECT count(*) FROM dup")).toEqual([["3001"]]);
    await s.execute("DELETE FROM dup WHERE b = 'again'");
    await s.execute("INSERT INTO dup VALUES (NULL, 'n')");
    await expect(s.execute("ALTER TABLE dup ADD PRIMARY KEY (a)")).rejects.toMatchObject({ code: "23502" });
    await s.execute("DELETE FROM dup WHERE a IS NULL");
    await s.execute("ALTER TABLE dup ADD PRIMARY KEY (a)");
    expect(await rows(s, "SELECT count(*), sum(a) FROM dup")).toEqual([["3000", "4501500"]]);
    expect(await rows(s, "SELECT b FROM dup WHERE a = 2999")).toEqual([["x"]]);
  }, 300_000);

  it("SELECT … FOR UPDATE locks the rows it reads: a concurrent UPDATE waits for the commit", async () => {
    const id = ++tenant;
    const a = await session(id);
    const b = await session(id);
    await a.execute("CREATE TABLE inv (id INT PRIMARY KEY, qty INT)");
    await a.execute("INSERT INTO inv VALUES (1, 5)");
    await a.execute("BEGIN");
    expect(await rows(a, "SELECT qty FROM inv WHERE id = 1 FOR UPDATE")).toEqual([["5"]]);
    await b.execute("BEGIN");
    let waited = true;
    const bUpdate = b.execute("UPDATE inv SET qty = qty - 1 WHERE id = 1").then(() => (waited = false));
    await new Promise((r) => setTimeout(r, 200));
    expect(waited).toBe(true);
    await a.execute("UPDATE inv SET qty = qty - 2 WHERE id = 1");
    await a.execute("COMMIT");
    await bUpdate;
    await b.execute("COMMIT");
    expect(await rows(a, "SELECT qty FROM inv WHERE id = 1")).toEqual([["2"]]);
    // FOR SHARE takes shared locks: two readers hold them together.
    await a.execute("BEGIN");
    await b.execute("BEGIN");
    expect(await rows(a, "SELECT qty FROM inv WHERE id = 1 FOR SHARE")).toEqual([["2"]]);
    expect(await rows(b, "SELECT qty FROM inv WHERE id = 1 FOR SHARE")).toEqual([["2"]]);
    await a.execute("COMMIT");
    await b.execute("COMMIT");
  });

  it("a second UPDATE of a locked row waits for the first transaction and then applies to its result", async () => {
    const id = ++tenant;
    const a = await session(id);
    const b = await session(id);
    await a.execute("CREATE TABLE acct (id INT PRIMARY KEY, bal INT)");
    await a.execute("INSERT INTO acct VALUES (1, 100), (2, 100)");
    await a.execute("BEGIN");
    await b.execute("BEGIN");
    await a.execute("UPDATE acct SET bal = bal - 10 WHERE id = 1");
    let waited = true;
    const bUpdate = b.execute("UPDATE acct SET bal = bal - 20 WHERE id = 1").then(() => (waited = false));
    await new Promise((r) => setTimeout(r, 200));
    expect(waited).toBe(true);
    await a.execute("COMMIT");
    await bUpdate;
    await b.execute("COMMIT");
    expect(await rows(a, "SELECT bal FROM acct WHERE id = 1")).toEqual([["70"]]);
  });

  it("EXPLAIN: a primary-key equality is one KV request with one get", async () => {
    const s = await session(++tenant);
    await s.execute("CREATE TABLE p (id INT PRIMARY KEY, v TEXT)");
    await s.execute("INSERT INTO p SELECT g, 'v' || g FROM generate_series(1, 500) g");
    await s.execute("SELECT 1 FROM p WHERE id = 1"); // warm the catalog cache
    const { lines, kv } = await explainAnalyze(s, "SELECT v FROM p WHERE id = 42");
    expect(lines[0]).toMatch(/Point Get|Project/);
    expect(lines.some((l) => l.includes("Point Get"))).toBe(true);
    // One round trip; besides the row's get it carries the catalog version check (once per transaction).
    expect(kv).toMatchObject({ requests: 1, gets: 1, scans: 0, rows_read: 1, catalog_checks: 1 });
    // Inside a transaction the catalog is already validated: exactly one get.
    await s.execute("BEGIN");
    await s.execute("SELECT v FROM p WHERE id = 7");
    const inTxn = await explainAnalyze(s, "SELECT v FROM p WHERE id = 42");
    await s.execute("COMMIT");
    expect(inTxn.kv).toMatchObject({ requests: 1, gets: 1, scans: 0, rows_read: 1, catalog_checks: 0 });
  });

  it("EXPLAIN: a range on an index prefix is one bounded scan", async () => {
    const s = await session(++tenant);
    await s.execute("CREATE TABLE r (id INT PRIMARY KEY, grp INT, v INT)");
    await s.execute("CREATE INDEX r_grp_v ON r (grp, v)");
    await s.execute("INSERT INTO r SELECT g, g % 10, g FROM generate_series(1, 1000) g");
    await s.execute("SELECT 1 FROM r WHERE id = 1");
    const pk = await explainAnalyze(s, "SELECT id FROM r WHERE id >= 100 AND id < 120");
    expect(pk.lines.some((l) => l.includes("Index Cond"))).toBe(true);
    expect(pk.kv).toMatchObject({ requests: 1, scans: 1, rows_read: 20 });
    const ix = await explainAnalyze(s, "SELECT id FROM r WHERE grp = 3 AND v > 900");
    expect(ix.lines.some((l) => l.includes("Index: r_grp_v"))).toBe(true);
    // One bounded scan of the index, then the matching rows fetched by one batched get.
    expect(ix.kv.scans).toBe(1);
    expect(ix.kv.requests).toBe(2);
    expect(ix.kv.rows_read).toBe(20);
  });

  it("builds an index on a table larger than one transaction, in chunks, and refuses a duplicate", async () => {
    const s = await session(++tenant);
    await s.execute("CREATE TABLE w (id INT PRIMARY KEY, email TEXT, n INT)");
    for (let a = 1; a <= 20_000; a += 5000) {
      await s.execute(`INSERT INTO w SELECT g, 'u' || g || '@x', g % 7 FROM generate_series(${a}, ${a + 4999}) g`);
    }
    await s.execute("CREATE UNIQUE INDEX w_email ON w (email)");
    const { lines, kv } = await explainAnalyze(s, "SELECT id FROM w WHERE email = 'u12345@x'");
    expect(lines.some((l) => l.includes("Index: w_email"))).toBe(true);
    expect(kv.rows_read).toBe(2);
    expect(await rows(s, "SELECT id FROM w WHERE email = 'u12345@x'")).toEqual([["12345"]]);
    await expect(s.execute("INSERT INTO w VALUES (20001, 'u5@x', 0)")).rejects.toMatchObject({ code: "23505" });
    await expect(s.execute("CREATE UNIQUE INDEX w_n ON w (n)")).rejects.toMatchObject({ code: "23505" });
    expect(await rows(s, "SELECT count(*) FROM pg_indexes WHERE indexname = 'w_n'")).toEqual([["0"]]);
    await s.execute("CREATE INDEX w_n ON w (n)");
    expect(await rows(s, "SELECT count(*) FROM w WHERE n = 3")).toEqual([["2857"]]);
  }, 120_000);

  it("commits a 100,000-row transaction (pgbench -i -s 1's shape) and rewrites it (ADD PRIMARY KEY, ADD COLUMN … DEFAULT in a transaction)", async () => {
    const s = await session(++tenant);
    // Writes past the buffer bound go to storage as intents during the statement: on a loaded
    // machine the 100,000-row statement can take longer than the default statement timeout.
    await s.execute("SET statement_timeout = 0");
    await s.execute("CREATE TABLE acc (aid INT NOT NULL, bid INT, abalance INT, filler CHAR(84))");
    await s.execute("CREATE TABLE br (bid INT NOT NULL, bbalance INT, filler CHAR(88))");
    await s.execute("BEGIN");
    await s.execute("TRUNCATE acc, br");
    await s.execute("INSERT INTO br VALUES (1, 0, '')");
    await s.execute("INSERT INTO acc SELECT i, 1, 0, '' FROM generate_series(1, 100000) i");
    await s.execute("COMMIT");
    expect(await rows(s, "SELECT count(*), sum(aid), min(length(filler)) FROM acc")).toEqual([["100000", "5000050000", "0"]]);
    await s.execute("ALTER TABLE acc ADD PRIMARY KEY (aid)");
    expect(await rows(s, "SELECT abalance FROM acc WHERE aid = 77777")).toEqual([["0"]]);
    await s.execute("BEGIN");
    await s.execute("ALTER TABLE acc ADD COLUMN note INT DEFAULT 7");
    await s.execute("COMMIT");
    expect(await rows(s, "SELECT count(*), sum(note) FROM acc")).toEqual([["100000", "700000"]]);
    // Past the old 110,000-key bound: writes go to storage as intents as the statement runs.
    await s.execute("CREATE TABLE big (k INT PRIMARY KEY)");
    await s.execute("INSERT INTO big SELECT i FROM generate_series(1, 150000) i");
    expect(await rows(s, "SELECT count(*), sum(k) FROM big")).toEqual([["150000", "11250075000"]]);
  }, 900_000);
});
