// Converting a datum from one type to another, with Postgres's semantics: integer range checks
// (22003 "integer out of range"), float → integer rounding to nearest-even (rint) and numeric →
// integer rounding half away from zero, float → numeric through 15 (float4: 6) significant
// digits, date/timestamp/timestamptz conversions in the session time zone, jsonb scalars to
// bool/numbers, and text ↔ everything through the types' text I/O. The target's typmod is applied
// last: explicitly (truncating strings) or by assignment (22001 for a string too long).
//
// `castFunction` resolves the conversion once (the binder's job) and returns a closure the
// executor calls per row; `castDatum` does both at once.

import { PgError } from "../../../../common/errors.ts";
import { canCast, castContext, type CastContext } from "./cast-rules.ts";
import { splitMicros } from "./calendar.ts";
import { bpcharTrim } from "./compare.ts";
import type { EvalContext } from "./context.ts";
import { Jsonb, MICROS_PER_DAY, MICROS_PER_SECOND, TIMESTAMP_INFINITY, TIMESTAMP_NEG_INFINITY, TimeTz, interval, isFiniteTimestamp, type Datum, type Interval } from "./datum.ts";
import { wrapTimeOfDay } from "./time-text.ts";
import { localToTimestamptz, rint, utcToLocal } from "./datetime-text.ts";
import { formatJsonValue, parseJsonb } from "./json.ts";
import { Numeric } from "./numeric.ts";
import { INT2_MAX, INT2_MIN, INT4_MAX, INT4_MIN, INT8_MAX, INT8_MIN, OID_MAX } from "./scalar-text.ts";
import { formatText, parseText } from "./text-io.ts";
import { Oid, formatType, physicalOid, withTypmod, type SqlType } from "./type.ts";
import { applyTypmod } from "./typmod.ts";

export type CastContextValue = Pick<EvalContext, "timeZone" | "transactionTimestamp" | "regCatalog">;
export type CastFn = (d: Datum, ctx: CastContextValue) => Datum;

const identity: CastFn = (d) => d;

export function intOutOfRange(oid: number): PgError {
  const label = oid === Oid.int2 ? "smallint" : oid === Oid.int8 ? "bigint" : oid === Oid.oid ? "OID" : "integer";
  return new PgError("numeric_value_out_of_range", `${label} out of range`);
}

/** Checks an integral JS number against int2/int4/oid range. */
export function checkIntRange(n: number, oid: number): number {
  const [min, max] = oid === Oid.int2 ? [INT2_MIN, INT2_MAX] : oid === Oid.oid ? [0, OID_MAX] : [INT4_MIN, INT4_MAX];
  if (!(n >= min && n <= max)) throw intOutOfRange(oid);
  return n === 0 ? 0 : n;
}

export function checkInt8(n: bigint): bigint {
  if (n < INT8_MIN || n > INT8_MAX) throw intOutOfRange(Oid.int8);
  return n;
}

function isIntOid(oid: number): boolean {
  return oid === Oid.int2 || oid === Oid.int4 || oid === Oid.int8 || physicalOid(oid) === Oid.oid;
}

function isFloatOid(oid: number): boolean {
  return oid === Oid.float4 || oid === Oid.float8;
}

function isStringOid(oid: number): boolean {
  return oid === Oid.text || oid === Oid.varchar || oid === Oid.bpchar || oid === Oid.name || oid === Oid.char || oid === Oid.unknown;
}

/** A bigint/number/Numeric integer into the target integer type, with range checks. */
function toIntType(v: bigint, oid: number): Datum {
  if (oid === Oid.int8) return checkInt8(v);
  const [min, max] = oid === Oid.int2 ? [INT2_MIN, INT2_MAX] : oid === Oid.int4 ? [INT4_MIN, INT4_MAX] : [0, OID_MAX];
  if (v < BigInt(min) || v > BigInt(max)) {
    // oid accepts negative int4 values by wrapping, as Postgres's int4 → oid cast does.
    if (physicalOid(oid) === Oid.oid && v < 0n && v >= BigInt(INT4_MIN)) return Number(v) + OID_MAX + 1;
    throw intOutOfRange(oid);
  }
  return Number(v);
}

function floatToFloat4(x: number): number {
  const r = Math.fround(x);
  if (!Number.isFinite(r) && Number.isFinite(x)) throw new PgError("numeric_value_out_of_range", "value out of range: overflow");
  if (r === 0 && x !== 0) throw new PgError("numeric_value_out_of_range", "value out of range: underflow");
  return r;
}

