// Registrations of the array, JSON and miscellaneous functions (their implementations live in
// array-functions.ts and json-functions.ts).

import { Jsonb, type Datum } from "../types/datum.ts";
import type { Numeric } from "../types/numeric.ts";
import { formatText } from "../types/text-io.ts";
import { Types, arrayOf, type SqlType } from "../types/type.ts";
import { uuidFromBytes } from "../types/scalar-text.ts";
import {
  arrayCat, arrayLength, arrayPosition, arrayPositions, arrayRemove, arrayReplace, arrayToString, stringToArray,
} from "./array-functions.ts";
import { fn } from "./define.ts";
import {
  datumToJson, datumToJsonText, jsonBuildArray, jsonBuildObject, jsonbArrayLength, jsonbBuildArray, jsonbBuildObject,
  jsonbPath, jsonbText, jsonbTypeof,
} from "./json-functions.ts";
import { parseJsonb } from "../types/json.ts";
import type { Candidate } from "./resolve.ts";

const T = Types.text;
const I = Types.int4;
const elemOf = (ts: readonly SqlType[]): SqlType => ts[0]!.elem ?? Types.text;

export const arrayFunctions: Candidate[] = [
  fn("array_length", ["anyarray", I], I, ([a, d]) => arrayLength(a as Datum[], d as number)),
  // Arrays here have one dimension from 1 (int2vector / oidvector, from 0: bind/catalog-functions.ts).
  fn("array_upper", ["anyarray", I], I, ([a, d]) => arrayLength(a as Datum[], d as number)),
  fn("array_lower", ["anyarray", I], I, ([a, d]) => ((d as number) === 1 && (a as Datum[]).length > 0 ? 1 : null)),
  fn("array_dims", ["anyarray"], T, ([a]) => ((a as Datum[]).length > 0 ? `[1:${(a as Datum[]).length}]` : null)),
  fn("array_ndims", ["anyarray"], I, ([a]) => ((a as Datum[]).length > 0 ? 1 : null)),
  fn("cardinality", ["anyarray"], I, ([a]) => (a as Datum[]).length),
  fn("array_append", ["anyarray", "anyelement"], (ts) => ts[0]!, ([a, e]) => arrayCat((a as Datum[] | null) ?? [], [e!]), { strict: false }),
  fn("array_prepend", ["anyelement", "anyarray"], (ts) => ts[1]!, ([e, a]) => arrayCat([e!], (a as Datum[] | null) ?? []), { strict: false }),
  fn("array_cat", ["anyarray", "anyarray"], (ts) => ts[0]!, ([a, b]) => (a === null ? b! : b === null ? a! : arrayCat(a as Datum[], b as Datum[])), { strict: false }),
  fn("array_position", ["anyarray", "anyelement"], I, ([a, e], _c, ts) => (a === null ? null : arrayPosition(a as Datum[], e!, elemOf(ts))), { strict: false }),
  fn("array_position", ["anyarray", "anyelement", I], I, ([a, e, s], _c, ts) => (a === null || s === null ? null : arrayPosition(a as Datum[], e!, elemOf(ts), s as number)), { strict: false }),
  fn("array_positions", ["anyarray", "anyelement"], arrayOf(I), ([a, e], _c, ts) => (a === null ? null : arrayPositions(a as Datum[], e!, elemOf(ts))), { strict: false }),
  fn("array_remove", ["anyarray", "anyelement"], (ts) => ts[0]!, ([a, e], _c, ts) => (a === null ? null : arrayRemove(a as Datum[], e!, elemOf(ts))), { strict: false }),
  fn("array_replace", ["anyarray", "anyelement", "anyelement"], (ts) => ts[0]!, ([a, f, t], _c, ts) => (a === null ? null : arrayReplace(a as Datum[], f!, t!, elemOf(ts))), { strict: false }),
  fn("array_to_string", ["anyarray", T], T, ([a, d], _c, ts) => arrayToString((a as Datum[]).map((e) => formatText(e, elemOf(ts))), d as string, null)),
  fn("array_to_string", ["anyarray", T, T], T, ([a, d, n], _c, ts) => (a === null || d === null ? null : arrayToString((a as Datum[]).map((e) => formatText(e, elemOf(ts))), d as string, n as string | null)), { strict: false }),
  fn("string_to_array", [T, T], arrayOf(T), ([s, d]) => (s === null ? null : stringToArray(s as string, d as string | null, null)), { strict: false }),
  fn("string_to_array", [T, T, T], arrayOf(T), ([s, d, n]) => (s === null ? null : stringToArray(s as string, d as string | null, n as string | null)), { strict: false }),
];

