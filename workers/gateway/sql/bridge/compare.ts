// Ordering and grouping of datums: the total order ORDER BY, DISTINCT, GROUP BY, merge and index
// lookups use (NULL handled by callers), and a string key that is equal exactly when two datums
// are equal for grouping. Local stand-in for the types engineer's compareDatums / hashKey.
import type { Datum } from "../types/datum.ts";
import { Numeric } from "../types/numeric.ts";

function compareBytesLike(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function compareFloat(a: number, b: number): number {
  // Postgres: NaN equals NaN and sorts above every other value.
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an && bn ? 0 : an ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two non-null datums of the same (or a comparable) type. */
export function compareDatums(a: Datum, b: Datum): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (typeof a === "number" && typeof b === "number") return compareFloat(a, b);
  if (typeof a === "bigint" && typeof b === "bigint") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  if (a instanceof Numeric && b instanceof Numeric) return a.compare(b);
  if (typeof a === "number" && typeof b === "bigint") return compareFloat(a, Number(b));
  if (typeof a === "bigint" && typeof b === "number") return compareFloat(Number(a), b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) return compareBytesLike(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const c = compareDatums(a[i] as Datum, b[i] as Datum);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (typeof a === "object" && typeof b === "object" && "months" in a && "months" in b) {
    const am = BigInt(a.months) * 30n * 86_400_000_000n + BigInt(a.days) * 86_400_000_000n + a.micros;
    const bm = BigInt(b.months) * 30n * 86_400_000_000n + BigInt(b.days) * 86_400_000_000n + b.micros;
    return am < bm ? -1 : am > bm ? 1 : 0;
  }
  const sa = datumKey(a);
  const sb = datumKey(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** A string equal for exactly the datums GROUP BY / DISTINCT treat as equal. */
export function datumKey(d: Datum): string {
  if (d === null) return "N";
  switch (typeof d) {
    case "number":
      return Number.isNaN(d) ? "fNaN" : `n${d === 0 ? 0 : d}`;
    case "bigint":
      return `n${d}`;
    case "string":
      return `s${d}`;
    case "boolean":
      return d ? "T" : "F";
    default:
      if (d instanceof Numeric) return d.isFinite() ? `n${d.value.toString()}` : `n${d.toString()}`;
      if (d instanceof Uint8Array) return `b${Array.from(d).join(",")}`;
      if (Array.isArray(d)) return `[${d.map((e: Datum) => datumKey(e)).join("\u0001")}]`;
      return `o${JSON.stringify(d, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v instanceof Map ? [...v] : v))}`;
  }
}

/** One key for a row of datums (GROUP BY keys, DISTINCT rows, hash join keys). */
export function rowKey(ds: readonly Datum[]): string {
  let s = "";
  for (const d of ds) s += `${datumKey(d)}\u0000`;
  return s;
}
