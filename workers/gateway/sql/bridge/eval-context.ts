// The evaluation context (session time zone, transaction timestamp) that casts and text I/O
// resolved at bind time capture. Binding is synchronous, so the session sets the context right
// before binding a statement and every closure the binder creates keeps the one it saw; nothing
// reads this global while statements of other sessions interleave at await points.
import { evalContext, type EvalContext } from "../types/context.ts";

let active: EvalContext = evalContext();

export function setBindContext(ctx: EvalContext): void {
  active = ctx;
}

export function bindContext(): EvalContext {
  return active;
}
