// Where temporary tables live and when they go: their data never reaches storage (every request
// the session sends is checked), a statement that touches only temporary tables commits without
// a storage write, the session's memory bound holds, and close() ends them all. The SQL-visible
// behaviour (visibility, search path, ON COMMIT, pg_class) is in testdata/temp.test.
import { describe, expect, it } from "vitest";
import type { KvRequest, KvResponse } from "../../../common/kv-protocol/messages.ts";
import { tempSpan } from "../keys/doc.ts";
import { keyString } from "../../../common/bytes.ts";
import type { KvTransport } from "../kv/kv-client.ts";
import { kvLimits } from "../kv/limits.ts";
import { localRangesBytes } from "../kv/local-range.ts";
import { MemoryKv } from "../kv/memory-kv.ts";
import { Session } from "./session.ts";

/** Storage that records every key and request it is sent. */
class Spy implements KvTransport {
  readonly mem = new MemoryKv();
  readonly keys: string[] = [];
  readonly requests: string[] = [];
  async send(r: KvRequest): Promise<KvResponse> {
    this.requests.push(r.type);
    const note = (key: Uint8Array): void => void this.keys.push(keyString(key));
    if (r.type === "read") for (const op of r.ops) op.op === "get" ? note(op.key) : (note(op.start), note(op.end));
    if (r.type === "commit" || r.type === "batch") for (const w of r.writes) w.op === "deleteRange" || w.op === "clearRange" ? (note(w.start), note(w.end)) : note(w.key);
    if (r.type === "commit") for (const s of r.readSpans) (note(s.start), note(s.end));
    return this.mem.handle(r);
  }
  /** Keys inside the temporary span of `tenant` that were sent. */
  tempKeysSent(tenant: number): string[] {
    const { start, end } = tempSpan(tenant);
    return this.keys.filter((k) => k >= keyString(start) && k < keyString(end));
  }
}

let tenant = 7_000;
const rows = async (s: Session, sql: string): Promise<Array<Array<string | null>>> => {
  const r = await s.execute(sql);
  return r[r.length - 1]!.rows;
};

