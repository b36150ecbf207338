// The in-memory value of Postgres's `numeric`: an exact decimal plus its display scale.
//
// Postgres keeps, beside the digits, how many digits after the point to print (dscale): '1.50'
// stays 1.50, 1.5 + 1.25 prints 2.75, 1::numeric / 3 prints twenty 3s. Arithmetic here follows
// Postgres's scale rules (numeric.c: add/sub → max scale, mul → sum of scales, div →
// select_div_scale), so results print exactly as Postgres prints them. NaN, Infinity and
// -Infinity are values (Postgres 14+); NaN sorts above everything, as in Postgres.
//
// The digits are held by decimal.js in a private clone configured to never round silently inside
// the precision we allow and never switch to exponent notation.

import DecimalBase from "decimal.js";
import { PgError } from "../../../../common/errors.ts";

/** Postgres: at most 131072 digits before the point, 16383 after. */
export const NUMERIC_WEIGHT_DIGITS_MAX = 131072;
export const NUMERIC_DSCALE_MAX = 16383;
/** Postgres's NUMERIC_MIN_SIG_DIGITS: a quotient keeps at least this many significant digits. */
const MIN_SIG_DIGITS = 16;
/** Postgres stores base-10000 digits; its scale rules count weights in those units. */
const DEC_DIGITS = 4;

// Exact for every sum and product of values within the limits above would need ~300k digits;
// operations are exact as long as results fit in this many significant digits, which covers
// everything but pathological inputs (those round, they do not fail).
const WORK_PRECISION = 2000;
export const Decimal = DecimalBase.clone({
  precision: WORK_PRECISION,
  rounding: DecimalBase.ROUND_HALF_UP,
  toExpNeg: -9e15,
  toExpPos: 9e15,
  maxE: 9e15,
  minE: -9e15,
});
export type Decimal = DecimalBase;

export class Numeric {
  /** The exact value; NaN and ±Infinity are represented by decimal.js's own NaN/Infinity. */
  readonly value: Decimal;
  /** Digits after the point when printed (Postgres dscale); 0 for NaN/Infinity. */
  readonly dscale: number;

  private constructor(value: Decimal, dscale: number) {
    // Postgres has no negative zero.
    this.value = value.isZero() && value.isNegative() ? value.neg() : value;
    this.dscale = value.isFinite() ? dscale : 0;
  }

  static readonly NaN = new Numeric(new Decimal(NaN), 0);
  static readonly Infinity = new Numeric(new Decimal(Infinity), 0);
  static readonly NegativeInfinity = new Numeric(new Decimal(-Infinity), 0);
  static readonly Zero = new Numeric(new Decimal(0), 0);

  /** A numeric with an explicit display scale: the value is rounded (half away from zero) to it. */
  static of(value: Decimal, dscale: number): Numeric {
    if (!value.isFinite()) return new Numeric(value, 0);
    const scale = Math.max(0, Math.min(dscale, NUMERIC_DSCALE_MAX));
    const rounded = value.decimalPlaces() > scale ? value.toDecimalPlaces(scale, Decimal.ROUND_HALF_UP) : value;
    checkRange(rounded);
    return new Numeric(rounded, scale);
  }

  /** A numeric whose display scale is exactly the digits the value needs (0.500 → 0.5). */
  static fromDecimal(value: Decimal): Numeric {
    return Numeric.of(value, value.isFinite() ? value.decimalPlaces() : 0);
  }

  static fromInteger(n: number | bigint): Numeric {
    return new Numeric(new Decimal(n.toString()), 0);
  }

  /**
   * The numeric a float becomes (float8 → numeric, float4 → numeric): Postgres prints the float
   * with DBL_DIG = 15 (FLT_DIG = 6 for float4) significant digits, "%g"-style, and reads that, so
   * 0.1::float8::numeric is 0.1 and 1.0000000000000002::float8::numeric is 1.
   */
  static fromFloat(x: number, significantDigits = 15): Numeric {
    if (Number.isNaN(x)) return Numeric.NaN;
    if (x === Infinity) return Numeric.Infinity;
    if (x === -Infinity) return Numeric.NegativeInfinity;
    return Numeric.fromDecimal(new Decimal(x.toPrecision(significantDigits)));
  }

