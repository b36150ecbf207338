// fleetOpProblem, the one validator of FleetDirectory requests (the edge answers 400 with its text):
// the tenant-move operations at their edges.
import { describe, expect, it } from "vitest";
import { fleetOpProblem } from "./directory-protocol.ts";

describe("fleetOpProblem: tenant moves", () => {
  it("accepts well-formed beginMove, moveTenant and cancelMove", () => {
    for (const op of ["beginMove", "moveTenant"]) {
      expect(fleetOpProblem({ op, tenantId: 2, fromShard: 1, toShard: 2, placementVersion: 1 })).toBeUndefined();
    }
    expect(fleetOpProblem({ op: "cancelMove", tenantId: 2 })).toBeUndefined();
  });

  it("refuses the system tenant, non-positive shards and versions, and missing fields", () => {
    expect(fleetOpProblem({ op: "beginMove", tenantId: 1, fromShard: 1, toShard: 2, placementVersion: 1 })).toMatch(/tenantId/);
    expect(fleetOpProblem({ op: "moveTenant", tenantId: 2, fromShard: 0, toShard: 2, placementVersion: 1 })).toMatch(/fromShard and toShard/);
    expect(fleetOpProblem({ op: "moveTenant", tenantId: 2, fromShard: 1, toShard: 2.5, placementVersion: 1 })).toMatch(/fromShard and toShard/);
    expect(fleetOpProblem({ op: "beginMove", tenantId: 2, fromShard: 1, toShard: 2, placementVersion: 0 })).toMatch(/placementVersion/);
    expect(fleetOpProblem({ op: "beginMove", tenantId: 2, fromShard: 1, toShard: 2 })).toMatch(/placementVersion/);
    expect(fleetOpProblem({ op: "cancelMove", tenantId: "2" })).toMatch(/tenantId/);
  });
});
