// Array functions and operators on one-dimensional arrays (arrays here always start at index 1):
// array_length, cardinality, array_upper/lower, array_append/prepend/cat, array_position(s),
// array_remove, array_replace, array_to_string, string_to_array, and the @> <@ && operators.
// Element equality is the element type's `=` (NULL elements never match in @> and &&, as in
// Postgres; array_position finds NULL with IS NOT DISTINCT FROM semantics).

import { PgError } from "../../../../common/errors.ts";
import { compareDatums, hashKey } from "../types/compare.ts";
import type { Datum } from "../types/datum.ts";
import type { SqlType } from "../types/type.ts";
import { checkArrayLength, checkTextLength } from "./value-limits.ts";

export function arrayCat(a: readonly Datum[], b: readonly Datum[]): Datum[] {
  checkArrayLength(a.length + b.length);
  return [...a, ...b];
}

/** a @> b: every non-null element of b equals some element of a. */
export function arrayContains(a: readonly Datum[], b: readonly Datum[], elem: SqlType): boolean {
  const have = new Set(a.filter((x) => x !== null).map((x) => hashKey(x, elem)));
  return b.every((x) => x !== null && have.has(hashKey(x, elem)));
}

export function arrayOverlaps(a: readonly Datum[], b: readonly Datum[], elem: SqlType): boolean {
  const have = new Set(a.filter((x) => x !== null).map((x) => hashKey(x, elem)));
  return b.some((x) => x !== null && have.has(hashKey(x, elem)));
}

/** array_length(a, dim): NULL for an empty array or a dimension other than 1. */
export function arrayLength(a: readonly Datum[], dim: number): Datum {
  return dim === 1 && a.length > 0 ? a.length : null;
}

export function arrayPosition(a: readonly Datum[], x: Datum, elem: SqlType, start = 1): Datum {
  for (let i = Math.max(start, 1) - 1; i < a.length; i++) {
    const e = a[i]!;
    if (e === null ? x === null : x !== null && compareDatums(e, x, elem) === 0) return i + 1;
  }
  return null;
}

export function arrayPositions(a: readonly Datum[], x: Datum, elem: SqlType): number[] {
  const out: number[] = [];
  a.forEach((e, i) => {
    if (e === null ? x === null : x !== null && compareDatums(e, x, elem) === 0) out.push(i + 1);
  });
  return out;
}

export function arrayRemove(a: readonly Datum[], x: Datum, elem: SqlType): Datum[] {
  return a.filter((e) => !(e === null ? x === null : x !== null && compareDatums(e, x, elem) === 0));
}

export function arrayReplace(a: readonly Datum[], from: Datum, to: Datum, elem: SqlType): Datum[] {
  return a.map((e) => (e === null ? from === null : from !== null && compareDatums(e, from, elem) === 0) ? to : e);
}

/** array_to_string(a, delimiter[, null_string]): NULL elements skipped unless null_string given. */
export function arrayToString(texts: ReadonlyArray<string | null>, delimiter: string, nullString: string | null): string {
  const parts: string[] = [];
  let chars = 0;
  for (const t of texts) {
    const part = t ?? nullString;
    if (part === null) continue;
    chars += part.length + (parts.length > 0 ? delimiter.length : 0);
    parts.push(part);
  }
  checkTextLength(chars);
  return parts.join(delimiter);
}

/** string_to_array(s, delimiter[, null_string]): NULL delimiter splits into characters. */
export function stringToArray(s: string, delimiter: string | null, nullString: string | null): Array<string | null> {
  if (s === "") return [];
  const parts = delimiter === null ? [...s] : delimiter === "" ? [s] : s.split(delimiter);
  checkArrayLength(parts.length);
  return parts.map((p) => (nullString !== null && p === nullString ? null : p));
}

export function checkDimension(dim: number): void {
  if (!Number.isInteger(dim)) throw new PgError("invalid_parameter_value", "invalid array dimension");
}
