// POST /sql at the edge: tenant identification from every form (options, user, database, host in
// the Neon-Connection-String, and the Host header), password checks, credential stripping, and the
// route cache (no router call per query). The gateway here is an echo module loaded through the
// Worker Loader exactly as real gateways are, so the test sees which tenant's isolate answered.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directoryOf } from "../../durable-objects/env.ts";
import { createEdge } from "./app.ts";
import type { EdgeEnv } from "./env.ts";
import type { GatewayCode } from "./gateway-env.ts";
import { standInGateway } from "./stand-in-gateway.ts";

const baseEnv = env as unknown as EdgeEnv;
const loaderEnv: EdgeEnv = { ...baseEnv, GATEWAY_MODE: "loader" };

// The tenant's env reaches a loaded gateway as the invocation's props (gateway-host.ts).
const ECHO = `export default {
  async fetch(request, env, ctx) {
    if (new URL(request.url).pathname.startsWith("/_warren/")) return new Response(null, { status: 204 });
    return Response.json({
      tenantId: ctx.props.TENANT_ID,
      tenantName: ctx.props.TENANT_NAME,
      headers: [...request.headers.keys()].sort(),
      body: await request.text(),
    });
  },
};`;
const echoCode: GatewayCode = standInGateway("echo", ECHO);

function ctx(): ExecutionContext {
  return {
    exports,
    props: {},
    waitUntil() {},
    passThroughOnException() {},
  } as unknown as ExecutionContext;
}

const edge = createEdge({
  gatewayCode: () => echoCode,
  inlineGateway: { fetch: async () => new Response("inline gateway must not be used in loader mode", { status: 500 }) },
});

function sql(headers: Record<string, string>, body: unknown = { query: "select 1", params: [] }): Promise<Response> {
  return edge.fetch(
    new Request("http://127.0.0.1:8787/sql", { method: "POST", headers, body: JSON.stringify(body) }),
    loaderEnv,
    ctx(),
  );
}

let counter = 0;
async function makeTenant(password = "tenant-password-1"): Promise<{ name: string; id: number; password: string }> {
  const name = `sq${Date.now().toString(36)}${counter++}`;
  const r = await directoryOf(baseEnv).create(name, password);
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

describe("POST /sql tenant identification", () => {
  it.each([
    ["options=--cluster=T", (t: string) => `postgresql://app:PW@localhost/defaultdb?options=--cluster%3D${t}`],
    ["user NAME.T", (t: string) => `postgresql://app.${t}:PW@localhost/defaultdb`],
    ["database T.DB", (t: string) => `postgresql://app:PW@localhost/${t}.defaultdb`],
    ["host label T.<domain>", (t: string) => `postgresql://app:PW@${t}.warren.localhost/defaultdb`],
  ])("routes %s to that tenant's gateway", async (_label, url) => {
    const t = await makeTenant();
    const res = await sql({ "Neon-Connection-String": url(t.name).replace("PW", t.password) });
    expect(res.status).toBe(200);
    const echo = (await res.json()) as { tenantId: string; tenantName: string; headers: string[]; body: string };
    expect(echo.tenantId).toBe(String(t.id));
    expect(echo.tenantName).toBe(t.name);
    // The credentials stop at the edge.
    expect(echo.headers).not.toContain("neon-connection-string");
    expect(echo.headers).not.toContain("authorization");
    expect(JSON.parse(echo.body)).toEqual({ query: "select 1", params: [] });
  });

  it("takes the tenant from the Host header when the connection string names none", async () => {
    const t = await makeTenant();
    const res = await edge.fetch(
      new Request("http://x/sql", {
        method: "POST",
        headers: { host: `${t.name}.db.example.com`, "Neon-Connection-String": `postgresql://app:${t.password}@localhost/defaultdb` },
        body: JSON.stringify({ query: "select 1", params: [] }),
      }),
      loaderEnv,
      ctx(),
    );
    expect(((await res.json()) as { tenantName: string }).tenantName).toBe(t.name);
  });

  it("refuses two different tenants named at once (28000)", async () => {
    const a = await makeTenant();
    const b = await makeTenant();
    const res = await sql({ "Neon-Connection-String": `postgresql://app.${a.name}:${a.password}@localhost/${b.name}.db` });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "28000" });
  });

  it("answers 3D000 for an unknown tenant, 28P01 for a wrong or missing password", async () => {
    const t = await makeTenant();
    const unknown = await sql({ "Neon-Connection-String": `postgresql://app.nosuch${counter++}:x@localhost/db` });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ code: "3D000", severity: "ERROR" });
    const wrong = await sql({ "Neon-Connection-String": `postgresql://app.${t.name}:not-it@localhost/db` });
    expect(await wrong.json()).toMatchObject({ code: "28P01" });
    const missing = await sql({ "Neon-Connection-String": `postgresql://app.${t.name}@localhost/db` });
    expect(await missing.json()).toMatchObject({ code: "28P01" });
    const none = await sql({});
    expect(await none.json()).toMatchObject({ code: "3D000" });
    const garbage = await sql({ "Neon-Connection-String": "mysql://nope" });
    expect(await garbage.json()).toMatchObject({ code: "08P01" });
  });

  it("asks the router once per tenant and password within the route TTL", async () => {
    const t = await makeTenant();
    const { routes } = edge.state(loaderEnv);
    const before = routes.routerCalls;
    const url = `postgresql://app.${t.name}:${t.password}@localhost/db`;
    for (let i = 0; i < 20; i++) expect((await sql({ "Neon-Connection-String": url })).status).toBe(200);
    expect(routes.routerCalls - before).toBe(1);
    // A wrong password is never served from the cache.
    for (let i = 0; i < 2; i++) await sql({ "Neon-Connection-String": url.replace(t.password, "wrong-one") });
    expect(routes.routerCalls - before).toBe(3);
  });
});

describe("POST /sql through the edge Worker (inline gateway, real gateway module)", () => {
  it("reaches the gateway's /sql handler, which validates the body before running anything", async () => {
    const t = await makeTenant();
    const worker = (exports as unknown as { default: Fetcher }).default;
    const res = await worker.fetch("http://edge.test/sql", {
      method: "POST",
      headers: { "Neon-Connection-String": `postgresql://app.${t.name}:${t.password}@localhost/db` },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "08P01", message: expect.stringMatching(/not valid JSON/) });
  });
});
