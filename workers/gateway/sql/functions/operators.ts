// The operator catalog (what pg_operator holds for the supported types) and its resolution:
// `resolveOperator("+", int4, numeric)` picks numeric + numeric exactly as Postgres would and
// says which conversions the binder must insert.
//
// Same-type operators are registered per type; mixed-type expressions resolve through implicit
// casts (int4 + int8 → int8 + int8), which yields Postgres's result types for the supported
// types. `= ANY`, IS [NOT] DISTINCT FROM, AND/OR/NOT and BETWEEN are syntax the engine expands
// into these operators.

import { PgError } from "../../../../common/errors.ts";
import { castFunction, type CastFn } from "../types/cast.ts";
import { compareDatums } from "../types/compare.ts";
import type { EvalContext } from "../types/context.ts";
import { Jsonb, MICROS_PER_DAY, TimeTz, interval, type Datum, type Interval } from "../types/datum.ts";
import { wrapTimeOfDay } from "../types/time-text.ts";
import { Numeric } from "../types/numeric.ts";
import { formatText } from "../types/text-io.ts";
import { Oid, Types, formatType, arrayOf, type SqlType } from "../types/type.ts";
import { floatArith, floatPower, int8Arith, numericArith, numericPower, smallIntArith, type ArithOp } from "./arith.ts";
import { addIntervals, divideInterval, multiplyInterval, negateInterval, timestampDifference, timestampPlusInterval, timestamptzPlusInterval } from "./interval-math.ts";
import {
  jsonbConcat, jsonbContains, jsonbDeleteIndex, jsonbDeleteKey, jsonbElement, jsonbExists, jsonbField, jsonbPath,
  jsonbText, jsonTextOf,
} from "./json-functions.ts";
import { parseJsonb } from "../types/json.ts";
import { likeMatch } from "./patterns.ts";
import { regexMatch } from "./regexp.ts";
import { cachedResolution, selectCandidate, typeKey, type ArgSpec, type Candidate, type Volatility } from "./resolve.ts";
import { arrayCat, arrayContains, arrayOverlaps } from "./array-functions.ts";
import { checkTextLength } from "./value-limits.ts";

const binary = new Map<string, Candidate[]>();
const unary = new Map<string, Candidate[]>();
/**
 * The two-operand implementation behind each candidate `op` declares: a resolved operator calls
 * it directly, without building the argument arrays Candidate.eval takes (operators run per row).
 */
const binaryImpl = new Map<Candidate, (a: Datum, b: Datum, ctx: EvalContext) => Datum>();
const prefixImpl = new Map<Candidate, (a: Datum) => Datum>();

function add(table: Map<string, Candidate[]>, c: Candidate): void {
  const list = table.get(c.name) ?? [];
  list.push(c);
  table.set(c.name, list);
}

function op(
  name: string,
  left: ArgSpec,
  right: ArgSpec,
  result: Candidate["result"],
  fn: (a: Datum, b: Datum, ctx: EvalContext) => Datum,
  volatility: Volatility = "immutable",
): void {
  const c: Candidate = { name, args: [left, right], result, volatility, strict: true, eval: (args, ctx) => fn(args[0]!, args[1]!, ctx) };
  add(binary, c);
  binaryImpl.set(c, fn);
}

function prefix(name: string, arg: ArgSpec, result: SqlType, fn: (a: Datum) => Datum): void {
  const c: Candidate = { name, args: [arg], result, volatility: "immutable", strict: true, eval: (args) => fn(args[0]!) };
  add(unary, c);
  prefixImpl.set(c, fn);
}

// ---- arithmetic ----

