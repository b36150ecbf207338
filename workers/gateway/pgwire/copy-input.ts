// What COPY FROM's format decoders (copy-text.ts, copy-csv.ts, copy-binary.ts) hand to the
// loader (copy-in.ts), and how an error is located the way Postgres locates it: the CONTEXT line
// `COPY t, line 3, column b: "x"` (Postgres's CopyFromErrorCallback), with long values clipped to
// 100 bytes and "..." as Postgres clips them.
import { PgError, toPgError } from "../../../common/errors.ts";

/** One row of COPY input, split into fields by its format, before the columns' input functions. */
export interface CopyRecord {
  /** Line number as Postgres counts it: one per record (a quoted CSV newline does not count), the header included. */
  line: number;
  /** Field values; null for the NULL marker (or a binary NULL). */
  fields: Array<string | null>;
  /** The record's text without its line end (text and CSV), for error context; undefined for binary rows. */
  text: string | undefined;
  /** Bytes the record took in the input (sizes batches). */
  bytes: number;
}

/** A format's incremental reader: bytes in (CopyData split anywhere), records out. */
export interface CopyDecoder {
  /** Consumes the next CopyData bytes; returns the records completed by them. */
  push(bytes: Uint8Array): CopyRecord[];
  /** CopyDone: the last record (one without a line end) and end-of-data checks. */
  finish(): CopyRecord[];
}

/** Longest value shown in an error context, in bytes, as Postgres's MAX_COPY_DATA_DISPLAY. */
const DISPLAY_BYTES_MAX = 100;
const encoder = new TextEncoder();

/** `s` clipped to at most 100 bytes on a character boundary, then "...", as Postgres's limit_printout_length. */
export function clipForDisplay(s: string): string {
  if (s.length <= DISPLAY_BYTES_MAX / 4 || encoder.encode(s).length <= DISPLAY_BYTES_MAX) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const n = encoder.encode(ch).length;
    if (bytes + n > DISPLAY_BYTES_MAX) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end) + "...";
}

export interface CopyErrorPlace {
  relation: string;
  line: number;
  /** The column being converted, when the error is about one field. */
  column?: string;
  /** The field's text (text/CSV), null for a NULL, undefined when not shown (binary). */
  value?: string | null;
  /** The whole line's text, shown when the error is about the row and no column is named. */
  lineText?: string;
}

/** Postgres's CONTEXT for an error while reading COPY data. */
export function copyContext(p: CopyErrorPlace): string {
  const head = `COPY ${p.relation}, line ${p.line}`;
  if (p.column !== undefined) {
    if (p.value === undefined) return `${head}, column ${p.column}`;
    if (p.value === null) return `${head}, column ${p.column}: null input`;
    return `${head}, column ${p.column}: "${clipForDisplay(p.value)}"`;
  }
  if (p.lineText !== undefined) return `${head}: "${clipForDisplay(p.lineText)}"`;
  return head;
}

/** `err` as a PgError with COPY's context added (after any context it already has, as Postgres stacks them). */
export function withCopyContext(err: unknown, place: CopyErrorPlace): PgError {
  const e = toPgError(err);
  const where = copyContext(place);
  return e.with({ where: e.where === undefined ? where : `${e.where}\n${where}` });
}

/** An error of the COPY data itself (22P04 bad_copy_file_format), located. */
export function badCopyData(message: string, place: CopyErrorPlace, hint?: string): PgError {
  return new PgError("bad_copy_file_format", message, { hint, where: copyContext(place) });
}

/** Carried bytes above this are released once consumed, not kept for reuse. */
const CARRY_KEEP_BYTES_MAX = 1 << 20;

/**
 * The bytes of an incomplete record carried from one CopyData to the next. Appending copies only
 * the new bytes into a buffer that grows by doubling, so a long record arriving in many small
 * messages costs linear, not quadratic, copying; nothing is copied when nothing is carried.
 */
export class CarryBuffer {
  private data = new Uint8Array(0);
  private size = 0;

  get length(): number {
    return this.size;
  }

  /** The carried bytes followed by `next` (`next` itself when nothing is carried). */
  with(next: Uint8Array): Uint8Array {
    if (this.size === 0) return next;
    this.reserve(this.size + next.length);
    this.data.set(next, this.size);
    this.size += next.length;
    return this.data.subarray(0, this.size);
  }

  /**
   * Carries `view.subarray(from)` (view is what with() returned) to the next call. Records
   * handed out are views of `view` before `from`; they stay intact until the next with().
   */
  carry(view: Uint8Array, from: number): void {
    const rest = view.length - from;
    const ours = view.buffer === this.data.buffer;
    if (rest <= 0) {
      this.size = 0;
      if (this.data.length > CARRY_KEEP_BYTES_MAX) this.data = new Uint8Array(0);
    } else if (ours && from === 0) {
      this.size = rest; // nothing completed: the record keeps growing in place
    } else if (ours) {
      // Moving the tail to the front would overwrite records still to be read: start a new buffer.
      const next = new Uint8Array(Math.max(4096, rest * 2));
      next.set(view.subarray(from));
      this.data = next;
      this.size = rest;
    } else {
      this.reserve(rest);
      this.data.set(view.subarray(from));
      this.size = rest;
    }
  }

  private reserve(n: number): void {
    if (n <= this.data.length) return;
    let cap = Math.max(4096, this.data.length * 2);
    while (cap < n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }
}
