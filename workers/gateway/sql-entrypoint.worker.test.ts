// GatewaySql (sql-entrypoint.ts), the loader-mode entry for POST /sql, inside workerd: the request
// arrives as bytes with the KV capability as an argument, and a cancel reaches only a call of the
// same tenant. The capability is the in-memory KV here; the edge's channel in front of a real
// storage node is tested in workers/edge/request-kv.worker.test.ts.
import { describe, expect, it } from "vitest";
import type { GatewaySqlAnswer, GatewaySqlCall } from "./edge-contract.ts";
import type { GatewayEnv, QuotaGrant } from "./env.ts";
import { MemoryKv, memoryCapability } from "./kv/memory-kv.ts";
import { GatewaySql } from "./sql-entrypoint.ts";

const GRANT: QuotaGrant = { grantedRu: 1e9, trickleMs: 0, tokensRu: 1e9, validForMs: 60_000 };
let nextTenant = 900;

function entry(tenantId: string): GatewaySql {
  const props: Omit<GatewayEnv, "KV"> = { QUOTA: { acquire: async () => GRANT }, TENANT_ID: tenantId, TENANT_NAME: `t${tenantId}`, STATEMENT_TIMEOUT_MS: "" };
  const ctx = { props, waitUntil() {}, passThroughOnException() {} } as unknown as ExecutionContext;
  return new GatewaySql(ctx, {} as Record<string, never>);
}

function call(query: string, callId = crypto.randomUUID()): GatewaySqlCall {
  return { callId, url: "http://gateway/sql", method: "POST", headers: [["content-type", "application/json"]], body: new TextEncoder().encode(JSON.stringify({ query, params: [] })) };
}

const json = (a: GatewaySqlAnswer) => JSON.parse(new TextDecoder().decode(a.body)) as Record<string, unknown>;

describe("GatewaySql", () => {
  it("runs a /sql request given as bytes with the KV capability it is handed, and answers with the whole response", async () => {
    const tenant = String(nextTenant++);
    const kv = memoryCapability(new MemoryKv());
    const created = await entry(tenant).sql(call("create table t (id int primary key, v text)"), kv);
    expect(created.status).toBe(200);
    await entry(tenant).sql(call("insert into t values (1, 'one'), (2, 'two')"), kv);
    const read = await entry(tenant).sql(call("select v from t where id = 2"), kv);
    expect(read.status).toBe(200);
    expect(json(read)).toMatchObject({ command: "SELECT", rowCount: 1, rows: [{ v: "two" }] });
    expect(new Map(read.headers).get("content-type")).toMatch(/application\/json/);
  });

  it("answers a statement error with its SQLSTATE (400, Neon's shape)", async () => {
    const answer = await entry(String(nextTenant++)).sql(call("select * from no_such_table"), memoryCapability(new MemoryKv()));
    expect(answer.status).toBe(400);
    expect(json(answer)).toMatchObject({ code: "42P01" });
  });

  it("cancel(callId) aborts the running call of the same tenant with 57014; another tenant's cancel reaches nothing", async () => {
    const tenant = String(nextTenant++);
    const c = call("select pg_sleep(30)");
    const started = Date.now();
    const running = entry(tenant).sql(c, memoryCapability(new MemoryKv()));
    await new Promise((r) => setTimeout(r, 200));
    expect(entry(String(nextTenant++)).cancel(c.callId)).toBe(false);
    expect(entry(tenant).cancel(c.callId)).toBe(true);
    const answer = await running;
    expect(json(answer)).toMatchObject({ code: "57014" });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("a cancel that arrives before its call starts that call aborted (57014), but only for the same tenant", async () => {
    const tenant = String(nextTenant++);
    const early = call("select pg_sleep(30)");
    expect(entry(tenant).cancel(early.callId)).toBe(false);
    expect(json(await entry(tenant).sql(early, memoryCapability(new MemoryKv())))).toMatchObject({ code: "57014" });
    const notMine = call("select 1");
    expect(entry(String(nextTenant++)).cancel(notMine.callId)).toBe(false);
    expect(json(await entry(tenant).sql(notMine, memoryCapability(new MemoryKv())))).toMatchObject({ rowCount: 1 });
  });
});
