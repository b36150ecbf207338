// COPY FROM's line reader for the text and CSV formats: CopyData bytes (split anywhere) → lines,
// as Postgres 15 reads them (CopyReadLineText):
//
// - The first line's end fixes the style for the whole input: \n, \r or \r\n. A different line end
//   later is an error ("literal newline found in data" / "unquoted …" in CSV), since a stray
//   carriage return usually means a file was mangled.
// - Text format: a backslash escapes the next byte, so `\` + newline is data, not a line end.
//   `\.` followed by the line end is the end-of-data marker (anything after it is ignored; data
//   before it on the same line is still a row); `\.` followed by anything else is an error.
// - CSV: line ends inside quotes are data (a record may span CopyData messages and lines); `\.`
//   ends the data only alone at the start of a line, otherwise it is a value.
//
// Lines are returned without their line end. Bytes are scanned once: a line split across CopyData
// messages resumes where scanning stopped, with the quote state kept.
import { PgError } from "../../../common/errors.ts";
import { badCopyData, CarryBuffer, copyContext, withCopyContext, type CopyDecoder, type CopyRecord } from "./copy-input.ts";
import { decodeUtf8Strict } from "./utf8.ts";
import type { TextCodec } from "./encoding/codec.ts";
import { pgwireLimits } from "./limits.ts";

const toUtf8 = new TextEncoder();
const LF = 0x0a;
const CR = 0x0d;
const BACKSLASH = 0x5c;
const DOT = 0x2e;

type Eol = "unknown" | "nl" | "cr" | "crnl";

export interface CsvQuoting {
  /** Byte values of the quote and escape characters (ASCII). */
  quote: number;
  escape: number;
}

export class CopyLineReader {
  private readonly csv: CsvQuoting | null;
  private readonly relation: string;
  /** Bytes of the current, incomplete line (from its first byte). */
  private readonly carried = new CarryBuffer();
  /** How far `buf` has been scanned without finding the line's end. */
  private scanned = 0;
  private eol: Eol = "unknown";
  private inQuote = false;
  private lastWasEscape = false;
  /** Lines returned so far (the header included): the current line's number is one more. */
  lines = 0;
  /** The end-of-data marker was read: everything after it is ignored. */
  ended = false;

  constructor(relation: string, csv: CsvQuoting | null) {
    this.relation = relation;
    // With the escape equal to the quote (the default), quotes simply toggle, as in Postgres.
    this.csv = csv === null ? null : { quote: csv.quote, escape: csv.escape === csv.quote ? -1 : csv.escape };
  }

  push(bytes: Uint8Array): Uint8Array[] {
    if (this.ended) return [];
    return this.scan(this.carried.with(bytes), false);
  }

  /** CopyDone: the last line, if it has no line end (or ends in an open CSV quote). */
  finish(): Uint8Array[] {
    if (this.ended) return [];
    const all = this.carried.with(new Uint8Array(0));
    const out = this.scan(all, true);
    const last = this.carried.with(new Uint8Array(0));
    if (!this.ended && last.length > 0) this.emit(out, last.slice());
    this.carried.carry(last, last.length);
    return out;
  }

  private scan(buf: Uint8Array, eof: boolean): Uint8Array[] {
    const out: Uint8Array[] = [];
    let start = 0;
    let i = this.scanned;
    const csv = this.csv;
    while (i < buf.length && !this.ended) {
      // Fast path: a line with nothing special in it.
      if (i === start && !this.inQuote && (this.eol === "nl" || this.eol === "unknown")) {
        const nl = buf.indexOf(LF, i);
        if (nl >= 0 && buf[i] !== BACKSLASH) {
          const seg = buf.subarray(i, nl);
          const plain = seg.indexOf(CR) < 0 && (csv === null ? seg.indexOf(BACKSLASH) < 0 : seg.indexOf(csv.quote) < 0 && seg.indexOf(csv.escape) < 0);
          if (plain) {
            this.eol = "nl";
            this.emit(out, seg);
            start = i = nl + 1;
            continue;
          }
        }
      }
      const c = buf[i]!;
      // Bytes that need the next one to decide: wait for it unless the data has ended.
      const needsNext = c === CR ? this.eol === "unknown" || this.eol === "crnl" : c === BACKSLASH && (csv === null || i === start) && !this.inQuote;
      if (needsNext && i + 1 >= buf.length && !eof) break;
      if (csv !== null) {
        if (this.inQuote && c === csv.escape) this.lastWasEscape = !this.lastWasEscape;
        if (c === csv.quote && !this.lastWasEscape) this.inQuote = !this.inQuote;
        if (c !== csv.escape) this.lastWasEscape = false;
      }
      if (c === CR && !this.inQuote) {
        let endLen = 1;
        if (this.eol === "unknown" || this.eol === "crnl") {
          if (buf[i + 1] === LF) {
            this.eol = "crnl";
            endLen = 2;
          } else {
            if (this.eol === "crnl") throw this.strayCr();
            this.eol = "cr";
          }
        } else if (this.eol === "nl") {
          throw this.strayCr();
        }
        this.emit(out, buf.subarray(start, i));
        start = i = i + endLen;
        continue;
      }
      if (c === LF && !this.inQuote) {
        if (this.eol === "cr" || this.eol === "crnl") throw this.strayLf();
        this.eol = "nl";
        this.emit(out, buf.subarray(start, i));
        start = i = i + 1;
        continue;
      }
      if (c === BACKSLASH && !this.inQuote && (csv === null || i === start)) {
        if (buf[i + 1] === DOT) {
          const marker = this.endMarker(buf, i, eof);
          if (marker === "wait") break;
          if (marker === "end") {
            // Data before the marker on the same line is still a row.
            if (i > start) this.emit(out, buf.subarray(start, i));
            this.ended = true;
            start = i = buf.length;
            break;
          }
          i++; // CSV: a `\.` that is not alone on its line is a value.
          continue;
        }
        // Text: the escaped byte is data, whatever it is (a line end included).
        i += csv === null && i + 1 < buf.length ? 2 : 1;
        continue;
      }
      i++;
    }
    this.scanned = Math.max(0, i - start);
    // A line still incomplete is already too long once its bytes pass the bound.
    if (buf.length - start > pgwireLimits.copyLineBytesMax) throw this.tooLong();
    // Lines handed out are views into `buf`; they are used before the next push reuses it.
    this.carried.carry(buf, this.ended ? buf.length : start);
    return out;
  }

