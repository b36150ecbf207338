// CredentialCache.seed: the edge that created a tenant serves its first wire login from memory, for
// one route TTL; after it, or for a verifier it cannot read, the router is asked.
import { describe, expect, it } from "vitest";
import { formatVerifier, makeVerifier } from "../../../durable-objects/router/scram.ts";
import type { Route } from "../../../durable-objects/router/tenant-router.ts";
import { ok } from "../../../durable-objects/wire-error.ts";
import { CredentialCache, type CredentialSource } from "./credential-cache.ts";

const route: Route = { tenantId: 7, name: "acme", ttlMs: 30_000, maxConnections: null, allowedCidrs: [], allowedOrigins: [] };

function source(verifier: string): CredentialSource & { calls: number } {
  const s = {
    calls: 0,
    credentials: async () => {
      s.calls++;
      return ok({ route, verifier });
    },
    loginFailed: async () => null,
  };
  return s;
}

describe("CredentialCache.seed", () => {
  it("serves a seeded tenant's credentials without a router call until the route's TTL ends", async () => {
    const verifier = formatVerifier(await makeVerifier("a-good-password", 16));
    const router = source(verifier);
    let now = 1_000;
    const cache = new CredentialCache(router, () => now);
    cache.seed("acme", route, verifier);
    const got = await cache.get("acme");
    expect(got.route).toEqual(route);
    expect(formatVerifier(got.verifier)).toBe(verifier);
    expect(router.calls).toBe(0);
    now += route.ttlMs;
    await cache.get("acme");
    expect(router.calls).toBe(1);
  });

  it("does not remember a verifier it cannot read: the router is asked", async () => {
    const verifier = formatVerifier(await makeVerifier("a-good-password", 16));
    const router = source(verifier);
    const cache = new CredentialCache(router, () => 0);
    cache.seed("acme", route, "SCRAM-SHA-256$garbage");
    await cache.get("acme");
    expect(router.calls).toBe(1);
  });
});
