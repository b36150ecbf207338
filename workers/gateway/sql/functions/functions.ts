// The function catalog and its resolution: `resolveFunction("round", [numeric, int4])` picks the
// pg_proc entry Postgres would (overload rules in resolve.ts) and returns what the binder needs:
// result type, the argument conversions to insert, volatility (for constant folding: immutable
// calls on constants can be folded at plan time, stable ones once per statement, volatile never)
// and the evaluator.
//
// Syntax the engine handles itself: CASE, COALESCE, NULLIF, GREATEST/LEAST (see greatest()),
// IS [NOT] DISTINCT FROM, = ANY, EXISTS, aggregates and set-returning functions (unnest,
// generate_series, regexp_matches).

import { PgError } from "../../../../common/errors.ts";
import { castFunction, type CastFn } from "../types/cast.ts";
import { compareDatums } from "../types/compare.ts";
import type { EvalContext } from "../types/context.ts";
import type { Datum } from "../types/datum.ts";
import { formatType, type SqlType } from "../types/type.ts";
import { arrayFunctions, jsonFunctions, miscFunctions } from "./catalog-functions.ts";
import { datetimeFunctions } from "./datetime-functions.ts";
import { mathFunctions } from "./math-functions.ts";
import { cachedResolution, selectCandidate, typeKey, type Candidate, type Volatility } from "./resolve.ts";
import { stringFunctions } from "./string-functions.ts";

const FUNCTIONS = new Map<string, Candidate[]>();
for (const c of [...mathFunctions, ...stringFunctions, ...datetimeFunctions, ...arrayFunctions, ...jsonFunctions, ...miscFunctions]) {
  const list = FUNCTIONS.get(c.name) ?? [];
  list.push(c);
  FUNCTIONS.set(c.name, list);
}

export interface ResolvedFunction {
  readonly name: string;
  readonly resultType: SqlType;
  /** The parameter types the arguments are converted to. */
  readonly argTypes: readonly SqlType[];
  /** Per argument: the conversion to apply, or null when the type already matches. */
  readonly argCasts: ReadonlyArray<CastFn | null>;
  readonly volatility: Volatility;
  /** Strict functions yield NULL for any NULL argument without being called. */
  readonly strict: boolean;
  /** Evaluates on already-converted arguments. */
  eval(args: readonly Datum[], ctx: EvalContext): Datum;
}

/** Whether any function of this name exists (lets the binder tell 42883 from "not a function"). */
export function hasFunction(name: string): boolean {
  return FUNCTIONS.has(normalizeName(name));
}

function normalizeName(name: string): string {
  const n = name.toLowerCase();
  return n.startsWith("pg_catalog.") ? n.slice("pg_catalog.".length) : n;
}

/**
 * Resolves `name(argTypes…)`. Throws 42883 "function f(integer) does not exist" when no
 * candidate fits, 42725 when the choice is ambiguous. Each choice is made once per isolate
 * (cachedResolution).
 */
export function resolveFunction(name: string, argTypes: readonly SqlType[]): ResolvedFunction {
  const key = normalizeName(name);
  return cachedResolution(`fn ${key} ${argTypes.map(typeKey).join(" ")}`, () => chooseFunction(key, argTypes));
}

function chooseFunction(key: string, argTypes: readonly SqlType[]): ResolvedFunction {
  const describe = `${key}(${argTypes.map(formatType).join(", ")})`;
  const candidates = FUNCTIONS.get(key);
  const r = candidates === undefined ? null : selectCandidate(candidates, argTypes, () => `function ${describe} is not unique`);
  if (r === null) {
    throw new PgError("undefined_function", `function ${describe} does not exist`, {
      hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
    });
  }
  const c = r.candidate;
  const types = r.argTypes;
  return {
    name: key,
    resultType: r.resultType,
    argTypes: types,
    argCasts: types.map((t, i) => {
      const from = argTypes[i]!;
      return from.oid === t.oid && (t.typmod < 0 || from.typmod === t.typmod) ? null : castFunction(from, t, "implicit");
    }),
    volatility: c.volatility,
    strict: c.strict,
    eval: (args, ctx) => c.eval(args, ctx, types),
  };
}

/** Applies a resolved function to raw arguments: conversions, the NULL rule, evaluation. */
export function applyFunction(f: ResolvedFunction, args: readonly Datum[], ctx: EvalContext): Datum {
  const converted = args.map((a, i) => {
    const cast = f.argCasts[i];
    return cast && a !== null ? cast(a, ctx) : a;
  });
  if (f.strict && converted.some((a) => a === null)) return null;
  return f.eval(converted, ctx);
}

/**
 * GREATEST / LEAST over values already converted to their common type (commonType): NULLs are
 * ignored, NULL only when all are NULL, as in Postgres.
 */
export function greatest(values: readonly Datum[], t: SqlType, wantGreatest: boolean): Datum {
  let best: Datum = null;
  for (const v of values) {
    if (v === null) continue;
    if (best === null || (wantGreatest ? compareDatums(v, best, t) > 0 : compareDatums(v, best, t) < 0)) best = v;
  }
  return best;
}
