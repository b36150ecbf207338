// Backend (server → client) messages, one encoder per message, each named exactly as in the
// Postgres protocol documentation. Encoders append to an Outbox, which collects everything the
// server says between two flushes into one contiguous buffer (one WebSocket frame), so a result of
// many rows is not sent as thousands of tiny frames.
import { ByteWriter } from "../../../common/bytes.ts";
import type { PgError } from "../../../common/errors.ts";
import type { FormatCode } from "./frontend.ts";

/** Text → client bytes in the client's encoding; throws (22P05) for a character it lacks. */
export type EncodeText = (text: string) => Uint8Array;

export class Outbox extends ByteWriter {
  /** Start of the message being written (where its length goes). */
  private start = -1;
  /** The client encoding's encoder for every string written; null: UTF-8. */
  encodeText: EncodeText | null = null;

  constructor() {
    super(4096);
  }

  get size(): number {
    return this.len;
  }

  begin(type: string): void {
    this.ensure(5);
    this.buf[this.len] = type.charCodeAt(0);
    this.start = this.len + 1;
    this.len += 5;
  }

  end(): void {
    this.view.setInt32(this.start, this.len - this.start, false);
    this.start = -1;
  }

  /**
   * A string in the client encoding (no terminator); returns the number of bytes written. A
   * string the encoding cannot hold drops the whole message being written, then throws: nothing
   * of a half-written message may reach the client.
   */
  text(s: string): number {
    if (this.encodeText === null) return this.utf8(s);
    let bytes: Uint8Array;
    try {
      bytes = this.encodeText(s);
    } catch (err) {
      if (this.start > 0) this.len = this.start - 1;
      this.start = -1;
      throw err;
    }
    this.bytes(bytes);
    return bytes.length;
  }

  cstring(s: string): void {
    this.text(s);
    this.byte(0);
  }

  /** Everything written since the last take(), as a fresh array; the outbox is then empty. */
  take(): Uint8Array {
    const out = this.finish();
    // Do not keep a large buffer alive after one big result.
    this.reset(1 << 20, 4096);
    return out;
  }
}

export function AuthenticationOk(out: Outbox): void {
  out.begin("R");
  out.int32(0);
  out.end();
}

export function AuthenticationCleartextPassword(out: Outbox): void {
  out.begin("R");
  out.int32(3);
  out.end();
}

export function AuthenticationSASL(out: Outbox, mechanisms: readonly string[]): void {
  out.begin("R");
  out.int32(10);
  for (const m of mechanisms) out.cstring(m);
  out.byte(0);
  out.end();
}

export function AuthenticationSASLContinue(out: Outbox, data: string): void {
  out.begin("R");
  out.int32(11);
  out.text(data);
  out.end();
}

export function AuthenticationSASLFinal(out: Outbox, data: string): void {
  out.begin("R");
  out.int32(12);
  out.text(data);
  out.end();
}

export function ParameterStatus(out: Outbox, name: string, value: string): void {
  out.begin("S");
  out.cstring(name);
  out.cstring(value);
  out.end();
}

export function BackendKeyData(out: Outbox, processId: number, secretKey: number): void {
  out.begin("K");
  out.int32(processId);
  out.int32(secretKey);
  out.end();
}

/** I = idle, T = in a transaction block, E = in a failed transaction block. */
export type TransactionStatus = "I" | "T" | "E";

export function ReadyForQuery(out: Outbox, status: TransactionStatus): void {
  out.begin("Z");
  out.byte(status.charCodeAt(0));
  out.end();
}

/** Format of column i given the result format codes of a Bind (none = all text, one = all). */
export function formatOf(formats: readonly FormatCode[], i: number): FormatCode {
  if (formats.length === 0) return 0;
  if (formats.length === 1) return formats[0]!;
  return formats[i] ?? 0;
}

/**
 * One column of a RowDescription, as the protocol documents its fields. The session's
 * FieldDescription (sql/result.ts) has this shape; the codec names it itself so that it stays a
 * leaf the edge can import (scripts/check-imports.ts, gateway/contract).
 */
export interface RowDescriptionField {
  readonly name: string;
  readonly tableID: number;
  readonly columnID: number;
  readonly dataTypeID: number;
  readonly dataTypeSize: number;
  readonly dataTypeModifier: number;
}

