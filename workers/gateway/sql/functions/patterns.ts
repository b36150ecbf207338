// Pattern matching: LIKE / ILIKE (with ESCAPE) and the translation of SIMILAR TO patterns into
// POSIX regular expressions (matched by regexp.ts and its engine in regex/).

import { PgError } from "../../../../common/errors.ts";

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

/**
 * similar_to_escape(pattern[, escape]): a SQL regular expression (SIMILAR TO, SUBSTRING …
 * SIMILAR) → the equivalent POSIX ARE, as Postgres's similar_escape_internal writes it:
 * `^(?:…)$`, % and _ as .* and ., ( as (?:, and the escape-double-quote separators of SUBSTRING
 * as `){1,1}?(` and `){1,1}(?:`, which make the middle part the (greedy) first group.
 * `escape` null means the default backslash, "" no escape character.
 */
export function similarToEscape(pattern: string, escape: string | null = "\\"): string {
  const esc = escape === null ? "\\" : escape;
  if ([...esc].length > 1) throw new PgError("invalid_escape_sequence", "invalid escape string", { hint: "Escape string must be empty or one character." });
  let out = "^(?:";
  let afterEscape = false;
  let quotes = 0;
  let bracketDepth = 0;
  let classPos = 0;
  for (const ch of pattern) {
    if (afterEscape) {
      if (ch === '"' && bracketDepth < 1) {
        if (quotes === 0) out += "){1,1}?(";
        else if (quotes === 1) out += "){1,1}(?:";
        else throw new PgError("invalid_use_of_escape_character", "SQL regular expression may not contain more than two escape-double-quote separators");
        quotes++;
      } else {
        out += "\\" + ch;
        classPos = 3;
      }
      afterEscape = false;
    } else if (esc !== "" && ch === esc) {
      afterEscape = true;
    } else if (bracketDepth > 0) {
      if (ch === "\\") out += "\\";
      out += ch;
      if (ch === "]" && classPos > 2) bracketDepth--;
      else if (ch === "[") {
        bracketDepth++;
        classPos = 3;
      } else if (ch === "^") classPos++;
      else classPos = 3;
    } else if (ch === "[") {
      out += ch;
      bracketDepth = 1;
      classPos = 1;
    } else if (ch === "%") out += ".*";
    else if (ch === "_") out += ".";
    else if (ch === "(") out += "(?:";
    else if (ch === "\\" || ch === "." || ch === "^" || ch === "$") out += "\\" + ch;
    else out += ch;
  }
  return out + ")$";
}
