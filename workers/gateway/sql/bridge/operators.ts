// Operator resolution and implementations for the common types: arithmetic with Postgres's
// overflow and division-by-zero errors, comparison, string concatenation and pattern matching.
// Local stand-in for the types engineer's resolveOperator (sql/functions/).
import { PgError } from "../../../../common/errors.ts";
import type { Datum } from "../types/datum.ts";
import { Numeric } from "../types/numeric.ts";
import { formatType, Oid, type SqlType, Types } from "../types/type.ts";
import { castFn, checkInt8, checkIntRange, isIntType, isNumericCategory, isStringType, numericRank } from "./casts.ts";
import { compareDatums } from "./compare.ts";
import { formatText } from "./text.ts";
// LIKE and regular expressions have one implementation each, in functions/ (bounded matchers).
import { likeMatch } from "../functions/patterns.ts";
import { regexMatch } from "../functions/regexp.ts";

export interface Resolved {
  /** Result type. */
  type: SqlType;
  /** Operand types the arguments must be cast to before `fn` sees them. */
  argTypes: SqlType[];
  fn: (args: Datum[]) => Datum;
}

function divZero(): PgError {
  return new PgError("division_by_zero", "division by zero");
}

function intArith(op: string, oid: number): (a: Datum[]) => Datum {
  const chk = (n: number): number => checkIntRange(oid, n);
  switch (op) {
    case "+":
      return ([a, b]) => chk((a as number) + (b as number));
    case "-":
      return ([a, b]) => chk((a as number) - (b as number));
    case "*":
      return ([a, b]) => {
        const r = (a as number) * (b as number);
        if (!Number.isSafeInteger(r)) return chk(Number(BigInt(a as number) * BigInt(b as number)));
        return chk(r);
      };
    case "/":
      return ([a, b]) => {
        if (b === 0) throw divZero();
        return chk(Math.trunc((a as number) / (b as number)));
      };
    case "%":
      return ([a, b]) => {
        if (b === 0) throw divZero();
        const r = (a as number) % (b as number);
        return r === 0 ? 0 : r;
      };
  }
  throw new PgError("internal_error", `no integer operator ${op}`);
}

function int8Arith(op: string): (a: Datum[]) => Datum {
  switch (op) {
    case "+":
      return ([a, b]) => checkInt8((a as bigint) + (b as bigint));
    case "-":
      return ([a, b]) => checkInt8((a as bigint) - (b as bigint));
    case "*":
      return ([a, b]) => checkInt8((a as bigint) * (b as bigint));
    case "/":
      return ([a, b]) => {
        if (b === 0n) throw divZero();
        return checkInt8((a as bigint) / (b as bigint));
      };
    case "%":
      return ([a, b]) => {
        if (b === 0n) throw divZero();
        return (a as bigint) % (b as bigint);
      };
  }
  throw new PgError("internal_error", `no bigint operator ${op}`);
}

function floatArith(op: string, f4: boolean): (a: Datum[]) => Datum {
  const chk = (r: number, a: number, b: number): number => {
    if (!Number.isFinite(r) && Number.isFinite(a) && Number.isFinite(b)) throw new PgError("numeric_value_out_of_range", "value out of range: overflow");
    return f4 ? Math.fround(r) : r;
  };
  switch (op) {
    case "+":
      return ([a, b]) => chk((a as number) + (b as number), a as number, b as number);
    case "-":
      return ([a, b]) => chk((a as number) - (b as number), a as number, b as number);
    case "*":
      return ([a, b]) => chk((a as number) * (b as number), a as number, b as number);
    case "/":
      return ([a, b]) => {
        if (b === 0) throw divZero();
        return chk((a as number) / (b as number), a as number, b as number);
      };
    case "%":
      return ([a, b]) => {
        if (b === 0) throw divZero();
        return (a as number) % (b as number);
      };
  }
  throw new PgError("internal_error", `no float operator ${op}`);
}

