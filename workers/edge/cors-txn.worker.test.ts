// The edge's browser and HTTP-transaction surface inside workerd, with an echo gateway loaded
// through the Worker Loader (it answers with the headers it received): CORS on /sql (preflight
// without a tenant, headers on answers and refusals), a tenant's allowedOrigins, the edge-only
// transaction headers, and an edge without TXN_HANDLE_SECRET.
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { directoryOf } from "../../durable-objects/env.ts";
import { TXN_HEADERS } from "../gateway/edge-contract.ts";
import { createEdge } from "./app.ts";
import type { EdgeEnv } from "./env.ts";
import type { GatewayCode } from "./gateway-env.ts";
import { standInGateway } from "./stand-in-gateway.ts";

const baseEnv = env as unknown as EdgeEnv;
const SECRET = "txn-handle-secret-for-tests-0123456789abcdef";

const ECHO = `export default {
  async fetch(request) {
    return Response.json({ headers: Object.fromEntries(request.headers) });
  },
};`;
const echoCode: GatewayCode = standInGateway("echo-cors", ECHO);

function ctx(): ExecutionContext {
  return { exports, props: {}, waitUntil() {}, passThroughOnException() {} } as unknown as ExecutionContext;
}

/** A fresh edge (its sealer is made from the env it first sees). */
function edgeWith(secret: string | undefined) {
  const edge = createEdge({ gatewayCode: () => echoCode, inlineGateway: { fetch: async () => new Response("unused", { status: 500 }) } });
  const e: EdgeEnv = { ...baseEnv, GATEWAY_MODE: "loader", TXN_HANDLE_SECRET: secret };
  return (method: string, headers: Record<string, string>, body?: string) =>
    edge.fetch(new Request("http://127.0.0.1:8787/sql", { method, headers, ...(body === undefined ? {} : { body }) }), e, ctx());
}

let counter = 0;
async function makeTenant(allowedOrigins?: string[]): Promise<string> {
  const name = `co${Date.now().toString(36)}${counter++}`;
  const r = await directoryOf(baseEnv).create(name, "tenant-password-1");
  if (!r.ok) throw new Error(r.error.message);
  if (allowedOrigins !== undefined) {
    const a = await directoryOf(baseEnv).alterSettings(name, { allowedOrigins });
    if (!a.ok) throw new Error(a.error.message);
  }
  return `postgresql://app.${name}:tenant-password-1@localhost/db`;
}

const body = JSON.stringify({ query: "select 1", params: [] });

describe("CORS on /sql", () => {
  it("answers a preflight without any tenant or credentials", async () => {
    const send = edgeWith(SECRET);
    const res = await send("OPTIONS", { origin: "https://page.example", "access-control-request-method": "POST", "access-control-request-headers": "neon-connection-string" });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://page.example");
    expect(res.headers.get("access-control-allow-methods")).toContain("POST");
    expect(res.headers.get("access-control-allow-headers")).toContain("Neon-Connection-String");
    expect(res.headers.get("access-control-allow-headers")).toContain("Warren-Transaction");
  });

  it("puts CORS headers on answers and on errors, so a page can read both", async () => {
    const send = edgeWith(SECRET);
    const ok = await send("POST", { origin: "https://page.example", "neon-connection-string": await makeTenant() }, body);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe("https://page.example");
    expect(ok.headers.get("access-control-expose-headers")).toContain("Warren-Transaction");
    const unknown = await send("POST", { origin: "https://page.example", "neon-connection-string": "postgresql://app.nosuchtenant:pw-12345678@localhost/db" }, body);
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("access-control-allow-origin")).toBe("https://page.example");
  });

  it("refuses an origin the tenant does not allow with 42501 before the gateway; allows listed ones and requests without Origin", async () => {
    const send = edgeWith(SECRET);
    const url = await makeTenant(["https://app.example.com"]);
    const refused = await send("POST", { origin: "https://evil.example", "neon-connection-string": url }, body);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: "42501", message: expect.stringMatching(/origin "https:\/\/evil.example" is not allowed/) });
    for (const headers of [{ origin: "https://app.example.com" }, { origin: "https://APP.example.com:443" }, {}] as Array<Record<string, string>>) {
      const res = await send("POST", { ...headers, "neon-connection-string": url }, body);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { headers: Record<string, string> }).headers).toHaveProperty(TXN_HEADERS.expiresAtMs);
    }
  });
});

describe("the edge's transaction headers", () => {
  it("drops a client's copies of the edge-only headers and sets its own expiry", async () => {
    const send = edgeWith(SECRET);
    const before = Date.now();
    const res = await send("POST", { "neon-connection-string": await makeTenant(), [TXN_HEADERS.state]: "forged", [TXN_HEADERS.expiresAtMs]: "99999999999999" }, body);
    const seen = ((await res.json()) as { headers: Record<string, string> }).headers;
    expect(seen).not.toHaveProperty(TXN_HEADERS.state);
    const expires = Number(seen[TXN_HEADERS.expiresAtMs]);
    expect(expires).toBeGreaterThanOrEqual(before + 4 * 60 * 1000);
    expect(expires).toBeLessThan(before + 5 * 60 * 1000);
  });

  it("an edge without TXN_HANDLE_SECRET refuses a handle with F0000 naming it, and offers no expiry", async () => {
    const send = edgeWith(undefined);
    const url = await makeTenant();
    const res = await send("POST", { "neon-connection-string": url, "warren-transaction": "wtx1.1.AAAA" }, body);
    expect(await res.json()).toMatchObject({ code: "F0000", message: expect.stringMatching(/TXN_HANDLE_SECRET/) });
    const plain = await send("POST", { "neon-connection-string": url }, body);
    expect(((await plain.json()) as { headers: Record<string, string> }).headers).not.toHaveProperty(TXN_HEADERS.expiresAtMs);
  });
});
