// COPY's options: what each means, their defaults per format, and which combinations Postgres 15
// refuses, checked in Postgres's order (ProcessCopyOptions) with its SQLSTATEs and messages, so a
// client sees the same error for the same statement. Old syntax (`WITH CSV HEADER`, `DELIMITER
// ','`, `BINARY`, `FORCE QUOTE *`) reaches here already translated by the grammar.
//
// ENCODING names the data's encoding when it differs from client_encoding: UTF8, SQL_ASCII (no
// conversion) or a single-byte encoding (converted, pgwire/encoding/); the multi-byte encodings
// Postgres also knows are refused with 0A000 (sql/client-encoding.ts) instead of wrong bytes.
import { PgError } from "../../../common/errors.ts";
import type { CopyOption, CopyStatement } from "../sql/bind/copy-statement.ts";
import { pgEncodingName, supportedEncoding, type ClientEncodingName } from "../sql/client-encoding.ts";

export type CopyFormatName = "text" | "csv" | "binary";

export interface CopyOptions {
  format: CopyFormatName;
  /** One byte (ASCII, since the data is UTF-8). Tab for text, comma for CSV; unused in binary. */
  delimiter: string;
  /** The NULL marker: `\N` for text, the empty string for CSV. */
  nullString: string;
  /** HEADER: false, true, or "match" (COPY FROM only: the header must name the columns). */
  header: boolean | "match";
  /** CSV only: quote and escape characters (escape defaults to quote). */
  quote: string;
  escape: string;
  /** CSV COPY TO: columns always quoted, "*" for all. */
  forceQuote: string[] | "*";
  /** CSV COPY FROM: columns whose unquoted null marker is a value, and whose quoted one is NULL. */
  forceNotNull: string[];
  forceNull: string[];
  /** FREEZE: COPY FROM only needs the table created or truncated in the current subtransaction (copy-in.ts). */
  freeze: boolean;
  /** ENCODING of the data (text and CSV); null: the connection's client_encoding. */
  encoding: ClientEncodingName | null;
}

/** Characters that cannot delimit text-format fields (they start escapes or look like data). */
const UNSAFE_TEXT_DELIMITERS = "\\.abcdefghijklmnopqrstuvwxyz0123456789";

/**
 * Validates COPY's options against its direction. `position` turns an option's byte location
 * into the 1-based character position an ErrorResponse reports (Postgres points at the option).
 */
