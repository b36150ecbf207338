import { describe, expect, it } from "vitest";
import { FLEET_REPLICAS_MAX, FLEET_SHARDS_MAX, fleetShape, parseNodeId, peersOf } from "./fleet-layout.ts";

describe("fleet layout", () => {
  it("takes shapes at their bounds and refuses one past them", () => {
    expect(fleetShape(undefined, undefined)).toEqual({ shards: 1, replicas: 3 });
    expect(fleetShape(String(FLEET_SHARDS_MAX), String(FLEET_REPLICAS_MAX))).toEqual({ shards: FLEET_SHARDS_MAX, replicas: FLEET_REPLICAS_MAX });
    expect(fleetShape("1", "1")).toEqual({ shards: 1, replicas: 1 });
    for (const [s, r] of [["0", "3"], [String(FLEET_SHARDS_MAX + 1), "3"], ["2", "0"], ["2", String(FLEET_REPLICAS_MAX + 1)], ["1.5", "3"], ["x", "3"]]) {
      expect(() => fleetShape(s, r), `${s}×${r}`).toThrow(RangeError);
    }
  });

  it("names nodes and their peers", () => {
    const shape = { shards: 2, replicas: 3 };
    expect(parseNodeId("s2r3", shape)).toEqual({ shard: 2, replica: 3 });
    for (const bad of ["s3r1", "s1r4", "s0r1", "s01r1", "n1", "s1r1x"]) expect(parseNodeId(bad, shape), bad).toBeUndefined();
    expect(peersOf(2, 1, shape)).toBe("s2r2=http://s2r2.fleet.warren.internal:7071,s2r3=http://s2r3.fleet.warren.internal:7071");
    expect(peersOf(1, 1, { shards: 1, replicas: 1 })).toBe("");
  });
});
