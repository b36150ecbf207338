// COPY … FROM STDIN, served in pgwire: the session has no COPY, so the rows the client streams as
// CopyData are parsed here (COPY's text format) and written through the session as batched
// multi-row INSERTs with text parameters:
//
//   INSERT INTO "schema"."table" ("c1", "c2", …) VALUES ($1, $2, …), ($k, …), …
//
// Each parameter is an untyped literal to the SQL layer, so a value is converted to its column's
// type exactly as an INSERT of a quoted literal would be (an empty field becomes '' and char(n)
// pads it). Batches run in whatever transaction the session is in: inside BEGIN … COMMIT
// (pgbench -i) the whole COPY commits or rolls back with it; outside one each batch commits on
// its own, so a failure part-way leaves the earlier batches written (Postgres would write none).
import { PgError } from "../../../common/errors.ts";
import type { SqlSession } from "../sql/result.ts";
import { pgwireLimits } from "./limits.ts";
import type { CopyFromStdin } from "./statements.ts";

export interface CopyFormat {
  delimiter: string;
  nullString: string;
}

/** Checks COPY's options: text format (the default) with DELIMITER / NULL; FREEZE is accepted and means nothing here. */
export function copyFormat(copy: CopyFromStdin): CopyFormat {
  const fmt: CopyFormat = { delimiter: "\t", nullString: "\\N" };
  for (const o of copy.options) {
    const v = o.value;
    switch (o.name) {
      case "format":
        if (v !== "text") throw new PgError("feature_not_supported", `COPY format "${v}" is not supported`, { hint: "Use the text format (the default)." });
        break;
      case "delimiter":
        if (v === null || v.length !== 1) throw new PgError("feature_not_supported", "COPY delimiter must be a single one-byte character");
        fmt.delimiter = v;
        break;
      case "null":
        fmt.nullString = v ?? "";
        break;
      case "freeze":
      case "encoding":
        break;
      case "header":
        if (v !== "false" && v !== "off" && v !== "0") throw new PgError("feature_not_supported", "COPY HEADER is available only in CSV mode");
        break;
      default:
        throw new PgError("feature_not_supported", `COPY option "${o.name}" is not supported`);
    }
  }
  if (fmt.delimiter === "\\" || fmt.delimiter === "\n" || fmt.delimiter === "\r") {
    throw new PgError("invalid_parameter_value", "COPY delimiter cannot be newline, carriage return or backslash");
  }
  return fmt;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

const OCTAL = /[0-7]/;
const HEX = /[0-9a-fA-F]/;

/** One line of COPY text format (without its newline) → field values (null for the NULL marker). */
export function parseCopyLine(line: string, fmt: CopyFormat): Array<string | null> {
  const fields: Array<string | null> = [];
  let raw = "";
  let value = "";
  for (let i = 0; i <= line.length; i++) {
    const ch = line[i];
    if (ch === undefined || ch === fmt.delimiter) {
      fields.push(raw === fmt.nullString ? null : value);
      raw = "";
      value = "";
      continue;
    }
    if (ch !== "\\") {
      raw += ch;
      value += ch;
      continue;
    }
    const next = line[i + 1];
    if (next === undefined) throw new PgError("bad_copy_file_format", "end-of-copy marker corrupt");
    let j = i + 1;
    let decoded: string;
    if (OCTAL.test(next)) {
      let digits = next;
      while (digits.length < 3 && line[j + 1] !== undefined && OCTAL.test(line[j + 1]!)) digits += line[++j];
      decoded = String.fromCharCode(parseInt(digits, 8) & 0xff);
    } else if (next === "x" && line[j + 1] !== undefined && HEX.test(line[j + 1]!)) {
      let digits = line[++j]!;
      if (line[j + 1] !== undefined && HEX.test(line[j + 1]!)) digits += line[++j];
      decoded = String.fromCharCode(parseInt(digits, 16));
    } else {
      const simple: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v" };
      decoded = simple[next] ?? next;
    }
    raw += line.slice(i, j + 1);
    value += decoded;
    i = j;
  }
  if (fields.some((f) => f !== null && f.includes("\0"))) throw new PgError("character_not_in_repertoire", "invalid byte sequence for encoding \"UTF8\": 0x00");
  return fields;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Receives CopyData, turns complete lines into rows and rows into INSERT batches. */
export class CopyIn {
  private readonly session: SqlSession;
  private readonly fmt: CopyFormat;
  private readonly target: string;
  readonly columns: string[];
  /** Bytes of an incomplete line carried to the next CopyData. */
  private partial: Uint8Array = new Uint8Array(0);
  private batch: Array<Array<string | null>> = [];
  private batchBytes = 0;
  private ended = false;
  private line = 0;
  rowsCopied = 0;

  constructor(session: SqlSession, copy: CopyFromStdin, columns: string[], fmt: CopyFormat) {
    this.session = session;
    this.fmt = fmt;
    this.columns = columns;
    this.target = (copy.schema !== undefined ? quoteIdent(copy.schema) + "." : "") + quoteIdent(copy.table);
  }

  async data(bytes: Uint8Array): Promise<void> {
    if (this.ended) return; // after the \. marker Postgres ignores the rest
    let buf = bytes;
    if (this.partial.length > 0) {
      buf = new Uint8Array(this.partial.length + bytes.length);
      buf.set(this.partial);
      buf.set(bytes, this.partial.length);
    }
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl >= 0 && !this.ended; nl = buf.indexOf(10, start)) {
      await this.addLine(buf.subarray(start, nl));
      start = nl + 1;
    }
    this.partial = this.ended ? new Uint8Array(0) : buf.slice(start);
    if (this.partial.length > pgwireLimits.copyLineBytesMax) {
      throw new PgError("program_limit_exceeded", `COPY line ${this.line + 1} is longer than ${pgwireLimits.copyLineBytesMax} bytes`);
    }
  }

  /** CopyDone: the last line (even without a newline), the last batch; returns rows copied. */
  async done(): Promise<number> {
    if (this.partial.length > 0 && !this.ended) await this.addLine(this.partial);
    this.partial = new Uint8Array(0);
    await this.flush();
    return this.rowsCopied;
  }

  private async addLine(bytes: Uint8Array): Promise<void> {
    this.line++;
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      throw new PgError("character_not_in_repertoire", `invalid byte sequence for encoding "UTF8" in COPY line ${this.line}`);
    }
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (text === "\\.") {
      this.ended = true;
      return;
    }
    let row: Array<string | null>;
    try {
      row = parseCopyLine(text, this.fmt);
    } catch (err) {
      throw withCopyContext(err, this.line);
    }
    if (row.length < this.columns.length) {
      throw new PgError("bad_copy_file_format", `missing data for column "${this.columns[row.length]}"`, { detail: `COPY line ${this.line}` });
    }
    if (row.length > this.columns.length) {
      throw new PgError("bad_copy_file_format", "extra data after last expected column", { detail: `COPY line ${this.line}` });
    }
    this.batch.push(row);
    this.batchBytes += bytes.length;
    if (this.batch.length >= pgwireLimits.copyBatchRowsMax || this.batchBytes >= pgwireLimits.copyBatchBytesMax) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    const n = this.columns.length;
    const tuples: string[] = [];
    const params: Array<string | null> = [];
    for (const row of rows) {
      const slots: string[] = [];
      for (let c = 0; c < n; c++) {
        params.push(row[c]!);
        slots.push(`$${params.length}`);
      }
      tuples.push(`(${slots.join(", ")})`);
    }
    const cols = this.columns.map(quoteIdent).join(", ");
    const sql = `INSERT INTO ${this.target} (${cols}) VALUES ${tuples.join(", ")}`;
    const results = await this.session.execute(sql, params);
    this.rowsCopied += results[0]?.rowCount ?? rows.length;
  }
}

function withCopyContext(err: unknown, line: number): unknown {
  if (err instanceof PgError && err.detail === undefined) {
    return new PgError(err.condition, err.message, { detail: `COPY line ${line}` });
  }
  return err;
}