  /**
   * Postgres numeric_in: optional whitespace and sign, digits with an optional point, optional
   * exponent; NaN, Infinity, inf (any case). Display scale = digits after the point − exponent.
   */
  static parse(text: string): Numeric {
    const s = text.trim();
    const special = s.toLowerCase();
    if (special === "nan") return Numeric.NaN;
    if (special === "infinity" || special === "+infinity" || special === "inf" || special === "+inf") return Numeric.Infinity;
    if (special === "-infinity" || special === "-inf") return Numeric.NegativeInfinity;
    const m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
    if (m === null || (m[2] === "" && (m[3] === undefined || m[3] === ""))) {
      throw new PgError("invalid_text_representation", `invalid input syntax for type numeric: "${text}"`);
    }
    const exponent = m[4] === undefined ? 0 : Number(m[4]);
    const fraction = m[3] ?? "";
    if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > NUMERIC_WEIGHT_DIGITS_MAX + NUMERIC_DSCALE_MAX) {
      throw new PgError("numeric_value_out_of_range", `value overflows numeric format`);
    }
    const dscale = Math.max(0, fraction.length - exponent);
    if (dscale > NUMERIC_DSCALE_MAX) {
      throw new PgError("numeric_value_out_of_range", `value overflows numeric format`);
    }
    const value = new Decimal(`${m[1]}${m[2] === "" ? "0" : m[2]}.${fraction === "" ? "0" : fraction}e${exponent}`);
    checkRange(value);
    return new Numeric(value, dscale);
  }

  isNaN(): boolean {
    return this.value.isNaN();
  }

  isFinite(): boolean {
    return this.value.isFinite();
  }

  /** -1, 0, 1 (NaN → NaN). */
  sign(): number {
    return this.value.isNaN() ? NaN : this.value.isZero() ? 0 : this.value.isNegative() ? -1 : 1;
  }

  /** Postgres's text output: the value with exactly dscale digits after the point. */
  toString(): string {
    if (this.value.isNaN()) return "NaN";
    if (!this.value.isFinite()) return this.value.isNegative() ? "-Infinity" : "Infinity";
    return this.value.toFixed(this.dscale);
  }

  /** Postgres's numeric btree order: NaN is greater than everything, equal to itself. */
  compare(other: Numeric): number {
    const an = this.value.isNaN();
    const bn = other.value.isNaN();
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    return this.value.comparedTo(other.value);
  }

  /** Base-10000 weight of the most significant digit group, as Postgres's NumericVar.weight. */
  weight(): number {
    if (!this.value.isFinite() || this.value.isZero()) return 0;
    return Math.floor(this.value.e / DEC_DIGITS);
  }

  add(o: Numeric): Numeric {
    return Numeric.of(this.value.plus(o.value), Math.max(this.dscale, o.dscale));
  }

  sub(o: Numeric): Numeric {
    return Numeric.of(this.value.minus(o.value), Math.max(this.dscale, o.dscale));
  }

  mul(o: Numeric): Numeric {
    return Numeric.of(this.value.times(o.value), this.dscale + o.dscale);
  }

  neg(): Numeric {
    return new Numeric(this.value.neg(), this.dscale);
  }

  abs(): Numeric {
    return new Numeric(this.value.abs(), this.dscale);
  }

  /** Postgres numeric_div: 22012 on division by zero, result scale from select_div_scale. */
  div(o: Numeric): Numeric {
    if (o.value.isZero()) throw new PgError("division_by_zero", "division by zero");
    const q = this.value.div(o.value);
    if (!q.isFinite()) return new Numeric(q, 0);
    return Numeric.of(q, this.divScale(o));
  }

  /** Postgres numeric_div_trunc: the integer quotient (div() in SQL). */
  divTrunc(o: Numeric): Numeric {
    if (o.value.isZero()) throw new PgError("division_by_zero", "division by zero");
    const q = this.value.div(o.value);
    return new Numeric(q.isFinite() ? q.trunc() : q, 0);
  }

  /** Postgres numeric_mod: sign of the dividend, scale max of the two. */
  mod(o: Numeric): Numeric {
    if (o.value.isZero()) throw new PgError("division_by_zero", "division by zero");
    if (this.value.isNaN() || o.value.isNaN() || !this.value.isFinite()) return Numeric.NaN;
    if (!o.value.isFinite()) return this;
    const q = this.value.div(o.value).trunc();
    return Numeric.of(this.value.minus(q.times(o.value)), Math.max(this.dscale, o.dscale));
  }

  /** select_div_scale from Postgres's numeric.c. */
  divScale(o: Numeric): number {
    const [w1, d1] = firstDigitGroup(this.value);
    const [w2, d2] = firstDigitGroup(o.value);
    let qweight = w1 - w2;
    if (d1 <= d2) qweight--;
    let rscale = MIN_SIG_DIGITS - qweight * DEC_DIGITS;
    rscale = Math.max(rscale, this.dscale, o.dscale, 0);
    return Math.min(rscale, NUMERIC_DSCALE_MAX);
  }

  /** Rounds to `scale` digits after the point (negative: to the left), half away from zero. */
  round(scale: number): Numeric {
    if (!this.value.isFinite()) return this;
    if (scale >= 0) return Numeric.of(this.value.toDecimalPlaces(scale, Decimal.ROUND_HALF_UP), scale);
    const unit = new Decimal(10).pow(-scale);
    return Numeric.of(this.value.div(unit).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).times(unit), 0);
  }

  /** Truncates toward zero to `scale` digits after the point. */
  trunc(scale: number): Numeric {
    if (!this.value.isFinite()) return this;
    if (scale >= 0) return Numeric.of(this.value.toDecimalPlaces(scale, Decimal.ROUND_DOWN), scale);
    const unit = new Decimal(10).pow(-scale);
    return Numeric.of(this.value.div(unit).trunc().times(unit), 0);
  }

  /** The integer value, when finite and integral; used by int casts after rounding. */
  toBigInt(): bigint {
    return BigInt(this.value.toFixed(0));
  }

  toNumber(): number {
    return this.value.toNumber();
  }
}

/** Base-10000 weight and leading digit group of |v| (0, 0 for zero), for select_div_scale. */
function firstDigitGroup(v: Decimal): [number, number] {
  if (!v.isFinite() || v.isZero()) return [0, 0];
  const weight = Math.floor(v.e / DEC_DIGITS);
  const first = v.abs().div(new Decimal(10).pow(weight * DEC_DIGITS)).floor().toNumber();
  return [weight, first];
}

function checkRange(v: Decimal): void {
  if (v.isFinite() && !v.isZero() && v.e >= NUMERIC_WEIGHT_DIGITS_MAX) {
    throw new PgError("numeric_value_out_of_range", "value overflows numeric format");
  }
}