export const jsonFunctions: Candidate[] = [
  fn("to_jsonb", ["anyelement"], Types.jsonb, ([v], ctx, ts) => new Jsonb(datumToJson(v!, ts[0]!, ctx.timeZone)), { volatility: "stable" }),
  fn("to_json", ["anyelement"], Types.json, ([v], ctx, ts) => datumToJsonText(v!, ts[0]!, ctx.timeZone), { volatility: "stable" }),
  fn("jsonb_build_object", [], Types.jsonb, (args, ctx, ts) => jsonbBuildObject(args, ts, ctx.timeZone), { strict: false, variadic: "any", volatility: "stable" }),
  fn("json_build_object", [], Types.json, (args, ctx, ts) => jsonBuildObject(args, ts, ctx.timeZone), { strict: false, variadic: "any", volatility: "stable" }),
  fn("jsonb_build_array", [], Types.jsonb, (args, ctx, ts) => jsonbBuildArray(args, ts, ctx.timeZone), { strict: false, variadic: "any", volatility: "stable" }),
  fn("json_build_array", [], Types.json, (args, ctx, ts) => jsonBuildArray(args, ts, ctx.timeZone), { strict: false, variadic: "any", volatility: "stable" }),
  fn("jsonb_typeof", [Types.jsonb], T, ([j]) => jsonbTypeof((j as Jsonb).value)),
  fn("json_typeof", [Types.json], T, ([j]) => jsonbTypeof(parseJsonb(j as string).value)),
  fn("jsonb_array_length", [Types.jsonb], I, ([j]) => jsonbArrayLength((j as Jsonb).value)),
  fn("json_array_length", [Types.json], I, ([j]) => jsonbArrayLength(parseJsonb(j as string).value)),
  fn("jsonb_extract_path", [Types.jsonb], Types.jsonb, ([j, ...path]) => {
    const v = jsonbPath((j as Jsonb).value, path);
    return v === undefined ? null : new Jsonb(v);
  }, { variadic: T }),
  fn("jsonb_extract_path_text", [Types.jsonb], T, ([j, ...path]) => jsonbText(jsonbPath((j as Jsonb).value, path)), { variadic: T }),
  fn("jsonb_pretty", [Types.jsonb], T, ([j]) => prettyJson((j as Jsonb).value)),
  fn("jsonb_strip_nulls", [Types.jsonb], Types.jsonb, ([j]) => new Jsonb(stripNulls((j as Jsonb).value))),
];

function prettyJson(v: Jsonb["value"], indent = ""): string {
  const inner = indent + "    ";
  if (Array.isArray(v)) {
    if (v.length === 0) return "[\n" + indent + "]";
    return "[\n" + v.map((e) => inner + prettyJson(e, inner)).join(",\n") + "\n" + indent + "]";
  }
  if (v instanceof Map) {
    if (v.size === 0) return "{\n" + indent + "}";
    return "{\n" + [...v].map(([k, e]) => `${inner}${JSON.stringify(k)}: ${prettyJson(e, inner)}`).join(",\n") + "\n" + indent + "}";
  }
  return formatText(new Jsonb(v), Types.jsonb)!;
}

function stripNulls(v: Jsonb["value"]): Jsonb["value"] {
  if (Array.isArray(v)) return v.map(stripNulls);
  if (v instanceof Map) return new Map([...v].filter(([, e]) => e !== null).map(([k, e]) => [k, stripNulls(e)]));
  return v;
}

/**
 * pg_size_pretty as PostgreSQL 15 prints it: bytes below 10 kB, then the largest unit that keeps
 * the number below 20480 (kB … PB), rounded half away from zero on the last halving.
 */
export function sizePretty(bytes: bigint): string {
  const limit = 10n * 1024n;
  const limit2 = limit * 2n - 1n;
  const abs = (v: bigint): bigint => (v < 0n ? -v : v);
  const halfRounded = (v: bigint): bigint => (v + (v < 0n ? -1n : 1n)) / 2n;
  if (abs(bytes) < limit) return `${bytes} bytes`;
  let size = bytes / (1n << 9n); // keep one extra bit for rounding
  const units = ["kB", "MB", "GB", "TB"];
  for (const unit of units) {
    if (abs(size) < limit2) return `${halfRounded(size)} ${unit}`;
    size /= 1n << 10n;
  }
  return `${halfRounded(size)} PB`;
}

export const miscFunctions: Candidate[] = [
  fn("pg_size_pretty", [Types.int8], T, ([b]) => sizePretty(b as bigint)),
  fn("pg_size_pretty", [Types.numeric], T, ([n]) => {
    const v = n as Numeric;
    if (!v.isFinite()) return v.toString();
    // Whole bytes: the fraction of a byte does not change which unit is chosen.
    const whole = v.round(0).toBigInt();
    const text = sizePretty(whole);
    return text.endsWith(" bytes") ? `${v.toString()} bytes` : text;
  }),
  fn("gen_random_uuid", [], Types.uuid, (_a, ctx) => {
    const b = new Uint8Array(16);
    ctx.randomBytes(b);
    b[6] = (b[6]! & 0x0f) | 0x40; // version 4
    b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
    return uuidFromBytes(b);
  }, { volatility: "volatile" }),
  fn("num_nulls", [], I, (args) => args.filter((a) => a === null).length, { strict: false, variadic: "any" }),
  fn("num_nonnulls", [], I, (args) => args.filter((a) => a !== null).length, { strict: false, variadic: "any" }),
];
