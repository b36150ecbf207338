// The SQL functions and operators over POSIX regular expressions (~ ~* !~ !~*, regexp_replace,
// regexp_match(es), regexp_split_to_table/array, regexp_count/instr/like/substr, substring(x from
// pattern) and SIMILAR TO), with Postgres's flag letters and argument checks (regexp.c). Matching
// is done by the linear-time engine in regex/, on code points. Compiled patterns are cached, as a
// statement applies one pattern to every row.

import { PgError } from "../../../../common/errors.ts";
import { PATTERN_CACHE_MAX } from "./limits.ts";
import { defaultOptions, type CompileOptions } from "./regex/parser.ts";
import { Regex, type Subject } from "./regex/regex.ts";

const cache = new Map<string, Regex>();

/** How many compiled patterns are cached now (for the limit's test). */
export function patternCacheSize(): number {
  return cache.size;
}

interface ReFlags {
  options: CompileOptions;
  global: boolean;
  key: string;
}

/** parse_re_flags: the flag letters of the regexp_* functions. */
export function parseReFlags(flags: string | null | undefined): ReFlags {
  const o = defaultOptions();
  let global = false;
  for (const f of flags ?? "") {
    switch (f) {
      case "g": global = true; break;
      case "b": Object.assign(o, { extended: false, advanced: false, quote: false }); break;
      case "c": o.icase = false; break;
      // Postgres 15's parse_re_flags sets REG_EXTENDED and then clears REG_ADVANCED (which
      // includes REG_EXTENDED), so the "e" flag of the SQL functions yields a BRE. Mirrored.
      case "e": Object.assign(o, { extended: false, advanced: false, quote: false }); break;
      case "i": o.icase = true; break;
      case "m": case "n": Object.assign(o, { nlstop: true, nlanch: true }); break;
      case "p": Object.assign(o, { nlstop: true, nlanch: false }); break;
      case "q": Object.assign(o, { quote: true, extended: false, advanced: false }); break;
      case "s": Object.assign(o, { nlstop: false, nlanch: false }); break;
      case "t": o.expanded = false; break;
      case "w": Object.assign(o, { nlstop: false, nlanch: true }); break;
      case "x": o.expanded = true; break;
      default:
        throw new PgError("invalid_parameter_value", `invalid regular expression option: "${f}"`);
    }
  }
  const key = `${+o.extended}${+o.advanced}${+o.quote}${+o.icase}${+o.expanded}${+o.nlstop}${+o.nlanch}`;
  return { options: o, global, key };
}

