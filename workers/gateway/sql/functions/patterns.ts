// Pattern matching: LIKE / ILIKE (with ESCAPE), SIMILAR TO, and POSIX regular expressions
// (~, ~*, regexp_replace, regexp_match), translated to JavaScript RegExp. Postgres's regex flavor
// (ARE) is close to JavaScript's for everyday patterns; the differences handled here are the
// bracket classes ([[:alpha:]]), word boundaries (\m \M \y) and replacement syntax (\1, \&).
// Compiled patterns are cached, since a query applies the same pattern to every row.

import { PgError } from "../../../../common/errors.ts";
import { PATTERN_CACHE_MAX } from "./limits.ts";

const cache = new Map<string, RegExp>();

function cached(key: string, build: () => RegExp): RegExp {
  let re = cache.get(key);
  if (re === undefined) {
    if (cache.size >= PATTERN_CACHE_MAX) cache.clear();
    re = build();
    cache.set(key, re);
  }
  re.lastIndex = 0;
  return re;
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g;

function escapeRegex(s: string): string {
  return s.replace(REGEX_SPECIAL, "\\$&");
}

const LIKE_TRUE = 1;
const LIKE_FALSE = 0;
const LIKE_ABORT = -1;

/**
 * Postgres's LIKE matcher (like_match.c MatchText), on code points: `%` any run, `_` one
 * character, backslash escapes the next pattern character. Run the same algorithm so the corner
 * cases agree, e.g. a pattern ending in a lone escape is an error (22025) only when the matcher
 * gets that far.
 */
function matchText(t: readonly string[], ti: number, p: readonly string[], pi: number): number {
  if (p.length - pi === 1 && p[pi] === "%") return LIKE_TRUE;
  while (ti < t.length && pi < p.length) {
    const pc = p[pi]!;
    if (pc === "\\") {
      pi++;
      if (pi >= p.length) throw new PgError("invalid_escape_sequence", "LIKE pattern must not end with escape character");
      if (p[pi] !== t[ti]) return LIKE_FALSE;
    } else if (pc === "%") {
      pi++;
      while (pi < p.length) {
        if (p[pi] === "%") pi++;
        else if (p[pi] === "_") {
          if (ti >= t.length) return LIKE_ABORT;
          ti++;
          pi++;
        } else break;
      }
      if (pi >= p.length) return LIKE_TRUE;
      let first: string;
      if (p[pi] === "\\") {
        if (pi + 1 >= p.length) throw new PgError("invalid_escape_sequence", "LIKE pattern must not end with escape character");
        first = p[pi + 1]!;
      } else {
        first = p[pi]!;
      }
      while (ti < t.length) {
        if (t[ti] === first) {
          const m = matchText(t, ti, p, pi);
          if (m !== LIKE_FALSE) return m;
        }
        ti++;
      }
      return LIKE_ABORT;
    } else if (pc === "_") {
      ti++;
      pi++;
      continue;
    } else if (pc !== t[ti]) {
      return LIKE_FALSE;
    }
    ti++;
    pi++;
  }
  if (ti < t.length) return LIKE_FALSE;
  while (pi < p.length && p[pi] === "%") pi++;
  return pi >= p.length ? LIKE_TRUE : LIKE_ABORT;
}

/** s LIKE pattern (ILIKE when insensitive); `escape` other than backslash goes through likeEscape. */
export function likeMatch(s: string, pattern: string, insensitive: boolean, escape = "\\"): boolean {
  const p = escape === "\\" ? pattern : likeEscape(pattern, escape);
  const text = insensitive ? s.toLowerCase() : s;
  const pat = insensitive ? p.toLowerCase() : p;
  return matchText(Array.from(text), 0, Array.from(pat), 0) === LIKE_TRUE;
}

/**
 * like_escape(pattern, escape): rewrites a LIKE pattern with a custom escape character into one
 * using backslash (how Postgres implements `LIKE … ESCAPE …`).
 */
export function likeEscape(pattern: string, escape: string): string {
  const esc = [...escape];
  if (esc.length > 1) throw new PgError("invalid_escape_sequence", "invalid escape string", { hint: "Escape string must be empty or one character." });
  let out = "";
  const chars = [...pattern];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (esc.length === 0) {
      out += c === "\\" ? "\\\\" : c;
    } else if (c === esc[0]) {
      i++;
      // A trailing escape stays a lone backslash; the matcher decides whether that is an error.
      out += i >= chars.length ? "\\" : "\\" + chars[i];
    } else if (c === "\\") {
      out += "\\\\";
    } else {
      out += c;
    }
  }
  return out;
}