function numericToFloat(n: Numeric, float4: boolean): number {
  const x = n.isNaN() ? NaN : n.value.toNumber();
  if (n.isFinite() && !Number.isFinite(x)) {
    throw new PgError("numeric_value_out_of_range", `"${n.toString()}" is out of range for type ${float4 ? "real" : "double precision"}`);
  }
  return float4 ? floatToFloat4(x) : x;
}

function numericToInt(n: Numeric, oid: number): Datum {
  if (n.isNaN()) throw new PgError("feature_not_supported", `cannot convert NaN to ${oid === Oid.int8 ? "bigint" : oid === Oid.int2 ? "smallint" : "integer"}`);
  if (!n.isFinite()) throw new PgError("feature_not_supported", `cannot convert infinity to ${oid === Oid.int8 ? "bigint" : oid === Oid.int2 ? "smallint" : "integer"}`);
  return toIntType(n.round(0).toBigInt(), oid);
}

function jsonbScalarName(v: Jsonb["value"]): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  if (v instanceof Numeric) return "numeric";
  return Array.isArray(v) ? "array" : "object";
}

/** Conversion between two base types (no typmod), or null when there is none. */
function baseCast(from: SqlType, to: SqlType): CastFn | null {
  const f = from.oid;
  const t = to.oid;
  if (from.elem !== undefined && to.elem !== undefined) {
    const inner = castFunction(from.elem, to.elem, "explicit");
    return (d, ctx) => (d as readonly Datum[]).map((e) => (e === null ? null : inner(e, ctx)));
  }
  if (f === t && from.elem === undefined && to.elem === undefined) return identity;
  if (from.elem !== undefined || to.elem !== undefined) {
    if (isStringOid(t) && to.elem === undefined) return (d, ctx) => formatText(d, from, ctx);
    if (isStringOid(f) && from.elem === undefined) return (d, ctx) => parseText(d as string, withTypmod(to, -1), ctx);
    return null;
  }
  // To strings: the output function (bpchar → other strings drops the padding).
  if (isStringOid(t)) {
    if (t === Oid.char && isStringOid(f)) return (d) => ((d as string) === "" ? "" : String.fromCodePoint((d as string).codePointAt(0)!));
    if (f === Oid.bpchar) return (d) => bpcharTrim(d as string);
    if (isStringOid(f)) return identity;
    if (f === Oid.bool) return (d) => (d ? "true" : "false"); // booltext, unlike boolout's t/f
    if (t === Oid.char && f === Oid.int4) {
      return (d) => {
        const n = d as number;
        if (n < -128 || n > 127) throw new PgError("numeric_value_out_of_range", `"char" out of range`);
        return n === 0 ? "" : String.fromCharCode(n & 0xff);
      };
    }
    return (d, ctx) => formatText(d, from, ctx);
  }
  // From strings: the input function.
  if (isStringOid(f)) {
    if (f === Oid.char && t === Oid.int4) {
      return (d) => {
        const s = d as string;
        if (s === "") return 0;
        const c = s.charCodeAt(0) & 0xff;
        return c > 127 ? c - 256 : c;
      };
    }
    if (f === Oid.bpchar) return (d, ctx) => parseText(bpcharTrim(d as string), to, ctx);
    return (d, ctx) => parseText(d as string, withTypmod(to, -1), ctx);
  }
  if (isIntOid(f)) {
    if (isIntOid(t)) return (d) => toIntType(typeof d === "bigint" ? d : BigInt(d as number), t);
    if (t === Oid.float8) return (d) => Number(d);
    if (t === Oid.float4) return (d) => Math.fround(Number(d));
    if (t === Oid.numeric) return (d) => Numeric.fromInteger(d as number | bigint);
    if (t === Oid.bool) return (d) => d !== 0;
    return null;
  }
  if (isFloatOid(f)) {
    if (isIntOid(t)) {
      return (d) => {
        const x = d as number;
        if (!Number.isFinite(x)) throw intOutOfRange(t);
        return toIntType(BigInt(rint(x)), t);
      };
    }
    if (t === Oid.float8) return identity;
    if (t === Oid.float4) return (d) => floatToFloat4(d as number);
    if (t === Oid.numeric) return (d) => Numeric.fromFloat(d as number, f === Oid.float4 ? 6 : 15);
    return null;
  }
  if (f === Oid.numeric) {
    if (isIntOid(t)) return (d) => numericToInt(d as Numeric, t);
    if (isFloatOid(t)) return (d) => numericToFloat(d as Numeric, t === Oid.float4);
    return null;
  }
  if (f === Oid.bool && t === Oid.int4) return (d) => (d ? 1 : 0);
  if (f === Oid.date) {
    if (t === Oid.timestamp) return (d) => dateToTimestamp(d as number);
    if (t === Oid.timestamptz) return (d, ctx) => localToTimestamptz(dateToTimestamp(d as number), ctx.timeZone);
    return null;
  }
  if (f === Oid.time) {
    if (t === Oid.interval) return (d) => interval(0, 0, d as bigint);
    // time → timetz takes the session zone's offset now (Postgres: at the current date).
    if (t === Oid.timetz) return (d, ctx) => new TimeTz(d as bigint, ctx.timeZone.offsetAtUtc(ctx.transactionTimestamp));
    return null;
  }
  if (f === Oid.timetz && t === Oid.time) return (d) => (d as TimeTz).micros;
  if (f === Oid.interval && t === Oid.time) return (d) => wrapTimeOfDay((d as Interval).micros);
  if (f === Oid.timestamp) {
    if (t === Oid.time) return (d) => (isFiniteTimestamp(d as bigint) ? splitMicros(d as bigint).timeMicros : null);
    if (t === Oid.date) return (d) => timestampToDate(d as bigint);
    if (t === Oid.timestamptz) return (d, ctx) => localToTimestamptz(d as bigint, ctx.timeZone);
    return null;
  }
  if (f === Oid.timestamptz) {
    if (t === Oid.time) return (d, ctx) => (isFiniteTimestamp(d as bigint) ? splitMicros(utcToLocal(d as bigint, ctx.timeZone)).timeMicros : null);
    if (t === Oid.timetz) {
      return (d, ctx) => {
        const utc = d as bigint;
        if (!isFiniteTimestamp(utc)) return null;
        const offset = ctx.timeZone.offsetAtUtc(utc);
        return new TimeTz(splitMicros(utc + BigInt(offset) * MICROS_PER_SECOND).timeMicros, offset);
      };
    }
    if (t === Oid.date) return (d, ctx) => timestampToDate(utcToLocal(d as bigint, ctx.timeZone));
    if (t === Oid.timestamp) return (d, ctx) => utcToLocal(d as bigint, ctx.timeZone);
    return null;
  }
  if (f === Oid.json && t === Oid.jsonb) return (d) => parseJsonb(d as string);
  if (f === Oid.jsonb) {
    if (t === Oid.json) return (d) => formatJsonValue((d as Jsonb).value);
    const want = t === Oid.bool ? "boolean" : "numeric";
    const label = formatType(to);
    return (d) => {
      const v = (d as Jsonb).value;
      const kind = jsonbScalarName(v);
      if (kind !== want) throw new PgError("invalid_parameter_value", `cannot cast jsonb ${kind} to type ${label}`);
      if (t === Oid.bool) return v as boolean;
      const n = v as Numeric;
      if (t === Oid.numeric) return n;
      if (isFloatOid(t)) return numericToFloat(n, t === Oid.float4);
      return numericToInt(n, t);
    };
  }
  return null;
}

