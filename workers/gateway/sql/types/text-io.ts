// Text I/O for every type: `parseText` is Postgres's input function (followed by the typmod
// coercion an INSERT or a typed parameter would apply), `formatText` is its output function,
// producing exactly the text Postgres sends in a DataRow (DateStyle ISO, IntervalStyle postgres,
// bytea_output hex, extra_float_digits 1).

import { PgError } from "../../../../common/errors.ts";
import { formatArray, parseArray } from "./array-text.ts";
import { type EvalContext, wallClockMicros } from "./context.ts";
import { Jsonb, type Datum, type Interval, type TimeTz } from "./datum.ts";
import { formatDate, formatTimestamp, formatTimestamptz, parseDate, parseTimestamp } from "./datetime-text.ts";
import { formatInterval, parseInterval } from "./interval-text.ts";
import { formatTime, formatTimeTz, parseTime, parseTimeTz } from "./time-text.ts";
import { formatJsonb, parseJson, parseJsonb } from "./json.ts";
import { Numeric } from "./numeric.ts";
import {
  INT2_MAX, INT2_MIN, INT4_MAX, INT4_MIN, formatBool, formatBytea, formatFloat, parseBool, parseBytea,
  parseFloat8, parseInt8, parseOid, parseSmallInt, parseUuid,
} from "./scalar-text.ts";
import { UTC } from "./timezone.ts";
import { formatReg, parseReg } from "./reg-text.ts";
import { Oid, enumSortOrder, formatType, isRegType, isVectorType, type SqlType } from "./type.ts";
import { applyTypmod } from "./typmod.ts";

/** The part of the evaluation context text I/O depends on. */
export type TextContext = Pick<EvalContext, "timeZone" | "transactionTimestamp" | "regCatalog">;

const defaultTextContext = (): TextContext => ({ timeZone: UTC, transactionTimestamp: wallClockMicros() });

/** Input function of the base type, without typmod. */
function parseBase(text: string, t: SqlType, ctx: TextContext): Datum {
  if (t.elem !== undefined && isVectorType(t)) {
    const elem = t.elem;
    return text.trim() === "" ? [] : text.trim().split(/\s+/).map((e) => parseText(e, elem, ctx));
  }
  if (t.elem !== undefined) {
    const elem = t.elem;
    return parseArray(text, (e) => parseText(e, elem, ctx));
  }
  if (isRegType(t.oid)) return parseReg(text, t.oid, ctx.regCatalog);
  if (t.enum !== undefined) {
    if (enumSortOrder(t, text) === undefined) throw new PgError("invalid_text_representation", `invalid input value for enum ${t.name}: "${text}"`);
    return text;
  }
  switch (t.oid) {
    case Oid.bool: return parseBool(text);
    case Oid.int2: return parseSmallInt(text, INT2_MIN, INT2_MAX, "smallint");
    case Oid.int4: return parseSmallInt(text, INT4_MIN, INT4_MAX, "integer");
    case Oid.int8: return parseInt8(text);
    case Oid.oid:
      return parseOid(text);
    case Oid.float4: return parseFloat8(text, true);
    case Oid.float8: return parseFloat8(text);
    case Oid.numeric: return Numeric.parse(text);
    case Oid.text:
    case Oid.varchar:
    case Oid.bpchar:
    case Oid.name:
    case Oid.unknown:
      return text;
    case Oid.char:
      // "char" keeps only the first byte; this keeps the first character.
      return text.length === 0 ? "" : String.fromCodePoint(text.codePointAt(0)!);
    case Oid.bytea: return parseBytea(text);
    case Oid.uuid: return parseUuid(text);
    case Oid.json: return parseJson(text);
    case Oid.jsonb: return parseJsonb(text);
    case Oid.date: return parseDate(text, ctx);
    case Oid.timestamp: return parseTimestamp(text, false, ctx);
    case Oid.timestamptz: return parseTimestamp(text, true, ctx);
    case Oid.interval: return parseInterval(text);
    case Oid.time: return parseTime(text, ctx);
    case Oid.timetz: return parseTimeTz(text, ctx);
    default:
      throw new PgError("feature_not_supported", `input of type ${formatType(t)} is not supported`);
  }
}

/**
 * Parses a value's text form into a Datum of type `t`, applying t's typmod as an assignment
 * would (so varchar(3) rejects 'abcd' with 22001). Errors carry Postgres's SQLSTATEs: 22P02 bad
 * syntax, 22003 out of range, 22007/22008 dates and times, 22001 too long.
 */
export function parseText(text: string, t: SqlType, ctx: TextContext = defaultTextContext()): Datum {
  const d = parseBase(text, t, ctx);
  return t.typmod >= 0 ? applyTypmod(d, t, false) : d;
}

/** The text Postgres prints for a non-null value `d` of type `t` (null → null). */
export function formatText(d: Datum, t: SqlType, ctx: Pick<EvalContext, "timeZone" | "regCatalog"> = { timeZone: UTC }): string | null {
  if (d === null) return null;
  if (t.elem !== undefined && isVectorType(t)) {
    const elem = t.elem;
    return (d as readonly Datum[]).map((e) => formatText(e, elem, ctx)!).join(" ");
  }
  if (t.elem !== undefined) {
    const elem = t.elem;
    return formatArray(d as readonly Datum[], (e) => formatText(e, elem, ctx)!);
  }
  if (isRegType(t.oid)) return formatReg(d as number, t.oid, ctx.regCatalog);
  if (t.enum !== undefined) return d as string;
  switch (t.oid) {
    case Oid.bool: return formatBool(d as boolean);
    case Oid.int2:
    case Oid.int4:
    case Oid.oid:
    case Oid.int8:
      return String(d);
    case Oid.float4: return formatFloat(d as number, true);
    case Oid.float8: return formatFloat(d as number);
    case Oid.numeric: return (d as Numeric).toString();
    case Oid.text:
    case Oid.varchar:
    case Oid.bpchar:
    case Oid.name:
    case Oid.char:
    case Oid.unknown:
    case Oid.uuid:
    case Oid.json:
      return d as string;
    case Oid.bytea: return formatBytea(d as Uint8Array);
    case Oid.jsonb: return formatJsonb(d as Jsonb);
    case Oid.date: return formatDate(d as number);
    case Oid.timestamp: return formatTimestamp(d as bigint);
    case Oid.timestamptz: return formatTimestamptz(d as bigint, ctx.timeZone);
    case Oid.interval: return formatInterval(d as Interval);
    case Oid.time: return formatTime(d as bigint);
    case Oid.timetz: return formatTimeTz(d as TimeTz);
    case Oid.record:
      return formatRecord(d as readonly Datum[]);
    case Oid.void:
      // A void-returning function's value prints as an empty string, as Postgres's void_out does.
      return "";
    default:
      throw new PgError("feature_not_supported", `output of type ${formatType(t)} is not supported`);
  }
}

/**
 * A row value `(1,"a b",)`: fields must already be text (the engine formats each field with its
 * own type first); NULL fields print as nothing, fields needing it are quoted with `"` doubled.
 */
function formatRecord(fields: readonly Datum[]): string {
  const parts = fields.map((f) => {
    if (f === null) return "";
    const s = String(f);
    if (s === "" || /[(),"\\\s]/.test(s)) return `"${s.replace(/(["\\])/g, "$1$1")}"`;
    return s;
  });
  return `(${parts.join(",")})`;
}