/** similar_to_escape(pattern[, escape]): SQL regular expression → POSIX regex anchored at both ends. */
export function similarToEscape(pattern: string, escape: string | null = "\\"): string {
  let out = "^(?:";
  const chars = [...pattern];
  let inBracket = false;
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (escape !== null && escape !== "" && c === escape) {
      i++;
      if (i >= chars.length) throw new PgError("invalid_escape_sequence", "SIMILAR TO pattern must not end with escape character");
      out += escapeRegex(chars[i]!);
      continue;
    }
    if (inBracket) {
      out += c === "\\" ? "\\\\" : c;
      if (c === "]") inBracket = false;
      continue;
    }
    switch (c) {
      case "%": out += ".*"; break;
      case "_": out += "."; break;
      case "[": out += c; inBracket = true; break;
      case "|": case "(": case ")": case "*": case "+": case "?": case "{": case "}": out += c; break;
      case ".": case "^": case "$": case "\\": out += "\\" + c; break;
      default: out += c;
    }
  }
  return out + ")$";
}

const POSIX_CLASSES: Record<string, string> = {
  alpha: "a-zA-Z", digit: "0-9", alnum: "a-zA-Z0-9", upper: "A-Z", lower: "a-z", space: "\\s",
  punct: "!-\\/:-@\\[-`{-~", xdigit: "0-9A-Fa-f", word: "\\w", blank: " \\t", cntrl: "\\x00-\\x1f\\x7f",
  print: "\\x20-\\x7e", graph: "\\x21-\\x7e",
};

/** A Postgres (ARE) regular expression → JavaScript RegExp source. */
function translateRegex(src: string): string {
  return src
    .replace(/\[:([a-z]+):\]/g, (m, name: string) => POSIX_CLASSES[name] ?? m)
    .replace(/\\m/g, "\\b(?=\\w)")
    .replace(/\\M/g, "\\b(?<=\\w)")
    .replace(/\\y/g, "\\b")
    .replace(/\\Y/g, "\\B")
    .replace(/\\A/g, "^")
    .replace(/\\Z/g, "$");
}

/** Compiles a Postgres regex with flags (i = insensitive, g = global; others accepted: c, n, s). */
export function posixRegex(pattern: string, flags = ""): RegExp {
  return cached(`R${flags}\u0000${pattern}`, () => {
    let js = "";
    for (const f of flags) {
      if (f === "i") js += "i";
      else if (f === "g") js += "g";
      else if (f === "n" || f === "m") js += "m";
      else if (f === "s") js += "s";
      else if (f === "c" || f === "x") continue;
      else throw new PgError("invalid_parameter_value", `invalid regular expression option: "${f}"`);
    }
    try {
      return new RegExp(translateRegex(pattern), [...new Set(js)].join(""));
    } catch (e) {
      throw new PgError("invalid_regular_expression", `invalid regular expression: ${(e as Error).message}`);
    }
  });
}

/** How many compiled patterns are cached now (for the limit's test). */
export function patternCacheSize(): number {
  return cache.size;
}

export function regexMatch(s: string, pattern: string, insensitive: boolean): boolean {
  return posixRegex(pattern, insensitive ? "i" : "").test(s);
}

/** regexp_replace: Postgres replacement syntax (\1…\9, \& whole match, \\ backslash). */
export function regexpReplace(s: string, pattern: string, replacement: string, flags = ""): string {
  const re = posixRegex(pattern, flags);
  const js = replacement.replace(/\$/g, "$$$$").replace(/\\(\d|&|\\)/g, (_, g: string) => (g === "&" ? "$&" : g === "\\" ? "\\" : `$${g}`));
  return s.replace(re, js);
}

/** regexp_match: captured groups (or the whole match when there are none), null without a match. */
export function regexpMatch(s: string, pattern: string, flags = ""): Array<string | null> | null {
  if (flags.includes("g")) {
    throw new PgError("invalid_parameter_value", "regexp_match() does not support the \"global\" option", {
      hint: "Use the regexp_matches function instead.",
    });
  }
  const m = posixRegex(pattern, flags).exec(s);
  if (m === null) return null;
  return m.length > 1 ? m.slice(1).map((g) => g ?? null) : [m[0]];
}