const ARITH: ArithOp[] = ["+", "-", "*", "/", "%"];
for (const t of [Types.int2, Types.int4]) {
  for (const o of ARITH) op(o, t, t, t, (a, b) => smallIntArith(o, a as number, b as number, t.oid));
  prefix("-", t, t, (a) => smallIntArith("-", 0, a as number, t.oid));
  prefix("+", t, t, (a) => a);
  prefix("@", t, t, (a) => smallIntArith("+", 0, Math.abs(a as number), t.oid));
  op("&", t, t, t, (a, b) => (a as number) & (b as number));
  op("|", t, t, t, (a, b) => (a as number) | (b as number));
  op("#", t, t, t, (a, b) => (a as number) ^ (b as number));
  op("<<", t, Types.int4, t, (a, b) => smallIntArith("+", 0, t.oid === Oid.int2 ? ((((a as number) << (b as number)) << 16) >> 16) : (a as number) << (b as number), t.oid));
  op(">>", t, Types.int4, t, (a, b) => (a as number) >> (b as number));
  prefix("~", t, t, (a) => ~(a as number));
}
for (const o of ARITH) op(o, Types.int8, Types.int8, Types.int8, (a, b) => int8Arith(o, a as bigint, b as bigint));
prefix("-", Types.int8, Types.int8, (a) => int8Arith("-", 0n, a as bigint));
prefix("+", Types.int8, Types.int8, (a) => a);
prefix("@", Types.int8, Types.int8, (a) => int8Arith("+", 0n, (a as bigint) < 0n ? -(a as bigint) : (a as bigint)));
op("&", Types.int8, Types.int8, Types.int8, (a, b) => (a as bigint) & (b as bigint));
op("|", Types.int8, Types.int8, Types.int8, (a, b) => (a as bigint) | (b as bigint));
op("#", Types.int8, Types.int8, Types.int8, (a, b) => (a as bigint) ^ (b as bigint));
op("<<", Types.int8, Types.int4, Types.int8, (a, b) => BigInt.asIntN(64, (a as bigint) << BigInt((b as number) & 63)));
op(">>", Types.int8, Types.int4, Types.int8, (a, b) => (a as bigint) >> BigInt((b as number) & 63));
prefix("~", Types.int8, Types.int8, (a) => ~(a as bigint));

for (const t of [Types.float4, Types.float8]) {
  for (const o of ["+", "-", "*", "/"] as const) op(o, t, t, t, (a, b) => floatArith(o, a as number, b as number, t.oid === Oid.float4));
  prefix("-", t, t, (a) => -(a as number));
  prefix("+", t, t, (a) => a);
  prefix("@", t, t, (a) => Math.abs(a as number));
}
// real with double precision (PostgreSQL's float48pl, float84eq, …): computed in double precision.
// They also decide an integer with a real: the integer goes to double precision, where the
// preferred type of the numeric category wins (1 + 1.5::real is double precision, and
// 16777217 = 16777216::real is false), as PostgreSQL resolves it.
for (const [l, r] of [[Types.float4, Types.float8], [Types.float8, Types.float4]] as const) {
  for (const o of ["+", "-", "*", "/"] as const) op(o, l, r, Types.float8, (a, b) => floatArith(o, a as number, b as number, false));
}
op("^", Types.float8, Types.float8, Types.float8, (a, b) => floatPower(a as number, b as number));
prefix("|/", Types.float8, Types.float8, (a) => {
  if ((a as number) < 0) throw new PgError("invalid_argument_for_power_function", "cannot take square root of a negative number");
  return Math.sqrt(a as number);
});
prefix("||/", Types.float8, Types.float8, (a) => Math.cbrt(a as number));

for (const o of ARITH) op(o, Types.numeric, Types.numeric, Types.numeric, (a, b) => numericArith(o, a as Numeric, b as Numeric));
op("^", Types.numeric, Types.numeric, Types.numeric, (a, b) => numericPower(a as Numeric, b as Numeric));
prefix("-", Types.numeric, Types.numeric, (a) => (a as Numeric).neg());
prefix("+", Types.numeric, Types.numeric, (a) => a);
prefix("@", Types.numeric, Types.numeric, (a) => (a as Numeric).abs());

// ---- dates, timestamps, intervals ----

