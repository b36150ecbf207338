// Mathematical functions with Postgres's per-type overloads and result scales: abs, sign,
// ceil/ceiling, floor, round, trunc, sqrt, cbrt, power/pow, exp, ln, log, log10, mod, div,
// gcd, lcm, pi, random, degrees, radians and the trigonometric functions. round(float8) rounds
// half to even (it is C's rint), round(numeric) half away from zero, as in Postgres.

import { PgError } from "../../../../common/errors.ts";
import { checkInt8, intOutOfRange } from "../types/cast.ts";
import { rint } from "../types/datetime-text.ts";
import { Decimal, Numeric } from "../types/numeric.ts";
import { Types, type SqlType } from "../types/type.ts";
import { floatPower, numericPower, significantScale, smallIntArith, int8Arith } from "./arith.ts";
import { fn } from "./define.ts";
import type { Candidate } from "./resolve.ts";

const F = Types.float8;
const N = Types.numeric;
const I2 = Types.int2;
const I4 = Types.int4;
const I8 = Types.int8;

function numericWithPrecision(digits: number): typeof Decimal {
  return Decimal.clone({ precision: Math.max(40, digits) });
}

function requirePositive(n: Numeric | number, what: "logarithm"): void {
  const sign = typeof n === "number" ? Math.sign(n) : n.sign();
  if (sign === 0) throw new PgError("invalid_argument_for_logarithm", `cannot take ${what} of zero`);
  if (sign < 0) throw new PgError("invalid_argument_for_logarithm", `cannot take ${what} of a negative number`);
}

function numericSqrt(n: Numeric): Numeric {
  if (n.isNaN()) return n;
  if (n.sign() < 0) throw new PgError("invalid_argument_for_power_function", "cannot take square root of a negative number");
  if (!n.isFinite()) return n;
  const sweight = Math.trunc(((n.weight() + 1) * 4) / 2) - 1;
  const scale = Math.min(Math.max(16 - sweight, n.dscale, 0), 16383);
  const D = numericWithPrecision(Math.abs(n.value.e) + scale + 10);
  return Numeric.of(new D(n.value).sqrt(), scale);
}

function numericLn(n: Numeric): Numeric {
  if (n.isNaN()) return n;
  requirePositive(n, "logarithm");
  if (!n.isFinite()) return n;
  const decDigits = (n.weight() + 1) * 4;
  let scale = 16;
  if (decDigits > 1) scale = 16 - Math.trunc(Math.log10(decDigits - 1));
  else if (decDigits < 1) scale = 16 - Math.trunc(Math.log10(1 - decDigits));
  scale = Math.min(Math.max(scale, n.dscale, 0), 16383);
  const D = numericWithPrecision(scale + 20);
  return Numeric.of(new D(n.value).ln(), scale);
}

function numericLog10(n: Numeric): Numeric {
  if (n.isNaN()) return n;
  requirePositive(n, "logarithm");
  if (!n.isFinite()) return n;
  const D = numericWithPrecision(60);
  const r = new D(n.value).log(10);
  return Numeric.of(r, significantScale(Math.log10(Math.abs(r.toNumber()) || 1), n.dscale));
}

function numericLogBase(b: Numeric, x: Numeric): Numeric {
  if (b.isNaN() || x.isNaN()) return Numeric.NaN;
  requirePositive(b, "logarithm");
  requirePositive(x, "logarithm");
  if (b.value.eq(1)) throw new PgError("division_by_zero", "division by zero");
  const D = numericWithPrecision(60);
  const r = new D(x.value).ln().div(new D(b.value).ln());
  return Numeric.of(r, significantScale(Math.log10(Math.abs(r.toNumber()) || 1), b.dscale, x.dscale));
}

function numericExp(n: Numeric): Numeric {
  if (n.isNaN()) return n;
  if (!n.isFinite()) return n.sign() > 0 ? n : Numeric.Zero;
  const approx = Math.max(Math.min(n.value.toNumber() * 0.434294481903252, 2000), -2000);
  if (approx > 131072) throw new PgError("numeric_value_out_of_range", "value overflows numeric format");
  const scale = significantScale(approx, n.dscale);
  const D = numericWithPrecision(Math.abs(approx) + scale + 10);
  return Numeric.of(new D(n.value).exp(), scale);
}

function floatLog(x: number, ln: (v: number) => number): number {
  if (x === 0) throw new PgError("invalid_argument_for_logarithm", "cannot take logarithm of zero");
  if (x < 0) throw new PgError("invalid_argument_for_logarithm", "cannot take logarithm of a negative number");
  return ln(x);
}

function gcd(a: bigint, b: bigint): bigint {
  let x = a < 0n ? -a : a;
  let y = b < 0n ? -b : b;
  while (y !== 0n) [x, y] = [y, x % y];
  return x;
}

const signOf = (x: number): number => (Number.isNaN(x) ? NaN : x > 0 ? 1 : x < 0 ? -1 : 0);
const trig = (name: string, f: (x: number) => number): Candidate => fn(name, [F], F, ([x]) => {
  const r = f(x as number);
  if (Number.isNaN(r) && !Number.isNaN(x as number)) throw new PgError("numeric_value_out_of_range", "input is out of range");
  return r;
});

