// TenantRouter and TenantDirectory inside workerd: create, lookup, authenticate (right / wrong
// password, unknown tenant), suspend, failed-login throttle, drop (router first, then storage).
/// <reference path="../../node_modules/@cloudflare/vitest-plugin/types/cloudflare-test.d.ts" />
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { verifyTenantToken } from "../../common/tenant-token.ts";
import { directoryOf, routerFor, type ControlEnv } from "../env.ts";
import { limits } from "../limits.ts";
import { parseVerifier } from "./scram.ts";

const cenv = env as unknown as ControlEnv;
let counter = 0;
const uniqueName = (base: string) => `${base}-${Date.now().toString(36)}-${counter++}`;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("TenantRouter", () => {
  it("creates a tenant through the directory and routes it with the right password only", async () => {
    const name = uniqueName("rt");
    const created = await directoryOf(cenv).create(name, "correct horse battery");
    expect(created.ok).toBe(true);
    const id = created.ok ? created.value.id : -1;
    expect(id).toBeGreaterThanOrEqual(2); // 1 is the system tenant

    const router = routerFor(cenv, name);
    const looked = await router.lookup(name);
    expect(looked).toEqual({ ok: true, value: { tenantId: id, name, ttlMs: limits.routeTtlMs, maxConnections: null, allowedCidrs: [], allowedOrigins: [] } });

    const good = await router.authenticate(name, "correct horse battery");
    expect(good.ok && good.value.tenantId).toBe(id);

    const bad = await router.authenticate(name, "wrong horse battery");
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error.condition).toBe("invalid_password");
  });

  it("stores a SCRAM-SHA-256 verifier, never the password", async () => {
    const name = uniqueName("scram");
    const password = "a-password-to-look-for";
    await directoryOf(cenv).create(name, password);
    const router = routerFor(cenv, name);
    // Read the raw record the object persisted.
    const stored = await runInDurableObject(router, async (_instance, state) => state.storage.get<{ verifier: string }>("tenant"));
    expect(stored).toBeDefined();
    expect(JSON.stringify(stored)).not.toContain(password);
    const v = parseVerifier(stored!.verifier);
    expect(v?.iterations).toBe(4096);
    expect(v?.storedKey.length).toBe(32);
    expect(v?.serverKey.length).toBe(32);
  });

  it("answers 3D000 for an unknown tenant", async () => {
    const name = uniqueName("ghost");
    const r = await routerFor(cenv, name).authenticate(name, "whatever-password");
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error.condition).toBe("invalid_catalog_name");
    expect(!r.ok && r.error.message).toContain(name);
  });

  it("refuses a suspended tenant with a clear error, and routes it again once resumed", async () => {
    const name = uniqueName("susp");
    await directoryOf(cenv).create(name, "password-123");
    const s = await directoryOf(cenv).setState(name, "suspended");
    expect(s.ok && s.value.state).toBe("suspended");
    const r = await routerFor(cenv, name).authenticate(name, "password-123");
    expect(!r.ok && r.error.condition).toBe("cannot_connect_now");
    expect(!r.ok && r.error.message).toMatch(/suspended/);
    await directoryOf(cenv).setState(name, "active");
    expect((await routerFor(cenv, name).authenticate(name, "password-123")).ok).toBe(true);
  });

  it("throttles the address that failed (even with the right password), never another address or one that logged in", async () => {
    const name = uniqueName("throttle");
    await directoryOf(cenv).create(name, "the-right-one");
    const router = routerFor(cenv, name);
    expect((await router.authenticate(name, "the-right-one", "192.0.2.9")).ok).toBe(true);
    for (let i = 0; i < limits.loginFailuresFree; i++) {
      const r = await router.authenticate(name, `wrong-${i}-password`, "192.0.2.1");
      expect(!r.ok && r.error.condition).toBe("invalid_password");
    }
    const blocked = await router.authenticate(name, "the-right-one", "192.0.2.1");
    expect(!blocked.ok && blocked.error.condition).toBe("invalid_authorization_specification");
    expect(!blocked.ok && blocked.error.hint).toMatch(/Wait \d+ s/);
    expect(limits.loginBackoffFirstMs).toBe(1_000);
    expect((await router.authenticate(name, "the-right-one", "192.0.2.2")).ok).toBe(true);
    // The address that logged in before is not slowed by its own later mistakes.
    for (let i = 0; i < 3; i++) await router.authenticate(name, `wrong-${i}-password`, "192.0.2.9");
    expect((await router.authenticate(name, "the-right-one", "192.0.2.9")).ok).toBe(true);
    // SCRAM at the edge reports failures the same way: credentials() refuses the address after three.
    expect(await router.loginFailed(name, "192.0.2.3")).toBe(null); // a typo costs nothing
    await router.loginFailed(name, "192.0.2.3");
    expect(await router.loginFailed(name, "192.0.2.3")).toBeGreaterThan(Date.now());
    const creds = await router.credentials(name, "192.0.2.3");
    expect(!creds.ok && creds.error.condition).toBe("invalid_authorization_specification");
    expect((await router.credentials(name, "192.0.2.4")).ok).toBe(true);
  });

  it("drops: router marked dropped, storage asked to drop the span with a system token, name reusable", async () => {
    const name = uniqueName("drop");
    const created = await directoryOf(cenv).create(name, "drop-me-please");
    const id = created.ok ? created.value.id : -1;
    const calls: Array<{ url: string; auth: string | null; body: string }> = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const req = new Request(input, init);
      calls.push({ url: req.url, auth: req.headers.get("authorization"), body: await req.text() });
      return Response.json({ dropped: true });
    });
    // The directory object runs in this isolate, so the spy sees its outbound fetch.
    const dropped = await directoryOf(cenv).drop(name);
    expect(dropped.ok && dropped.value.state).toBe("dropped");
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe(`${cenv.STORAGE_URL}/v1/admin/drop-tenant`);
    expect(JSON.parse(calls[0]!.body)).toEqual({ tenantId: id });
    const claims = await verifyTenantToken(cenv.FLEET_SECRET, calls[0]!.auth!.replace(/^Bearer /, ""), Date.now());
    expect(claims.tenantId).toBe(1);

    const after = await routerFor(cenv, name).authenticate(name, "drop-me-please");
    expect(!after.ok && after.error.condition).toBe("invalid_catalog_name");
    expect((await directoryOf(cenv).get(name)).ok).toBe(false);
    expect((await directoryOf(cenv).list()).some((e) => e.name === name)).toBe(false);

    const again = await directoryOf(cenv).create(name, "a-new-password");
    expect(again.ok && again.value.id).toBeGreaterThan(id);
  });

  it("keeps a drop resumable when the storage node is unreachable", async () => {
    const name = uniqueName("dropfail");
    await directoryOf(cenv).create(name, "drop-me-later");
    vi.spyOn(globalThis, "fetch").mockRejectedValueOnce(new Error("connection refused"));
    const first = await directoryOf(cenv).drop(name);
    expect(!first.ok && first.error.condition).toBe("connection_failure");
    // Already unroutable, even though storage still holds its data.
    const r = await routerFor(cenv, name).lookup(name);
    expect(!r.ok && r.error.condition).toBe("invalid_catalog_name");
    // The Response is created inside the call (in the object's I/O context), not here.
    vi.spyOn(globalThis, "fetch").mockImplementationOnce(async () => new Response("{}"));
    const second = await directoryOf(cenv).drop(name);
    expect(second.ok && second.value.state).toBe("dropped");
  });

  it("finishes a drop left in 'dropping' by itself: the directory's alarm repeats it", async () => {
    const name = uniqueName("dropalarm");
    await directoryOf(cenv).create(name, "drop-me-later");
    vi.spyOn(globalThis, "fetch").mockRejectedValueOnce(new Error("connection refused"));
    const first = await directoryOf(cenv).drop(name);
    expect(!first.ok && first.error.condition).toBe("connection_failure");
    const dir = directoryOf(cenv);
    const stored = await runInDurableObject(dir, async (_i, state) => ({ entry: await state.storage.get<{ state: string }>(`t:${name}`), alarm: await state.storage.getAlarm() }));
    expect(stored.entry?.state).toBe("dropping");
    expect(stored.alarm).not.toBe(null);
    // No operator repeats the drop: the alarm fires and finishes it once storage answers.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}"));
    expect(await runDurableObjectAlarm(dir)).toBe(true);
    const after = await runInDurableObject(dir, async (_i, state) => state.storage.get<{ state: string }>(`t:${name}`));
    expect(after?.state).toBe("dropped");
    expect((await routerFor(cenv, name).describe())?.state).toBe("dropped");
  });

  it("allocates distinct increasing ids", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await directoryOf(cenv).create(uniqueName("ids"), null);
      expect(r.ok).toBe(true);
      if (r.ok) {
        ids.push(r.value.id);
        expect(r.value.password.length).toBeGreaterThanOrEqual(40);
      }
    }
    expect(new Set(ids).size).toBe(3);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });
});
