// Postgres sessions per tenant in one edge isolate: exactly the limit is admitted, the next gets
// FATAL-worthy 53300 naming the tenant, ending a session frees its slot (once), and the tenant of an
// id is known only while it has sessions here (what a CancelRequest routes by).
import { describe, expect, it } from "vitest";
import { PgError } from "../../common/errors.ts";
import { TenantSessions } from "./tenant-sessions.ts";

describe("TenantSessions", () => {
  it("admits exactly max sessions of a tenant, refuses the next with 53300, and frees a slot when one ends", () => {
    const s = new TenantSessions();
    const acme = { tenantId: 5, name: "acme" };
    const ends = [s.open(acme, 2), s.open(acme, 2)];
    let err: unknown;
    try {
      s.open(acme, 2);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PgError);
    expect((err as PgError).code).toBe("53300");
    expect((err as PgError).message).toBe('too many connections for virtual cluster "acme": the limit is 2 sessions per edge isolate');
    expect(s.open({ tenantId: 6, name: "other" }, 2)).toBeTypeOf("function");
    ends[0]!();
    ends[0]!(); // twice: still one slot
    expect(s.count(5)).toBe(1);
    s.open(acme, 2);
    expect(s.count(5)).toBe(2);
  });

  it("knows a tenant by id only while it has sessions here", () => {
    const s = new TenantSessions();
    expect(s.tenant(9)).toBeUndefined();
    const end = s.open({ tenantId: 9, name: "nine" }, 10);
    expect(s.tenant(9)).toEqual({ tenantId: 9, name: "nine" });
    end();
    expect(s.tenant(9)).toBeUndefined();
  });
});
