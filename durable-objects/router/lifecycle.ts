// A virtual cluster's lifecycle, as its TenantRouter holds it:
//
//                 initialize            idle (edge) / suspend (operator)
//   (none) ──► creating ──► active ◄─────────────────────────────────────► suspended
//                             │          resume (operator) / connect (idle only)  │
//                             └──────────────► dropping ◄─────────────────────────┘
//                                                 │ the storage span is gone
//                                                 ▼
//                                              dropped ──► creating (the name is reused)
//
// Two kinds of suspension, one state: `suspendedBy` says who did it.
//   - "idle": the edge found no query and no open session for the idle time and released the
//     tenant's gateway isolate and its caches. The next connection or HTTP request resumes the
//     tenant transparently: whoever asks the router for the route gets it, and the state is active.
//   - "operator": `warren tenant suspend` (or the admin API / SQL). Refused with 57P03 until an
//     operator resumes it; the edge that carried the command also ends the tenant's live work.
// A transition that does not apply returns null and changes nothing; the caller says why.
export type TenantState = "creating" | "active" | "suspended" | "dropping" | "dropped";

export type SuspendedBy = "idle" | "operator";

export type LifecycleEvent =
  | "initialize" //    directory creates the tenant (also over a dropped one with the same name)
  | "activate" //      the router holds everything a route needs
  | "idle" //          the edge saw no activity for the idle time
  | "suspend" //       an operator suspends it
  | "resume" //        an operator resumes it
  | "connect" //       a client asks for the route (resumes an idle-suspended tenant)
  | "drop" //          the directory starts dropping it
  | "dropped"; //      the storage span is deleted

export interface Lifecycle {
  state: TenantState;
  /** Set while suspended: who suspended it. */
  suspendedBy?: SuspendedBy | undefined;
}

/** The lifecycle after `event`, or null when the event does not apply in this state. */
export function transition(from: Lifecycle | null, event: LifecycleEvent): Lifecycle | null {
  const state = from?.state ?? null;
  switch (event) {
    case "initialize":
      return state === null || state === "dropped" || state === "creating" ? { state: "creating" } : null;
    case "activate":
      return state === "creating" ? { state: "active" } : null;
    case "idle":
      return state === "active" ? { state: "suspended", suspendedBy: "idle" } : null;
    case "suspend":
      // An idle-suspended tenant becomes operator-suspended (it must now stay down).
      return state === "active" || state === "suspended" ? { state: "suspended", suspendedBy: "operator" } : null;
    case "resume":
      return state === "active" || state === "suspended" ? { state: "active" } : null;
    case "connect":
      if (state === "active") return { state: "active" };
      return state === "suspended" && from!.suspendedBy === "idle" ? { state: "active" } : null;
    case "drop":
      return state === "creating" || state === "active" || state === "suspended" || state === "dropping" ? { state: "dropping" } : null;
    case "dropped":
      return state === "dropping" || state === "dropped" ? { state: "dropped" } : null;
  }
}

/** Whether a tenant in this state serves traffic once asked (active, or suspended for idleness). */
export function routable(l: Lifecycle): boolean {
  return transition(l, "connect") !== null;
}
