// Overload resolution, following Postgres's rules for operators and functions ("Type Conversion"
// chapter: func_select_candidate): among the candidates with the right name and arity,
//   1. an exact match wins (for a binary operator with one unknown-typed literal, the literal is
//      assumed to be of the other argument's type for this check);
//   2. otherwise keep the candidates every argument converts to implicitly;
//   3. keep those with the most exact type matches;
//   4. then those that accept the preferred type of the argument's category at the most
//      positions that need a conversion;
//   5. then, for unknown-typed literals, settle each position's category (string if any candidate
//      takes one there, else the one category all candidates agree on) and prefer preferred types;
//   6. exactly one must remain, or the call is ambiguous (42725).
// Polymorphic candidates (anyelement, anyarray, anynonarray, anycompatible…) are first made
// concrete from the actual argument types.

import { PgError } from "../../../../common/errors.ts";
import { canImplicitlyCast } from "../types/cast-rules.ts";
import type { EvalContext } from "../types/context.ts";
import type { Datum } from "../types/datum.ts";
import { Oid, Types, arrayOf, formatType, isPreferredType, typeCategory, type SqlType } from "../types/type.ts";
import { RESOLUTION_CACHE_MAX } from "./limits.ts";

export type Volatility = "immutable" | "stable" | "volatile";

/** A declared argument: a concrete type or a polymorphic placeholder. */
export type ArgSpec = SqlType | "anyelement" | "anyarray" | "anynonarray" | "any";

export interface Candidate {
  readonly name: string;
  readonly args: readonly ArgSpec[];
  /** Accepts any number (≥ args.length) of extra arguments of type `variadic`. */
  readonly variadic?: ArgSpec;
  /** Result type, or a function of the concrete argument types (polymorphic results). */
  readonly result: SqlType | ((argTypes: readonly SqlType[]) => SqlType);
  readonly volatility: Volatility;
  /** Strict functions return NULL when any argument is NULL, without being called. */
  readonly strict: boolean;
  /** Evaluates on converted arguments; argTypes are the concrete (instantiated) parameter types. */
  readonly eval: (args: readonly Datum[], ctx: EvalContext, argTypes: readonly SqlType[]) => Datum;
}

export interface Resolved {
  readonly candidate: Candidate;
  /** The concrete types the arguments must be converted to (implicitly) before eval. */
  readonly argTypes: readonly SqlType[];
  readonly resultType: SqlType;
}

function isPolymorphic(a: ArgSpec): a is "anyelement" | "anyarray" | "anynonarray" | "any" {
  return typeof a === "string";
}

/**
 * Makes a candidate concrete for the actual argument types: binds anyelement/anyarray
 * consistently (unknown literals follow the others; all-unknown means text). Returns null when
 * the arguments cannot fit.
 */
function instantiate(c: Candidate, actual: readonly SqlType[]): SqlType[] | null {
  const specs: ArgSpec[] = actual.map((_, i) => c.args[i] ?? c.variadic!);
  let elem: SqlType | null = null;
  for (let i = 0; i < actual.length; i++) {
    const s = specs[i]!;
    const t = actual[i]!;
    if (!isPolymorphic(s) || s === "any" || t.oid === Oid.unknown) continue;
    const e = s === "anyarray" ? t.elem ?? null : t;
    if (s === "anyarray" && e === null) return null;
    if (s === "anynonarray" && t.elem !== undefined) return null;
    if (elem === null) elem = e;
    else if (e!.oid !== elem.oid) {
      // Postgres requires the same type; allow an implicit widening (int4 into int8[]).
      if (canImplicitlyCast(e!, elem)) continue;
      if (canImplicitlyCast(elem, e!)) elem = e;
      else return null;
    }
  }
  const bound = elem ?? Types.text;
  return specs.map((s, i) => {
    const t = actual[i]!;
    if (!isPolymorphic(s)) return s;
    if (s === "any") return t.oid === Oid.unknown ? Types.text : t;
    if (s === "anyarray") return arrayOf(bound);
    return bound;
  });
}

function arityOk(c: Candidate, n: number): boolean {
  return c.variadic !== undefined ? n >= c.args.length : n === c.args.length;
}

/**
 * Chooses among `candidates` for `actual` argument types; null when none fits. Throws 42725 with
 * the message `ambiguity()` returns when several remain.
 */
