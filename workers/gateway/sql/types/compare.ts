// Comparison, equality and hashing of datums, matching Postgres's btree and hash operator classes.
//
// Order per type: numbers numerically with NaN above +Infinity (floats and numeric, as Postgres),
// -0 equal to 0; strings by Unicode code point, which is byte order of their UTF-8 — the "C"
// collation (Warren has no other collation; `ORDER BY name` sorts 'B' before 'a' as Postgres does
// under COLLATE "C"); bpchar ignoring trailing spaces; bytea bytewise; intervals by their span
// with a month as 30 days and a day as 24 hours (so '1 mon' = '30 days', as in Postgres); arrays
// element by element, then shorter first; jsonb in Postgres's documented jsonb order.
//
// NULL: `compareDatums` places NULL after every value (Postgres's btree NULL ordering: NULLS LAST
// for ASC); SQL comparison operators, which yield NULL, are the engine's business.
//
// `hashKey` is consistent with equality: hashKey(a) === hashKey(b) exactly when
// compareDatums(a, b) === 0, for two values of the same type. Use it for hash joins, GROUP BY,
// DISTINCT and IN lists.

import { compareBytes } from "../../../../common/bytes.ts";
import { PgError } from "../../../../common/errors.ts";
import { Jsonb, type Datum, type Interval, type JsonValue } from "./datum.ts";
import { intervalSortKey } from "./interval-text.ts";
import { compareCodePoints, compareJsonValues, isJsonObject, quoteJsonString } from "./json.ts";
import { Numeric } from "./numeric.ts";
import { Oid, enumSortOrder, formatType, physicalOid, type SqlType } from "./type.ts";

function cmp<T extends number | bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareFloats(a: number, b: number): number {
  const an = Number.isNaN(a);
  const bn = Number.isNaN(b);
  if (an || bn) return an === bn ? 0 : an ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0; // -0 === 0
}

/** bpchar semantics: trailing spaces are insignificant. */
export function bpcharTrim(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 32) end--;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * Total order of two datums of type `t`: negative, 0 or positive. NULL sorts after every value.
 * Throws 42883 for types without an ordering (json), as Postgres does.
 */
export function compareDatums(a: Datum, b: Datum, t: SqlType): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  if (t.elem !== undefined) return compareArrays(a as readonly Datum[], b as readonly Datum[], t.elem);
  if (t.enum !== undefined) return cmp(enumOrder(t, a as string), enumOrder(t, b as string));
  switch (physicalOid(t.oid)) {
    case Oid.bool:
      return Number(a) - Number(b);
    case Oid.int2:
    case Oid.int4:
    case Oid.oid:
    case Oid.date:
      return cmp(a as number, b as number);
    case Oid.int8:
    case Oid.timestamp:
    case Oid.timestamptz:
      return cmp(a as bigint, b as bigint);
    case Oid.float4:
    case Oid.float8:
      return compareFloats(a as number, b as number);
    case Oid.numeric:
      return (a as Numeric).compare(b as Numeric);
    case Oid.text:
    case Oid.varchar:
    case Oid.name:
    case Oid.char:
    case Oid.unknown:
    case Oid.uuid:
      return compareCodePoints(a as string, b as string);
    case Oid.bpchar:
      return compareCodePoints(bpcharTrim(a as string), bpcharTrim(b as string));
    case Oid.bytea:
      return compareBytes(a as Uint8Array, b as Uint8Array);
    case Oid.interval:
      return cmp(intervalSortKey(a as Interval), intervalSortKey(b as Interval));
    case Oid.jsonb:
      return compareJsonValues((a as Jsonb).value, (b as Jsonb).value, true);
    default:
      throw new PgError("undefined_function", `could not identify an ordering operator for type ${formatType(t)}`);
  }
}

/** An enum value's sort order; a label the type lacks is an engine bug (values are checked on input). */
function enumOrder(t: SqlType, label: string): number {
  const order = enumSortOrder(t, label);
  if (order === undefined) throw new PgError("internal_error", `enum ${t.name} has no label "${label}"`);
  return order;
}

function compareArrays(a: readonly Datum[], b: readonly Datum[], elem: SqlType): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareDatums(a[i]!, b[i]!, elem);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** Equality as the type's `=` operator decides it, with NULL = NULL (for grouping, not for SQL `=`). */
export function datumsEqual(a: Datum, b: Datum, t: SqlType): boolean {
  if (t.oid === Oid.json) {
    throw new PgError("undefined_function", "could not identify an equality operator for type json");
  }
  return compareDatums(a, b, t) === 0;
}

/** A string or number equal for equal datums (see the file comment). NULL has its own key. */
export function hashKey(d: Datum, t: SqlType): string | number {
  if (d === null) return "\u0000NULL";
  if (t.elem !== undefined) {
    const elem = t.elem;
    return JSON.stringify((d as readonly Datum[]).map((e) => hashKey(e, elem)));
  }
  switch (physicalOid(t.oid)) {
    case Oid.bool:
      return d ? 1 : 0;
    case Oid.int2:
    case Oid.int4:
    case Oid.oid:
      return d as number;
    case Oid.date:
    case Oid.float4:
    case Oid.float8: {
      // -0 keys as 0 and NaN as itself (both equal as Postgres compares floats); ±Infinity and
      // NaN key as strings, which JSON.stringify in rowHashKey would otherwise turn into null.
      const x = d as number;
      return Number.isFinite(x) ? (x === 0 ? 0 : x) : String(x);
    }
    case Oid.int8:
    case Oid.timestamp:
    case Oid.timestamptz:
      return (d as bigint).toString();
    case Oid.numeric:
      return numericKey(d as Numeric);
    case Oid.bpchar:
      return bpcharTrim(d as string);
    case Oid.bytea:
      return Array.from(d as Uint8Array, (b) => b.toString(16).padStart(2, "0")).join("");
    case Oid.interval:
      return intervalSortKey(d as Interval).toString();
    case Oid.jsonb:
      return jsonKey((d as Jsonb).value);
    case Oid.json:
      throw new PgError("undefined_function", "could not identify an equality operator for type json");
    default:
      return d as string;
  }
}

/** 1.50 and 1.5 are equal numerics: key on the normalized value. */
function numericKey(n: Numeric): string {
  return n.isNaN() ? "NaN" : n.isFinite() ? n.value.toFixed() : n.value.isNegative() ? "-Infinity" : "Infinity";
}

function jsonKey(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  if (typeof v === "string") return quoteJsonString(v);
  if (v instanceof Numeric) return numericKey(v);
  if (Array.isArray(v)) return `[${v.map(jsonKey).join(",")}]`;
  if (isJsonObject(v)) {
    const parts: string[] = [];
    for (const [k, val] of v) parts.push(`${quoteJsonString(k)}:${jsonKey(val)}`);
    return `{${parts.join(",")}}`;
  }
  return "";
}

/**
 * One key for a tuple of datums (composite GROUP BY / join keys): each column's hashKey, numbers
 * ended by ";" and strings prefixed with their length and ":", so no two tuples share a key.
 */
export function rowHashKey(values: readonly Datum[], types: readonly SqlType[]): string {
  let key = "";
  for (let i = 0; i < values.length; i++) {
    const k = hashKey(values[i]!, types[i]!);
    key += typeof k === "number" ? `${k};` : `${k.length}:${k}`;
  }
  return key;
}
