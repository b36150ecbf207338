// Advisory locks through real connections (node-postgres through the tunnel) against `warren dev`:
// per tenant (tenant A's lock 1 never blocks tenant B's lock 1), a blocked pg_advisory_lock goes on
// when the holder's connection closes (the session's locks end with it), transaction-level locks
// end at COMMIT, and statement_timeout ends a wait with 57014. Cancel of a lock wait from psql, pg,
// postgres.js and the Neon Pool: cancel-clients.test.ts. Semantics in detail: workers/gateway/sql/
// advisory-locks.test.ts. Last: a storage node restart empties its lock table, and a session that
// held session-level locks is ended with FATAL 57P01 instead of living on believing it holds them.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killStorageNode, startStack, type Stack } from "../harness/stack.ts";

let stack: Stack;
const clients: pg.Client[] = [];

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  await stack?.stop();
});

async function connect(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  // A storage node restart (last test) ends every session that holds session-level locks: an
  // idle client reports that FATAL as an 'error' event.
  c.on("error", () => undefined);
  clients.push(c);
  return c;
}

async function value(c: pg.Client, sql: string): Promise<unknown> {
  const r = await c.query(sql);
  return Object.values(r.rows[0] as Record<string, unknown>)[0];
}

/** Whether `p` is still pending after `ms` (a wait that ended too early fails; slowness never does). */
async function stillPending(p: Promise<unknown>, ms = 500): Promise<boolean> {
  let done = false;
  p.then(() => (done = true), () => (done = true));
  await new Promise((r) => setTimeout(r, ms));
  return !done;
}

describe("advisory locks through the tunnel", () => {
  it("are per tenant, wait for the holder, and end with the holder's connection", async () => {
    const other = await stack.createTenant("advlock-b");
    const [a1, a2, b] = [await connect(stack.demo.pg), await connect(stack.demo.pg), await connect(other.pg)];
    await a1.query("select pg_advisory_lock(1)");
    expect(await value(a2, "select pg_try_advisory_lock(1)")).toBe(false);
    expect(await value(b, "select pg_try_advisory_lock(1)")).toBe(true);
    const waiting = a2.query("select pg_advisory_lock(1), 'a2 has it' as got");
    expect(await stillPending(waiting)).toBe(true);
    await a1.end();
    expect((await waiting).rows[0].got).toBe("a2 has it");
    // b still holds tenant B's lock 1; a2 now holds tenant A's.
    const b2 = await connect(other.pg);
    expect(await value(b2, "select pg_try_advisory_lock(1)")).toBe(false);
  });

  it("holds a transaction-level lock until COMMIT, and statement_timeout ends a wait with 57014", async () => {
    const [x, y] = [await connect(stack.demo.pg), await connect(stack.demo.pg)];
    await x.query("begin");
    await x.query("select pg_advisory_xact_lock(2)");
    await y.query("set statement_timeout = 400");
    await expect(y.query("select pg_advisory_lock(2)")).rejects.toMatchObject({ code: "57014", message: "canceling statement due to statement timeout" });
    await y.query("set statement_timeout = 0");
    const waiting = y.query("select pg_advisory_xact_lock(2), 'y has it' as got");
    expect(await stillPending(waiting)).toBe(true);
    await x.query("commit");
    expect((await waiting).rows[0].got).toBe("y has it");
    expect(await value(x, "select pg_try_advisory_xact_lock(2)")).toBe(true);
  });

  it("a storage node restart loses the locks: their session ends with FATAL 57P01, a session without any lives on", async () => {
    const [holder, bystander] = [await connect(stack.demo.pg), await connect(stack.demo.pg)];
    const ended = new Promise<{ code?: string; message: string }>((resolve) => holder.on("error", (err: Error & { code?: string }) => resolve(err)));
    await holder.query("select pg_advisory_lock(3)");
    expect(await value(bystander, "select pg_try_advisory_lock(3)")).toBe(false);
    // The bystander's try took nothing; it holds no lock and must not be ended.
    await killStorageNode(stack, () => bystander.query("select 1"));
    const err = await ended; // within a heartbeat interval of the node serving again
    expect(err.code).toBe("57P01");
    expect(err.message).toMatch(/advisory lock\(s\) were lost/);
    await expect(holder.query("select 1")).rejects.toThrow();
    // While the new node process starts, a request gets 40001 (the node was unreachable; retry).
    let got: unknown;
    for (const deadline = Date.now() + 20_000; ; ) {
      try {
        got = await value(bystander, "select pg_try_advisory_lock(3)");
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== "40001" || Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(got).toBe(true);
    expect(await value(bystander, "select 42")).toBe(42);
  }, 60_000);
});