export function selectCandidate(
  candidates: readonly Candidate[],
  actual: readonly SqlType[],
  ambiguity: () => string,
  binaryOperator = false,
): Resolved | null {
  let feasible: Array<{ c: Candidate; types: SqlType[] }> = [];
  for (const c of candidates) {
    if (!arityOk(c, actual.length)) continue;
    const types = instantiate(c, actual);
    if (types === null) continue;
    if (types.every((t, i) => canImplicitlyCast(actual[i]!, t))) feasible.push({ c, types });
  }
  if (feasible.length === 0) return null;
  const done = (f: { c: Candidate; types: SqlType[] }): Resolved => ({
    candidate: f.c,
    argTypes: f.types,
    resultType: typeof f.c.result === "function" ? f.c.result(f.types) : f.c.result,
  });
  // 1. exact match (binary operator: an unknown side takes the other side's type).
  let probe = actual;
  if (binaryOperator && actual.length === 2) {
    const [l, r] = actual as [SqlType, SqlType];
    if (l.oid === Oid.unknown && r.oid !== Oid.unknown) probe = [r, r];
    else if (r.oid === Oid.unknown && l.oid !== Oid.unknown) probe = [l, l];
  }
  const exact = feasible.filter((f) => f.types.every((t, i) => t.oid === probe[i]!.oid));
  if (exact.length === 1) return done(exact[0]!);
  if (feasible.length === 1) return done(feasible[0]!);
  // 3. most exact matches among known arguments.
  const exactCount = (f: { types: SqlType[] }): number => f.types.filter((t, i) => t.oid === actual[i]!.oid).length;
  feasible = keepMax(feasible, exactCount);
  if (feasible.length === 1) return done(feasible[0]!);
  // 4. most preferred types (of the argument's own category) where a conversion is needed.
  const preferredCount = (f: { types: SqlType[] }): number =>
    f.types.filter((t, i) => {
      const a = actual[i]!;
      return a.oid !== Oid.unknown && t.oid !== a.oid && t.elem === undefined && isPreferredType(t) && typeCategory(t) === typeCategory(a);
    }).length;
  feasible = keepMax(feasible, preferredCount);
  if (feasible.length === 1) return done(feasible[0]!);
  // 5. unknown literals: settle each position's category (string wins; else all must agree).
  let narrowed = feasible;
  for (let i = 0; i < actual.length; i++) {
    if (actual[i]!.oid !== Oid.unknown) continue;
    const cats = new Set(narrowed.map((f) => typeCategory(f.types[i]!)));
    const cat = cats.has("S") ? "S" : cats.size === 1 ? [...cats][0]! : null;
    if (cat === null) {
      narrowed = feasible; // conflicting categories: no deduction from categories
      break;
    }
    narrowed = narrowed.filter((f) => typeCategory(f.types[i]!) === cat);
    if (narrowed.some((f) => isPreferredType(f.types[i]!))) narrowed = narrowed.filter((f) => isPreferredType(f.types[i]!));
  }
  if (narrowed.length > 0) feasible = narrowed;
  const single = unique(feasible);
  if (single !== null) return done(single);
  // 6. known arguments all of one type: assume the unknown ones have it too.
  const known = actual.filter((t) => t.oid !== Oid.unknown);
  if (known.length > 0 && known.length < actual.length && known.every((t) => t.oid === known[0]!.oid)) {
    const assumed = actual.map((t) => (t.oid === Oid.unknown ? known[0]! : t));
    const pass = feasible.filter((f) => f.types.every((t, i) => canImplicitlyCast(assumed[i]!, t)));
    const one = unique(pass);
    if (one !== null) return done(one);
  }
  throw new PgError("ambiguous_function", ambiguity(), {
    hint: "Could not choose a best candidate. You might need to add explicit type casts.",
  });
}

/** The one choice left, treating identical instantiations (several polymorphic forms) as one. */
function unique<T extends { types: SqlType[] }>(items: T[]): T | null {
  const distinct = new Map<string, T>();
  for (const f of items) {
    const key = f.types.map((t) => t.oid).join(",");
    if (!distinct.has(key)) distinct.set(key, f);
  }
  return distinct.size === 1 ? [...distinct.values()][0]! : null;
}

function keepMax<T>(items: T[], score: (x: T) => number): T[] {
  const best = Math.max(...items.map(score));
  return items.filter((x) => score(x) === best);
}

export function typeList(types: readonly SqlType[]): string {
  return types.map(formatType).join(", ");
}

// ---- the resolution cache (the binder's fast path) ----

const resolutions = new Map<string, unknown>();

/** A key naming a type exactly as resolution sees it: OID, typmod and element type. */
export function typeKey(t: SqlType): string {
  // An enum's OID is only unique within one tenant and its labels change with ALTER TYPE: the
  // labels are part of the key, so a resolution is never reused with another type's labels.
  if (t.enum !== undefined) return `${t.oid}{${JSON.stringify([t.name, t.enum.schema, t.enum.labels, t.enum.sortOrders])}}`;
  return t.elem === undefined ? `${t.oid}(${t.typmod})` : `${t.oid}(${t.typmod})[${typeKey(t.elem)}]`;
}

/**
 * The resolution cached under `key` (see RESOLUTION_CACHE_MAX), or `resolve()`'s, kept for next
 * time. Failures throw every time and are not kept. What is kept must not depend on anything but
 * the key: resolutions take their evaluation context as an argument when they run.
 */
export function cachedResolution<T>(key: string, resolve: () => T): T {
  const hit = resolutions.get(key);
  if (hit !== undefined) return hit as T;
  const r = resolve();
  if (resolutions.size >= RESOLUTION_CACHE_MAX) resolutions.clear();
  resolutions.set(key, r);
  return r;
}

/** How many resolutions are cached now (for the limit's test). */
export function resolutionCacheSize(): number {
  return resolutions.size;
}