describe("temporary tables", () => {
  it("never send a key of their data to storage, whatever is done with them", async () => {
    const spy = new Spy();
    const t = tenant++;
    const s = new Session({ kv: { batch: async () => new Uint8Array() }, tenantId: t }, spy);
    await s.execute("CREATE TABLE stored (id INT PRIMARY KEY, v TEXT)");
    await s.execute("CREATE TEMP TABLE scratch (id SERIAL PRIMARY KEY, v TEXT UNIQUE, n INT)");
    await s.execute("INSERT INTO scratch (v, n) SELECT 'v' || g, g FROM generate_series(1, 500) g");
    await s.execute("CREATE INDEX ON scratch (n)");
    await s.execute("UPDATE scratch SET n = n + 1 WHERE id % 2 = 0");
    await s.execute("DELETE FROM scratch WHERE id > 400");
    await s.execute("INSERT INTO stored SELECT id, v FROM scratch WHERE n < 10");
    await s.execute("BEGIN; INSERT INTO scratch (v, n) VALUES ('x', 1); INSERT INTO stored VALUES (1000, 'y'); COMMIT");
    await s.execute("CREATE TEMP TABLE copy AS SELECT * FROM scratch");
    await s.execute("CREATE TEMP SEQUENCE tseq");
    await s.execute("SELECT nextval('tseq')");
    await s.execute("CREATE TEMP TABLE ocd (a INT) ON COMMIT DELETE ROWS");
    await s.execute("INSERT INTO ocd VALUES (1)");
    await s.execute("TRUNCATE scratch");
    await s.execute("DROP TABLE copy");
    expect(await rows(s, "SELECT count(*) FROM stored")).toEqual([["10"]]);
    expect(spy.tempKeysSent(t)).toEqual([]);
    // Statements on temporary tables alone send nothing to storage, not even the catalog check
    // (the session's temporary objects are its own, so always current).
    spy.requests.length = 0;
    await s.execute("INSERT INTO scratch (v, n) VALUES ('z', 2)");
    expect(await rows(s, "SELECT n FROM scratch WHERE v = 'z'")).toEqual([["2"]]);
    await s.execute("BEGIN; UPDATE scratch SET n = 3 WHERE v = 'z'; DELETE FROM scratch WHERE v = 'z'; COMMIT");
    await s.execute("CREATE TEMP TABLE more (a INT)");
    await s.execute("DROP TABLE more");
    expect(spy.requests.filter((r) => r !== "read")).toEqual([]);
    // (CREATE/DROP read the catalog version: one read each; everything else none.)
    expect(spy.requests.length).toBe(2);
    // A stored table in the same statement brings the check back.
    await s.execute("INSERT INTO stored SELECT 2000, v FROM scratch LIMIT 1");
    expect(spy.tempKeysSent(t)).toEqual([]);
  });

  it("keep their data in session memory when TRUNCATE or ADD PRIMARY KEY moves it to a new data id", async () => {
    const spy = new Spy();
    const t = tenant++;
    const s = new Session({ kv: { batch: async () => new Uint8Array() }, tenantId: t }, spy);
    await s.execute("CREATE TEMP TABLE k (a INT)");
    await s.execute("CREATE TEMP TABLE o (a INT) ON COMMIT DELETE ROWS");
    spy.requests.length = 0;
    await s.execute("INSERT INTO k VALUES (1), (2)");
    await s.execute("TRUNCATE k");
    await s.execute("INSERT INTO k VALUES (3)");
    await s.execute("ALTER TABLE k ADD PRIMARY KEY (a)");
    await s.execute("INSERT INTO k VALUES (4)");
    expect(await rows(s, "SELECT a FROM k ORDER BY a")).toEqual([["3"], ["4"]]);
    // ON COMMIT DELETE ROWS empties the span the table has now, not the one it had.
    await s.execute("BEGIN; INSERT INTO o VALUES (1); TRUNCATE o; INSERT INTO o VALUES (2); COMMIT");
    expect(await rows(s, "SELECT count(*) FROM o")).toEqual([["0"]]);
    expect(spy.requests.filter((r) => r !== "read")).toEqual([]);
    expect(spy.tempKeysSent(t)).toEqual([]);
  });

  it("are private to their session and gone when it closes, memory included", async () => {
    const mem = new MemoryKv();
    const t = tenant++;
    const cap = { batch: async (b: Uint8Array) => (await import("../kv/memory-kv.ts")).memoryCapability(mem).batch(b) };
    const base = localRangesBytes();
    const a = new Session({ kv: cap, tenantId: t });
    const b = new Session({ kv: cap, tenantId: t });
    await a.execute("CREATE TEMP TABLE mine (id INT PRIMARY KEY, v TEXT)");
    await a.execute("INSERT INTO mine SELECT g, repeat('x', 100) FROM generate_series(1, 100) g");
    expect(localRangesBytes()).toBeGreaterThan(base + 100 * 100);
    await expect(b.execute("SELECT * FROM mine")).rejects.toMatchObject({ code: "42P01" });
    await expect(b.execute("INSERT INTO mine VALUES (1, 'b')")).rejects.toMatchObject({ code: "42P01" });
    a.close();
    expect(localRangesBytes()).toBe(base);
    // The same name is free again for a new session of the same gateway.
    const c = new Session({ kv: cap, tenantId: t });
    await expect(c.execute("SELECT * FROM mine")).rejects.toMatchObject({ code: "42P01" });
    await c.execute("CREATE TEMP TABLE mine (id INT)");
    expect(await rows(c, "SELECT count(*) FROM mine")).toEqual([["0"]]);
    c.close();
    b.close();
  });

  it("hold at most localRangeBytesMax per session: past it a commit fails with 54000 and changes nothing", async () => {
    const s = new Session({ kv: (await import("../kv/memory-kv.ts")).memoryCapability(new MemoryKv()), tenantId: tenant++ });
    await s.execute("CREATE TEMP TABLE wide (id INT PRIMARY KEY, v TEXT)");
    const rowBytes = 10_000;
    // Rows of ~10 KB up to just under the bound; 100 more cross it (1 MB past it).
    const fit = Math.floor(kvLimits.localRangeBytesMax / (rowBytes + 200)) - 10;
    for (let at = 0; at < fit; at += 1000) {
      await s.execute(`INSERT INTO wide SELECT g, repeat('x', ${rowBytes}) FROM generate_series(${at + 1}, ${Math.min(fit, at + 1000)}) g`);
    }
    expect(await rows(s, "SELECT count(*) FROM wide")).toEqual([[String(fit)]]);
    await expect(s.execute(`INSERT INTO wide SELECT g, repeat('x', ${rowBytes}) FROM generate_series(${fit + 1}, ${fit + 100}) g`)).rejects.toMatchObject({ code: "54000" });
    expect(await rows(s, "SELECT count(*) FROM wide")).toEqual([[String(fit)]]);
    // Deleting makes room again.
    await s.execute("DELETE FROM wide WHERE id <= 100");
    await s.execute(`INSERT INTO wide SELECT g, repeat('x', ${rowBytes}) FROM generate_series(${fit + 1}, ${fit + 20}) g`);
    s.close();
  });

  it("are left out of a sealed transaction, which another gateway could commit", async () => {
    const spy = new Spy();
    const t = tenant++;
    const a = new Session({ kv: { batch: async () => new Uint8Array() }, tenantId: t }, spy);
    await a.execute("CREATE TABLE h (id INT PRIMARY KEY)");
    await a.execute("CREATE TEMP TABLE scratch (id INT)");
    await a.execute("BEGIN");
    await a.execute("INSERT INTO scratch VALUES (1)");
    await a.execute("INSERT INTO h VALUES (1)");
    const handle = JSON.parse(JSON.stringify(await a.sealTransaction()));
    const b = new Session({ kv: { batch: async () => new Uint8Array() }, tenantId: t }, spy);
    await b.resumeTransaction(handle);
    await b.execute("COMMIT");
    expect(await rows(b, "SELECT count(*) FROM h")).toEqual([["1"]]);
    expect(spy.tempKeysSent(t)).toEqual([]);
  });
});