export function copyOptions(copy: CopyStatement, position: (byteLocation: number) => number | undefined): CopyOptions {
  const isFrom = copy.direction === "from";
  const at = (o: CopyOption) => (o.location >= 0 ? position(o.location) : undefined);
  const seen = new Set<string>();
  let format: CopyFormatName | undefined;
  let freezeSeen = false;
  let freeze = false;
  let delimiter: string | undefined;
  let nullString: string | undefined;
  let header: boolean | "match" = false;
  let quote: string | undefined;
  let escape: string | undefined;
  let forceQuote: string[] | "*" | undefined;
  let forceNotNull: string[] | undefined;
  let forceNull: string[] | undefined;
  let encoding: ClientEncodingName | null = null;

  for (const o of copy.options) {
    // FREEZE is a hint to skip visibility work; it has no duplicate check of its own in the loop
    // below, so it is tracked here like every other option.
    const key = o.name;
    const redundant = () => new PgError("syntax_error", "conflicting or redundant options", { position: at(o) });
    switch (key) {
      case "format": {
        if (format !== undefined) throw redundant();
        const v = stringArg(o);
        if (v !== "text" && v !== "csv" && v !== "binary") throw new PgError("invalid_parameter_value", `COPY format "${v}" not recognized`, { position: at(o) });
        format = v;
        break;
      }
      case "freeze":
        if (freezeSeen) throw redundant();
        freezeSeen = true;
        freeze = booleanArg(o);
        break;
      case "delimiter":
        if (delimiter !== undefined) throw redundant();
        delimiter = stringArg(o);
        break;
      case "null":
        if (nullString !== undefined) throw redundant();
        nullString = stringArg(o);
        break;
      case "header":
        if (seen.has("header")) throw redundant();
        header = headerArg(o, isFrom);
        break;
      case "quote":
        if (quote !== undefined) throw redundant();
        quote = stringArg(o);
        break;
      case "escape":
        if (escape !== undefined) throw redundant();
        escape = stringArg(o);
        break;
      case "force_quote":
        if (forceQuote !== undefined) throw redundant();
        if (o.arg.kind === "star") forceQuote = "*";
        else if (o.arg.kind === "list") forceQuote = o.arg.items;
        else throw listRequired(o, at(o));
        break;
      case "force_not_null":
        if (forceNotNull !== undefined) throw redundant();
        if (o.arg.kind !== "list") throw listRequired(o, at(o));
        forceNotNull = o.arg.items;
        break;
      case "force_null":
        if (forceNull !== undefined) throw redundant();
        if (o.arg.kind !== "list") throw listRequired(o, at(o));
        forceNull = o.arg.items;
        break;
      case "encoding": {
        if (seen.has("encoding")) throw redundant();
        const name = pgEncodingName(stringArg(o));
        if (name === undefined) throw new PgError("invalid_parameter_value", `argument to option "${key}" must be a valid encoding name`, { position: at(o) });
        encoding = supportedEncoding(name, "COPY ENCODING", at(o));
        break;
      }
      default:
        throw new PgError("syntax_error", `option "${key}" not recognized`, { position: at(o) });
    }
    seen.add(key);
  }

  const fmt = format ?? "text";
  const csv = fmt === "csv";
  if (fmt === "binary" && delimiter !== undefined) throw new PgError("syntax_error", "cannot specify DELIMITER in BINARY mode");
  if (fmt === "binary" && nullString !== undefined) throw new PgError("syntax_error", "cannot specify NULL in BINARY mode");
  const delim = delimiter ?? (csv ? "," : "\t");
  const nul = nullString ?? (csv ? "" : "\\N");
  const q = quote ?? '"';
  const esc = escape ?? q;

  // Only single-byte delimiters: the data is UTF-8, so that means ASCII.
  if (byteLength(delim) !== 1) throw new PgError("feature_not_supported", "COPY delimiter must be a single one-byte character");
  if (delim === "\r" || delim === "\n") throw new PgError("invalid_parameter_value", "COPY delimiter cannot be newline or carriage return");
  if (nul.includes("\r") || nul.includes("\n")) throw new PgError("invalid_parameter_value", "COPY null representation cannot use newline or carriage return");
  if (!csv && UNSAFE_TEXT_DELIMITERS.includes(delim)) throw new PgError("invalid_parameter_value", `COPY delimiter cannot be "${delim}"`);
  if (fmt === "binary" && header !== false) throw new PgError("feature_not_supported", "cannot specify HEADER in BINARY mode");
  if (!csv && quote !== undefined) throw new PgError("feature_not_supported", "COPY quote available only in CSV mode");
  if (csv && byteLength(q) !== 1) throw new PgError("feature_not_supported", "COPY quote must be a single one-byte character");
  if (csv && delim === q) throw new PgError("invalid_parameter_value", "COPY delimiter and quote must be different");
  if (!csv && escape !== undefined) throw new PgError("feature_not_supported", "COPY escape available only in CSV mode");
  if (csv && byteLength(esc) !== 1) throw new PgError("feature_not_supported", "COPY escape must be a single one-byte character");
  if (!csv && forceQuote !== undefined) throw new PgError("feature_not_supported", "COPY force quote available only in CSV mode");
  if (forceQuote !== undefined && isFrom) throw new PgError("feature_not_supported", "COPY force quote only available using COPY TO");
  if (!csv && forceNotNull !== undefined) throw new PgError("feature_not_supported", "COPY force not null available only in CSV mode");
  if (forceNotNull !== undefined && !isFrom) throw new PgError("feature_not_supported", "COPY force not null only available using COPY FROM");
  if (!csv && forceNull !== undefined) throw new PgError("feature_not_supported", "COPY force null available only in CSV mode");
  if (forceNull !== undefined && !isFrom) throw new PgError("feature_not_supported", "COPY force null only available using COPY FROM");
  if (nul.includes(delim)) throw new PgError("feature_not_supported", "COPY delimiter must not appear in the NULL specification");
  if (csv && nul.includes(q)) throw new PgError("feature_not_supported", "CSV quote character must not appear in the NULL specification");

  return {
    format: fmt,
    delimiter: delim,
    nullString: nul,
    header,
    quote: q,
    escape: esc,
    forceQuote: forceQuote ?? [],
    forceNotNull: forceNotNull ?? [],
    forceNull: forceNull ?? [],
    freeze,
    encoding,
  };
}

