// Casts between the common types and the implicit-coercion rules the binder needs (common type of
// CASE branches, UNION columns, operator operands). Local stand-in for the types engineer's
// castDatum / commonType / canCast.
import { PgError } from "../../../../common/errors.ts";
import type { Datum } from "../types/datum.ts";
import { Decimal, Numeric } from "../types/numeric.ts";
import { charLength, formatType, numericPrecisionScale, Oid, type SqlType, Types, typeCategory } from "../types/type.ts";
import { formatText, parseText } from "./text.ts";

export type CastFn = (d: Datum) => Datum;

const INT_RANGE: Record<number, [number, number, string]> = {
  [Oid.int2]: [-32768, 32767, "smallint"],
  [Oid.int4]: [-2147483648, 2147483647, "integer"],
};

export function isIntType(t: SqlType): boolean {
  return t.oid === Oid.int2 || t.oid === Oid.int4 || t.oid === Oid.int8;
}

export function isNumericCategory(t: SqlType): boolean {
  return t.elem === undefined && typeCategory(t) === "N";
}

export function isStringType(t: SqlType): boolean {
  return t.oid === Oid.text || t.oid === Oid.varchar || t.oid === Oid.bpchar || t.oid === Oid.name || t.oid === Oid.unknown;
}

/** Rank in Postgres's implicit numeric promotion chain. */
export function numericRank(t: SqlType): number {
  switch (t.oid) {
    case Oid.int2:
      return 1;
    case Oid.int4:
      return 2;
    case Oid.int8:
      return 3;
    case Oid.numeric:
      return 4;
    case Oid.float4:
      return 5;
    case Oid.float8:
      return 6;
    default:
      return 0;
  }
}

export function checkIntRange(oid: number, n: number): number {
  const r = INT_RANGE[oid];
  if (r !== undefined && (n < r[0] || n > r[1] || !Number.isFinite(n))) throw new PgError("numeric_value_out_of_range", `${r[2]} out of range`);
  return n;
}

export function checkInt8(n: bigint): bigint {
  if (n < -(2n ** 63n) || n >= 2n ** 63n) throw new PgError("numeric_value_out_of_range", "bigint out of range");
  return n;
}