export function compiled(pattern: string, flags: ReFlags): Regex {
  const key = `${flags.key}\u0000${pattern}`;
  let re = cache.get(key);
  if (re === undefined) {
    if (flags.options.quote && (flags.options.expanded || flags.options.nlstop || flags.options.nlanch)) {
      throw new PgError("invalid_regular_expression", "invalid regular expression: invalid argument to regex function");
    }
    re = new Regex(pattern, flags.options);
    // Evict the oldest pattern: a Map iterates in insertion order.
    if (cache.size >= PATTERN_CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(key, re);
  } else {
    // Refresh its place so the patterns in use stay.
    cache.delete(key);
    cache.set(key, re);
  }
  return re;
}

function noGlobal(f: ReFlags, fn: string, hint?: string): void {
  if (f.global) throw new PgError("invalid_parameter_value", `${fn} does not support the "global" option`, hint === undefined ? {} : { hint });
}

function positive(name: string, v: number, min = 1): void {
  if (v < min) throw new PgError("invalid_parameter_value", `invalid value for parameter "${name}": ${v}`);
}

/** One match: caps[0..1] the whole match, caps[2g..2g+1] group g (-1 when unset). */
type Match = Int32Array;

/**
 * setup_regexp_matches: the successive matches from `start` (0-based), each search resuming
 * at the previous end (one further after an empty match). `all` false stops after the first.
 * With `skipDegenerate` (regexp_split) empty matches at the end or right after the previous
 * match are not reported.
 */
function matches(re: Regex, subj: Subject, start: number, all: boolean, withCaptures: boolean, skipDegenerate = false): Match[] {
  const out: Match[] = [];
  let from = start;
  let prevEnd = 0;
  while (from <= subj.length) {
    const m = re.exec(subj, from, withCaptures);
    if (m === null) break;
    if (!skipDegenerate || (m[0]! < subj.length && m[1]! > prevEnd)) out.push(m);
    prevEnd = m[1]!;
    if (!all) break;
    from = m[1]! + (m[0] === m[1] ? 1 : 0);
  }
  return out;
}

/** text ~ pattern (and ~*, !~, !~* through the caller). */
export function regexMatch(s: string, pattern: string, insensitive: boolean): boolean {
  const re = compiled(pattern, parseReFlags(insensitive ? "i" : ""));
  return re.exec(re.subject(s), 0, false) !== null;
}

export function regexpLike(s: string, pattern: string, flags: string | null = null): boolean {
  const f = parseReFlags(flags);
  noGlobal(f, "regexp_like()");
  const re = compiled(pattern, f);
  return re.exec(re.subject(s), 0, false) !== null;
}

function captureText(subj: Subject, so: number, eo: number): string | null {
  return so < 0 || eo < 0 ? null : subj.slice(so, eo);
}

/** The text[] regexp_match(es) returns for one match: the groups, or the whole match without groups. */
function matchArray(re: Regex, subj: Subject, m: Match): Array<string | null> {
  if (re.groups === 0) return [captureText(subj, m[0]!, m[1]!)];
  const out: Array<string | null> = [];
  for (let g = 1; g <= re.groups; g++) out.push(captureText(subj, m[2 * g]!, m[2 * g + 1]!));
  return out;
}

/** regexp_match: the first match's groups (or the whole match), null without a match. */
export function regexpMatch(s: string, pattern: string, flags: string | null = null): Array<string | null> | null {
  const f = parseReFlags(flags);
  noGlobal(f, "regexp_match()", "Use the regexp_matches function instead.");
  const re = compiled(pattern, f);
  const subj = re.subject(s);
  const m = re.exec(subj, 0, true);
  return m === null ? null : matchArray(re, subj, m);
}

/** regexp_matches: one text[] per match (every match with the g flag). */
export function regexpMatches(s: string, pattern: string, flags: string | null = null): Array<Array<string | null>> {
  const f = parseReFlags(flags);
  const re = compiled(pattern, f);
  const subj = re.subject(s);
  return matches(re, subj, 0, f.global, true).map((m) => matchArray(re, subj, m));
}

/** regexp_split_to_table / regexp_split_to_array: the pieces between matches. */
export function regexpSplit(s: string, pattern: string, flags: string | null = null, fn = "regexp_split_to_table()"): string[] {
  const f = parseReFlags(flags);
  noGlobal(f, fn);
  const re = compiled(pattern, f);
  const subj = re.subject(s);
  const out: string[] = [];
  let prev = 0;
  for (const m of matches(re, subj, 0, true, false, true)) {
    out.push(subj.slice(prev, m[0]!));
    prev = m[1]!;
  }
  out.push(subj.slice(prev, subj.length));
  return out;
}

/**
 * regexp_replace(source, pattern, replacement [, start [, N]] [, flags]): N = 0 replaces every
 * match, N > 0 only the N-th; without N the g flag chooses all, else the first. The replacement
 * may refer to \1…\9 and \& (the whole match); \\ is a backslash.
 */
export function regexpReplace(s: string, pattern: string, replacement: string, flags: string | null = null, start = 1, n: number | null = null): string {
  positive("start", start);
  if (n !== null) positive("n", n, 0);
  const f = parseReFlags(flags);
  const nth = n ?? (f.global ? 0 : 1);
  const re = compiled(pattern, f);
  const needsCaptures = /\\[1-9]/.test(replacement);
  const subj = re.subject(s);
  const text = subj.text;
  let out = "";
  let pos = 0;
  let from = start - 1;
  let count = 0;
  while (from <= subj.length) {
    const m = re.exec(subj, from, needsCaptures);
    if (m === null) break;
    count++;
    if (nth > 0 && count !== nth) {
      from = m[1]! + (m[0] === m[1] ? 1 : 0);
      continue;
    }
    out += subj.slice(pos, m[0]!) + expandReplacement(replacement, subj, m);
    pos = m[1]!;
    if (nth > 0) break;
    from = m[1]! + (m[0] === m[1] ? 1 : 0);
  }
  return out + subj.slice(pos, text.length);
}

function expandReplacement(r: string, subj: Subject, m: Match): string {
  if (!r.includes("\\")) return r;
  let out = "";
  for (let i = 0; i < r.length; i++) {
    const ch = r[i]!;
    if (ch !== "\\") {
      out += ch;
      continue;
    }
    const next = r[i + 1];
    if (next === undefined) {
      out += "\\";
      break;
    }
    if (next >= "1" && next <= "9") {
      const g = next.charCodeAt(0) - 48;
      if (2 * g + 1 < m.length) out += captureText(subj, m[2 * g]!, m[2 * g + 1]!) ?? "";
      i++;
    } else if (next === "&") {
      out += subj.slice(m[0]!, m[1]!);
      i++;
    } else if (next === "\\") {
      out += "\\";
      i++;
    } else {
      out += "\\";
    }
  }
  return out;
}

/** regexp_count(string, pattern [, start [, flags]]). */
export function regexpCount(s: string, pattern: string, start = 1, flags: string | null = null): number {
  positive("start", start);
  const f = parseReFlags(flags);
  noGlobal(f, "regexp_count()");
  const re = compiled(pattern, f);
  return matches(re, re.subject(s), start - 1, true, false).length;
}

/** The [start, end) of match `n` (1-based) or of its group `subexpr`, or null. */
function nthSpan(s: string, pattern: string, start: number, n: number, flags: string | null, subexpr: number, fn: string): { subj: Subject; so: number; eo: number } | null {
  positive("start", start);
  positive("n", n);
  positive("subexpr", subexpr, 0);
  const f = parseReFlags(flags);
  noGlobal(f, fn);
  const re = compiled(pattern, f);
  const subj = re.subject(s);
  const found = matches(re, subj, start - 1, true, subexpr > 0);
  if (n > found.length) return null;
  // As in Postgres, a pattern without groups reports its whole match as subexpression 1.
  const groups = subexpr > 0 && re.groups > 0 ? re.groups : 1;
  if (subexpr > groups) return null;
  const g = re.groups > 0 ? subexpr : 0;
  const m = found[n - 1]!;
  const so = m[2 * g]!;
  const eo = m[2 * g + 1]!;
  return so < 0 || eo < 0 ? null : { subj, so, eo };
}

/** regexp_instr(string, pattern [, start [, N [, endoption [, flags [, subexpr]]]]]). */
export function regexpInstr(s: string, pattern: string, start = 1, n = 1, endoption = 0, flags: string | null = null, subexpr = 0): number {
  // Postgres checks start, N, endoption, subexpr, then the flags.
  positive("start", start);
  positive("n", n);
  if (endoption !== 0 && endoption !== 1) throw new PgError("invalid_parameter_value", `invalid value for parameter "endoption": ${endoption}`);
  const span = nthSpan(s, pattern, start, n, flags, subexpr, "regexp_instr()");
  if (span === null) return 0;
  return (endoption === 1 ? span.eo : span.so) + 1;
}

/** regexp_substr(string, pattern [, start [, N [, flags [, subexpr]]]]). */
export function regexpSubstr(s: string, pattern: string, start = 1, n = 1, flags: string | null = null, subexpr = 0): string | null {
  const span = nthSpan(s, pattern, start, n, flags, subexpr, "regexp_substr()");
  return span === null ? null : span.subj.slice(span.so, span.eo);
}

/** substring(string from pattern): the first group's text if the pattern has groups, else the match. */
export function substringRegex(s: string, pattern: string): string | null {
  const re = compiled(pattern, parseReFlags(""));
  const subj = re.subject(s);
  const m = re.exec(subj, 0, re.groups > 0);
  if (m === null) return null;
  return re.groups > 0 ? captureText(subj, m[2]!, m[3]!) : captureText(subj, m[0]!, m[1]!);
}