function dateToTimestamp(days: number): bigint {
  if (days === Infinity) return TIMESTAMP_INFINITY;
  if (days === -Infinity) return TIMESTAMP_NEG_INFINITY;
  return BigInt(days) * MICROS_PER_DAY;
}

function timestampToDate(micros: bigint): number {
  if (micros === TIMESTAMP_INFINITY) return Infinity;
  if (micros === TIMESTAMP_NEG_INFINITY) return -Infinity;
  return splitMicros(micros).days;
}

/**
 * The conversion from `from` to `to` allowed in `context`, resolved once. Throws 42846
 * "cannot cast type X to Y" when the cast does not exist in that context. NULL maps to NULL.
 */
export function castFunction(from: SqlType, to: SqlType, context: CastContext = "explicit"): CastFn {
  if (!canCast(from, to, context)) {
    const exists = castContext(from, to) !== null;
    throw new PgError("cannot_coerce", `cannot cast type ${formatType(from)} to ${formatType(to)}`, exists ? {} : {});
  }
  const base = baseCast(withTypmod(from, -1), withTypmod(to, -1));
  if (base === null) throw new PgError("cannot_coerce", `cannot cast type ${formatType(from)} to ${formatType(to)}`);
  const explicit = context === "explicit";
  const needsTypmod = to.typmod >= 0 && !(from.oid === to.oid && from.typmod === to.typmod);
  return (d, ctx) => {
    if (d === null) return null;
    const v = base(d, ctx);
    return needsTypmod ? applyTypmod(v, to, explicit) : v;
  };
}

/** Converts one datum (see castFunction). */
export function castDatum(d: Datum, from: SqlType, to: SqlType, ctx: CastContextValue, context: CastContext = "explicit"): Datum {
  return castFunction(from, to, context)(d, ctx);
}
