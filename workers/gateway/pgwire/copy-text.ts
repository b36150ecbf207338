// COPY's text format, both ways, as Postgres 15 writes and reads it:
//
//   row   = field (DELIMITER field)* "\n"        (default delimiter: tab)
//   field = the NULL marker (default \N), or the value with backslash escapes:
//           \\  \b \f \n \r \t \v, the delimiter as \<delimiter>;  other bytes as they are
//
// On input, escapes also include octal (\1 to \377) and hex (\x1 to \xff) bytes, and a backslash
// before any other character stands for that character. Whether a field is NULL is decided on its
// raw text (so `\\N` is the two characters \N, and `\N` is NULL).
import { LineCopyReader } from "./copy-lines.ts";
import { decodeUtf8Strict } from "./utf8.ts";
import type { TextCodec } from "./encoding/codec.ts";

export interface TextFormat {
  delimiter: string;
  nullString: string;
}

const CONTROL_ESCAPES: Record<string, string> = { "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v" };

/** A regular expression matching what must be escaped for `delimiter`. */
function escapePattern(delimiter: string): RegExp {
  const d = delimiter.replace(/[\\\]^-]/g, "\\$&");
  return new RegExp(`[\\\\\\b\\f\\n\\r\\t\\v${d}]`, "g");
}

const patterns = new Map<string, RegExp>();

/** One value escaped for the text format (Postgres's CopyAttributeOutText). */
export function escapeTextValue(value: string, delimiter: string): string {
  let re = patterns.get(delimiter);
  if (re === undefined) patterns.set(delimiter, (re = escapePattern(delimiter)));
  re.lastIndex = 0;
  if (!re.test(value)) return value;
  re.lastIndex = 0;
  return value.replace(re, (c) => CONTROL_ESCAPES[c] ?? "\\" + c);
}

/** One row of COPY TO in the text format, with its newline. */
export function encodeTextRow(values: ReadonlyArray<string | null>, fmt: TextFormat): string {
  let out = "";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += fmt.delimiter;
    const v = values[i]!;
    out += v === null ? fmt.nullString : escapeTextValue(v, fmt.delimiter);
  }
  return out + "\n";
}

const BACKSLASH = 0x5c;
const encoder = new TextEncoder();
const lenient = new TextDecoder("utf-8");

function octal(b: number | undefined): boolean {
  return b !== undefined && b >= 0x30 && b <= 0x37;
}

function hexValue(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  return -1;
}

const SIMPLE_ESCAPES: Record<number, number> = { 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09, 0x76: 0x0b };

/**
 * One line's fields (Postgres's CopyReadAttributesText). `line` is the line's bytes, already
 * checked to be UTF-8; an escape may still produce bytes that are not (\xff), which is 22021.
 */
export function parseTextLine(line: Uint8Array, text: string, fmt: TextFormat): Array<string | null> {
  if (line.indexOf(BACKSLASH) < 0) {
    return text.split(fmt.delimiter).map((f) => (f === fmt.nullString ? null : f));
  }
  const delim = fmt.delimiter.charCodeAt(0);
  const nullBytes = encoder.encode(fmt.nullString);
  const scratch = new Uint8Array(line.length);
  const fields: Array<string | null> = [];
  let i = 0;
  for (;;) {
    const rawStart = i;
    let pos = 0;
    let producedHigh = false;
    let foundDelim = false;
    while (i < line.length) {
      let c = line[i++]!;
      if (c === delim) {
        foundDelim = true;
        break;
      }
      if (c === BACKSLASH) {
        if (i >= line.length) break; // a lone backslash at the end of the line is dropped
        c = line[i++]!;
        if (octal(c)) {
          let v = c - 0x30;
          if (octal(line[i])) {
            v = v * 8 + (line[i++]! - 0x30);
            if (octal(line[i])) v = v * 8 + (line[i++]! - 0x30);
          }
          c = v & 0xff;
          if (c === 0 || c >= 0x80) producedHigh = true;
        } else if (c === 0x78 /* x */ && hexValue(line[i]) >= 0) {
          let v = hexValue(line[i++]);
          if (hexValue(line[i]) >= 0) v = v * 16 + hexValue(line[i++]);
          c = v & 0xff;
          if (c === 0 || c >= 0x80) producedHigh = true;
        } else {
          c = SIMPLE_ESCAPES[c] ?? c;
        }
      }
      scratch[pos++] = c;
    }
    const rawEnd = foundDelim ? i - 1 : i;
    if (rawEnd - rawStart === nullBytes.length && nullBytes.every((b, k) => line[rawStart + k] === b)) {
      fields.push(null);
    } else {
      const value = scratch.subarray(0, pos);
      fields.push(producedHigh ? decodeUtf8Strict(value) : lenient.decode(value));
    }
    if (!foundDelim) break;
  }
  return fields;
}

/** COPY FROM in the text format: CopyData bytes → records. */
export class TextCopyReader extends LineCopyReader {
  /** `codec`: the input's single-byte encoding (null: UTF-8). */
  constructor(relation: string, fmt: TextFormat, codec: TextCodec | null = null) {
    super(relation, null, (bytes, text) => parseTextLine(bytes, text, fmt), codec);
  }
}