/**
 * The FORCE_* column lists checked against the columns COPY reads or writes, as Postgres checks
 * them once the relation or query is known. Returns, for each COPY column, whether it is listed.
 * `tableColumns` are all the relation's columns (null for COPY (query), whose columns are the
 * query's); `copyColumns` are the ones COPY moves, in order.
 */
export function forcedColumns(
  option: "FORCE_QUOTE" | "FORCE_NOT_NULL" | "FORCE_NULL",
  list: string[] | "*",
  relation: string | null,
  tableColumns: readonly string[] | null,
  copyColumns: readonly string[],
): boolean[] {
  if (list === "*") return copyColumns.map(() => true);
  checkColumnList(list, relation, tableColumns ?? copyColumns);
  for (const name of list) {
    if (!copyColumns.includes(name)) throw new PgError("invalid_column_reference", `${option} column "${name}" not referenced by COPY`);
  }
  return copyColumns.map((c) => list.includes(c));
}

/** A column list of COPY (or of a FORCE_* option): every name a column, none twice (Postgres's CopyGetAttnums). */
export function checkColumnList(list: readonly string[], relation: string | null, columns: readonly string[], generated: ReadonlySet<string> = new Set()): void {
  const seen = new Set<string>();
  for (const name of list) {
    if (!columns.includes(name)) {
      throw new PgError("undefined_column", relation === null ? `column "${name}" does not exist` : `column "${name}" of relation "${relation}" does not exist`);
    }
    if (generated.has(name)) throw new PgError("invalid_column_reference", `column "${name}" is a generated column`, { detail: "Generated columns cannot be used in COPY." });
    if (seen.has(name)) throw new PgError("duplicate_column", `column "${name}" specified more than once`);
    seen.add(name);
  }
}

function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

function listRequired(o: CopyOption, position: number | undefined): PgError {
  return new PgError("invalid_parameter_value", `argument to option "${o.name}" must be a list of column names`, { position });
}

/** Postgres's defGetString: the argument as text, or "NAME requires a parameter". */
function stringArg(o: CopyOption): string {
  if (o.arg.kind === "string") return o.arg.value;
  if (o.arg.kind === "star") return "*";
  if (o.arg.kind === "list") return o.arg.items.join(", ");
  throw new PgError("syntax_error", `${o.name} requires a parameter`);
}

/** Postgres's defGetBoolean: no argument, 0/1, true/false/on/off (any case). */
function booleanArg(o: CopyOption): boolean {
  if (o.arg.kind === "none") return true;
  const v = stringArg(o).toLowerCase();
  if (v === "true" || v === "on" || v === "1") return true;
  if (v === "false" || v === "off" || v === "0") return false;
  throw new PgError("syntax_error", `${o.name} requires a Boolean value`);
}

/** Postgres 15's defGetCopyHeaderChoice: a Boolean, or "match" (COPY FROM only). */
function headerArg(o: CopyOption, isFrom: boolean): boolean | "match" {
  if (o.arg.kind === "none") return true;
  const v = stringArg(o);
  const lower = v.toLowerCase();
  if (lower === "true" || lower === "on" || v === "1") return true;
  if (lower === "false" || lower === "off" || v === "0") return false;
  if (lower === "match") {
    if (!isFrom) throw new PgError("feature_not_supported", `cannot use "${v}" with HEADER in COPY TO`);
    return "match";
  }
  throw new PgError("syntax_error", `${o.name} requires a Boolean value or "match"`);
}
