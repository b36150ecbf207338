// How a PgConnection's work ends: the client going away (end(): cancel, wait, roll back),
// pg_terminate_backend (FATAL 57P01), pg_cancel_backend / CancelRequest through the tenant's
// BackendRegistry, and idle_in_transaction_session_timeout (FATAL 25P03). The sessions are the
// engine's real Session on the in-memory KV, wrapped so one statement ('block') runs until it is
// released or cancelled, as a long statement does between its check points.
import { describe, expect, it } from "vitest";
import { PgError } from "../../../common/errors.ts";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { createSession } from "../sql/session.ts";
import { BackendRegistry, type BackendKey } from "./backends.ts";
import { PgConnection } from "./connection.ts";
import type { SqlSession } from "../sql/result.ts";
import { recordingSession } from "../sql/testing/recording-session.ts";
import { parseDurationMs } from "./startup-settings.ts";
import { fe, parseBackend, summary, type BackendMsg } from "./wire-test-client.ts";

let nextTenantId = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The statement that blocks until released or cancelled. */
const BLOCK = "select 'block'";

interface Conn {
  conn: PgConnection;
  key: BackendKey;
  /** Everything received so far, parsed; take() empties it. */
  take(): BackendMsg[];
  send(bytes: Uint8Array): Promise<void>;
  closed(): boolean;
  /** What happened, in order: statements run, cancels, the moment a blocked statement stopped. */
  events: string[];
  /** Lets a blocked statement finish normally. */
  release(): void;
}

/**
 * A connection over a real Session; BLOCK waits until release() or cancel() (a cancel takes effect
 * after `cancelDelayMs`, like a check point a little later). Connections made with the same
 * registry are sessions of one tenant (pg_cancel_backend can reach each other).
 */
async function open(opts: { kv?: MemoryKv; tenantId?: number; registry?: BackendRegistry; cancelDelayMs?: number } = {}): Promise<Conn> {
  const kv = opts.kv ?? new MemoryKv();
  const registry = opts.registry ?? new BackendRegistry();
  const key = { processId: registry.unusedProcessId(), secretKey: -123456 };
  const events: string[] = [];
  const base = createSession({
    kv: memoryCapability(kv),
    tenantId: opts.tenantId ?? nextTenantId++,
    settings: { user: "app" },
    backend: { processId: key.processId, signal: (pid, action) => registry.signal(pid, action), terminateSelf: (reason) => conn.terminate(reason) },
  });
  let blocked: { resolve: () => void; reject: (e: PgError) => void } | null = null;
  const session: SqlSession = recordingSession(base, {
    execute: async (sql, params) => {
      events.push(sql);
      return base.execute(sql, params);
    },
    run: async (stmt, params, sink) => {
      events.push(stmt.text);
      if (stmt.text === BLOCK) {
        await new Promise<void>((resolve, reject) => (blocked = { resolve, reject }));
        events.push("stopped");
      }
      return base.run(stmt, params, sink);
    },
    cancel: () => {
      const b = blocked;
      events.push(b === null ? "cancel (nothing running)" : "cancel");
      if (b === null) return false;
      blocked = null;
      setTimeout(() => b.reject(new PgError("query_canceled", "canceling statement due to user request")), opts.cancelDelayMs ?? 20);
      return true;
    },
  });
  let received: Uint8Array[] = [];
  let closed = false;
  const conn = new PgConnection({ session, user: "app", backendKey: key, io: { send: (b) => received.push(b), close: () => (closed = true) } });
  registry.add({ key, cancel: () => session.cancel(), terminate: () => conn.terminate() });
  await conn.start();
  const c: Conn = {
    conn,
    key,
    events,
    take: () => {
      const msgs = received.flatMap((b) => parseBackend(b));
      received = [];
      return msgs;
    },
    send: (bytes) => conn.receive(bytes),
    closed: () => closed,
    release: () => {
      const b = blocked;
      blocked = null;
      b?.resolve();
    },
  };
  c.take();
  return c;
}

/** Rows of `select` on a fresh session over the same storage (what another client would see). */
async function rowsSeenByOthers(kv: MemoryKv, tenantId: number, sql: string): Promise<string[][]> {
  const [r] = await createSession({ kv: memoryCapability(kv), tenantId }).execute(sql);
  return r!.rows.map((row) => row.map((v) => String(v)));
}

async function setUpTable(c: Conn): Promise<void> {
  await c.send(fe.Query("create table t (id int primary key)"));
  expect(summary(c.take())).toEqual(["C CREATE TABLE", "Z I"]);
}