function dateOutOfRange(): PgError {
  return new PgError("datetime_field_overflow", "date out of range");
}
const addDays = (d: number, n: number): number => {
  if (!Number.isFinite(d)) return d;
  const r = d + n;
  if (r < -2451545 - 2440588 || r > 2147483647 - 2451545) throw dateOutOfRange();
  return r;
};
op("+", Types.date, Types.int4, Types.date, (a, b) => addDays(a as number, b as number));
op("+", Types.int4, Types.date, Types.date, (a, b) => addDays(b as number, a as number));
op("-", Types.date, Types.int4, Types.date, (a, b) => addDays(a as number, -(b as number)));
op("-", Types.date, Types.date, Types.int4, (a, b) => {
  if (!Number.isFinite(a as number) || !Number.isFinite(b as number)) throw new PgError("datetime_field_overflow", "cannot subtract infinite dates");
  return (a as number) - (b as number);
});
const dateToTs = (d: number): bigint => BigInt(d) * MICROS_PER_DAY;
op("+", Types.date, Types.interval, Types.timestamp, (a, b) => timestampPlusInterval(dateToTs(a as number), b as Interval));
op("+", Types.interval, Types.date, Types.timestamp, (a, b) => timestampPlusInterval(dateToTs(b as number), a as Interval));
op("-", Types.date, Types.interval, Types.timestamp, (a, b) => timestampPlusInterval(dateToTs(a as number), negateInterval(b as Interval)));

op("+", Types.timestamp, Types.interval, Types.timestamp, (a, b) => timestampPlusInterval(a as bigint, b as Interval));
op("+", Types.interval, Types.timestamp, Types.timestamp, (a, b) => timestampPlusInterval(b as bigint, a as Interval));
op("-", Types.timestamp, Types.interval, Types.timestamp, (a, b) => timestampPlusInterval(a as bigint, negateInterval(b as Interval)));
op("-", Types.timestamp, Types.timestamp, Types.interval, (a, b) => timestampDifference(a as bigint, b as bigint));
op("+", Types.timestamptz, Types.interval, Types.timestamptz, (a, b, ctx) => timestamptzPlusInterval(a as bigint, b as Interval, ctx.timeZone), "stable");
op("+", Types.interval, Types.timestamptz, Types.timestamptz, (a, b, ctx) => timestamptzPlusInterval(b as bigint, a as Interval, ctx.timeZone), "stable");
op("-", Types.timestamptz, Types.interval, Types.timestamptz, (a, b, ctx) => timestamptzPlusInterval(a as bigint, negateInterval(b as Interval), ctx.timeZone), "stable");
op("-", Types.timestamptz, Types.timestamptz, Types.interval, (a, b) => timestampDifference(a as bigint, b as bigint));

op("+", Types.interval, Types.interval, Types.interval, (a, b) => addIntervals(a as Interval, b as Interval));
op("-", Types.interval, Types.interval, Types.interval, (a, b) => addIntervals(a as Interval, negateInterval(b as Interval)));
op("*", Types.interval, Types.float8, Types.interval, (a, b) => multiplyInterval(a as Interval, b as number));
op("*", Types.float8, Types.interval, Types.interval, (a, b) => multiplyInterval(b as Interval, a as number));
op("/", Types.interval, Types.float8, Types.interval, (a, b) => divideInterval(a as Interval, b as number));
prefix("-", Types.interval, Types.interval, (a) => negateInterval(a as Interval));
prefix("+", Types.interval, Types.interval, (a) => a);

