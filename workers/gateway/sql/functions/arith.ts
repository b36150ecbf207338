// Arithmetic on the numeric types with Postgres's errors: integer overflow is 22003
// ("integer out of range"), division by zero 22012, integer division truncates toward zero,
// float overflow/underflow 22003 ("value out of range: overflow"), numeric keeps Postgres's
// result scales (types/numeric.ts).

import { PgError } from "../../../../common/errors.ts";
import { checkInt8, intOutOfRange } from "../types/cast.ts";
import { Decimal, NUMERIC_DSCALE_MAX, Numeric } from "../types/numeric.ts";
import { INT2_MAX, INT2_MIN, INT4_MAX, INT4_MIN } from "../types/scalar-text.ts";
import { Oid } from "../types/type.ts";

export type ArithOp = "+" | "-" | "*" | "/" | "%";

export function divisionByZero(): PgError {
  return new PgError("division_by_zero", "division by zero");
}

/** int2 / int4 arithmetic on JS numbers (results fit in doubles exactly or are out of range). */
export function smallIntArith(op: ArithOp, a: number, b: number, oid: number): number {
  const min = oid === Oid.int2 ? INT2_MIN : INT4_MIN;
  const max = oid === Oid.int2 ? INT2_MAX : INT4_MAX;
  let r: number;
  switch (op) {
    case "+": r = a + b; break;
    case "-": r = a - b; break;
    case "*": r = a * b; break;
    case "/":
      if (b === 0) throw divisionByZero();
      r = Math.trunc(a / b);
      break;
    case "%":
      if (b === 0) throw divisionByZero();
      r = a % b;
      break;
  }
  if (r < min || r > max) throw intOutOfRange(oid);
  return r === 0 ? 0 : r;
}

export function int8Arith(op: ArithOp, a: bigint, b: bigint): bigint {
  switch (op) {
    case "+": return checkInt8(a + b);
    case "-": return checkInt8(a - b);
    case "*": return checkInt8(a * b);
    case "/":
      if (b === 0n) throw divisionByZero();
      return checkInt8(a / b);
    case "%":
      if (b === 0n) throw divisionByZero();
      return a % b;
  }
}

function floatResult(r: number, a: number, b: number, float4: boolean, zeroOk: boolean): number {
  const v = float4 ? Math.fround(r) : r;
  if (!Number.isFinite(v) && Number.isFinite(a) && Number.isFinite(b)) {
    throw new PgError("numeric_value_out_of_range", "value out of range: overflow");
  }
  if (v === 0 && !zeroOk) throw new PgError("numeric_value_out_of_range", "value out of range: underflow");
  return v;
}

export function floatArith(op: ArithOp, a: number, b: number, float4: boolean): number {
  switch (op) {
    case "+": return floatResult(a + b, a, b, float4, true);
    case "-": return floatResult(a - b, a, b, float4, true);
    case "*": return floatResult(a * b, a, b, float4, a === 0 || b === 0);
    case "/":
      if (b === 0) throw divisionByZero();
      return floatResult(a / b, a, b, float4, a === 0 || !Number.isFinite(b));
    case "%":
      throw new PgError("undefined_function", "operator does not exist: double precision % double precision");
  }
}

export function numericArith(op: ArithOp, a: Numeric, b: Numeric): Numeric {
  switch (op) {
    case "+": return a.add(b);
    case "-": return a.sub(b);
    case "*": return a.mul(b);
    case "/": return a.div(b);
    case "%": return a.mod(b);
  }
}

/** float8 ^ float8 (dpow) with Postgres's errors for undefined powers. */
export function floatPower(a: number, b: number): number {
  if (a === 0 && b < 0) throw new PgError("invalid_argument_for_power_function", "zero raised to a negative power is undefined");
  if (a < 0 && !Number.isInteger(b) && Number.isFinite(b)) {
    throw new PgError("invalid_argument_for_power_function", "a negative number raised to a non-integer power yields a complex result");
  }
  if (a === 1 || b === 0) return 1; // Postgres (and POSIX pow) even for NaN
  const r = Math.pow(a, b);
  if (!Number.isFinite(r) && Number.isFinite(a) && Number.isFinite(b)) {
    throw new PgError("numeric_value_out_of_range", "value out of range: overflow");
  }
  if (r === 0 && a !== 0 && Number.isFinite(a) && Number.isFinite(b)) {
    throw new PgError("numeric_value_out_of_range", "value out of range: underflow");
  }
  return r;
}

/** Postgres's result scale for transcendental results: at least 16 significant digits. */
export function significantScale(approxLog10: number, ...inputScales: number[]): number {
  const rscale = 16 - Math.trunc(approxLog10);
  return Math.min(Math.max(rscale, ...inputScales, 0), NUMERIC_DSCALE_MAX);
}

/** numeric ^ numeric (numeric_power). */
export function numericPower(a: Numeric, b: Numeric): Numeric {
  if (a.isNaN() || b.isNaN()) {
    // Postgres: NaN ^ 0 = 1 and 1 ^ NaN = 1; anything else involving NaN is NaN.
    if ((a.isNaN() && b.isFinite() && b.value.isZero()) || (b.isNaN() && a.isFinite() && a.value.eq(1))) return Numeric.fromInteger(1);
    return Numeric.NaN;
  }
  if (a.value.isZero() && b.value.isNegative()) {
    throw new PgError("invalid_argument_for_power_function", "zero raised to a negative power is undefined");
  }
  if (a.value.isNegative() && !b.value.isInteger()) {
    throw new PgError("invalid_argument_for_power_function", "a negative number raised to a non-integer power yields a complex result");
  }
  if (!a.isFinite() || !b.isFinite()) return Numeric.fromDecimal(a.value.pow(b.value));
  if (a.value.isZero()) return Numeric.of(new Decimal(b.value.isZero() ? 1 : 0), 16);
  const approx = b.value.toNumber() * Math.log10(a.value.abs().toNumber());
  if (approx > 131072) throw new PgError("numeric_value_out_of_range", "value overflows numeric format");
  const scale = significantScale(approx, a.dscale, b.dscale);
  const D = Decimal.clone({ precision: Math.max(40, Math.ceil(Math.abs(approx)) + scale + 10) });
  return Numeric.of(new D(a.value).pow(new D(b.value)), scale);
}