describe("BackendKeyData", () => {
  it("reports the pair the edge issued, and pg_backend_pid() is its process id", async () => {
    const c = await open();
    const start = await (async () => {
      // A fresh connection, to see its startup messages.
      const key = { processId: 987654321, secretKey: -42 };
      const session = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: nextTenantId++, backend: { processId: key.processId, signal: () => false, terminateSelf: () => {} } });
      let got: Uint8Array[] = [];
      const conn = new PgConnection({ session, user: "app", backendKey: key, io: { send: (b) => got.push(b), close: () => {} } });
      await conn.start();
      const msgs = got.flatMap((b) => parseBackend(b));
      got = [];
      await conn.receive(fe.Query("select pg_backend_pid()"));
      return { msgs, pid: got.flatMap((b) => parseBackend(b)) };
    })();
    expect(start.msgs.find((m) => m.type === "K")).toEqual({ type: "K", pid: 987654321, key: -42 });
    expect(summary(start.pid)).toEqual(["T pg_backend_pid", "D 987654321", "C SELECT 1", "Z I"]);
    await c.send(fe.Query("select pg_backend_pid()"));
    expect(summary(c.take())[1]).toBe(`D ${c.key.processId}`);
  });
});

describe("the client goes away (end)", () => {
  it("cancels the running statement, and rolls back its transaction only once the statement has stopped", async () => {
    const kv = new MemoryKv();
    const tenantId = nextTenantId++;
    const c = await open({ kv, tenantId, cancelDelayMs: 50 });
    await setUpTable(c);
    await c.send(fe.Query("begin; insert into t values (1)"));
    c.take();
    void c.send(fe.Query(BLOCK));
    await sleep(10);
    await c.conn.end();
    const tail = c.events.slice(c.events.indexOf(BLOCK));
    expect(tail).toEqual([BLOCK, "cancel", "ROLLBACK"]);
    expect(await rowsSeenByOthers(kv, tenantId, "select count(*) from t")).toEqual([["0"]]);
  });

  it("between statements, rolls back the open transaction and cancels nothing", async () => {
    const kv = new MemoryKv();
    const tenantId = nextTenantId++;
    const c = await open({ kv, tenantId });
    await setUpTable(c);
    await c.send(fe.Query("begin; insert into t values (1)"));
    c.take();
    await c.conn.end();
    expect(c.events.slice(-2)).toEqual(["cancel (nothing running)", "ROLLBACK"]);
    expect(await rowsSeenByOthers(kv, tenantId, "select count(*) from t")).toEqual([["0"]]);
    await c.send(fe.Query("select 1"));
    expect(c.take()).toEqual([]); // nothing more is read
  });
});

describe("pg_cancel_backend / pg_terminate_backend (the tenant's BackendRegistry)", () => {
  it("pg_cancel_backend(pid) of another session cancels its statement (57014) and that session goes on", async () => {
    const registry = new BackendRegistry();
    const kv = new MemoryKv();
    const tenantId = nextTenantId++;
    const victim = await open({ kv, tenantId, registry });
    const other = await open({ kv, tenantId, registry });
    const running = victim.send(fe.Query(BLOCK));
    await sleep(10);
    await other.send(fe.Query(`select pg_cancel_backend(${victim.key.processId}), pg_cancel_backend(${victim.key.processId + 1})`));
    expect(summary(other.take())).toEqual(["T pg_cancel_backend,pg_cancel_backend", "D t|f", "C SELECT 1", "Z I"]);
    await running;
    const out = victim.take();
    expect(summary(out)).toEqual(["E 57014", "Z I"]);
    expect((out[0] as { fields: Record<string, string> }).fields["M"]).toBe("canceling statement due to user request");
    await victim.send(fe.Query("select 2"));
    expect(summary(victim.take())).toEqual(["T ?column?", "D 2", "C SELECT 1", "Z I"]);
  });

  it("pg_terminate_backend(pid) of an idle session in a transaction: FATAL 57P01, closed, rolled back", async () => {
    const registry = new BackendRegistry();
    const kv = new MemoryKv();
    const tenantId = nextTenantId++;
    const victim = await open({ kv, tenantId, registry });
    const other = await open({ kv, tenantId, registry });
    await setUpTable(victim);
    await victim.send(fe.Query("begin; insert into t values (7)"));
    victim.take();
    await other.send(fe.Query(`select pg_terminate_backend(${victim.key.processId})`));
    expect(summary(other.take())).toEqual(["T pg_terminate_backend", "D t", "C SELECT 1", "Z I"]);
    const out = victim.take();
    expect(out).toEqual([{ type: "E", fields: expect.objectContaining({ S: "FATAL", C: "57P01", M: "terminating connection due to administrator command" }) }]);
    expect(victim.closed()).toBe(true);
    await victim.conn.end();
    expect(await rowsSeenByOthers(kv, tenantId, "select count(*) from t")).toEqual([["0"]]);
  });

  it("terminating a session in the middle of a statement sends none of its results, only FATAL 57P01 once it stops", async () => {
    const registry = new BackendRegistry();
    const victim = await open({ registry, cancelDelayMs: 30 });
    const running = victim.send(fe.Query(`${BLOCK}; select 2`));
    await sleep(10);
    expect(registry.signal(victim.key.processId, "terminate")).toBe(true);
    await running;
    expect(summary(victim.take())).toEqual(["E 57P01"]);
    expect(victim.closed()).toBe(true);
    expect(victim.events).not.toContain("select 2");
  });

  it("pg_terminate_backend(pg_backend_pid()) ends the session itself, without the row, as in Postgres", async () => {
    const c = await open();
    await c.send(fe.Query("select pg_terminate_backend(pg_backend_pid())"));
    expect(summary(c.take())).toEqual(["E 57P01"]);
    expect(c.closed()).toBe(true);
  });

  it("NULL gives NULL; pg_terminate_backend takes an optional timeout; other arities are 42883", async () => {
    const c = await open();
    await c.send(fe.Query("select pg_cancel_backend(null), pg_terminate_backend(1, 100)"));
    expect(summary(c.take())).toEqual(["T pg_cancel_backend,pg_terminate_backend", "D NULL|f", "C SELECT 1", "Z I"]);
    await c.send(fe.Query("select pg_cancel_backend(1, 2)"));
    expect(summary(c.take())).toEqual(["E 42883", "Z I"]);
    await c.send(fe.Query("select pg_backend_pid(1)"));
    expect(summary(c.take())).toEqual(["E 42883", "Z I"]);
  });

  it("a CancelRequest needs the exact pair: a wrong key or pid changes nothing", async () => {
    const registry = new BackendRegistry();
    const c = await open({ registry });
    const running = c.send(fe.Query(BLOCK));
    await sleep(10);
    expect(registry.cancelRequest({ processId: c.key.processId, secretKey: c.key.secretKey + 1 })).toBe(false);
    expect(registry.cancelRequest({ processId: c.key.processId + 1, secretKey: c.key.secretKey })).toBe(false);
    expect(c.events).not.toContain("cancel");
    expect(registry.cancelRequest(c.key)).toBe(true);
    await running;
    expect(summary(c.take())).toEqual(["E 57014", "Z I"]);
  });
});

