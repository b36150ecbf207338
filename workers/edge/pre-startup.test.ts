// The bound on /v2 connections before their startup packet (pre-startup.ts), at its edges: the
// oldest is evicted for a new one (of the same tenant when the tenant's bound is reached, of all
// otherwise), a finished or evicted connection stops counting, and nothing is kept for nobody.
import { describe, expect, it } from "vitest";
import { PreStartupSockets } from "./pre-startup.ts";

describe("PreStartupSockets", () => {
  it("evicts the oldest of all at totalMax, with 53300 naming the bound; done() frees a place", () => {
    const p = new PreStartupSockets();
    const b = { totalMax: 3, perTenantMax: 3 };
    const [x, y, z] = [p.admit(null, b), p.admit(null, b), p.admit("acme", b)];
    expect(p.count()).toBe(3);
    const w = p.admit(null, b);
    expect(x.evicted?.code).toBe("53300");
    expect(x.evicted?.message).toBe("too many connections have not sent their startup message (at most 3 in all per edge isolate); this, the oldest, was closed to make room");
    for (const t of [y, z, w]) expect(t.evicted).toBeNull();
    expect(p.count()).toBe(3);
    y.done();
    y.done(); // idempotent
    expect(p.count()).toBe(2);
    const v = p.admit(null, b); // room again: nobody evicted
    for (const t of [z, w, v]) expect(t.evicted).toBeNull();
    x.done(); // an evicted one ending changes nothing
    expect(p.count()).toBe(3);
    for (const t of [z, w, v]) t.done();
    expect(p.count()).toBe(0);
    expect(p.count("acme")).toBe(0);
  });

  it("evicts the tenant's own oldest at perTenantMax, leaving other tenants and host-less connections alone", () => {
    const p = new PreStartupSockets();
    const b = { totalMax: 10, perTenantMax: 2 };
    const plain = p.admit(null, b);
    const other = p.admit("other", b);
    const a1 = p.admit("acme", b);
    const a2 = p.admit("acme", b);
    expect(p.count("acme")).toBe(2);
    const a3 = p.admit("acme", b);
    expect(a1.evicted?.message).toMatch(/at most 2 for virtual cluster "acme" per edge isolate/);
    for (const t of [plain, other, a2, a3]) expect(t.evicted).toBeNull();
    expect(p.count("acme")).toBe(2);
    expect(p.count()).toBe(4);
    // At the total as well: a tenant at its own bound evicts its own oldest, then the oldest of all if still needed.
    const tight = { totalMax: 4, perTenantMax: 2 };
    const a4 = p.admit("acme", tight);
    expect(a2.evicted).not.toBeNull(); // acme's oldest
    expect(plain.evicted).toBeNull(); // the total had room again after that
    expect(p.count()).toBe(4);
    const n = p.admit(null, tight);
    expect(plain.evicted).not.toBeNull(); // now the oldest of all
    for (const t of [other, a3, a4, n]) t.done();
    expect(p.count()).toBe(0);
  });
});
