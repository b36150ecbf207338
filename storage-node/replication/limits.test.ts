import { describe, expect, it } from "vitest";
import { fleetProtocolLimits } from "../../common/fleet/directory-protocol.ts";
import { replicationLimitBounds, replicationLimits, resolveReplicationLimits } from "./limits.ts";

describe("replication limits", () => {
  it("the defaults lie within their bounds and keep the timing rules", () => {
    for (const [name, [min, max]] of Object.entries(replicationLimitBounds)) {
      const v = replicationLimits[name as keyof typeof replicationLimitBounds];
      expect(v, name).toBeGreaterThanOrEqual(min);
      expect(v, name).toBeLessThanOrEqual(max);
    }
    expect(replicationLimits.leaseRenewEveryMs).toBeLessThan(replicationLimits.leaseMs - replicationLimits.leaseSafetyMarginMs);
    expect(replicationLimits.failoverAfterMs).toBeGreaterThanOrEqual(replicationLimits.leaseMs);
    // The longest lease stays within what the FleetDirectory grants (common/fleet/directory-protocol.ts).
    expect(replicationLimits.leaseMsMax).toBeGreaterThanOrEqual(replicationLimits.leaseMs);
    expect(replicationLimits.leaseMsMax).toBeLessThanOrEqual(fleetProtocolLimits.leaseMsMax);
  });

  it("overrides are taken at their bounds and refused one past them", () => {
    for (const [name, [min, max]] of Object.entries(replicationLimitBounds)) {
      expect(resolveReplicationLimits({ [name]: min })[name as keyof typeof replicationLimitBounds]).toBe(min);
      expect(resolveReplicationLimits({ [name]: max })[name as keyof typeof replicationLimitBounds]).toBe(max);
      expect(() => resolveReplicationLimits({ [name]: min - 1 }), name).toThrow(RangeError);
      expect(() => resolveReplicationLimits({ [name]: max + 1 }), name).toThrow(RangeError);
      expect(() => resolveReplicationLimits({ [name]: min + 0.5 }), name).toThrow(RangeError);
    }
    expect(() => resolveReplicationLimits({ leaseMs: 5_000 })).toThrow(/fixed/);
    expect(() => resolveReplicationLimits({ snapshotChunk: 5_000 })).toThrow(/unknown/);
    expect(resolveReplicationLimits({})).toEqual(replicationLimits);
  });
});