describe("idle_in_transaction_session_timeout", () => {
  it("ends a session left idle inside a transaction with FATAL 25P03 (PG 15's text) and rolls it back", async () => {
    const kv = new MemoryKv();
    const tenantId = nextTenantId++;
    const c = await open({ kv, tenantId });
    await setUpTable(c);
    await c.send(fe.Query("set idle_in_transaction_session_timeout = 150"));
    // Timed from before the transaction opens: the timer starts at its ReadyForQuery, later than
    // this, so the session cannot close sooner than 150 ms after t0 however busy the machine is.
    const t0 = performance.now();
    await c.send(fe.Query("begin; insert into t values (1)"));
    c.take();
    await expect.poll(() => c.closed(), { timeout: 3_000, interval: 10 }).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(150 - 2); // a timer may fire a ms early
    expect(c.take()).toEqual([
      { type: "E", fields: expect.objectContaining({ S: "FATAL", C: "25P03", M: "terminating connection due to idle-in-transaction timeout" }) },
    ]);
    await c.conn.end();
    expect(await rowsSeenByOthers(kv, tenantId, "select count(*) from t")).toEqual([["0"]]);
  });

  it("also in a failed transaction block (E), with the value set in Postgres's units", async () => {
    const c = await open();
    await c.send(fe.Query("set idle_in_transaction_session_timeout = '0.2s'"));
    await c.send(fe.Query("begin; select 1/0"));
    expect(summary(c.take()).slice(-1)).toEqual(["Z E"]);
    await expect.poll(() => c.closed(), { timeout: 3_000, interval: 10 }).toBe(true);
    expect(summary(c.take())).toEqual(["E 25P03"]);
  });

  it("does not fire outside a transaction, while a statement runs, or when the client keeps talking", async () => {
    const c = await open();
    await c.send(fe.Query("set idle_in_transaction_session_timeout = 100"));
    await sleep(250); // idle, but not in a transaction
    expect(c.closed()).toBe(false);
    await c.send(fe.Query("begin"));
    const running = c.send(fe.Query(BLOCK)); // a statement longer than the timeout
    await sleep(250);
    expect(c.closed()).toBe(false);
    c.release();
    await running;
    for (let i = 0; i < 5; i++) {
      await sleep(50);
      await c.send(fe.Query("select 1"));
    }
    expect(c.closed()).toBe(false);
    await c.send(fe.Query("commit"));
    await sleep(250);
    expect(c.closed()).toBe(false);
    expect(summary(c.take()).filter((s) => s.startsWith("E"))).toEqual([]);
  });

  it("is off at 0 (the default), and reading the setting needs no statement per query", async () => {
    const c = await open();
    await c.send(fe.Query("begin"));
    await sleep(200);
    expect(c.closed()).toBe(false);
    const before = c.events.length;
    await c.send(fe.Query("select 1"));
    expect(c.events.length - before).toBe(1);
  });
});

describe("parseDurationMs (Postgres time settings in ms)", () => {
  it.each([
    ["0", 0],
    ["150", 150],
    ["150ms", 150],
    ["2s", 2000],
    ["0.2s", 200],
    ["1 min", 60_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
    ["1500us", 2],
  ])("%s → %d", (input, ms) => expect(parseDurationMs(input)).toBe(ms));
  it.each(["", "abc", "5 parsecs", "-1"])("%j is not a duration", (input) => expect(parseDurationMs(input)).toBeNull());
});
