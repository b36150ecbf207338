// The lifecycle's transition table, exhaustively: every (state, event) pair either leads where the
// picture in lifecycle.ts says or is refused (null).
import { describe, expect, it } from "vitest";
import { routable, transition, type Lifecycle, type LifecycleEvent } from "./lifecycle.ts";

const states: Array<Lifecycle | null> = [
  null,
  { state: "creating" },
  { state: "active" },
  { state: "suspended", suspendedBy: "idle" },
  { state: "suspended", suspendedBy: "operator" },
  { state: "dropping" },
  { state: "dropped" },
];
const events: LifecycleEvent[] = ["initialize", "activate", "idle", "suspend", "resume", "connect", "drop", "dropped"];

const label = (l: Lifecycle | null) => (l === null ? "none" : l.suspendedBy ? `${l.state}/${l.suspendedBy}` : l.state);

// Expected target per (from, event); absent = refused.
const table: Record<string, Partial<Record<LifecycleEvent, string>>> = {
  none: { initialize: "creating" },
  creating: { initialize: "creating", activate: "active", drop: "dropping" },
  active: { idle: "suspended/idle", suspend: "suspended/operator", resume: "active", connect: "active", drop: "dropping" },
  "suspended/idle": { suspend: "suspended/operator", resume: "active", connect: "active", drop: "dropping" },
  "suspended/operator": { suspend: "suspended/operator", resume: "active", drop: "dropping" },
  dropping: { drop: "dropping", dropped: "dropped" },
  dropped: { initialize: "creating", dropped: "dropped" },
};

describe("tenant lifecycle", () => {
  for (const from of states) {
    for (const event of events) {
      const want = table[label(from)]![event];
      it(`${label(from)} --${event}--> ${want ?? "refused"}`, () => {
        const got = transition(from, event);
        expect(got === null ? undefined : label(got)).toBe(want);
      });
    }
  }

  it("routes active and idle-suspended tenants only", () => {
    expect(states.filter((s) => s !== null && routable(s)).map(label)).toEqual(["active", "suspended/idle"]);
  });
});
