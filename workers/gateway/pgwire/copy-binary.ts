// COPY's binary format, both ways (the PGCOPY file format of the Postgres documentation):
//
//   header  = "PGCOPY\n\377\r\n\0"  flags:int32 (bit 16 = OIDs; bits 17-31 critical)
//             extension-length:int32  extension bytes (skipped)
//   tuple   = field-count:int16  ( length:int32 (-1 = NULL)  value bytes (the type's send form) )*
//   trailer = int16 -1
//
// Values convert through binary.ts (the same per-type send/receive code the extended protocol's
// binary formats use). Input is read incrementally: a tuple is converted once all its bytes are
// here, so a tuple split across CopyData messages is fine; one larger than copyLineBytesMax is
// refused. Errors are Postgres's, with its context (`COPY t, line 2, column b`: binary rows show no
// value; the trailer counts as a line).
import { PgError } from "../../../common/errors.ts";
import { binaryParamToText, textToBinaryResult } from "./binary.ts";
import { badCopyData, CarryBuffer, copyContext, withCopyContext, type CopyDecoder, type CopyRecord } from "./copy-input.ts";
import { pgwireLimits } from "./limits.ts";

export const PGCOPY_SIGNATURE = Uint8Array.of(0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00);
/** Signature, flags 0, no header extension. */
export const PGCOPY_HEADER = Uint8Array.of(...PGCOPY_SIGNATURE, 0, 0, 0, 0, 0, 0, 0, 0);
/** The file trailer: a field count of -1. */
export const PGCOPY_TRAILER = Uint8Array.of(0xff, 0xff);

