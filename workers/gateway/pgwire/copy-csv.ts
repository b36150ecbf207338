// COPY's CSV format, both ways, as Postgres 15 writes and reads it:
//
//   row   = field (DELIMITER field)* "\n"                (default delimiter: comma)
//   field = unquoted text | QUOTE text QUOTE, pieces of both may follow each other ("a"b = ab)
//
// Output quotes a value when it must be (it holds the delimiter, the quote, a line end, or equals
// the NULL marker, or is `\.` alone in a one-column row) or when FORCE_QUOTE names its column;
// inside quotes the quote and escape characters are preceded by the escape (default: the quote,
// so " becomes ""). NULL is the NULL marker unquoted (default: nothing at all).
//
// Input: an unquoted field equal to the NULL marker is NULL; a quoted one is a value (so "" is the
// empty string and an empty field is NULL), unless FORCE_NOT_NULL / FORCE_NULL say otherwise,
// which the loader applies per column. Quoted fields may hold line ends (copy-lines.ts keeps them).
import { LineCopyReader } from "./copy-lines.ts";
import type { TextCodec } from "./encoding/codec.ts";
import { PgError } from "../../../common/errors.ts";

export interface CsvFormat {
  delimiter: string;
  nullString: string;
  quote: string;
  escape: string;
}

/** One value for a CSV row (Postgres's CopyAttributeOutCSV). */
export function csvValue(value: string, fmt: CsvFormat, forceQuote: boolean, singleColumn: boolean): string {
  let quote = forceQuote || value === fmt.nullString || (singleColumn && value === "\\.");
  if (!quote) {
    quote = value.includes(fmt.delimiter) || value.includes(fmt.quote) || value.includes("\n") || value.includes("\r");
  }
  if (!quote) return value;
  let body = "";
  for (const c of value) body += c === fmt.quote || c === fmt.escape ? fmt.escape + c : c;
  return fmt.quote + body + fmt.quote;
}

/** One row of COPY TO in CSV, with its newline; `forceQuote[i]` for column i. */
export function encodeCsvRow(values: ReadonlyArray<string | null>, fmt: CsvFormat, forceQuote: readonly boolean[]): string {
  const single = values.length === 1;
  let out = "";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) out += fmt.delimiter;
    const v = values[i]!;
    out += v === null ? fmt.nullString : csvValue(v, fmt, forceQuote[i] === true, single);
  }
  return out + "\n";
}

/** One record's fields (Postgres's CopyReadAttributesCSV), NULL decided on the unquoted null marker. */
export function parseCsvLine(text: string, fmt: CsvFormat): Array<string | null> {
  const fields: Array<string | null> = [];
  const n = text.length;
  let i = 0;
  for (;;) {
    const rawStart = i;
    let value = "";
    let sawQuote = false;
    let foundDelim = false;
    outer: for (;;) {
      // Not in quotes.
      let runStart = i;
      for (;;) {
        if (i >= n) {
          value += text.slice(runStart, i);
          break outer;
        }
        const c = text[i++]!;
        if (c === fmt.delimiter) {
          value += text.slice(runStart, i - 1);
          foundDelim = true;
          break outer;
        }
        if (c === fmt.quote) {
          value += text.slice(runStart, i - 1);
          sawQuote = true;
          break;
        }
      }
      // In quotes.
      runStart = i;
      for (;;) {
        if (i >= n) throw new PgError("bad_copy_file_format", "unterminated CSV quoted field");
        const c = text[i++]!;
        if (c === fmt.escape && i < n && (text[i] === fmt.escape || text[i] === fmt.quote)) {
          value += text.slice(runStart, i - 1) + text[i];
          i++;
          runStart = i;
          continue;
        }
        if (c === fmt.quote) {
          value += text.slice(runStart, i - 1);
          break;
        }
      }
    }
    const raw = foundDelim ? text.slice(rawStart, i - 1) : text.slice(rawStart, i);
    fields.push(!sawQuote && raw === fmt.nullString ? null : value);
    if (!foundDelim) break;
  }
  return fields;
}

/** COPY FROM in CSV: CopyData bytes → records. */
export class CsvCopyReader extends LineCopyReader {
  /** `codec`: the input's single-byte encoding (null: UTF-8). */
  constructor(relation: string, fmt: CsvFormat, codec: TextCodec | null = null) {
    super(relation, { quote: fmt.quote.charCodeAt(0), escape: fmt.escape.charCodeAt(0) }, (_bytes, text) => parseCsvLine(text, fmt), codec);
  }
}