// time and timetz arithmetic wraps around midnight and reads only the interval's time part, as
// Postgres's time_pl_interval does; date + time makes a timestamp, date + timetz a timestamptz.
const timePlus = (t: bigint, iv: Interval, sign: 1n | -1n): bigint => wrapTimeOfDay(t + sign * iv.micros);
const timeTzPlus = (t: TimeTz, iv: Interval, sign: 1n | -1n): TimeTz => new TimeTz(timePlus(t.micros, iv, sign), t.offsetSeconds);
op("+", Types.time, Types.interval, Types.time, (a, b) => timePlus(a as bigint, b as Interval, 1n));
op("+", Types.interval, Types.time, Types.time, (a, b) => timePlus(b as bigint, a as Interval, 1n));
op("-", Types.time, Types.interval, Types.time, (a, b) => timePlus(a as bigint, b as Interval, -1n));
op("-", Types.time, Types.time, Types.interval, (a, b) => interval(0, 0, (a as bigint) - (b as bigint)));
op("+", Types.timetz, Types.interval, Types.timetz, (a, b) => timeTzPlus(a as TimeTz, b as Interval, 1n));
op("+", Types.interval, Types.timetz, Types.timetz, (a, b) => timeTzPlus(b as TimeTz, a as Interval, 1n));
op("-", Types.timetz, Types.interval, Types.timetz, (a, b) => timeTzPlus(a as TimeTz, b as Interval, -1n));
op("+", Types.date, Types.time, Types.timestamp, (a, b) => dateToTs(a as number) + (b as bigint));
op("+", Types.time, Types.date, Types.timestamp, (a, b) => dateToTs(b as number) + (a as bigint));
op("+", Types.date, Types.timetz, Types.timestamptz, (a, b) => dateToTs(a as number) + (b as TimeTz).utcMicros());
op("+", Types.timetz, Types.date, Types.timestamptz, (a, b) => dateToTs(b as number) + (a as TimeTz).utcMicros());

// ---- comparison ----

const COMPARABLE: SqlType[] = [
  Types.bool, Types.int2, Types.int4, Types.int8, Types.oid, Types.float4, Types.float8, Types.numeric, Types.text,
  Types.bpchar, Types.char, Types.bytea, Types.date, Types.timestamp, Types.timestamptz, Types.interval, Types.uuid,
  Types.jsonb, Types.time, Types.timetz,
];
const COMPARISONS: Array<[string, (c: number) => boolean]> = [
  ["=", (c) => c === 0], ["<>", (c) => c !== 0], ["<", (c) => c < 0], ["<=", (c) => c <= 0], [">", (c) => c > 0], [">=", (c) => c >= 0],
];
for (const t of COMPARABLE) {
  for (const [name, test] of COMPARISONS) op(name, t, t, Types.bool, (a, b) => test(compareDatums(a, b, t)));
}
for (const [l, r] of [[Types.float4, Types.float8], [Types.float8, Types.float4]] as const) {
  for (const [name, test] of COMPARISONS) op(name, l, r, Types.bool, (a, b) => test(compareDatums(a, b, Types.float8)));
}
// Array comparisons are polymorphic; resolveOperator binds their eval to the element type.
for (const [name] of COMPARISONS) {
  add(binary, { name, args: ["anyarray", "anyarray"], result: Types.bool, volatility: "immutable", strict: true, eval: () => null });
}

// ---- strings ----

/** text || text within the bound on one value (54000 past it, never V8's "Invalid string length"). */
function concatText(a: string, b: string): string {
  checkTextLength(a.length + b.length);
  return a + b;
}
op("||", Types.text, Types.text, Types.text, (a, b) => concatText(a as string, b as string));
op("||", Types.text, "anynonarray", Types.text, (a, b) => concatText(a as string, String(b)));
op("||", "anynonarray", Types.text, Types.text, (a, b) => concatText(String(a), b as string));
for (const [name, insensitive, negate] of [["~~", false, false], ["!~~", false, true], ["~~*", true, false], ["!~~*", true, true]] as const) {
  op(name, Types.text, Types.text, Types.bool, (a, b) => likeMatch(a as string, b as string, insensitive) !== negate);
  // Postgres matches a character(n) value with its padding (bpcharlike, bpcharregexeq).
  op(name, Types.bpchar, Types.text, Types.bool, (a, b) => likeMatch(a as string, b as string, insensitive) !== negate);
  op(name, Types.bytea, Types.bytea, Types.bool, (a, b) => likeMatch(latin1(a as Uint8Array), latin1(b as Uint8Array), insensitive) !== negate);
}
for (const [name, insensitive, negate] of [["~", false, false], ["!~", false, true], ["~*", true, false], ["!~*", true, true]] as const) {
  op(name, Types.text, Types.text, Types.bool, (a, b) => regexMatch(a as string, b as string, insensitive) !== negate);
  op(name, Types.bpchar, Types.text, Types.bool, (a, b) => regexMatch(a as string, b as string, insensitive) !== negate);
}
op("^@", Types.text, Types.text, Types.bool, (a, b) => (a as string).startsWith(b as string));

