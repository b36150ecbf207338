// Fair shares between tenants, end to end against `warren dev`:
//   - a flood of /sql requests from one tenant is throttled at the edge (53300 naming the limit)
//     while another tenant's requests are all served;
//   - a tenant's Postgres sessions are capped at the edge (FATAL 53300), other tenants unaffected;
//   - 1,000 idle TCP connections to the tunnel do not keep another tenant out;
//   - idle /v2 WebSockets (no startup packet) past the edge's pre-startup bound push out the oldest
//     of them (FATAL 53300), and another tenant still logs in over /v2.
// The edge's limits are lowered through the EDGE_* vars so a few dozen requests reach them.
import net from "node:net";
import { neonConfig, Client as NeonClient } from "@neondatabase/serverless";
import pg from "pg";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpSqlError, httpSql, startStack, type Stack, type TenantConnection } from "./harness/stack.ts";

const SQL_RUNNING = 2;
const SQL_WAITING = 2;
const SESSIONS = 3;
const PRESTARTUP = 20;

let stack: Stack;
let flooder: TenantConnection;
let victim: TenantConnection;

beforeAll(async () => {
  stack = await startStack({
    env: {
      EDGE_SQL_REQUESTS_PER_TENANT: String(SQL_RUNNING),
      EDGE_SQL_QUEUE_PER_TENANT: String(SQL_WAITING),
      EDGE_SQL_QUEUE_WAIT_MS: "1000",
      EDGE_PG_SESSIONS_PER_TENANT: String(SESSIONS),
      EDGE_PRESTARTUP_TOTAL: String(PRESTARTUP),
      // Only eviction ends the idle WebSockets below, however slowly a loaded machine opens them.
      EDGE_PRESTARTUP_TIMEOUT_MS: "60000",
    },
  });
  flooder = await stack.createTenant("flooder");
  victim = await stack.createTenant("victim");
});
afterAll(async () => {
  await stack?.stop();
});

describe("/sql per tenant", () => {
  it("refuses a flood beyond running + waiting with 53300, and serves another tenant meanwhile", async () => {
    const slow = "select count(*) from generate_series(1, 300000)";
    const flood = Array.from({ length: 40 }, () =>
      httpSql(flooder, slow).then(
        () => "ok" as const,
        (e: unknown) => e,
      ),
    );
    const victimResults: unknown[] = [];
    for (let i = 0; i < 5; i++) victimResults.push((await httpSql(victim, "select $1::int as n", [i])).rows);
    const outcomes = await Promise.all(flood);
    expect(victimResults).toEqual([0, 1, 2, 3, 4].map((n) => [{ n }]));
    const refused = outcomes.filter((o): o is HttpSqlError => o instanceof HttpSqlError);
    expect(outcomes.filter((o) => o === "ok").length).toBeGreaterThanOrEqual(SQL_RUNNING);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.length + outcomes.filter((o) => o === "ok").length).toBe(40);
    for (const e of refused) {
      expect(e.status).toBe(400);
      expect(e.code).toBe("53300");
      expect(e.message).toMatch(/virtual cluster "flooder"/);
    }
    // The first refusals are immediate ones, naming both bounds.
    expect(refused.some((e) => e.message.includes(`${SQL_RUNNING} running and ${SQL_WAITING} waiting`))).toBe(true);
  });
});

describe("Postgres sessions per tenant", () => {
  it(`admits ${SESSIONS} sessions of a tenant, refuses the next with 53300, admits another tenant, and admits again after one closes`, async () => {
    const open: pg.Client[] = [];
    try {
      for (let i = 0; i < SESSIONS; i++) {
        const c = new pg.Client({ connectionString: flooder.pg });
        await c.connect();
        open.push(c);
      }
      const extra = new pg.Client({ connectionString: flooder.pg });
      const err = await extra.connect().then(
        () => null,
        (e: { code?: string; message: string }) => e,
      );
      expect(err).toMatchObject({ code: "53300", message: `too many connections for virtual cluster "flooder": the limit is ${SESSIONS} sessions per edge isolate` });
      const v = new pg.Client({ connectionString: victim.pg });
      await v.connect();
      expect((await v.query("select 1 as one")).rows).toEqual([{ one: 1 }]);
      await v.end();
      await open.shift()!.end();
      // The edge learns of the close a moment later; a fresh client per attempt.
      await expect
        .poll(
          async () => {
            const again = new pg.Client({ connectionString: flooder.pg });
            return again.connect().then(
              () => (open.push(again), true),
              () => false,
            );
          },
          { timeout: 5_000 },
        )
        .toBe(true);
    } finally {
      await Promise.all(open.map((c) => c.end().catch(() => {})));
    }
  });
});

