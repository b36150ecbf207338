// IdleSuspender's ordering rules without a stack: a sweep starts every idle tenant's release at
// once and does not hold up callers that are not about those tenants; settled(name) resolves only
// once that tenant's release and its router's idle mark are both done (the router call that
// resumes the tenant must come after the mark).
import { describe, expect, it } from "vitest";
import type { EdgeEnv } from "./env.ts";
import type { TenantRef } from "./gateway-env.ts";
import { IdleSuspender, type Releasable } from "./idle-suspension.ts";

/** A promise and its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** An env whose TenantRouter stubs record idleSuspend calls and answer when told to. */
function fakeEnv(marks: Map<string, ReturnType<typeof deferred>>, called: string[]): EdgeEnv {
  const router = (name: string) => ({
    idleSuspend: async (n: string) => {
      called.push(n);
      await marks.get(name)!.promise;
      return { ok: true, value: {} };
    },
  });
  return { TENANT_ROUTER: { idFromName: (n: string) => n, get: (id: string) => router(id) } } as unknown as EdgeEnv;
}

describe("IdleSuspender", () => {
  it("starts each idle tenant's release and mark at once; settled(name) waits for both, other names do not wait", async () => {
    const tenants: TenantRef[] = [
      { tenantId: 2, name: "a" },
      { tenantId: 3, name: "b" },
    ];
    const marks = new Map([
      ["a", deferred()],
      ["b", deferred()],
    ]);
    const releases = new Map([
      [2, deferred()],
      [3, deferred()],
    ]);
    const released: number[] = [];
    const called: string[] = [];
    const releasable: Releasable = {
      release: (t) => {
        released.push(t.tenantId);
        return releases.get(t.tenantId)!.promise;
      },
      idleTenants: () => tenants,
      nextIdleInMs: () => null,
    };
    const idle = new IdleSuspender(fakeEnv(marks, called), releasable, 1_000);
    let swept = false;
    const sweep = idle.sweep().then(() => (swept = true));
    // Both releases began synchronously (the caches are forgotten before the caller goes on).
    expect(released).toEqual([2, 3]);
    expect(idle.suspended).toBe(2);

    let aSettled = false;
    const a = idle.settled("a").then(() => (aSettled = true));
    // A tenant not being suspended does not wait.
    let otherSettled = false;
    await idle.settled("c").then(() => (otherSettled = true));
    expect(otherSettled).toBe(true);

    // a's mark is made but its gateway has not reported yet: still not settled.
    marks.get("a")!.resolve();
    await new Promise((r) => setTimeout(r, 5));
    expect(called).toEqual(["a", "b"]);
    expect(aSettled).toBe(false);
    releases.get(2)!.resolve();
    await a;
    expect(aSettled).toBe(true);
    expect(swept).toBe(false); // b is still in progress

    releases.get(3)!.resolve();
    marks.get("b")!.resolve();
    await sweep;
    expect(swept).toBe(true);
  });

  it("settles a tenant whose router call fails (the failure is logged, the next route call goes ahead)", async () => {
    const env = { TENANT_ROUTER: { idFromName: (n: string) => n, get: () => ({ idleSuspend: async () => Promise.reject(new Error("router down")) }) } } as unknown as EdgeEnv;
    const releasable: Releasable = { release: async () => true, idleTenants: () => [{ tenantId: 4, name: "d" }], nextIdleInMs: () => null };
    const idle = new IdleSuspender(env, releasable, 1_000);
    await idle.sweep();
    await idle.settled("d");
  });
});