/** One row of COPY TO … BINARY: values are the session's text, converted with each column's typsend. */
export function encodeBinaryRow(values: ReadonlyArray<string | null>, typeOids: readonly number[]): Uint8Array {
  const parts: Array<Uint8Array | null> = values.map((v, i) => (v === null ? null : textToBinaryResult(typeOids[i]!, v)));
  let size = 2;
  for (const p of parts) size += 4 + (p?.length ?? 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  view.setInt16(0, parts.length, false);
  let at = 2;
  for (const p of parts) {
    view.setInt32(at, p === null ? -1 : p.length, false);
    at += 4;
    if (p !== null) {
      out.set(p, at);
      at += p.length;
    }
  }
  return out;
}

export interface BinaryColumn {
  name: string;
  typeOid: number;
}

/** COPY FROM … BINARY: CopyData bytes → records whose fields are the values' text forms. */
export class BinaryCopyReader implements CopyDecoder {
  private readonly relation: string;
  private readonly columns: readonly BinaryColumn[];
  private readonly carried = new CarryBuffer();
  private headerDone = false;
  /** Tuples read so far (the trailer counts, as Postgres counts lines). */
  private line = 0;
  private ended = false;

  constructor(relation: string, columns: readonly BinaryColumn[]) {
    this.relation = relation;
    this.columns = columns;
  }

  push(bytes: Uint8Array): CopyRecord[] {
    if (this.ended) {
      if (bytes.length > 0) throw badCopyData("received copy data after EOF marker", { relation: this.relation, line: this.line });
      return [];
    }
    return this.read(this.carried.with(bytes), false);
  }

  finish(): CopyRecord[] {
    if (this.ended) return [];
    return this.read(this.carried.with(new Uint8Array(0)), true);
  }

  private read(b: Uint8Array, eof: boolean): CopyRecord[] {
    const out: CopyRecord[] = [];
    let at = 0;
    if (!this.headerDone) {
      const end = this.header(b, eof);
      if (end < 0) {
        this.carried.carry(b, 0);
        return out;
      }
      at = end;
      this.headerDone = true;
    }
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    while (!this.ended) {
      // Fewer than two bytes left at the end of the data: Postgres takes that as the end, trailer or not.
      if (b.length - at < 2) {
        if (eof) this.ended = true;
        break;
      }
      const count = view.getInt16(at, false);
      if (count === -1) {
        this.line++;
        this.ended = true;
        if (b.length > at + 2) throw badCopyData("received copy data after EOF marker", { relation: this.relation, line: this.line });
        at += 2;
        break;
      }
      const line = this.line + 1;
      if (count !== this.columns.length) {
        throw badCopyData(`row field count is ${count}, expected ${this.columns.length}`, { relation: this.relation, line });
      }
      // Measure the tuple first; convert only once all of it is here.
      let p = at + 2;
      let complete = true;
      for (let i = 0; i < count; i++) {
        const column = this.columns[i]!.name;
        if (b.length - p < 4) {
          if (eof) throw badCopyData("unexpected EOF in COPY data", { relation: this.relation, line, column });
          complete = false;
          break;
        }
        const len = view.getInt32(p, false);
        p += 4;
        if (len === -1) continue;
        if (len < 0) throw badCopyData("invalid field size", { relation: this.relation, line, column });
        if (len > pgwireLimits.copyLineBytesMax) throw this.tooLong(line, column);
        if (b.length - p < len) {
          if (eof) throw badCopyData("unexpected EOF in COPY data", { relation: this.relation, line, column });
          complete = false;
          break;
        }
        p += len;
      }
      if (!complete) {
        if (b.length - at > pgwireLimits.copyLineBytesMax) throw this.tooLong(line);
        break;
      }
      out.push(this.tuple(b, view, at, count, line, p - at));
      this.line = line;
      at = p;
    }
    this.carried.carry(b, at);
    return out;
  }

  private tuple(b: Uint8Array, view: DataView, at: number, count: number, line: number, bytes: number): CopyRecord {
    const fields: Array<string | null> = new Array(count);
    let p = at + 2;
    for (let i = 0; i < count; i++) {
      const len = view.getInt32(p, false);
      p += 4;
      if (len === -1) {
        fields[i] = null;
        continue;
      }
      const col = this.columns[i]!;
      try {
        fields[i] = binaryParamToText(col.typeOid, b.subarray(p, p + len));
      } catch (err) {
        throw withCopyContext(err, { relation: this.relation, line, column: col.name });
      }
      p += len;
    }
    return { line, fields, text: undefined, bytes };
  }

  /** The file header: its end offset, or -1 while more bytes are needed. Header errors carry no line (Postgres reads it before the first row). */
  private header(b: Uint8Array, eof: boolean): number {
    const sig = PGCOPY_SIGNATURE.length;
    const have = Math.min(b.length, sig);
    for (let i = 0; i < have; i++) {
      if (b[i] !== PGCOPY_SIGNATURE[i]) throw new PgError("bad_copy_file_format", "COPY file signature not recognized");
    }
    const wait = (message: string): number => {
      if (eof) throw new PgError("bad_copy_file_format", message);
      return -1;
    };
    if (b.length < sig) return wait("COPY file signature not recognized");
    if (b.length < sig + 4) return wait("invalid COPY file header (missing flags)");
    const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const flags = view.getUint32(sig, false);
    if ((flags & (1 << 16)) !== 0) throw new PgError("bad_copy_file_format", "invalid COPY file header (WITH OIDS)");
    if (flags >>> 17 !== 0) throw new PgError("bad_copy_file_format", "unrecognized critical flags in COPY file header");
    if (b.length < sig + 8) return wait("invalid COPY file header (missing length)");
    const extension = view.getUint32(sig + 4, false);
    if (extension > pgwireLimits.copyLineBytesMax) throw new PgError("program_limit_exceeded", `COPY file header extension of ${extension} bytes is longer than ${pgwireLimits.copyLineBytesMax} bytes`);
    if (b.length < sig + 8 + extension) return wait("invalid COPY file header (wrong length)");
    return sig + 8 + extension;
  }

  private tooLong(line: number, column?: string): PgError {
    return new PgError("program_limit_exceeded", `COPY row is longer than ${pgwireLimits.copyLineBytesMax} bytes`, {
      hint: "Split the data into smaller rows: one row this large is refused to keep the gateway's memory bounded.",
      where: copyContext(column === undefined ? { relation: this.relation, line } : { relation: this.relation, line, column }),
    });
  }
}