  private emit(out: Uint8Array[], line: Uint8Array): void {
    if (line.length > pgwireLimits.copyLineBytesMax) throw this.tooLong();
    out.push(line);
    this.lines++;
  }

  private tooLong(): PgError {
    return new PgError("program_limit_exceeded", `COPY line is longer than ${pgwireLimits.copyLineBytesMax} bytes`, {
      hint: "Split the data into smaller rows: one row this large is refused to keep the gateway's memory bounded.",
      where: copyContext({ relation: this.relation, line: this.lines + 1 }),
    });
  }

  /**
   * `\.` at `at`: "end", "data" (CSV only: not an end marker), or "wait" for more bytes. Text
   * format: the marker must be followed by the input's line end, as Postgres 15 requires.
   */
  private endMarker(buf: Uint8Array, at: number, eof: boolean): "end" | "data" | "wait" {
    const csv = this.csv !== null;
    let j = at + 2;
    const next = (): number | "wait" | undefined => {
      if (j < buf.length) return buf[j++];
      return eof ? undefined : "wait";
    };
    const fail = (message: string): "data" => {
      if (csv) return "data";
      throw badCopyData(message, { relation: this.relation, line: this.lines + 1 });
    };
    if (this.eol === "crnl") {
      const c = next();
      if (c === "wait") return "wait";
      if (c === LF) return fail("end-of-copy marker does not match previous newline style");
      if (c !== CR) return fail("end-of-copy marker corrupt");
    }
    const c = next();
    if (c === "wait") return "wait";
    if (c !== CR && c !== LF) return fail("end-of-copy marker corrupt");
    if ((this.eol === "nl" && c !== LF) || (this.eol === "crnl" && c !== LF) || (this.eol === "cr" && c !== CR)) {
      return fail("end-of-copy marker does not match previous newline style");
    }
    return "end";
  }

  private strayCr(): PgError {
    const place = { relation: this.relation, line: this.lines + 1 };
    return this.csv === null
      ? badCopyData("literal carriage return found in data", place, 'Use "\\r" to represent carriage return.')
      : badCopyData("unquoted carriage return found in data", place, "Use quoted CSV field to represent carriage return.");
  }

  private strayLf(): PgError {
    const place = { relation: this.relation, line: this.lines + 1 };
    return this.csv === null
      ? badCopyData("literal newline found in data", place, 'Use "\\n" to represent newline.')
      : badCopyData("unquoted newline found in data", place, "Use quoted CSV field to represent newline.");
  }
}

/**
 * COPY FROM in a line format (text, CSV): CopyData bytes → lines → records. Each line is decoded
 * as strict UTF-8, or from the COPY's single-byte encoding (`codec`), and split into fields by
 * `parse`; errors carry PG's CONTEXT (relation, line and, once decoded, the line's text).
 *
 * Lines are found in the raw bytes before conversion: every encoding converted here is ASCII in
 * its lower half, so line ends, backslashes and (ASCII) quotes are the same bytes before and after.
 * A converted line is handed to `parse` as UTF-8, as Postgres converts the input before it parses
 * it (so an escape such as \351 still yields a byte that must be valid UTF-8).
 */
export class LineCopyReader implements CopyDecoder {
  private readonly lines: CopyLineReader;
  private readonly relation: string;
  private readonly parse: (bytes: Uint8Array, text: string) => Array<string | null>;
  private readonly codec: TextCodec | null;

  constructor(relation: string, quoting: CsvQuoting | null, parse: (bytes: Uint8Array, text: string) => Array<string | null>, codec: TextCodec | null = null) {
    this.relation = relation;
    this.parse = parse;
    this.codec = codec;
    this.lines = new CopyLineReader(relation, quoting);
  }

  push(bytes: Uint8Array): CopyRecord[] {
    const first = this.lines.lines + 1;
    return this.lines.push(bytes).map((l, k) => this.record(l, first + k));
  }

  finish(): CopyRecord[] {
    const first = this.lines.lines + 1;
    return this.lines.finish().map((l, k) => this.record(l, first + k));
  }

  private record(bytes: Uint8Array, line: number): CopyRecord {
    let text: string;
    let utf8 = bytes;
    try {
      if (this.codec === null) {
        text = decodeUtf8Strict(bytes);
      } else {
        text = this.codec.decode(bytes);
        utf8 = toUtf8.encode(text);
      }
    } catch (err) {
      throw withCopyContext(err, { relation: this.relation, line });
    }
    try {
      return { line, fields: this.parse(utf8, text), text, bytes: bytes.length + 1 };
    } catch (err) {
      throw withCopyContext(err, { relation: this.relation, line, lineText: text });
    }
  }
}