function latin1(b: Uint8Array): string {
  return String.fromCharCode(...b);
}

// ---- jsonb and json ----

const jv = (d: Datum) => (d as Jsonb).value;
const orNull = <T>(v: T | undefined, f: (x: T) => Datum): Datum => (v === undefined ? null : f(v));
op("->", Types.jsonb, Types.text, Types.jsonb, (a, b) => orNull(jsonbField(jv(a), b as string), (v) => new Jsonb(v)));
op("->", Types.jsonb, Types.int4, Types.jsonb, (a, b) => orNull(jsonbElement(jv(a), b as number), (v) => new Jsonb(v)));
op("->>", Types.jsonb, Types.text, Types.text, (a, b) => jsonbText(jsonbField(jv(a), b as string)));
op("->>", Types.jsonb, Types.int4, Types.text, (a, b) => jsonbText(jsonbElement(jv(a), b as number)));
op("#>", Types.jsonb, arrayOf(Types.text), Types.jsonb, (a, b) => orNull(jsonbPath(jv(a), b as Datum[]), (v) => new Jsonb(v)));
op("#>>", Types.jsonb, arrayOf(Types.text), Types.text, (a, b) => jsonbText(jsonbPath(jv(a), b as Datum[])));
op("@>", Types.jsonb, Types.jsonb, Types.bool, (a, b) => jsonbContains(jv(a), jv(b)));
op("<@", Types.jsonb, Types.jsonb, Types.bool, (a, b) => jsonbContains(jv(b), jv(a)));
op("?", Types.jsonb, Types.text, Types.bool, (a, b) => jsonbExists(jv(a), b as string));
op("?|", Types.jsonb, arrayOf(Types.text), Types.bool, (a, b) => (b as Datum[]).some((k) => k !== null && jsonbExists(jv(a), k as string)));
op("?&", Types.jsonb, arrayOf(Types.text), Types.bool, (a, b) => (b as Datum[]).every((k) => k !== null && jsonbExists(jv(a), k as string)));
op("||", Types.jsonb, Types.jsonb, Types.jsonb, (a, b) => new Jsonb(jsonbConcat(jv(a), jv(b))));
op("-", Types.jsonb, Types.text, Types.jsonb, (a, b) => new Jsonb(jsonbDeleteKey(jv(a), b as string)));
op("-", Types.jsonb, Types.int4, Types.jsonb, (a, b) => new Jsonb(jsonbDeleteIndex(jv(a), b as number)));
const js = (d: Datum) => parseJsonb(d as string).value;
op("->", Types.json, Types.text, Types.json, (a, b) => jsonTextOf(jsonbField(js(a), b as string)));
op("->", Types.json, Types.int4, Types.json, (a, b) => jsonTextOf(jsonbElement(js(a), b as number)));
op("->>", Types.json, Types.text, Types.text, (a, b) => jsonbText(jsonbField(js(a), b as string)));
op("->>", Types.json, Types.int4, Types.text, (a, b) => jsonbText(jsonbElement(js(a), b as number)));

// ---- arrays (the element type comes from the instantiation; see resolveOperator) ----

const POLY_ARRAY_OPS = ["||", "@>", "<@", "&&"];
add(binary, { name: "||", args: ["anyarray", "anyarray"], result: (ts) => ts[0]!, volatility: "immutable", strict: false, eval: () => null });
add(binary, { name: "||", args: ["anyarray", "anynonarray"], result: (ts) => ts[0]!, volatility: "immutable", strict: false, eval: () => null });
add(binary, { name: "||", args: ["anynonarray", "anyarray"], result: (ts) => ts[1]!, volatility: "immutable", strict: false, eval: () => null });
for (const name of ["@>", "<@", "&&"]) {
  add(binary, { name, args: ["anyarray", "anyarray"], result: Types.bool, volatility: "immutable", strict: true, eval: () => null });
}

