// String functions, counting characters (code points) as Postgres does under UTF-8:
// length, lower/upper, substr/substring, position/strpos, replace, trim family, lpad/rpad,
// left/right, repeat, reverse, split_part, concat, concat_ws, initcap, md5, to_hex, ascii, chr,
// starts_with, format (%s %I %L), quote_ident/quote_literal, regexp_*, like_escape,
// similar_to_escape, translate, octet_length, bit_length.

import { PgError } from "../../../../common/errors.ts";
import { bpcharTrim } from "../types/compare.ts";
import type { Datum } from "../types/datum.ts";
import { formatText } from "../types/text-io.ts";
import { Oid, Types, arrayOf, type SqlType } from "../types/type.ts";
import { charCount } from "../types/typmod.ts";
import { fn } from "./define.ts";
import { md5Hex } from "./md5.ts";
import { likeEscape, similarToEscape } from "./patterns.ts";
import { regexpCount, regexpInstr, regexpLike, regexpMatch, regexpReplace, regexpSplit, regexpSubstr, substringRegex } from "./regexp.ts";
import { STRING_RESULT_CHARS_MAX } from "./limits.ts";
import { checkTextLength } from "./value-limits.ts";
import type { Candidate } from "./resolve.ts";

const T = Types.text;
const I = Types.int4;
const utf8 = new TextEncoder();


function checkLength(n: number): void {
  checkTextLength(n);
}

const chars = (s: string): string[] => Array.from(s);

/**
 * Character-by-character case mapping, as Postgres's towupper/towlower: a character whose case
 * mapping is not a single character (ß → SS) stays as it is.
 */
function mapCase(s: string, upper: boolean): string {
  // Fast path for ASCII, by far the common case.
  if (/^[\x00-\x7f]*$/.test(s)) return upper ? s.toUpperCase() : s.toLowerCase();
  let out = "";
  for (const c of s) {
    const m = upper ? c.toUpperCase() : c.toLowerCase();
    out += [...m].length === 1 ? m : c;
  }
  return out;
}

/** substr(s, start[, count]) with Postgres's 1-based, clamp-at-start semantics. */
export function substr(s: string, start: number, count?: number): string {
  const cs = chars(s);
  if (count !== undefined && count < 0) throw new PgError("substring_error", "negative substring length not allowed");
  const from = start - 1;
  const to = count === undefined ? cs.length : from + count;
  return cs.slice(Math.max(from, 0), Math.max(to, 0)).join("");
}

function trimChars(s: string, set: string, leading: boolean, trailing: boolean): string {
  const cs = chars(s);
  const strip = new Set(chars(set));
  let a = 0;
  let b = cs.length;
  if (leading) while (a < b && strip.has(cs[a]!)) a++;
  if (trailing) while (b > a && strip.has(cs[b - 1]!)) b--;
  return cs.slice(a, b).join("");
}

function pad(s: string, length: number, fill: string, left: boolean): string {
  if (length <= 0) return "";
  checkLength(length);
  const cs = chars(s);
  if (cs.length >= length) return cs.slice(0, length).join("");
  const f = chars(fill);
  if (f.length === 0) return s;
  // Whole copies of the fill, then the first characters of one more (String.repeat is native).
  const need = length - cs.length;
  const padding = fill.repeat(Math.floor(need / f.length)) + f.slice(0, need % f.length).join("");
  return left ? padding + s : s + padding;
}

function initcap(s: string): string {
  let out = "";
  let inWord = false;
  for (const c of s) {
    const alnum = /[\p{L}\p{N}]/u.test(c);
    out += alnum ? (inWord ? c.toLowerCase() : c.toUpperCase()) : c;
    inWord = alnum;
  }
  return out;
}

/** quote_ident: double quotes unless the identifier is a plain lower-case name. */
export function quoteIdent(s: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(s) && !RESERVED.has(s) ? s : `"${s.replace(/"/g, '""')}"`;
}

const RESERVED = new Set(["all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast", "check", "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role", "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in", "initially", "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not", "null", "offset", "on", "only", "or", "order", "placing", "primary", "references", "returning", "select", "session_user", "some", "symmetric", "table", "then", "to", "trailing", "true", "union", "unique", "user", "using", "variadic", "when", "where", "window", "with"]);