function numericArith(op: string): (a: Datum[]) => Datum {
  switch (op) {
    case "+":
      return ([a, b]) => (a as Numeric).add(b as Numeric);
    case "-":
      return ([a, b]) => (a as Numeric).sub(b as Numeric);
    case "*":
      return ([a, b]) => (a as Numeric).mul(b as Numeric);
    case "/":
      return ([a, b]) => {
        if ((b as Numeric).sign() === 0 && (b as Numeric).isFinite()) throw divZero();
        return (a as Numeric).div(b as Numeric);
      };
    case "%":
      return ([a, b]) => {
        if ((b as Numeric).sign() === 0 && (b as Numeric).isFinite()) throw divZero();
        return (a as Numeric).mod(b as Numeric);
      };
  }
  throw new PgError("internal_error", `no numeric operator ${op}`);
}

function higher(a: SqlType, b: SqlType): SqlType {
  return numericRank(a) >= numericRank(b) ? a : b;
}

function plain(t: SqlType): SqlType {
  return t.typmod === -1 && t.elem === undefined ? t : t.elem !== undefined ? t : { oid: t.oid, name: t.name, typmod: -1 };
}

/** Resolves an unknown-typed literal operand against the other operand's type. */
function settleUnknown(l: SqlType, r: SqlType): [SqlType, SqlType] {
  if (l.oid === Oid.unknown && r.oid === Oid.unknown) return [Types.text, Types.text];
  if (l.oid === Oid.unknown) return [plain(r), r];
  if (r.oid === Oid.unknown) return [l, plain(l)];
  return [l, r];
}

const COMPARISONS: Record<string, (c: number) => boolean> = {
  "=": (c) => c === 0,
  "<>": (c) => c !== 0,
  "!=": (c) => c !== 0,
  "<": (c) => c < 0,
  "<=": (c) => c <= 0,
  ">": (c) => c > 0,
  ">=": (c) => c >= 0,
};

function comparable(l: SqlType, r: SqlType): SqlType | null {
  if (l.oid === r.oid) return l.elem !== undefined ? l : plain(l);
  if (isNumericCategory(l) && isNumericCategory(r)) return plain(higher(l, r));
  if (isStringType(l) && isStringType(r)) return Types.text;
  const dt = [Oid.date, Oid.timestamp, Oid.timestamptz];
  if (dt.includes(l.oid as 1082) && dt.includes(r.oid as 1082)) return Types.timestamptz;
  return null;
}

function undefinedOperator(op: string, l: SqlType | null, r: SqlType): PgError {
  const shown = l === null ? `${op} ${formatType(r)}` : `${formatType(l)} ${op} ${formatType(r)}`;
  return new PgError("undefined_function", `operator does not exist: ${shown}`, {
    hint: "No operator matches the given name and argument types. You might need to add explicit type casts.",
  });
}

