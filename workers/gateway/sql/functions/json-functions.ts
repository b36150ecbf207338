// jsonb / json operators and functions: -> ->> #> #>> @> <@ ? ?| ?& || -, to_json(b),
// json(b)_build_object / _build_array, jsonb_typeof, jsonb_array_length.
// SQL values become JSON as Postgres's datum_to_json(b) does: numbers stay numbers (NaN and
// infinities become strings), date/time values use ISO 8601 with a T, arrays become JSON arrays.

import { PgError } from "../../../../common/errors.ts";
import { civilFromDays, splitMicros } from "../types/calendar.ts";
import { Jsonb, type Datum, type JsonObject, type JsonValue } from "../types/datum.ts";
import { formatDate, formatTimeOfDay } from "../types/datetime-text.ts";
import { compareJsonValues, formatJsonValue, isJsonObject, parseJsonb, quoteJsonString, sortedObject } from "../types/json.ts";
import { Numeric } from "../types/numeric.ts";
import { formatOffset, type TimeZone } from "../types/timezone.ts";
import { formatText } from "../types/text-io.ts";
import { Oid, type SqlType } from "../types/type.ts";
import { isFiniteTimestamp } from "../types/datum.ts";

// ---- SQL datum → JSON ----

function isoTimestamp(micros: bigint, zone: TimeZone | null): string {
  if (!isFiniteTimestamp(micros)) return micros > 0n ? "infinity" : "-infinity";
  const offset = zone === null ? 0 : zone.offsetAtUtc(micros);
  const { days, timeMicros } = splitMicros(micros + BigInt(offset) * 1_000_000n);
  const c = civilFromDays(days);
  const bc = c.year <= 0;
  const y = String(bc ? 1 - c.year : c.year).padStart(4, "0");
  const date = `${y}-${String(c.month).padStart(2, "0")}-${String(c.day).padStart(2, "0")}`;
  const tz = zone === null ? "" : formatOffset(offset, true);
  return `${date}T${formatTimeOfDay(timeMicros)}${tz}${bc ? " BC" : ""}`;
}

/** The JSON value Postgres makes of a SQL value (to_jsonb). */
export function datumToJson(d: Datum, t: SqlType, zone: TimeZone): JsonValue {
  if (d === null) return null;
  if (t.elem !== undefined) return (d as readonly Datum[]).map((e) => datumToJson(e, t.elem!, zone));
  switch (t.oid) {
    case Oid.bool:
      return d as boolean;
    case Oid.int2:
    case Oid.int4:
    case Oid.int8:
    case Oid.oid:
      return Numeric.fromInteger(d as number | bigint);
    case Oid.float4:
    case Oid.float8: {
      const x = d as number;
      return Number.isFinite(x) ? Numeric.parse(formatText(x, t)!) : formatText(x, t)!;
    }
    case Oid.numeric: {
      const n = d as Numeric;
      return n.isFinite() ? n : n.toString();
    }
    case Oid.jsonb:
      return (d as Jsonb).value;
    case Oid.json:
      return parseJsonb(d as string).value;
    case Oid.date:
      return formatDate(d as number);
    case Oid.timestamp:
      return isoTimestamp(d as bigint, null);
    case Oid.timestamptz:
      return isoTimestamp(d as bigint, zone);
    default:
      return formatText(d, t, { timeZone: zone })!;
  }
}

/** json (not jsonb) text of a SQL value: arrays compact ([1,2]), nested jsonb as jsonb prints. */
export function datumToJsonText(d: Datum, t: SqlType, zone: TimeZone): string {
  if (d === null) return "null";
  if (t.elem !== undefined) return `[${(d as readonly Datum[]).map((e) => datumToJsonText(e, t.elem!, zone)).join(",")}]`;
  if (t.oid === Oid.json) return d as string;
  const v = datumToJson(d, t, zone);
  return formatJsonValue(v);
}

export function jsonbBuildObject(args: readonly Datum[], types: readonly SqlType[], zone: TimeZone): Jsonb {
  if (args.length % 2 !== 0) {
    throw new PgError("invalid_parameter_value", "argument list must have even number of elements", {
      hint: "The arguments of jsonb_build_object() must consist of alternating keys and values.",
    });
  }
  const entries: Array<[string, JsonValue]> = [];
  for (let i = 0; i < args.length; i += 2) {
    const k = args[i]!;
    if (k === null) throw new PgError("invalid_parameter_value", `argument ${i + 1}: key must not be null`);
    entries.push([formatText(k, types[i]!, { timeZone: zone })!, datumToJson(args[i + 1]!, types[i + 1]!, zone)]);
  }
  return new Jsonb(sortedObject(entries));
}

export function jsonBuildObject(args: readonly Datum[], types: readonly SqlType[], zone: TimeZone): string {
  if (args.length % 2 !== 0) {
    throw new PgError("invalid_parameter_value", "argument list must have even number of elements", {
      hint: "The arguments of json_build_object() must consist of alternating keys and values.",
    });
  }
  const parts: string[] = [];
  for (let i = 0; i < args.length; i += 2) {
    const k = args[i]!;
    if (k === null) throw new PgError("invalid_parameter_value", `argument ${i + 1}: key must not be null`);
    parts.push(`${quoteJsonString(formatText(k, types[i]!, { timeZone: zone })!)} : ${datumToJsonText(args[i + 1]!, types[i + 1]!, zone)}`);
  }
  return `{${parts.join(", ")}}`;
}