/** quote_literal: single quotes doubled; an E'' literal when backslashes are present. */
export function quoteLiteral(s: string): string {
  const body = s.replace(/'/g, "''");
  return s.includes("\\") ? `E'${body.replace(/\\/g, "\\\\")}'` : `'${body}'`;
}

/** format(fmt, args…): %s, %I, %L, %%, with optional argument positions (%1$s). */
function format(fmtString: string, args: readonly Datum[], types: readonly SqlType[]): string {
  let next = 0;
  return fmtString.replace(/%(?:(\d+)\$)?([-]?\d*)?([sIL%])/g, (_m, pos: string | undefined, width: string | undefined, kind: string) => {
    if (kind === "%") return "%";
    const index = pos !== undefined ? Number(pos) - 1 : next;
    next = index + 1;
    if (index >= args.length) throw new PgError("invalid_parameter_value", "too few arguments for format()");
    const v = args[index]!;
    const text = v === null ? null : formatText(v, types[index]!);
    let out: string;
    if (kind === "s") out = text ?? "";
    else if (kind === "I") {
      if (text === null) throw new PgError("null_value_not_allowed", "null values cannot be formatted as an SQL identifier");
      out = quoteIdent(text);
    } else out = text === null ? "NULL" : quoteLiteral(text);
    if (width !== undefined && width !== "") {
      const w = Number(width);
      out = w < 0 ? out.padEnd(-w) : out.padStart(w);
    }
    return out;
  });
}

const textOf = (d: Datum, t: SqlType): string => (t.oid === Oid.bpchar ? bpcharTrim(d as string) : formatText(d, t)!);

export const stringFunctions: Candidate[] = [
  fn("length", [T], I, ([s]) => charCount(s as string)),
  fn("length", [Types.bpchar], I, ([s]) => charCount(bpcharTrim(s as string))),
  fn("length", [Types.bytea], I, ([b]) => (b as Uint8Array).length),
  fn("char_length", [T], I, ([s]) => charCount(s as string)),
  fn("char_length", [Types.bpchar], I, ([s]) => charCount(bpcharTrim(s as string))),
  fn("character_length", [T], I, ([s]) => charCount(s as string)),
  fn("octet_length", [T], I, ([s]) => utf8.encode(s as string).length),
  // Unlike length(), octet_length(character) counts the blank padding the value is stored with.
  fn("octet_length", [Types.bpchar], I, ([s]) => utf8.encode(s as string).length),
  fn("octet_length", [Types.bytea], I, ([b]) => (b as Uint8Array).length),
  fn("bit_length", [T], I, ([s]) => utf8.encode(s as string).length * 8),
  fn("lower", [T], T, ([s]) => mapCase(s as string, false)),
  fn("upper", [T], T, ([s]) => mapCase(s as string, true)),
  fn("initcap", [T], T, ([s]) => initcap(s as string)),
  fn("substr", [T, I], T, ([s, a]) => substr(s as string, a as number)),
  fn("substr", [T, I, I], T, ([s, a, n]) => substr(s as string, a as number, n as number)),
  fn("substring", [T, I], T, ([s, a]) => substr(s as string, a as number)),
  fn("substring", [T, I, I], T, ([s, a, n]) => substr(s as string, a as number, n as number)),
  fn("substring", [T, T], T, ([s, p]) => substringRegex(s as string, p as string)),
  // substring(x SIMILAR p ESCAPE e) and the SQL99 form substring(x FROM p FOR e).
  fn("substring", [T, T, T], T, ([s, p, e]) => substringRegex(s as string, similarToEscape(p as string, e as string))),
  fn("substr", [Types.bytea, I, I], Types.bytea, ([b, a, n]) => {
    if ((n as number) < 0) throw new PgError("substring_error", "negative substring length not allowed");
    const from = (a as number) - 1;
    return (b as Uint8Array).slice(Math.max(from, 0), Math.max(from + (n as number), 0));
  }),
  fn("strpos", [T, T], I, ([s, sub]) => {
    const i = (s as string).indexOf(sub as string);
    return i < 0 ? 0 : charCount((s as string).slice(0, i)) + 1;
  }),
  // POSITION(sub IN s) is parsed as position(s, sub): the string first, like strpos.
  fn("position", [T, T], I, ([s, sub]) => {
    const i = (s as string).indexOf(sub as string);
    return i < 0 ? 0 : charCount((s as string).slice(0, i)) + 1;
  }),
  fn("replace", [T, T, T], T, ([s, from, to]) => ((from as string) === "" ? s! : (s as string).split(from as string).join(to as string))),
  fn("translate", [T, T, T], T, ([s, from, to]) => {
    const f = chars(from as string);
    const t = chars(to as string);
    return chars(s as string).map((c) => {
      const i = f.indexOf(c);
      return i < 0 ? c : (t[i] ?? "");
    }).join("");
  }),
  fn("btrim", [T], T, ([s]) => trimChars(s as string, " ", true, true)),
  fn("btrim", [T, T], T, ([s, c]) => trimChars(s as string, c as string, true, true)),
  fn("ltrim", [T], T, ([s]) => trimChars(s as string, " ", true, false)),
  fn("ltrim", [T, T], T, ([s, c]) => trimChars(s as string, c as string, true, false)),
  fn("rtrim", [T], T, ([s]) => trimChars(s as string, " ", false, true)),
  fn("rtrim", [T, T], T, ([s, c]) => trimChars(s as string, c as string, false, true)),
  fn("lpad", [T, I], T, ([s, n]) => pad(s as string, n as number, " ", true)),
  fn("lpad", [T, I, T], T, ([s, n, f]) => pad(s as string, n as number, f as string, true)),
  fn("rpad", [T, I], T, ([s, n]) => pad(s as string, n as number, " ", false)),
  fn("rpad", [T, I, T], T, ([s, n, f]) => pad(s as string, n as number, f as string, false)),
  fn("left", [T, I], T, ([s, n]) => {
    const cs = chars(s as string);
    const k = n as number;
    return (k >= 0 ? cs.slice(0, k) : cs.slice(0, Math.max(cs.length + k, 0))).join("");
  }),
  fn("right", [T, I], T, ([s, n]) => {
    const cs = chars(s as string);
    const k = n as number;
    return (k >= 0 ? cs.slice(Math.max(cs.length - k, 0)) : cs.slice(Math.min(-k, cs.length))).join("");
  }),
  fn("repeat", [T, I], T, ([s, n]) => {
    const k = Math.max(0, n as number);
    checkLength(charCount(s as string) * k);
    return (s as string).repeat(k);
  }),
  fn("reverse", [T], T, ([s]) => chars(s as string).reverse().join("")),
  fn("split_part", [T, T, I], T, ([s, d, n]) => {
    const k = n as number;
    if (k === 0) throw new PgError("invalid_parameter_value", "field position must not be zero");
    const parts = (d as string) === "" ? [s as string] : (s as string).split(d as string);
    const i = k > 0 ? k - 1 : parts.length + k;
    return parts[i] ?? "";
  }),
  fn("starts_with", [T, T], Types.bool, ([s, p]) => (s as string).startsWith(p as string)),
  fn("ascii", [T], I, ([s]) => ((s as string) === "" ? 0 : (s as string).codePointAt(0)!)),
  fn("chr", [I], T, ([n]) => {
    const c = n as number;
    if (c === 0) throw new PgError("program_limit_exceeded", "null character not permitted");
    if (c < 0 || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) throw new PgError("program_limit_exceeded", "requested character too large for encoding: " + c);
    return String.fromCodePoint(c);
  }),
  fn("md5", [T], T, ([s]) => md5Hex(utf8.encode(s as string))),
  fn("md5", [Types.bytea], T, ([b]) => md5Hex(b as Uint8Array)),
  fn("to_hex", [I], T, ([n]) => ((n as number) >>> 0).toString(16)),
  fn("to_hex", [Types.int8], T, ([n]) => BigInt.asUintN(64, n as bigint).toString(16)),
  fn("quote_ident", [T], T, ([s]) => quoteIdent(s as string)),
  fn("quote_literal", [T], T, ([s]) => quoteLiteral(s as string)),
  fn("quote_nullable", [T], T, ([s]) => (s === null ? "NULL" : quoteLiteral(s as string)), { strict: false }),
  fn("concat", [], T, (args, _ctx, types) => args.map((a, i) => (a === null ? "" : textOf(a, types[i]!))).join(""), { strict: false, variadic: "any", volatility: "stable" }),
  fn("concat_ws", [T], T, (args, _ctx, types) => {
    if (args[0] === null) return null;
    return args.slice(1).flatMap((a, i) => (a === null ? [] : [textOf(a, types[i + 1]!)])).join(args[0] as string);
  }, { strict: false, variadic: "any", volatility: "stable" }),
  fn("format", [T], T, (args, _ctx, types) => (args[0] === null ? null : format(args[0] as string, args.slice(1), types.slice(1))), { strict: false, variadic: "any", volatility: "stable" }),
  fn("regexp_replace", [T, T, T], T, ([s, p, r]) => regexpReplace(s as string, p as string, r as string)),
  fn("regexp_replace", [T, T, T, T], T, ([s, p, r, f]) => regexpReplace(s as string, p as string, r as string, f as string)),
  fn("regexp_replace", [T, T, T, I], T, ([s, p, r, st]) => regexpReplace(s as string, p as string, r as string, null, st as number)),
  fn("regexp_replace", [T, T, T, I, I], T, ([s, p, r, st, n]) => regexpReplace(s as string, p as string, r as string, null, st as number, n as number)),
  fn("regexp_replace", [T, T, T, I, I, T], T, ([s, p, r, st, n, f]) => regexpReplace(s as string, p as string, r as string, f as string, st as number, n as number)),
  fn("regexp_match", [T, T], arrayOf(T), ([s, p]) => regexpMatch(s as string, p as string)),
  fn("regexp_match", [T, T, T], arrayOf(T), ([s, p, f]) => regexpMatch(s as string, p as string, f as string)),
  fn("regexp_split_to_array", [T, T], arrayOf(T), ([s, p]) => regexpSplit(s as string, p as string, null, "regexp_split_to_array()")),
  fn("regexp_split_to_array", [T, T, T], arrayOf(T), ([s, p, f]) => regexpSplit(s as string, p as string, f as string, "regexp_split_to_array()")),
  fn("regexp_count", [T, T], I, ([s, p]) => regexpCount(s as string, p as string)),
  fn("regexp_count", [T, T, I], I, ([s, p, st]) => regexpCount(s as string, p as string, st as number)),
  fn("regexp_count", [T, T, I, T], I, ([s, p, st, f]) => regexpCount(s as string, p as string, st as number, f as string)),
  fn("regexp_instr", [T, T], I, ([s, p]) => regexpInstr(s as string, p as string)),
  fn("regexp_instr", [T, T, I], I, ([s, p, st]) => regexpInstr(s as string, p as string, st as number)),
  fn("regexp_instr", [T, T, I, I], I, ([s, p, st, n]) => regexpInstr(s as string, p as string, st as number, n as number)),
  fn("regexp_instr", [T, T, I, I, I], I, ([s, p, st, n, e]) => regexpInstr(s as string, p as string, st as number, n as number, e as number)),
  fn("regexp_instr", [T, T, I, I, I, T], I, ([s, p, st, n, e, f]) => regexpInstr(s as string, p as string, st as number, n as number, e as number, f as string)),
  fn("regexp_instr", [T, T, I, I, I, T, I], I, ([s, p, st, n, e, f, x]) => regexpInstr(s as string, p as string, st as number, n as number, e as number, f as string, x as number)),
  fn("regexp_like", [T, T], Types.bool, ([s, p]) => regexpLike(s as string, p as string)),
  fn("regexp_like", [T, T, T], Types.bool, ([s, p, f]) => regexpLike(s as string, p as string, f as string)),
  fn("regexp_substr", [T, T], T, ([s, p]) => regexpSubstr(s as string, p as string)),
  fn("regexp_substr", [T, T, I], T, ([s, p, st]) => regexpSubstr(s as string, p as string, st as number)),
  fn("regexp_substr", [T, T, I, I], T, ([s, p, st, n]) => regexpSubstr(s as string, p as string, st as number, n as number)),
  fn("regexp_substr", [T, T, I, I, T], T, ([s, p, st, n, f]) => regexpSubstr(s as string, p as string, st as number, n as number, f as string)),
  fn("regexp_substr", [T, T, I, I, T, I], T, ([s, p, st, n, f, x]) => regexpSubstr(s as string, p as string, st as number, n as number, f as string, x as number)),
  fn("like_escape", [T, T], T, ([p, e]) => likeEscape(p as string, e as string)),
  fn("similar_to_escape", [T], T, ([p]) => similarToEscape(p as string)),
  fn("similar_to_escape", [T, T], T, ([p, e]) => similarToEscape(p as string, e as string)),
  fn("similar_escape", [T, T], T, ([p, e]) => (p === null ? null : similarToEscape(p as string, e as string | null)), { strict: false }),
];
