// Text input and output of one-dimensional arrays: `{1,2,NULL,"a b"}`.
//
// Output quotes an element when it is empty, equals NULL (any case), or contains a brace, quote,
// comma, backslash or whitespace, escaping `"` and `\` with a backslash (Postgres's array_out).
// Input accepts the same, plus an optional `[lo:hi]=` dimension prefix (the bounds are checked for
// length and otherwise dropped: arrays here always start at 1). Multi-dimensional arrays are not
// supported and are refused with 0A000.

import { PgError } from "../../../../common/errors.ts";
import type { Datum } from "./datum.ts";

function malformed(text: string, detail: string): PgError {
  return new PgError("invalid_text_representation", `malformed array literal: "${text}"`, { detail });
}

const isSpace = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\v" || c === "\f";

/** array_in: splits the literal into element texts (null for NULL) and parses each with `parseElem`. */
export function parseArray(text: string, parseElem: (elemText: string) => Datum): Datum[] {
  let i = 0;
  const n = text.length;
  while (isSpace(text[i])) i++;
  let declaredLength = -1;
  if (text[i] === "[") {
    const m = /^\[\s*([+-]?\d+)\s*:\s*([+-]?\d+)\s*\]\s*=\s*/.exec(text.slice(i));
    if (m === null) throw malformed(text, `Array dimensions incompatible with array literal.`);
    declaredLength = Number(m[2]) - Number(m[1]) + 1;
    i += m[0].length;
  }
  if (text[i] !== "{") throw malformed(text, `Array value must start with "{" or dimension information.`);
  i++;
  const out: Datum[] = [];
  while (isSpace(text[i])) i++;
  if (text[i] === "}") {
    i++;
  } else {
    for (;;) {
      while (isSpace(text[i])) i++;
      if (i >= n) throw malformed(text, "Unexpected end of input.");
      if (text[i] === "{") {
        throw new PgError("feature_not_supported", "multidimensional arrays are not supported");
      }
      let elem = "";
      let quotedAny = false;
      let trailingSpaces = 0;
      while (i < n) {
        const c = text[i]!;
        if (c === '"') {
          quotedAny = true;
          trailingSpaces = 0;
          i++;
          while (i < n && text[i] !== '"') {
            if (text[i] === "\\") i++;
            if (i >= n) break;
            elem += text[i];
            i++;
          }
          if (i >= n) throw malformed(text, "Unexpected end of input.");
          i++;
          continue;
        }
        if (c === "\\") {
          i++;
          if (i >= n) throw malformed(text, "Unexpected end of input.");
          elem += text[i];
          trailingSpaces = 0;
          i++;
          continue;
        }
        if (c === "," || c === "}") break;
        if (c === "{" || c === '"') throw malformed(text, `Unexpected "${c}" character.`);
        if (isSpace(c)) trailingSpaces++;
        else trailingSpaces = 0;
        elem += c;
        i++;
      }
      if (i >= n) throw malformed(text, "Unexpected end of input.");
      // Unquoted whitespace around an element is not part of it.
      if (trailingSpaces > 0) elem = elem.slice(0, elem.length - trailingSpaces);
      if (!quotedAny && elem === "") throw malformed(text, `Unexpected "${text[i]}" character.`);
      out.push(!quotedAny && elem.toLowerCase() === "null" ? null : parseElem(elem));
      if (text[i] === "}") {
        i++;
        break;
      }
      i++; // ','
    }
  }
  while (isSpace(text[i])) i++;
  if (i < n) throw malformed(text, "Junk after closing right brace.");
  if (declaredLength >= 0 && declaredLength !== out.length) {
    throw malformed(text, "Specified array dimensions do not match array contents.");
  }
  return out;
}

function quoteElement(s: string): string {
  const needsQuotes = s === "" || s.toLowerCase() === "null" || /[{}",\\\s]/.test(s);
  if (!needsQuotes) return s;
  return `"${s.replace(/(["\\])/g, "\\$1")}"`;
}

/** array_out: `formatElem` prints one non-null element in its type's text form. */
export function formatArray(values: readonly Datum[], formatElem: (d: Datum) => string): string {
  return `{${values.map((v) => (v === null ? "NULL" : quoteElement(formatElem(v)))).join(",")}}`;
}