export const mathFunctions: Candidate[] = [
  fn("abs", [I2], I2, ([x]) => smallIntArith("+", 0, Math.abs(x as number), I2.oid)),
  fn("abs", [I4], I4, ([x]) => smallIntArith("+", 0, Math.abs(x as number), I4.oid)),
  fn("abs", [I8], I8, ([x]) => checkInt8((x as bigint) < 0n ? -(x as bigint) : (x as bigint))),
  fn("abs", [Types.float4], Types.float4, ([x]) => Math.abs(x as number)),
  fn("abs", [F], F, ([x]) => Math.abs(x as number)),
  fn("abs", [N], N, ([x]) => (x as Numeric).abs()),
  fn("sign", [F], F, ([x]) => signOf(x as number)),
  fn("sign", [N], N, ([x]) => ((x as Numeric).isNaN() ? Numeric.NaN : Numeric.fromInteger((x as Numeric).sign()))),
  ...["ceil", "ceiling"].flatMap((name) => [
    fn(name, [F], F, ([x]) => Math.ceil(x as number) || (x as number) * 0),
    fn(name, [N], N, ([x]) => ((x as Numeric).isFinite() ? Numeric.of((x as Numeric).value.ceil(), 0) : x!)),
  ]),
  fn("floor", [F], F, ([x]) => Math.floor(x as number)),
  fn("floor", [N], N, ([x]) => ((x as Numeric).isFinite() ? Numeric.of((x as Numeric).value.floor(), 0) : x!)),
  fn("round", [F], F, ([x]) => rint(x as number)),
  fn("round", [N], N, ([x]) => (x as Numeric).round(0)),
  fn("round", [N, I4], N, ([x, s]) => (x as Numeric).round(s as number)),
  fn("trunc", [F], F, ([x]) => Math.trunc(x as number)),
  fn("trunc", [N], N, ([x]) => (x as Numeric).trunc(0)),
  fn("trunc", [N, I4], N, ([x, s]) => (x as Numeric).trunc(s as number)),
  fn("sqrt", [F], F, ([x]) => {
    if ((x as number) < 0) throw new PgError("invalid_argument_for_power_function", "cannot take square root of a negative number");
    return Math.sqrt(x as number);
  }),
  fn("sqrt", [N], N, ([x]) => numericSqrt(x as Numeric)),
  fn("cbrt", [F], F, ([x]) => Math.cbrt(x as number)),
  ...["power", "pow"].flatMap((name) => [
    fn(name, [F, F], F, ([a, b]) => floatPower(a as number, b as number)),
    fn(name, [N, N], N, ([a, b]) => numericPower(a as Numeric, b as Numeric)),
  ]),
  fn("exp", [F], F, ([x]) => {
    const r = Math.exp(x as number);
    if (!Number.isFinite(r) && Number.isFinite(x as number)) throw new PgError("numeric_value_out_of_range", "value out of range: overflow");
    return r;
  }),
  fn("exp", [N], N, ([x]) => numericExp(x as Numeric)),
  fn("ln", [F], F, ([x]) => floatLog(x as number, Math.log)),
  fn("ln", [N], N, ([x]) => numericLn(x as Numeric)),
  fn("log", [F], F, ([x]) => floatLog(x as number, Math.log10)),
  fn("log", [N], N, ([x]) => numericLog10(x as Numeric)),
  fn("log10", [F], F, ([x]) => floatLog(x as number, Math.log10)),
  fn("log10", [N], N, ([x]) => numericLog10(x as Numeric)),
  fn("log", [N, N], N, ([b, x]) => numericLogBase(b as Numeric, x as Numeric)),
  fn("mod", [I2, I2], I2, ([a, b]) => smallIntArith("%", a as number, b as number, I2.oid)),
  fn("mod", [I4, I4], I4, ([a, b]) => smallIntArith("%", a as number, b as number, I4.oid)),
  fn("mod", [I8, I8], I8, ([a, b]) => int8Arith("%", a as bigint, b as bigint)),
  fn("mod", [N, N], N, ([a, b]) => (a as Numeric).mod(b as Numeric)),
  fn("div", [N, N], N, ([a, b]) => (a as Numeric).divTrunc(b as Numeric)),
  fn("gcd", [I4, I4], I4, ([a, b]) => {
    const g = gcd(BigInt(a as number), BigInt(b as number));
    if (g > 2147483647n) throw intOutOfRange(I4.oid);
    return Number(g);
  }),
  fn("gcd", [I8, I8], I8, ([a, b]) => checkInt8(gcd(a as bigint, b as bigint))),
  fn("lcm", [I4, I4], I4, ([a, b]) => {
    const x = BigInt(a as number);
    const y = BigInt(b as number);
    if (x === 0n || y === 0n) return 0;
    const l = (x / gcd(x, y)) * y;
    const abs = l < 0n ? -l : l;
    if (abs > 2147483647n) throw intOutOfRange(I4.oid);
    return Number(abs);
  }),
  fn("pi", [], F, () => Math.PI),
  fn("random", [], F, (_a, ctx) => ctx.random(), { volatility: "volatile" }),
  fn("degrees", [F], F, ([x]) => ((x as number) * 180) / Math.PI),
  fn("radians", [F], F, ([x]) => ((x as number) * Math.PI) / 180),
  trig("sin", Math.sin), trig("cos", Math.cos), trig("tan", Math.tan), trig("asin", Math.asin), trig("acos", Math.acos),
  trig("atan", Math.atan), trig("sinh", Math.sinh), trig("cosh", Math.cosh), trig("tanh", Math.tanh),
  fn("atan2", [F, F], F, ([y, x]) => Math.atan2(y as number, x as number)),
];