export function resolveBinaryOperator(op: string, lIn: SqlType, rIn: SqlType): Resolved {
  const [l, r] = settleUnknown(lIn, rIn);
  const cmp = COMPARISONS[op];
  if (cmp !== undefined) {
    const t = comparable(l, r);
    if (t === null) throw undefinedOperator(op, lIn, rIn);
    return { type: Types.bool, argTypes: [t, t], fn: ([a, b]) => cmp(compareDatums(a!, b!)) };
  }
  if (["+", "-", "*", "/", "%"].includes(op) && isNumericCategory(l) && isNumericCategory(r)) {
    const t = plain(higher(l, r));
    switch (t.oid) {
      case Oid.int2:
      case Oid.int4:
        return { type: t, argTypes: [t, t], fn: intArith(op, t.oid) };
      case Oid.int8:
        return { type: t, argTypes: [t, t], fn: int8Arith(op) };
      case Oid.numeric:
        return { type: t, argTypes: [t, t], fn: numericArith(op) };
      case Oid.float4:
      case Oid.float8:
        return { type: t, argTypes: [t, t], fn: floatArith(op, t.oid === Oid.float4) };
    }
  }
  if (op === "||") {
    if (l.elem !== undefined || r.elem !== undefined) {
      const t = l.elem !== undefined ? l : r;
      return {
        type: t,
        argTypes: [l.elem !== undefined ? l : t.elem!, r.elem !== undefined ? r : t.elem!],
        fn: ([a, b]) => [...(l.elem !== undefined ? (a as Datum[]) : [a!]), ...(r.elem !== undefined ? (b as Datum[]) : [b!])],
      };
    }
    if (isStringType(l) || isStringType(r)) {
      const lf = castFn(l, Types.text, true);
      const rf = castFn(r, Types.text, true);
      return { type: Types.text, argTypes: [l, r], fn: ([a, b]) => (lf(a!) as string) + (rf(b!) as string) };
    }
  }
  if (["~~", "!~~", "~~*", "!~~*"].includes(op) && isStringType(l) && isStringType(r)) {
    const neg = op.startsWith("!");
    const ins = op.endsWith("*");
    return { type: Types.bool, argTypes: [Types.text, Types.text], fn: ([a, b]) => likeMatch(a as string, b as string, ins) !== neg };
  }
  if (["~", "!~", "~*", "!~*"].includes(op) && isStringType(l) && isStringType(r)) {
    const neg = op.startsWith("!");
    const insensitive = op.endsWith("*");
    return { type: Types.bool, argTypes: [Types.text, Types.text], fn: ([a, b]) => regexMatch(a as string, b as string, insensitive) !== neg };
  }
  if ((op === "&" || op === "|" || op === "#" || op === "<<" || op === ">>") && isIntType(l) && isIntType(r)) {
    const t = plain(higher(l, r));
    const big = t.oid === Oid.int8;
    const f = (a: bigint, b: bigint): bigint =>
      op === "&" ? a & b : op === "|" ? a | b : op === "#" ? a ^ b : op === "<<" ? a << b : a >> b;
    return {
      type: t,
      argTypes: [t, op === "<<" || op === ">>" ? Types.int4 : t],
      fn: ([a, b]) => (big ? BigInt.asIntN(64, f(a as bigint, BigInt(b as number | bigint))) : Number(BigInt.asIntN(t.oid === Oid.int2 ? 16 : 32, f(BigInt(a as number), BigInt(b as number))))),
    };
  }
  throw undefinedOperator(op, lIn, rIn);
}

export function resolveUnaryOperator(op: string, tIn: SqlType): Resolved {
  const t = tIn.oid === Oid.unknown ? Types.numeric : tIn;
  if (op === "+" && isNumericCategory(t)) return { type: t, argTypes: [t], fn: ([a]) => a! };
  if (op === "-" && isNumericCategory(t)) {
    switch (t.oid) {
      case Oid.int2:
      case Oid.int4:
        return { type: plain(t), argTypes: [t], fn: ([a]) => checkIntRange(t.oid, -(a as number) || 0) };
      case Oid.int8:
        return { type: t, argTypes: [t], fn: ([a]) => checkInt8(-(a as bigint)) };
      case Oid.numeric:
        return { type: plain(t), argTypes: [t], fn: ([a]) => (a as Numeric).neg() };
      default:
        return { type: t, argTypes: [t], fn: ([a]) => -(a as number) };
    }
  }
  if (op === "@" && isNumericCategory(t)) {
    return { type: t, argTypes: [t], fn: ([a]) => (typeof a === "bigint" ? (a < 0n ? -a : a) : a instanceof Numeric ? a.abs() : Math.abs(a as number)) };
  }
  if (op === "~" && isIntType(t)) return { type: t, argTypes: [t], fn: ([a]) => (typeof a === "bigint" ? ~a : ~(a as number)) };
  throw undefinedOperator(op, null, tIn);
}

/** The text form used when an operator needs a string of a datum (error messages, casts). */
export function datumText(t: SqlType, d: Datum): string {
  return formatText(t, d) ?? "NULL";
}
