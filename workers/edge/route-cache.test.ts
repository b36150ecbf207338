import { describe, expect, it } from "vitest";
import { PgError } from "../../common/errors.ts";
import type { Route } from "../../durable-objects/router/tenant-router.ts";
import { fail, ok, type Result } from "../../durable-objects/wire-error.ts";
import { limits } from "./limits.ts";
import { RouteCache, type RouteResolver } from "./route-cache.ts";

/** A router stand-in that knows one tenant ("acme", password "right-password") and counts calls. */
function fakeRouter(): RouteResolver & { calls: number; suspended: boolean } {
  const r = {
    calls: 0,
    suspended: false,
    async lookup(name: string): Promise<Result<Route>> {
      r.calls++;
      if (name !== "acme") return fail("invalid_catalog_name", `virtual cluster "${name}" does not exist`);
      if (r.suspended) return fail("cannot_connect_now", "suspended");
      return ok({ tenantId: 2, name, ttlMs: 30_000 });
    },
    async authenticate(name: string, password: string): Promise<Result<Route>> {
      const looked = await r.lookup(name);
      if (!looked.ok) return looked;
      return password === "right-password" ? looked : fail("invalid_password", "password authentication failed");
    },
  };
  return r;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof PgError ? err.code : String(err);
  }
}

describe("RouteCache", () => {
  it("serves a verified credential from memory until the route expires", async () => {
    let now = 0;
    const router = fakeRouter();
    const cache = new RouteCache(router, () => now);
    for (let i = 0; i < 10; i++) expect((await cache.authenticate("acme", "right-password")).tenantId).toBe(2);
    expect(router.calls).toBe(1);
    now = 29_999;
    await cache.authenticate("acme", "right-password");
    expect(router.calls).toBe(1);
    now = 30_000;
    await cache.authenticate("acme", "right-password");
    expect(router.calls).toBe(2);
  });

  it("never serves a different password from the cache, and never caches a wrong one", async () => {
    const router = fakeRouter();
    const cache = new RouteCache(router, () => 0);
    await cache.authenticate("acme", "right-password");
    expect(await codeOf(cache.authenticate("acme", "wrong-password"))).toBe("28P01");
    expect(await codeOf(cache.authenticate("acme", "wrong-password"))).toBe("28P01");
    expect(router.calls).toBe(3);
    // A route found by lookup alone does not vouch for any password.
    const fresh = new RouteCache(router, () => 0);
    await fresh.lookup("acme");
    await fresh.authenticate("acme", "right-password");
    expect(router.calls).toBe(5);
  });

  it("caches 'unknown tenant' briefly", async () => {
    let now = 0;
    const router = fakeRouter();
    const cache = new RouteCache(router, () => now);
    expect(await codeOf(cache.lookup("ghost"))).toBe("3D000");
    expect(await codeOf(cache.authenticate("ghost", "x"))).toBe("3D000");
    expect(router.calls).toBe(1);
    now = limits.unknownTenantTtlMs;
    expect(await codeOf(cache.lookup("ghost"))).toBe("3D000");
    expect(router.calls).toBe(2);
  });

  it("shares one router call between concurrent misses", async () => {
    const router = fakeRouter();
    const cache = new RouteCache(router, () => 0);
    await Promise.all(Array.from({ length: 50 }, () => cache.authenticate("acme", "right-password")));
    expect(router.calls).toBe(1);
  });

  it("forgets on invalidate, and sees a suspension at the next router call", async () => {
    const router = fakeRouter();
    const cache = new RouteCache(router, () => 0);
    await cache.authenticate("acme", "right-password");
    router.suspended = true;
    cache.invalidate("acme");
    expect(await codeOf(cache.authenticate("acme", "right-password"))).toBe("57P03");
  });

  it("keeps at most entriesMax tenants, dropping the least recently used", async () => {
    const router: RouteResolver = {
      lookup: async (name) => ok({ tenantId: name.length, name, ttlMs: 60_000 }),
      authenticate: async (name) => ok({ tenantId: name.length, name, ttlMs: 60_000 }),
    };
    const cache = new RouteCache(router, () => 0, 3);
    for (const n of ["a", "bb", "ccc"]) await cache.lookup(n);
    await cache.lookup("a"); // touch: "bb" is now the oldest
    await cache.lookup("dddd");
    expect(cache.size).toBe(3);
    const before = cache.routerCalls;
    await cache.lookup("a");
    expect(cache.routerCalls).toBe(before);
    await cache.lookup("bb");
    expect(cache.routerCalls).toBe(before + 1);
  });

  it("a tenant forgotten on suspension (invalidate) asks the router again at its next login, which may refuse it", async () => {
    const router = fakeRouter();
    const cache = new RouteCache(router, () => 0);
    await cache.authenticate("acme", "right-password");
    cache.invalidate("acme");
    expect((await cache.authenticate("acme", "right-password")).tenantId).toBe(2);
    expect(router.calls).toBe(2);
    // Served from memory again.
    await cache.authenticate("acme", "right-password");
    expect(router.calls).toBe(2);
    // Suspended by an operator meanwhile: the router's refusal is seen at once.
    cache.invalidate("acme");
    router.suspended = true;
    expect(await codeOf(cache.authenticate("acme", "right-password"))).toBe("57P03");
    expect(await codeOf(cache.lookup("acme"))).toBe("57P03");
    expect(router.calls).toBe(4);
  });

  it("a seeded tenant's first login with its password needs no router call; another password does, and the seed expires with its TTL", async () => {
    let now = 0;
    const router = fakeRouter();
    const cache = new RouteCache(router, () => now);
    await cache.seed("acme", { tenantId: 2, name: "acme", ttlMs: 30_000 }, "right-password");
    expect((await cache.authenticate("acme", "right-password")).tenantId).toBe(2);
    expect(router.calls).toBe(0);
    expect(await codeOf(cache.authenticate("acme", "wrong-password"))).toBe("28P01");
    expect(router.calls).toBe(1);
    now = 30_000;
    await cache.authenticate("acme", "right-password");
    expect(router.calls).toBe(2);
  });
});