export function jsonbBuildArray(args: readonly Datum[], types: readonly SqlType[], zone: TimeZone): Jsonb {
  return new Jsonb(args.map((a, i) => datumToJson(a, types[i]!, zone)));
}

export function jsonBuildArray(args: readonly Datum[], types: readonly SqlType[], zone: TimeZone): string {
  return `[${args.map((a, i) => datumToJsonText(a, types[i]!, zone)).join(", ")}]`;
}

// ---- operators ----

export function jsonbField(v: JsonValue, key: string): JsonValue | undefined {
  return isJsonObject(v) ? v.get(key) : undefined;
}

export function jsonbElement(v: JsonValue, index: number): JsonValue | undefined {
  if (!Array.isArray(v)) return undefined;
  const i = index < 0 ? v.length + index : index;
  return v[i];
}

/** #> path: keys for objects, integer strings for arrays. */
export function jsonbPath(v: JsonValue, path: readonly Datum[]): JsonValue | undefined {
  let cur: JsonValue | undefined = v;
  for (const step of path) {
    if (cur === undefined || step === null) return undefined;
    if (Array.isArray(cur)) {
      if (!/^\s*-?\d+\s*$/.test(step as string)) return undefined;
      cur = jsonbElement(cur, Number(step));
    } else {
      cur = jsonbField(cur, step as string);
    }
  }
  return cur;
}

/** ->> / #>> text: strings unquoted, JSON null as SQL NULL, everything else as jsonb text. */
export function jsonbText(v: JsonValue | undefined): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "string") return v;
  return formatJsonValue(v);
}

/** jsonb @> jsonb, Postgres's containment (arrays: every element of b is in a; scalars in arrays too). */
export function jsonbContains(a: JsonValue, b: JsonValue, top = true): boolean {
  if (isJsonObject(b)) {
    if (!isJsonObject(a)) return false;
    for (const [k, bv] of b) {
      const av = a.get(k);
      if (av === undefined || !jsonbContains(av, bv, false)) return false;
    }
    return true;
  }
  if (Array.isArray(b)) {
    if (!Array.isArray(a)) return false;
    return b.every((be) => a.some((ae) => (Array.isArray(be) || isJsonObject(be) ? jsonbContains(ae, be, false) : compareJsonValues(ae, be) === 0)));
  }
  if (Array.isArray(a)) return top && a.some((ae) => !Array.isArray(ae) && !isJsonObject(ae) && compareJsonValues(ae, b) === 0);
  return !isJsonObject(a) && compareJsonValues(a, b) === 0;
}

/** jsonb ? text: a top-level key, or a string element of a top-level array. */
export function jsonbExists(v: JsonValue, key: string): boolean {
  if (isJsonObject(v)) return v.has(key);
  if (Array.isArray(v)) return v.some((e) => e === key);
  return v === key;
}

/** jsonb || jsonb: objects merge (right wins), otherwise array concatenation. */
export function jsonbConcat(a: JsonValue, b: JsonValue): JsonValue {
  if (isJsonObject(a) && isJsonObject(b)) return sortedObject([...a, ...b]);
  const left = Array.isArray(a) ? a : [a];
  const right = Array.isArray(b) ? b : [b];
  return [...left, ...right];
}

export function jsonbDeleteKey(v: JsonValue, key: string): JsonValue {
  if (isJsonObject(v)) return new Map([...(v as JsonObject)].filter(([k]) => k !== key));
  if (Array.isArray(v)) return v.filter((e) => e !== key);
  throw new PgError("invalid_parameter_value", "cannot delete from scalar");
}

export function jsonbDeleteIndex(v: JsonValue, index: number): JsonValue {
  if (isJsonObject(v)) throw new PgError("invalid_parameter_value", "cannot delete from object using integer index");
  if (!Array.isArray(v)) throw new PgError("invalid_parameter_value", "cannot delete from scalar");
  const i = index < 0 ? v.length + index : index;
  return v.filter((_, j) => j !== i);
}

export function jsonbTypeof(v: JsonValue): string {
  if (v === null) return "null";
  if (typeof v === "boolean") return "boolean";
  if (typeof v === "string") return "string";
  if (v instanceof Numeric) return "number";
  return Array.isArray(v) ? "array" : "object";
}

export function jsonbArrayLength(v: JsonValue): number {
  if (Array.isArray(v)) return v.length;
  throw new PgError("invalid_parameter_value", isJsonObject(v) ? "cannot get array length of a non-array" : "cannot get array length of a scalar");
}

/** The json (text) form of a value found inside json: re-printed as jsonb would print it. */
export function jsonTextOf(v: JsonValue | undefined): string | null {
  return v === undefined ? null : formatJsonValue(v);
}
