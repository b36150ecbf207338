// Advisory locks over the real storage node (its lock table does the queueing, deadlock detection
// and tenant separation): several sessions of one tenant and one of another, each a Session with
// its own KV client as separate gateway isolates would have.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Session } from "./session.ts";
import { startRealStorage, type RealStorage } from "./testing/storage-node.ts";
import { sqlLimits } from "./limits.ts";

let storage: RealStorage;
let tenant = 7100;

beforeAll(async () => {
  storage = await startRealStorage();
}, 60_000);

afterAll(async () => {
  await storage?.close();
});

async function session(tenantId: number): Promise<Session> {
  return new Session({ kv: await storage.capability(tenantId), tenantId, settings: { user: "app", database: "app" } });
}

async function one(s: Session, sql: string): Promise<string | null> {
  const r = await s.execute(sql);
  return r[r.length - 1]!.rows[0]?.[0] ?? null;
}

/** Whether `p` is still pending after the event loop has turned for `ms` (never a flaky "it finished"). */
async function stillPending(p: Promise<unknown>, ms = 300): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setTimeout(r, ms));
  return !done;
}

describe("advisory locks on the storage node", () => {
  it("excludes other sessions of the tenant, never another tenant's, until unlocked", async () => {
    const id = ++tenant;
    const [a, b, other] = [await session(id), await session(id), await session(++tenant)];
    expect(await one(a, "SELECT pg_try_advisory_lock(1)")).toBe("t");
    expect(await one(b, "SELECT pg_try_advisory_lock(1)")).toBe("f");
    // Tenant B's lock 1 is another key (its own prefix): free.
    expect(await one(other, "SELECT pg_try_advisory_lock(1)")).toBe("t");
    // The two-integer key space is apart from the bigint one, as in PostgreSQL.
    expect(await one(b, "SELECT pg_try_advisory_lock(0, 1)")).toBe("t");
    expect(await one(b, "SELECT pg_advisory_unlock(1)")).toBe("f");
    expect(await one(a, "SELECT pg_advisory_unlock(1)")).toBe("t");
    expect(await one(b, "SELECT pg_try_advisory_lock(1)")).toBe("t");
    expect(await one(a, "SELECT pg_advisory_lock(NULL)")).toBe(null);
    for (const s of [a, b, other]) s.close();
  });

  it("makes pg_advisory_lock wait for the holder; the session's end releases its locks", async () => {
    const id = ++tenant;
    const [a, b, c] = [await session(id), await session(id), await session(id)];
    await a.execute("SELECT pg_advisory_lock(2)");
    await a.execute("SELECT pg_advisory_lock(3)");
    const waiting = b.execute("SELECT pg_advisory_lock(2)");
    expect(await stillPending(waiting)).toBe(true);
    expect(await one(a, "SELECT pg_advisory_unlock(2)")).toBe("t");
    await waiting;
    expect(await one(c, "SELECT pg_try_advisory_lock(2)")).toBe("f");
    const waiting3 = c.execute("SELECT pg_advisory_lock(3)");
    expect(await stillPending(waiting3)).toBe(true);
    a.close();
    await waiting3;
    expect(await one(b, "SELECT pg_try_advisory_lock(3)")).toBe("f");
    b.close();
    c.close();
  });

  it("counts re-entrant holds, as PostgreSQL does", async () => {
    const id = ++tenant;
    const [a, b] = [await session(id), await session(id)];
    await a.execute("SELECT pg_advisory_lock(20)");
    await a.execute("SELECT pg_advisory_lock(20)");
    expect(await one(a, "SELECT pg_advisory_unlock(20)")).toBe("t");
    expect(await one(b, "SELECT pg_try_advisory_lock(20)")).toBe("f");
    expect(await one(a, "SELECT pg_advisory_unlock(20)")).toBe("t");
    expect(await one(a, "SELECT pg_advisory_unlock(20)")).toBe("f");
    expect(await one(b, "SELECT pg_try_advisory_lock(20)")).toBe("t");
    await b.execute("SELECT pg_advisory_unlock_all()");
    expect(await one(a, "SELECT pg_try_advisory_lock(20)")).toBe("t");
    a.close();
    b.close();
  });

  it("shares share locks and excludes exclusive ones", async () => {
    const id = ++tenant;
    const [a, b, c] = [await session(id), await session(id), await session(id)];
    expect(await one(a, "SELECT pg_try_advisory_lock_shared(4)")).toBe("t");
    expect(await one(b, "SELECT pg_try_advisory_lock_shared(4)")).toBe("t");
    expect(await one(c, "SELECT pg_try_advisory_lock(4)")).toBe("f");
    expect(await one(a, "SELECT pg_advisory_unlock(4)")).toBe("f");
    expect(await one(a, "SELECT pg_advisory_unlock_shared(4)")).toBe("t");
    expect(await one(b, "SELECT pg_advisory_unlock_shared(4)")).toBe("t");
    expect(await one(c, "SELECT pg_try_advisory_lock(4)")).toBe("t");
    for (const s of [a, b, c]) s.close();
  });

  it("releases transaction-level locks at commit and at rollback, not at unlock", async () => {
    const id = ++tenant;
    const [a, b] = [await session(id), await session(id)];
    await a.execute("BEGIN");
    await a.execute("SELECT pg_advisory_xact_lock(5)");
    expect(await one(b, "SELECT pg_try_advisory_xact_lock(5)")).toBe("f");
    expect(await one(a, "SELECT pg_advisory_unlock(5)")).toBe("f");
    const waiting = b.execute("BEGIN; SELECT pg_advisory_xact_lock(5); SELECT 'b got it'");
    expect(await stillPending(waiting)).toBe(true);
    await a.execute("COMMIT");
    expect((await waiting).at(-1)!.rows).toEqual([["b got it"]]);
    expect(await one(a, "SELECT pg_try_advisory_xact_lock(5)")).toBe("f");
    await b.execute("ROLLBACK");
    expect(await one(a, "SELECT pg_try_advisory_xact_lock(5)")).toBe("t");
    // Outside BEGIN the statement is its own transaction: the lock is gone when it ends.
    expect(await one(b, "SELECT pg_try_advisory_xact_lock(5)")).toBe("t");
    a.close();
    b.close();
  });

  it("ends a wait with 57014 on cancel and at statement_timeout, leaving the session usable and the lock not taken", async () => {
    const id = ++tenant;
    const [a, b, c] = [await session(id), await session(id), await session(id)];
    await a.execute("SELECT pg_advisory_lock(6)");
    const waiting = b.execute("SELECT pg_advisory_lock(6)");
    const outcome = waiting.then(() => null, (e: unknown) => e);
    expect(await stillPending(waiting, 200)).toBe(true);
    expect(b.cancel()).toBe(true);
    expect(await outcome).toMatchObject({ code: "57014", message: "canceling statement due to user request" });
    expect(await one(b, "SELECT 1")).toBe("1");
    await b.execute("SET statement_timeout = 300");
    await expect(b.execute("SELECT pg_advisory_lock(6)")).rejects.toMatchObject({ code: "57014", message: "canceling statement due to statement timeout" });
    // The abandoned waits took nothing: once a lets go, c gets the lock at once and b holds none.
    expect(await one(a, "SELECT pg_advisory_unlock(6)")).toBe("t");
    expect(await one(c, "SELECT pg_try_advisory_lock(6)")).toBe("t");
    expect(await one(b, "SELECT pg_advisory_unlock(6)")).toBe("f");
    for (const s of [a, b, c]) s.close();
  });

  it("detects a deadlock between two sessions' locks with 40P01 and keeps the victim's other locks", async () => {
    const id = ++tenant;
    const [a, b, c] = [await session(id), await session(id), await session(id)];
    await a.execute("SELECT pg_advisory_lock(10)");
    await b.execute("SELECT pg_advisory_lock(11)");
    const aWaits = a.execute("SELECT pg_advisory_lock(11)");
    expect(await stillPending(aWaits, 200)).toBe(true);
    await expect(b.execute("SELECT pg_advisory_lock(10)")).rejects.toMatchObject({ code: "40P01" });
    // b still holds 11 (a still waits), and a still holds 10.
    expect(await stillPending(aWaits, 200)).toBe(true);
    expect(await one(c, "SELECT pg_try_advisory_lock(10)")).toBe("f");
    expect(await one(b, "SELECT pg_advisory_unlock(11)")).toBe("t");
    await aWaits;
    expect(await one(c, "SELECT pg_try_advisory_lock(11)")).toBe("f");
    for (const s of [a, b, c]) s.close();
  });

  it("refuses what it cannot do with a clear SQLSTATE and counts locks against the session's bound", async () => {
    const id = ++tenant;
    const a = await session(id);
    await expect(a.execute("SELECT pg_advisory_lock(1, 2, 3)")).rejects.toMatchObject({ code: "42883" });
    await a.execute("SELECT pg_advisory_lock_shared(30)");
    await expect(a.execute("SELECT pg_advisory_lock(30)")).rejects.toMatchObject({ code: "0A000" });
    await a.execute("SELECT pg_advisory_unlock_all()");
    // The edge of advisoryLocksPerSessionMax: the last key that fits, then 53200.
    const n = sqlLimits.advisoryLocksPerSessionMax;
    await a.execute(`SELECT count(pg_advisory_lock(g)) FROM generate_series(1, ${n}) g`);
    await expect(a.execute(`SELECT pg_advisory_lock(${n + 1})`)).rejects.toMatchObject({ code: "53200", message: "out of shared memory" });
    expect(await one(a, `SELECT pg_try_advisory_lock(${n})`)).toBe("t");
    await a.execute("SELECT pg_advisory_unlock_all()");
    expect(await one(a, `SELECT pg_try_advisory_lock(${n + 1})`)).toBe("t");
    a.close();
  }, 60_000);
});
