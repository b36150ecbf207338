// A compact way to declare function candidates (one line per pg_proc entry we support).

import type { EvalContext } from "../types/context.ts";
import type { Datum } from "../types/datum.ts";
import type { SqlType } from "../types/type.ts";
import type { ArgSpec, Candidate, Volatility } from "./resolve.ts";

export interface FnOptions {
  volatility?: Volatility;
  /** Default true: any NULL argument makes the result NULL without calling eval. */
  strict?: boolean;
  variadic?: ArgSpec;
}

export function fn(
  name: string,
  args: readonly ArgSpec[],
  result: SqlType | ((argTypes: readonly SqlType[]) => SqlType),
  evaluate: (args: readonly Datum[], ctx: EvalContext, argTypes: readonly SqlType[]) => Datum,
  options: FnOptions = {},
): Candidate {
  return {
    name,
    args,
    result,
    volatility: options.volatility ?? "immutable",
    strict: options.strict ?? true,
    ...(options.variadic !== undefined ? { variadic: options.variadic } : {}),
    eval: evaluate,
  };
}
