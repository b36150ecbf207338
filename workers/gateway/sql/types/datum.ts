// How a SQL value is held in memory while the engine works on it.
//
// A Datum is always read together with its SqlType (type.ts); the JavaScript value alone does not
// say which SQL type it is (a `number` may be an int4, a float8 or a date). SQL NULL is `null` for
// every type, and nothing else is NULL: JSON null inside jsonb is the Jsonb wrapper around `null`.
//
//   type                         Datum
//   bool                         boolean
//   int2, int4, oid, reg*        number (a safe integer within the type's range)
//   int8                         bigint
//   float4, float8               number (float4 values are already rounded with Math.fround)
//   numeric                      Numeric (numeric.ts): exact decimal + display scale, NaN, ±Infinity
//   text, varchar, bpchar, name, string (bpchar keeps its blank padding, as Postgres stores it)
//     "char", unknown
//   bytea                        Uint8Array
//   date                         number: days since 1970-01-01 (the Unix epoch; Postgres counts
//                                from 2000-01-01 internally), -Infinity / Infinity for ±infinity
//   timestamp, timestamptz       bigint: microseconds since 1970-01-01 00:00:00 (UTC for
//                                timestamptz); TIMESTAMP_NEG_INFINITY / TIMESTAMP_INFINITY
//                                (Postgres's int64 min / max) for -infinity / infinity
//   interval                     Interval {months, days, micros} (kept apart, as Postgres does)
//   time                         bigint: microseconds since midnight, 0 .. 24:00:00 inclusive
//   timetz                       TimeTz {micros, offsetSeconds}: local time of day and its UTC
//                                offset (seconds east; Postgres stores seconds west)
//   uuid                         string, lower-case canonical 8-4-4-4-12
//   json                         string: the text exactly as given (Postgres keeps json verbatim)
//   jsonb                        Jsonb: the normalized value (objects as Maps in Postgres key order)
//   arrays (t.elem set)          Datum[] of element datums, one dimension, null elements allowed
//   record                       Datum[] (a row value; the engine knows the field types)

import type { Numeric } from "./numeric.ts";

export interface Interval {
  /** Whole months (years are 12 months). */
  readonly months: number;
  /** Whole days (never folded into months: a day is not always 24 hours). */
  readonly days: number;
  /** Microseconds of time. */
  readonly micros: bigint;
}

export function interval(months: number, days: number, micros: bigint): Interval {
  return Object.freeze({ months, days, micros });
}

/** A timetz value: a local time of day together with the UTC offset it was given in. */
export class TimeTz {
  /** Microseconds since local midnight, 0 .. 24:00:00 inclusive. */
  readonly micros: bigint;
  /** Seconds east of UTC (+02 → 7200), within ±15:59:59 as Postgres allows. */
  readonly offsetSeconds: number;
  constructor(micros: bigint, offsetSeconds: number) {
    this.micros = micros;
    this.offsetSeconds = offsetSeconds;
  }
  /** The same instant of the day in UTC microseconds (may lie outside 0 .. 24h): what sorts first. */
  utcMicros(): bigint {
    return this.micros - BigInt(this.offsetSeconds) * MICROS_PER_SECOND;
  }
}

/** A JSON value inside jsonb. Numbers are exact numerics, as Postgres stores them. */
export type JsonValue = null | boolean | string | Numeric | JsonValue[] | JsonObject;
/** A jsonb object: keys unique, iteration in Postgres's order (shorter keys first, then bytewise). */
export type JsonObject = ReadonlyMap<string, JsonValue>;

/** A jsonb datum. The wrapper keeps JSON `null` apart from SQL NULL. */
export class Jsonb {
  readonly value: JsonValue;
  constructor(value: JsonValue) {
    this.value = value;
  }
}

export type Datum =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Numeric
  | Interval
  | Jsonb
  | TimeTz
  | readonly Datum[];

/** Microseconds from 1970-01-01 (our epoch) to 2000-01-01 (Postgres's internal epoch). */
export const PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000n;
/**
 * Postgres's DT_NOBEGIN / DT_NOEND (int64 min / max counted from 2000-01-01), expressed from
 * 1970: timestamp -infinity / infinity. Every finite timestamp lies strictly between them, and
 * subtracting PG_EPOCH_OFFSET_MICROS from any timestamp yields Postgres's own int64 value.
 */
export const TIMESTAMP_NEG_INFINITY = -(2n ** 63n) + PG_EPOCH_OFFSET_MICROS;
export const TIMESTAMP_INFINITY = 2n ** 63n - 1n + PG_EPOCH_OFFSET_MICROS;
/** Dates are days; ±infinity are JavaScript's ±Infinity. */
export const DATE_NEG_INFINITY = -Infinity;
export const DATE_INFINITY = Infinity;

export const MICROS_PER_SECOND = 1_000_000n;
export const MICROS_PER_MINUTE = 60_000_000n;
export const MICROS_PER_HOUR = 3_600_000_000n;
export const MICROS_PER_DAY = 86_400_000_000n;

export function isInterval(d: Datum): d is Interval {
  return typeof d === "object" && d !== null && "months" in d && "micros" in d;
}

export function isFiniteTimestamp(ts: bigint): boolean {
  return ts !== TIMESTAMP_INFINITY && ts !== TIMESTAMP_NEG_INFINITY;
}