describe("tunnel", () => {
  it("1,000 idle TCP connections (no startup packet) do not keep another tenant out", async () => {
    const { hostname, port } = new URL(stack.pg.replace(/^postgresql:/, "http:"));
    const idle = await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<net.Socket>((resolve, reject) => {
            const s = net.connect({ host: hostname, port: Number(port) }, () => resolve(s));
            s.on("error", () => {}); // the tunnel drops most of them
            s.once("error", reject);
          }),
      ),
    );
    try {
      const t0 = performance.now();
      const c = new pg.Client({ connectionString: victim.pg });
      await c.connect();
      expect((await c.query("select 2 as two")).rows).toEqual([{ two: 2 }]);
      await c.end();
      expect(performance.now() - t0).toBeLessThan(10_000);
      // The tunnel dropped the idle ones beyond its pre-startup cap.
      await expect.poll(() => idle.filter((s) => s.closed).length, { timeout: 10_000 }).toBeGreaterThan(500);
    } finally {
      for (const s of idle) s.destroy();
    }
  });
});

describe("/v2 before the startup packet", () => {
  it(`${3 * PRESTARTUP} idle WebSockets: past EDGE_PRESTARTUP_TOTAL the oldest are dropped with 53300, and another tenant logs in over /v2`, async () => {
    const host = new URL(stack.http).host;
    interface Idle {
      ws: WebSocket;
      frames: Buffer[];
      closed: boolean;
    }
    const idle: Idle[] = [];
    for (let i = 0; i < 3 * PRESTARTUP; i++) {
      // One after another, so "oldest" is well defined.
      idle.push(
        await new Promise<Idle>((resolve, reject) => {
          const w = new WebSocket(`ws://${host}/v2`);
          const x: Idle = { ws: w, frames: [], closed: false };
          w.on("message", (d: Buffer) => x.frames.push(d));
          w.on("close", () => (x.closed = true));
          w.once("open", () => resolve(x));
          w.once("error", reject);
        }),
      );
    }
    try {
      const ssl = Buffer.alloc(8);
      ssl.writeInt32BE(8, 0);
      ssl.writeInt32BE(80877103, 4);
      const oldest = idle[0]!;
      const newest = idle.at(-1)!;
      oldest.ws.send(ssl);
      newest.ws.send(ssl);
      await expect.poll(() => oldest.closed && newest.frames.length > 0, { timeout: 10_000 }).toBe(true);
      // The oldest was evicted: FATAL 53300 at its next message. The newest is served ('N').
      const err = oldest.frames.at(-1)!;
      expect(String.fromCharCode(err[0]!)).toBe("E");
      expect(err.toString("latin1")).toContain("C53300");
      expect(err.toString("latin1")).toContain(`at most ${PRESTARTUP} in all per edge isolate`);
      expect(newest.frames[0]!.toString("latin1")).toBe("N");
      // Another tenant's login over /v2 is not kept out by the idle sockets.
      neonConfig.webSocketConstructor = WebSocket;
      neonConfig.wsProxy = () => `${host}/v2`;
      neonConfig.useSecureWebSocket = false;
      neonConfig.forceDisablePgSSL = true;
      neonConfig.pipelineConnect = "password";
      const c = new NeonClient({ connectionString: victim.pg.replace("?sslmode=disable", "") });
      await c.connect();
      expect((await c.query("select 3 as three")).rows).toEqual([{ three: 3 }]);
      await c.end();
    } finally {
      for (const x of idle) x.ws.terminate();
    }
  });
});