/** Binds the element type into polymorphic array operators (their eval needs it). */
function arrayOperatorEval(name: string, types: readonly SqlType[]): ((a: Datum, b: Datum) => Datum) | null {
  const [lt, rt] = types as [SqlType, SqlType];
  if (lt.elem === undefined && rt.elem === undefined) return null;
  const elem = (lt.elem ?? rt.elem)!;
  switch (name) {
    case "||":
      if (lt.elem !== undefined && rt.elem !== undefined) return (a, b) => (a === null ? b : b === null ? a : arrayCat(a as Datum[], b as Datum[]));
      if (lt.elem !== undefined) return (a, b) => [...((a as Datum[] | null) ?? []), b];
      return (a, b) => [a, ...((b as Datum[] | null) ?? [])];
    case "@>": return (a, b) => arrayContains(a as Datum[], b as Datum[], elem);
    case "<@": return (a, b) => arrayContains(b as Datum[], a as Datum[], elem);
    case "&&": return (a, b) => arrayOverlaps(a as Datum[], b as Datum[], elem);
  }
  const cmp = COMPARISONS.find(([n]) => n === name);
  if (cmp !== undefined) return (a, b) => cmp[1](compareDatums(a, b, lt));
  return null;
}

// ---- resolution ----

export interface ResolvedOperator {
  readonly name: string;
  readonly resultType: SqlType;
  /** The operand types the operator is defined on; the binder converts operands to them. */
  readonly leftType: SqlType;
  readonly rightType: SqlType;
  /** Conversion for the left operand, when its type differs from leftType (null otherwise). */
  readonly leftCast: CastFn | null;
  readonly rightCast: CastFn | null;
  readonly volatility: Volatility;
  /** Strict operators yield NULL for a NULL operand without calling eval. */
  readonly strict: boolean;
  /** Evaluates on already-converted operands (NULLs reach eval only when strict is false). */
  eval(a: Datum, b: Datum, ctx: EvalContext): Datum;
}

export interface ResolvedUnaryOperator {
  readonly name: string;
  readonly resultType: SqlType;
  readonly argType: SqlType;
  readonly argCast: CastFn | null;
  readonly volatility: Volatility;
  eval(a: Datum, ctx: EvalContext): Datum;
}

function castIfNeeded(from: SqlType, to: SqlType): CastFn | null {
  if (from.oid === to.oid && (to.typmod < 0 || from.typmod === to.typmod)) return null;
  return castFunction(from, to, "implicit");
}

function noOperator(describe: string): PgError {
  return new PgError("undefined_function", `operator does not exist: ${describe}`, {
    hint: "No operator matches the given name and argument types. You might need to add explicit type casts.",
  });
}

/**
 * Resolves a binary operator for operand types (after the parser: LIKE is ~~, ILIKE ~~*,
 * SIMILAR TO is ~ with similar_to_escape(), NOT LIKE !~~). Throws 42883 when none applies,
 * 42725 when ambiguous. Each choice is made once per isolate (cachedResolution).
 */
export function resolveOperator(name: string, left: SqlType, right: SqlType): ResolvedOperator {
  return cachedResolution(`op ${name} ${typeKey(left)} ${typeKey(right)}`, () => chooseOperator(name, left, right));
}

