// Casts and coercion rules as the binder uses them: the conversions themselves and the common-type
// rule are the types layer's (sql/types/cast.ts, cast-rules.ts); this adds the numeric-category
// helpers operator resolution needs and binds casts to the statement's evaluation context.
import { PgError } from "../../../../common/errors.ts";
import type { Datum } from "../types/datum.ts";
import { Decimal } from "../types/numeric.ts";
import { Oid, type SqlType, typeCategory } from "../types/type.ts";
import { castFunction } from "../types/cast.ts";
import { canImplicitlyCast, commonType } from "../types/cast-rules.ts";
import { bindContext } from "./eval-context.ts";

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

/** The function converting a datum of `from` into `to` (42846 when no such cast exists). */
export function castFn(from: SqlType, to: SqlType, explicit: boolean): CastFn {
  if (from.oid === to.oid && from.typmod === to.typmod && from.elem === undefined) return (d) => d;
  const f = castFunction(from, to, explicit ? "explicit" : "assignment");
  const ctx = bindContext();
  return (d) => f(d, ctx);
}

export { canImplicitlyCast, commonType };

export { Decimal };