export function RowDescription(out: Outbox, fields: readonly RowDescriptionField[], formats: readonly FormatCode[] = []): void {
  out.begin("T");
  out.int16(fields.length);
  fields.forEach((f, i) => {
    out.cstring(f.name);
    out.uint32(f.tableID >>> 0);
    out.int16(f.columnID);
    out.uint32(f.dataTypeID >>> 0);
    out.int16(f.dataTypeSize);
    out.int32(f.dataTypeModifier);
    out.int16(formatOf(formats, i));
  });
  out.end();
}

/** One row; each value is text (in the client encoding), already-encoded bytes (binary format), or NULL. */
export function DataRow(out: Outbox, values: ReadonlyArray<string | Uint8Array | null>): void {
  out.begin("D");
  out.int16(values.length);
  for (const v of values) {
    if (v === null) {
      out.int32(-1);
    } else if (typeof v === "string") {
      // Write the length after the bytes, since UTF-8 length is known only once encoded.
      const lenAt = out.size;
      out.int32(0);
      const n = out.text(v);
      out.patchInt32(lenAt, n);
    } else {
      out.int32(v.length);
      out.bytes(v);
    }
  }
  out.end();
}

export function CommandComplete(out: Outbox, tag: string): void {
  out.begin("C");
  out.cstring(tag);
  out.end();
}

export function EmptyQueryResponse(out: Outbox): void {
  out.begin("I");
  out.end();
}

export function ParseComplete(out: Outbox): void {
  out.begin("1");
  out.end();
}

export function BindComplete(out: Outbox): void {
  out.begin("2");
  out.end();
}

export function CloseComplete(out: Outbox): void {
  out.begin("3");
  out.end();
}

export function NoData(out: Outbox): void {
  out.begin("n");
  out.end();
}

export function PortalSuspended(out: Outbox): void {
  out.begin("s");
  out.end();
}

export function ParameterDescription(out: Outbox, types: readonly number[]): void {
  out.begin("t");
  out.int16(types.length);
  for (const t of types) out.uint32(t >>> 0);
  out.end();
}

/** COPY's overall format: 0 = textual (text and CSV), 1 = binary; every column has the same. */
export type CopyFormatCode = 0 | 1;

function copyResponse(out: Outbox, type: "G" | "H", format: CopyFormatCode, columns: number): void {
  out.begin(type);
  out.byte(format);
  out.int16(columns);
  for (let i = 0; i < columns; i++) out.int16(format);
  out.end();
}

export function CopyInResponse(out: Outbox, columns: number, format: CopyFormatCode = 0): void {
  copyResponse(out, "G", format, columns);
}

export function CopyOutResponse(out: Outbox, columns: number, format: CopyFormatCode): void {
  copyResponse(out, "H", format, columns);
}

/** One CopyData message: bytes, or text in the client encoding (one row, as Postgres sends them). */
export function CopyData(out: Outbox, data: Uint8Array | string): void {
  out.begin("d");
  if (typeof data === "string") out.text(data);
  else out.bytes(data);
  out.end();
}

export function CopyDone(out: Outbox): void {
  out.begin("c");
  out.end();
}

function fields(out: Outbox, severity: string, err: PgError): void {
  const put = (tag: string, value: string | undefined) => {
    if (value === undefined) return;
    out.byte(tag.charCodeAt(0));
    out.cstring(value);
  };
  put("S", severity);
  put("V", severity);
  put("C", err.code);
  put("M", err.message);
  put("D", err.detail);
  put("H", err.hint);
  put("P", err.position !== undefined ? String(err.position) : undefined);
  put("W", err.where);
  put("t", err.table);
  put("c", err.column);
  put("n", err.constraint);
  out.byte(0);
}

export function ErrorResponse(out: Outbox, err: PgError, severity: "ERROR" | "FATAL" = "ERROR"): void {
  out.begin("E");
  fields(out, severity, err);
  out.end();
}

export function NoticeResponse(out: Outbox, notice: PgError, severity: "NOTICE" | "WARNING" | "INFO" = "NOTICE"): void {
  out.begin("N");
  fields(out, severity, notice);
  out.end();
}

/** One message on its own (the edge's replies before the gateway takes over). */
export function encodeOne(write: (out: Outbox) => void): Uint8Array {
  const out = new Outbox();
  write(out);
  return out.take();
}