function chooseOperator(name: string, left: SqlType, right: SqlType): ResolvedOperator {
  const describe = `${formatType(left)} ${name} ${formatType(right)}`;
  const enumOp = enumComparison(name, left, right);
  if (enumOp !== null) return enumOp;
  const candidates = binary.get(name);
  if (candidates === undefined) throw noOperator(describe);
  const r = selectCandidate(candidates, [left, right], () => `operator is not unique: ${describe}`, true);
  if (r === null) throw noOperator(describe);
  const [lt, rt] = r.argTypes as [SqlType, SqlType];
  const poly = r.candidate.args.some((a) => a === "anyarray");
  let evalFn: (a: Datum, b: Datum, ctx: EvalContext) => Datum;
  if (poly && (POLY_ARRAY_OPS.includes(name) || COMPARISONS.some(([n]) => n === name))) {
    evalFn = arrayOperatorEval(name, [lt, rt])!;
  } else if (r.candidate.args.some((a) => a === "anynonarray") && name === "||") {
    // text || non-text: Postgres's textanycat/anytextcat are `$1 || $2::text`, so the non-text
    // side goes through its cast to text: the output function for most types, but bool's cast
    // gives 'true'/'false' ('a' || true is 'atrue'), not its output 't'/'f'.
    const other = r.candidate.args[0] === "anynonarray" ? lt : rt;
    const textLeft = r.candidate.args[0] !== "anynonarray";
    let toText: (d: Datum, ctx: EvalContext) => Datum;
    try {
      toText = castFunction(other, Types.text);
    } catch {
      toText = (d, ctx) => formatText(d, other, ctx);
    }
    evalFn = (a, b, ctx) => {
      const s = toText(textLeft ? b : a, ctx) as string;
      return textLeft ? (a as string) + s : s + (b as string);
    };
  } else {
    const c = r.candidate;
    const types = [lt, rt];
    evalFn = binaryImpl.get(c) ?? ((a, b, ctx) => c.eval([a, b], ctx, types));
  }
  return {
    name,
    resultType: r.resultType,
    leftType: lt,
    rightType: rt,
    leftCast: castIfNeeded(left, lt),
    rightCast: castIfNeeded(right, rt),
    volatility: r.candidate.volatility,
    strict: r.candidate.strict,
    eval: evalFn,
  };
}

/**
 * Comparisons of an enum type with itself (Postgres's anyenum operators enum_eq, enum_lt, …): by
 * the labels' sort order. An untyped literal on one side takes the enum type, as in Postgres.
 */
function enumComparison(name: string, left: SqlType, right: SqlType): ResolvedOperator | null {
  const t = left.enum !== undefined ? left : right.enum !== undefined ? right : undefined;
  const cmp = COMPARISONS.find(([n]) => n === name);
  if (t === undefined || cmp === undefined) return null;
  const fits = (x: SqlType): boolean => x.oid === t.oid || x.oid === Oid.unknown;
  if (!fits(left) || !fits(right)) return null;
  const test = cmp[1];
  return {
    name,
    resultType: Types.bool,
    leftType: t,
    rightType: t,
    leftCast: castIfNeeded(left, t),
    rightCast: castIfNeeded(right, t),
    volatility: "immutable",
    strict: true,
    eval: (a, b) => test(compareDatums(a, b, t)),
  };
}

export function resolveUnaryOperator(name: string, arg: SqlType): ResolvedUnaryOperator {
  return cachedResolution(`prefix ${name} ${typeKey(arg)}`, () => chooseUnaryOperator(name, arg));
}

function chooseUnaryOperator(name: string, arg: SqlType): ResolvedUnaryOperator {
  const describe = `${name} ${formatType(arg)}`;
  const candidates = unary.get(name);
  if (candidates === undefined) throw noOperator(describe);
  const r = selectCandidate(candidates, [arg], () => `operator is not unique: ${describe}`);
  if (r === null) throw noOperator(describe);
  const c = r.candidate;
  const direct = prefixImpl.get(c);
  return {
    name,
    resultType: r.resultType,
    argType: r.argTypes[0]!,
    argCast: castIfNeeded(arg, r.argTypes[0]!),
    volatility: c.volatility,
    eval: direct !== undefined ? (a) => direct(a) : (a, ctx) => c.eval([a], ctx, r.argTypes),
  };
}

/** Applies a resolved operator to raw operands: conversions, NULL rule, evaluation. */
export function applyOperator(o: ResolvedOperator, a: Datum, b: Datum, ctx: EvalContext): Datum {
  const l = o.leftCast !== null && a !== null ? o.leftCast(a, ctx) : a;
  const r = o.rightCast !== null && b !== null ? o.rightCast(b, ctx) : b;
  if (o.strict && (l === null || r === null)) return null;
  return o.eval(l, r, ctx);
}