/** rint(): round half to even, as float → integer casts do. */
function rint(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function toNumberish(d: Datum, from: SqlType): number | bigint | Numeric {
  if (from.oid === Oid.bool) return d ? 1 : 0;
  return d as number | bigint | Numeric;
}

function applyNumericTypmod(n: Numeric, to: SqlType): Numeric {
  const ps = numericPrecisionScale(to.typmod);
  if (ps === null || !n.isFinite()) return n;
  const r = n.round(ps.scale);
  const intDigits = r.value.abs().truncated().toString().replace(/^0$/, "").length;
  if (intDigits > ps.precision - ps.scale) {
    throw new PgError("numeric_value_out_of_range", "numeric field overflow", {
      detail: `A field with precision ${ps.precision}, scale ${ps.scale} must round to an absolute value less than ${ps.precision - ps.scale === 0 ? "1" : `10^${ps.precision - ps.scale}`}.`,
    });
  }
  return r;
}

function toNumeric(v: number | bigint | Numeric, fromFloat: boolean): Numeric {
  if (v instanceof Numeric) return v;
  if (typeof v === "bigint") return Numeric.fromInteger(v);
  return fromFloat ? Numeric.fromFloat(v) : Numeric.fromInteger(v);
}

/** The function converting a datum of `from` into `to`; throws 42846 when no cast exists. */
export function castFn(from: SqlType, to: SqlType, explicit: boolean): CastFn {
  if (from.oid === to.oid && from.typmod === to.typmod && from.elem === undefined) return (d) => d;
  if (to.elem !== undefined) {
    if (from.elem !== undefined) {
      const inner = castFn(from.elem, to.elem, explicit);
      return (d) => (d === null ? null : (d as Datum[]).map((e) => (e === null ? null : inner(e))));
    }
    if (isStringType(from)) return (d) => (d === null ? null : parseText(to, d as string));
    throw cannotCast(from, to);
  }
  // To string types: the text output, then the length rule of the target.
  if (isStringType(to) && to.oid !== Oid.unknown) {
    const len = charLength(to);
    return (d) => {
      if (d === null) return null;
      let s = from.oid === Oid.bpchar && to.oid !== Oid.bpchar ? (d as string).replace(/ +$/, "") : formatText(from, d)!;
      if (len >= 0) {
        if ([...s].length > len) {
          const extra = [...s].slice(len).join("");
          if (!explicit && extra.trim() !== "") {
            throw new PgError("string_data_right_truncation", `value too long for type ${formatType(to)}`);
          }
          s = [...s].slice(0, len).join("");
        }
        if (to.oid === Oid.bpchar) s = s.padEnd(len, " ");
      }
      return s;
    };
  }
  if (isStringType(from)) {
    return (d) => {
      if (d === null) return null;
      const parsed = parseText({ oid: to.oid, name: to.name, typmod: -1 }, from.oid === Oid.bpchar ? (d as string).replace(/ +$/, "") : (d as string));
      return to.oid === Oid.numeric ? applyNumericTypmod(parsed as Numeric, to) : parsed;
    };
  }
  const fromFloat = from.oid === Oid.float4 || from.oid === Oid.float8;
  const numericLike = isNumericCategory(from) || from.oid === Oid.bool;
  if (numericLike && isNumericCategory(to)) {
    if (from.oid === Oid.bool && !explicit) throw cannotCast(from, to);
    if (to.oid === Oid.bool) throw cannotCast(from, to);
    switch (to.oid) {
      case Oid.int2:
      case Oid.int4:
      case Oid.oid:
        return (d) => {
          if (d === null) return null;
          const v = toNumberish(d, from);
          if (v instanceof Numeric) {
            if (!v.isFinite()) throw new PgError("feature_not_supported", `cannot convert ${v.toString()} to integer`);
            return checkIntRange(to.oid === Oid.oid ? Oid.int4 : to.oid, Number(v.round(0).toBigInt()));
          }
          if (typeof v === "bigint") return checkIntRange(to.oid === Oid.oid ? Oid.int4 : to.oid, Number(v));
          if (Number.isNaN(v)) throw new PgError("numeric_value_out_of_range", `${INT_RANGE[to.oid]?.[2] ?? "integer"} out of range`);
          return checkIntRange(to.oid === Oid.oid ? Oid.int4 : to.oid, fromFloat ? rint(v) : v);
        };
      case Oid.int8:
        return (d) => {
          if (d === null) return null;
          const v = toNumberish(d, from);
          if (v instanceof Numeric) {
            if (!v.isFinite()) throw new PgError("feature_not_supported", `cannot convert ${v.toString()} to bigint`);
            return checkInt8(v.round(0).toBigInt());
          }
          if (typeof v === "bigint") return v;
          if (!Number.isFinite(v) || Math.abs(v) >= 9.223372036854776e18) throw new PgError("numeric_value_out_of_range", "bigint out of range");
          return BigInt(fromFloat ? rint(v) : v);
        };
      case Oid.numeric:
        return (d) => (d === null ? null : applyNumericTypmod(toNumeric(toNumberish(d, from), fromFloat), to));
      case Oid.float4:
      case Oid.float8:
        return (d) => {
          if (d === null) return null;
          const v = toNumberish(d, from);
          const x = v instanceof Numeric ? v.toNumber() : Number(v);
          return to.oid === Oid.float4 ? Math.fround(x) : x;
        };
    }
  }
  if (to.oid === Oid.bool && (from.oid === Oid.int4 || from.oid === Oid.int8) && explicit) {
    return (d) => (d === null ? null : d !== 0 && d !== 0n);
  }
  if (from.oid === to.oid) return (d) => d;
  if ((from.oid === Oid.json || from.oid === Oid.jsonb) && (to.oid === Oid.json || to.oid === Oid.jsonb)) return (d) => d;
  throw cannotCast(from, to);
}

function cannotCast(from: SqlType, to: SqlType): PgError {
  return new PgError("cannot_coerce", `cannot cast type ${formatType(from)} to ${formatType(to)}`);
}

/** Whether a value of `from` may be used where `to` is expected without an explicit cast. */
export function canImplicitlyCast(from: SqlType, to: SqlType): boolean {
  if (from.oid === to.oid || from.oid === Oid.unknown) return true;
  if (isNumericCategory(from) && isNumericCategory(to)) return numericRank(from) <= numericRank(to) && numericRank(from) > 0;
  if (isStringType(from) && isStringType(to)) return true;
  return false;
}

/** The type a set of expressions resolves to (CASE, COALESCE, UNION, VALUES), as Postgres picks it. */
export function commonType(types: readonly SqlType[], context: string): SqlType {
  const known = types.filter((t) => t.oid !== Oid.unknown);
  if (known.length === 0) return Types.text;
  let best = known[0]!;
  for (const t of known.slice(1)) {
    if (t.oid === best.oid) continue;
    if (isNumericCategory(t) && isNumericCategory(best)) {
      if (numericRank(t) > numericRank(best)) best = t;
    } else if (isStringType(t) && isStringType(best)) {
      best = Types.text;
    } else if (canImplicitlyCast(best, t)) {
      best = t;
    } else if (!canImplicitlyCast(t, best)) {
      throw new PgError("datatype_mismatch", `${context} types ${formatType(best)} and ${formatType(t)} cannot be matched`);
    }
  }
  return best.typmod === -1 ? best : { oid: best.oid, name: best.name, typmod: -1, ...(best.elem ? { elem: best.elem } : {}) };
}

export { Decimal };
