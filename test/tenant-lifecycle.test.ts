// The tenant lifecycle against the real stack (issue 11, acceptance 1), with the idle time set to
// 2 s (TENANT_IDLE_SUSPEND_MS):
//   - a tenant idle for 3 s is suspended (by idleness) and its gateway isolate released, as the
//     admin API shows; the first query of a new connection afterwards succeeds and sees the data;
//   - an open session, even one that sends nothing, keeps its tenant active;
//   - an operator's suspend ends open sessions (57P01) and the query in flight, refuses new
//     connections and /sql with 57P03 until resumed, and resume serves again;
//   - nothing consumed is lost when a gateway isolate is released: the usage read after an
//     operator's suspension (at once) and after an idle suspension equals what the storage node
//     measured and the bytes the client received.
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kvPartOf, nodeCounters, sqlBytes, usageOf } from "./harness/metering.ts";
import { httpSql, HttpSqlError, startStack, type Stack, type TenantConnection } from "./harness/stack.ts";

const IDLE_MS = 2_000;

let stack: Stack;
let t: TenantConnection;

beforeAll(async () => {
  stack = await startStack({ env: { TENANT_IDLE_SUSPEND_MS: String(IDLE_MS) } });
  t = await stack.createTenant("sleepy");
  await httpSql(t, "create table kv (k int primary key, v text)");
  await httpSql(t, "insert into kv values (1, 'one'), (2, 'two')");
});
afterAll(async () => {
  await stack?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface View {
  state: string;
  lifecycle?: { suspendedBy: string | null; idleSuspensions: number; resumes: number; sessions: number; gatewayIsolate: boolean };
}

async function tenantView(name: string): Promise<View> {
  const res = await fetch(`${stack.admin.url}/admin/tenants/${name}`, { headers: { authorization: `Bearer ${stack.admin.token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as View;
}

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  c.on("error", () => {}); // a terminated session reports through the query that fails
  await c.connect();
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return "no error";
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

describe("tenant lifecycle", () => {
  it("suspends a tenant idle for 3 s (isolate released) and resumes it on the next connection", async () => {
    await httpSql(t, "select 1");
    const warm = await tenantView("sleepy");
    expect(warm.state).toBe("active");
    expect(warm.lifecycle?.gatewayIsolate).toBe(true);

    await sleep(IDLE_MS + 1_000);
    const idle = await tenantView("sleepy");
    expect(idle.state).toBe("suspended");
    expect(idle.lifecycle?.suspendedBy).toBe("idle");
    expect(idle.lifecycle?.gatewayIsolate).toBe(false);
    expect(idle.lifecycle?.idleSuspensions).toBeGreaterThanOrEqual(1);
    const resumesBefore = idle.lifecycle!.resumes;
    // The same, as Prometheus metrics (admin token only).
    expect((await fetch(`${stack.admin.url}/metrics`)).status).toBe(401);
    const metrics = await (await fetch(`${stack.admin.url}/metrics`, { headers: { authorization: `Bearer ${stack.admin.token}` } })).text();
    expect(metrics).toContain('warren_tenant_state{tenant="sleepy",state="suspended"} 1');
    expect(metrics).toContain('warren_tenant_state{tenant="sleepy",state="active"} 0');
    expect(metrics).toMatch(/^warren_edge_gateway_isolates_released_total [1-9]\d*$/m);
    expect(metrics).toMatch(/^warren_tenant_request_units_total\{tenant="sleepy"\} [0-9.e+]+$/m);

    // The first query of a new wire connection resumes it transparently.
    const c = await client(t.pg);
    try {
      const r = await c.query("select v from kv order by k");
      expect(r.rows).toEqual([{ v: "one" }, { v: "two" }]);
    } finally {
      await c.end();
    }
    const back = await tenantView("sleepy");
    expect(back.state).toBe("active");
    expect(back.lifecycle?.resumes).toBe(resumesBefore + 1);
    expect(back.lifecycle?.gatewayIsolate).toBe(true);

    // And over HTTP, after another idle period.
    await sleep(IDLE_MS + 1_000);
    expect((await tenantView("sleepy")).state).toBe("suspended");
    const r = await httpSql(t, "select count(*)::int as n from kv");
    expect(r.rows).toEqual([{ n: 2 }]);
  });

  it("keeps a tenant with an open (quiet) session active", async () => {
    const c = await client(t.pg);
    try {
      await c.query("select 1");
      await sleep(IDLE_MS + 1_000);
      const v = await tenantView("sleepy");
      expect(v.state).toBe("active");
      expect(v.lifecycle?.sessions).toBe(1);
      expect((await c.query("select 2 as x")).rows).toEqual([{ x: 2 }]);
    } finally {
      await c.end();
    }
  });

  it("operator suspend ends open sessions (57P01) and the query in flight, refuses new ones (57P03) until resumed", async () => {
    const quiet = await client(t.pg);
    const busy = await client(t.pg);
    const inFlight = codeOf(busy.query("select pg_sleep(20)"));
    await sleep(300);
    const t0 = Date.now();
    const suspended = await stack.warren(["tenant", "suspend", "sleepy"]);
    expect(suspended.code, suspended.stderr).toBe(0);
    expect(await inFlight).toBe("57P01");
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(await codeOf(quiet.query("select 1"))).not.toBe("no error");
    await quiet.end().catch(() => {});
    await busy.end().catch(() => {});

    const view = await tenantView("sleepy");
    expect(view.state).toBe("suspended");
    expect(view.lifecycle?.suspendedBy).toBe("operator");
    expect(view.lifecycle?.gatewayIsolate).toBe(false);
    expect(await codeOf(client(t.pg))).toBe("57P03");
    const http = await httpSql(t, "select 1").then(
      () => null,
      (e: unknown) => e,
    );
    expect(http).toBeInstanceOf(HttpSqlError);
    expect((http as HttpSqlError).code).toBe("57P03");

    // Idle time does not resume an operator's suspension.
    await sleep(IDLE_MS + 500);
    expect(await codeOf(client(t.pg))).toBe("57P03");

    const resumed = await stack.warren(["tenant", "resume", "sleepy"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const c = await client(t.pg);
    try {
      expect((await c.query("select count(*)::int as n from kv")).rows).toEqual([{ n: 2 }]);
    } finally {
      await c.end();
    }
  });

  it("reports all usage before the isolate goes: usage after suspension equals usage consumed", async () => {
    const m = await stack.createTenant("meteredsleepy");
    let egress = 0;
    const run = async (q: string, params: unknown[] = []) => {
      egress += (await sqlBytes(m, q, params)).bytes;
    };
    await run("create table t (id int primary key, v text)");
    for (let i = 0; i < 10; i++) await run("insert into t values ($1, $2)", [i, `v${i}`]);
    for (let i = 0; i < 10; i++) await run("select v from t where id = $1", [i]);
    // Suspended at once, well inside the gateway's own report period: the release reports it.
    const suspended = await stack.warren(["tenant", "suspend", "meteredsleepy"]);
    expect(suspended.code, suspended.stderr).toBe(0);
    const node = await nodeCounters(stack, Number(m.id));
    const usage = await usageOf(stack, "meteredsleepy");
    expect(usage.totals.kv).toEqual(kvPartOf(node));
    expect(usage.totals.egressBytes).toBe(egress);
    expect(usage.totals.httpRequests).toBe(21);

    // Resumed, used over the wire protocol, then suspended for idleness.
    expect((await stack.warren(["tenant", "resume", "meteredsleepy"])).code).toBe(0);
    const c = await client(m.pg);
    try {
      for (let i = 0; i < 5; i++) await c.query("select v from t where id = $1", [i]);
      await c.query("insert into t values (100, 'wire')");
    } finally {
      await c.end();
    }
    await sleep(IDLE_MS + 1_000);
    const idle = await tenantView("meteredsleepy");
    expect(idle.state).toBe("suspended");
    expect(idle.lifecycle?.gatewayIsolate).toBe(false);
    const nodeAfter = await nodeCounters(stack, Number(m.id));
    expect(nodeAfter.readRequests).toBeGreaterThan(node.readRequests);
    const after = await usageOf(stack, "meteredsleepy");
    expect(after.totals.kv).toEqual(kvPartOf(nodeAfter));
    expect(after.totals.connections).toBe(1);
    expect(after.totals.egressBytes).toBeGreaterThan(egress);
  });

  it("a new tenant's first query finds the catalog loaded ahead (the query itself sends no storage request); a resumed tenant's sees the current catalog", async () => {
    // Server-Timing `kv` is the statement's own KV round trips (workers/gateway/http/kv-timing.ts).
    const firstQueryKv = async (c: TenantConnection): Promise<string | null> => {
      const res = await fetch(c.http, {
        method: "POST",
        headers: { "content-type": "application/json", "neon-connection-string": c.pg },
        body: JSON.stringify({ query: "select 1 as one", params: [] }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { rows: unknown[] }).rows).toEqual([{ one: 1 }]);
      return /(?:^|,\s*)kv;dur=/.test(res.headers.get("server-timing") ?? "") ? "loaded the catalog itself" : null;
    };
    const fresh = await stack.createTenant("earlybird");
    expect(await firstQueryKv(fresh)).toBeNull();
    await httpSql(fresh, "create table t (id int primary key)");
    await sleep(IDLE_MS + 1_000);
    expect((await tenantView("earlybird")).state).toBe("suspended");
    // Over POST /sql the resumed tenant's catalog is loaded by its first statement, after the router
    // call that resumes it (a Postgres connection has it loaded during SCRAM instead: app.ts
    // prepareGateway). It is the current one: the table made before the suspension is there.
    expect((await httpSql(fresh, "select count(*)::int as n from t")).rows).toEqual([{ n: 0 }]);
  });
});
