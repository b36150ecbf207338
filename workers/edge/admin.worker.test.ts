// The admin API through the edge Worker's fetch handler: bearer auth, validation, and the
// create / list / show / alter / drop cycle with the exact response shapes the CLI relies on.
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { EdgeEnv } from "./env.ts";
import { limits } from "./limits.ts";

const edgeEnv = env as unknown as EdgeEnv;
const worker = (exports as unknown as { default: Fetcher }).default;
const AUTH = { authorization: `Bearer ${edgeEnv.ADMIN_TOKEN}` };
let counter = 0;
const uniqueName = (base: string) => `${base}-${Date.now().toString(36)}-${counter++}`;

function admin(method: string, path: string, body?: unknown, headers: Record<string, string> = AUTH): Promise<Response> {
  return worker.fetch(`http://edge.test/admin${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? null : typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Every tenant name, sorted: what a refused request must leave unchanged. */
async function tenantNames(): Promise<string[]> {
  const res = await admin("GET", "/tenants");
  expect(res.status).toBe(200);
  const body = (await res.json()) as Array<{ name: string }> | { tenants: Array<{ name: string }> };
  return (Array.isArray(body) ? body : body.tenants).map((t) => t.name).sort();
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("admin API auth", () => {
  it.each([
    ["no header", {}],
    ["wrong token", { authorization: "Bearer not-the-token" }],
    ["token as prefix", { authorization: `Bearer ${edgeEnv.ADMIN_TOKEN}x` }],
    ["wrong scheme", { authorization: `Basic ${edgeEnv.ADMIN_TOKEN}` }],
  ])("refuses %s with 401 and SQLSTATE 28000, changing nothing", async (_label, headers) => {
    const name = uniqueName("unauth");
    const res = await admin("POST", "/tenants", { name }, headers as Record<string, string>);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: "28000" });
    const check = await admin("GET", `/tenants/${name}`);
    expect(check.status).toBe(404);
  });
});

describe("admin API validation", () => {
  it.each([
    ["bad JSON", "{not json", 400, "08P01"],
    ["array body", "[]", 400, "08P01"],
    ["missing name", { password: "long-enough-pw" }, 400, "42602"],
    ["uppercase name", { name: "Acme" }, 400, "42602"],
    ["name starting with a digit", { name: "1acme" }, 400, "42602"],
    ["name too long", { name: "a".repeat(64) }, 400, "42602"],
    ["short password", { name: "okname", password: "short" }, 400, "22023"],
    ["non-string password", { name: "okname", password: 12345678 }, 400, "22023"],
    ["oversized body", { name: "okname", password: "x".repeat(limits.adminBodyBytesMax) }, 413, "54000"],
  ])("refuses %s, creating nothing", async (_label, body, status, code) => {
    const before = await tenantNames();
    const res = await admin("POST", "/tenants", body);
    expect(res.status).toBe(status);
    expect(await res.json()).toMatchObject({ code });
    expect(await tenantNames()).toEqual(before);
  });

  it("accepts the longest valid name (63 characters)", async () => {
    const name = "z" + `${Date.now().toString(36)}${counter++}`.padEnd(62, "0");
    expect(name.length).toBe(63);
    const res = await admin("POST", "/tenants", { name });
    expect(res.status).toBe(201);
  });

  it("refuses unknown PATCH fields and states", async () => {
    const name = uniqueName("patch");
    await admin("POST", "/tenants", { name });
    const before = await (await admin("GET", `/tenants/${name}`)).json();
    expect((await admin("PATCH", `/tenants/${name}`, { color: "red" })).status).toBe(400);
    expect((await admin("PATCH", `/tenants/${name}`, { state: "dropped" })).status).toBe(400);
    expect((await admin("PATCH", `/tenants/${name}`, { state: "suspended", color: "red" })).status).toBe(400);
    expect(await (await admin("GET", `/tenants/${name}`)).json()).toEqual(before);
  });
});

describe("admin API tenant settings", () => {
  it("changes quota and connection settings, shows them, and carries the connection limits on the route", async () => {
    const name = uniqueName("settings");
    const { id } = (await (await admin("POST", "/tenants", { name })).json()) as { id: number };
    const res = await admin("PATCH", `/tenants/${name}`, {
      ruPerSecond: 250,
      burstRu: 1000,
      spendLimitRu: 5000,
      atSpendLimit: "refuse",
      maxConnections: 7,
      allowedCidrs: ["10.0.0.0/8", "2001:DB8::/32"],
    });
    expect(res.status).toBe(200);
    const settings = { ruPerSecond: 250, burstRu: 1000, spendLimitRu: 5000, atSpendLimit: "refuse", maxConnections: 7, allowedCidrs: ["10.0.0.0/8", "2001:db8::/32"] };
    expect(await res.json()).toMatchObject({ name, id, settings });
    expect(await (await admin("GET", `/tenants/${name}`)).json()).toMatchObject({ settings });
    // The QuotaBucket applies them…
    const usage = (await (await admin("GET", `/tenants/${name}/usage`)).json()) as { config: Record<string, unknown>; bucket: { burstRu: number } };
    expect(usage.config).toMatchObject({ tenantName: name, ruPerSecond: 250, burstRu: 1000, spendLimitRu: 5000, atSpendLimit: "refuse" });
    // …and the route carries the connection limits to the edge.
    const router = edgeEnv.TENANT_ROUTER.get(edgeEnv.TENANT_ROUTER.idFromName(name));
    const route = await router.lookup(name);
    expect(route).toMatchObject({ ok: true, value: { tenantId: id, maxConnections: 7, allowedCidrs: ["10.0.0.0/8", "2001:db8::/32"] } });
    // Clearing: null / [].
    const cleared = await admin("PATCH", `/tenants/${name}`, { spendLimitRu: null, maxConnections: null, allowedCidrs: [] });
    expect(await cleared.json()).toMatchObject({ settings: { spendLimitRu: null, maxConnections: null, allowedCidrs: [], ruPerSecond: 250 } });
  });

  it.each([
    [{ ruPerSecond: -1 }, /"ruPerSecond" must be between 0/],
    [{ burstRu: "lots" }, /"burstRu" must be a number/],
    [{ spendLimitRu: 0 }, /"spendLimitRu"/],
    [{ atSpendLimit: "block" }, /"throttle" or "refuse"/],
    [{ maxConnections: 100_000 }, /"maxConnections" must be between 1 and 10000/],
    [{ allowedCidrs: ["10.0.0.1/8"] }, /bits set to right of the mask/],
    // A good setting beside a bad one, or beside a bad password: nothing at all changes.
    [{ ruPerSecond: 5, allowedCidrs: ["nonsense"] }, /not an IPv4 or IPv6 address/],
    [{ ruPerSecond: 5, password: "short" }, /at least 8 characters/],
    [{ ruPerSecond: 5, state: "suspended", maxConnections: 0 }, /"maxConnections"/],
  ])("refuses %j with 22023 and changes nothing", async (patch, message) => {
    const name = uniqueName("badset");
    await admin("POST", "/tenants", { name });
    const before = await (await admin("GET", `/tenants/${name}`)).json();
    const res = await admin("PATCH", `/tenants/${name}`, patch);
    expect(res.status).toBe(400);
    const err = (await res.json()) as { code: string; message: string };
    expect(err.code).toBe("22023");
    expect(err.message).toMatch(message);
    expect(await (await admin("GET", `/tenants/${name}`)).json()).toEqual(before);
  });

  it("answers the usage of a tenant, validating the window", async () => {
    const name = uniqueName("usage");
    await admin("POST", "/tenants", { name });
    const res = await admin("GET", `/tenants/${name}/usage?since=7d`);
    expect(res.status).toBe(200);
    const u = (await res.json()) as { name: string; hours: unknown[]; totals: { ru: number }; historyHoursMax: number };
    expect(u).toMatchObject({ name, hours: [], totals: { ru: 0 }, historyHoursMax: 2232 });
    const bad = await admin("GET", `/tenants/${name}/usage?since=yesterday`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "22007" });
    const reversed = await admin("GET", `/tenants/${name}/usage?since=2026-08-02&until=2026-08-01`);
    expect(await reversed.json()).toMatchObject({ code: "22023" });
    expect((await admin("GET", `/tenants/no-such-${name}/usage`)).status).toBe(404);
  });
});

describe("admin API tenant lifecycle", () => {
  it("creates (201, generated password), lists, shows, suspends, resumes and drops", async () => {
    const name = uniqueName("life");
    const created = await admin("POST", "/tenants", { name });
    expect(created.status).toBe(201);
    const body = (await created.json()) as { name: string; id: number; password: string };
    // The router's SCRAM verifier travels to the edge's credential cache, never into an answer.
    expect(Object.keys(body).sort()).toEqual(["id", "name", "password"]);
    expect(body.name).toBe(name);
    expect(body.id).toBeGreaterThanOrEqual(2);
    expect(body.password).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const dup = await admin("POST", "/tenants", { name, password: "another-password" });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ code: "42P04" });

    const list = (await (await admin("GET", "/tenants")).json()) as Array<Record<string, unknown>>;
    const row = list.find((t) => t["name"] === name);
    expect(row).toMatchObject({ name, id: body.id, state: "active" });
    expect(Object.keys(row!).sort()).toEqual(["createdAt", "id", "lifecycle", "name", "settings", "state"]);
    expect(row!["lifecycle"]).toMatchObject({ suspendedBy: null, idleSuspensions: 0, resumes: 0, sessions: 0, requests: 0 });
    expect(Number.isNaN(Date.parse(row!["createdAt"] as string))).toBe(false);

    const shown = await admin("GET", `/tenants/${name}`);
    expect(await shown.json()).toEqual(row);

    const suspended = await admin("PATCH", `/tenants/${name}`, { state: "suspended" });
    expect(await suspended.json()).toMatchObject({ state: "suspended", lifecycle: { suspendedBy: "operator" } });
    const resumed = await admin("PATCH", `/tenants/${name}`, { state: "active" });
    expect(await resumed.json()).toMatchObject({ state: "active" });

    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}"));
    const dropped = await admin("DELETE", `/tenants/${name}`);
    expect(dropped.status).toBe(200);
    expect(await dropped.json()).toMatchObject({ name, id: body.id, state: "dropped" });
    expect((await admin("GET", `/tenants/${name}`)).status).toBe(404);
    const again = await admin("DELETE", `/tenants/${name}`);
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ code: "3D000" });
  });

  it("uses the given password", async () => {
    const name = uniqueName("given");
    const res = await admin("POST", "/tenants", { name, password: "my own password" });
    expect(await res.json()).toMatchObject({ name, password: "my own password" });
  });
});
