// COPY … TO STDOUT, served in pgwire over the session's prepared statements, run with a row sink:
//
//   COPY t [(cols)] TO STDOUT   →  SELECT "cols" FROM "schema"."t"
//   COPY (query) TO STDOUT      →  the query itself
//
//   CopyOutResponse ─► header (HEADER, or the PGCOPY signature) ─► CopyData per row ─► trailer
//   (binary) ─► CopyDone ─► CommandComplete "COPY n"
//
// Rows arrive from session.run(statement, [], sink) batch by batch; each is encoded in the chosen format
// (copy-text.ts, copy-csv.ts, copy-binary.ts) straight into the connection's outbox, which is
// sent whenever it holds copyOutFrameBytes. The sink's flush waits while the transport reports
// more than copyOutBufferedBytesMax unsent, and the session produces the next batch only after
// the sink returns: so a COPY of any size holds a batch of rows and about a frame of output.
import { PgError } from "../../../common/errors.ts";
import type { CopyCommand, ParsedStatement } from "../sql/prepared.ts";
import type { FieldDescription, SqlSession } from "../sql/result.ts";
import { CopyData, CopyDone, CopyOutResponse, CommandComplete, type Outbox } from "./backend.ts";
import { hasBinaryResult } from "./binary.ts";
import { encodeBinaryRow, PGCOPY_HEADER, PGCOPY_TRAILER } from "./copy-binary.ts";
import { encodeCsvRow } from "./copy-csv.ts";
import { copyOptions, forcedColumns, type CopyOptions } from "./copy-options.ts";
import { columnOf, quoteIdent, resolveCopyTable, type CopyColumn } from "./copy-target.ts";
import { encodeTextRow } from "./copy-text.ts";
import { pgwireLimits } from "./limits.ts";
import { textCodec } from "./encoding/codec.ts";

const toUtf8 = new TextEncoder();

export interface CopyOutPlan {
  /** The statement whose rows COPY sends (parsed by the session). */
  statement: ParsedStatement;
  columns: CopyColumn[];
  options: CopyOptions;
  /** CSV: per column, whether FORCE_QUOTE names it. */
  forceQuote: boolean[];
}

/** Where COPY TO writes: the connection's outbox, and a flush that resolves when the transport can take more. */
export interface CopyOutSink {
  out: Outbox;
  flush(): Promise<void>;
}

/** Checks a COPY … TO STDOUT and works out what to run, with Postgres's errors in Postgres's order. */
export async function planCopyOut(session: SqlSession, cmd: CopyCommand): Promise<CopyOutPlan> {
  const copy = cmd.statement;
  if (copy.relation !== null) {
    const target = await resolveCopyTable(session, copy);
    const options = copyOptions(copy, cmd.position);
    const names = target.columns.map((c) => c.name);
    const forceQuote = options.format === "csv" ? forcedColumns("FORCE_QUOTE", options.forceQuote, target.relation, target.tableColumns.map((c) => c.name), names) : names.map(() => false);
    const [statement] = await session.parse(`SELECT ${names.map(quoteIdent).join(", ")} FROM ${target.sql}`);
    return { statement: statement!, columns: target.columns, options, forceQuote };
  }
  const query = copy.query!;
  if (query.kind !== "SelectStmt" && !query.returning) throw new PgError("feature_not_supported", "COPY query must have a RETURNING clause");
  const options = copyOptions(copy, cmd.position);
  if (cmd.query === null) throw new PgError("internal_error", "COPY (query): the query's text could not be found in the statement");
  const at = cmd.query.position;
  // The query is prepared (bound, not run) for its columns. Errors in it point into the COPY
  // statement, as Postgres's do.
  const prepared = await prepareQuery(session, cmd.query.text).catch((err: unknown) => {
    throw err instanceof PgError && err.position !== undefined ? err.with({ position: err.position + at - 1 }) : err;
  });
  const columns = (prepared.fields ?? []).map(columnOf);
  const names = columns.map((c) => c.name);
  const forceQuote = options.format === "csv" ? forcedColumns("FORCE_QUOTE", options.forceQuote, null, null, names) : names.map(() => false);
  return { statement: prepared, columns, options, forceQuote };
}

async function prepareQuery(session: SqlSession, sql: string) {
  const stmts = await session.parse(sql);
  if (stmts.length !== 1) throw new PgError("syntax_error", "COPY (query) takes exactly one query");
  return session.prepare(stmts[0]!);
}

/** Runs a planned COPY TO: sends everything from CopyOutResponse to CommandComplete; returns the rows sent. */
export async function runCopyOut(session: SqlSession, plan: CopyOutPlan, sink: CopyOutSink): Promise<number> {
  const { options, columns } = plan;
  const binary = options.format === "binary";
  if (binary) {
    for (const c of columns) {
      if (!hasBinaryResult(c.typeOid)) {
        throw new PgError("feature_not_supported", `binary COPY of column "${c.name}" (type OID ${c.typeOid}) is not supported`, { hint: "Use FORMAT text or csv for this column." });
      }
    }
  }
  const out = sink.out;
  CopyOutResponse(out, columns.length, binary ? 1 : 0);
  if (binary) CopyData(out, PGCOPY_HEADER);
  else if (options.header === true) CopyData(out, rowEncoder(plan, null)(columns.map((c) => c.name)));
  let rows = 0;
  const sendBatch = async (fields: readonly FieldDescription[], batch: ReadonlyArray<ReadonlyArray<string | null>>): Promise<void> => {
    const encode = rowEncoder(plan, fields);
    for (const row of batch) {
      CopyData(out, encode(row));
      rows++;
      if (out.size >= pgwireLimits.copyOutFrameBytes) await sink.flush();
    }
  };
  await session.run(plan.statement, [], sendBatch);
  if (binary) CopyData(out, PGCOPY_TRAILER);
  CopyDone(out);
  CommandComplete(out, `COPY ${rows}`);
  return rows;
}

/**
 * The format's row encoder for rows of `fields` (null: the header line, which CSV never
 * force-quotes). Text and CSV rows are strings, which the outbox writes in client_encoding; with
 * an ENCODING option they are bytes in that encoding (22P05 for a character it lacks, with no
 * CONTEXT, as Postgres reports it).
 */
function rowEncoder(plan: CopyOutPlan, fields: readonly FieldDescription[] | null): (row: ReadonlyArray<string | null>) => Uint8Array | string {
  const o = plan.options;
  const inEncoding = (line: (row: ReadonlyArray<string | null>) => string): ((row: ReadonlyArray<string | null>) => Uint8Array | string) => {
    if (o.encoding === null) return line;
    const codec = textCodec(o.encoding);
    return codec === null ? (row) => toUtf8.encode(line(row)) : (row) => codec.encode(line(row));
  };
  switch (o.format) {
    case "text":
      return inEncoding((row) => encodeTextRow(row, o));
    case "csv": {
      const force = fields === null ? plan.columns.map(() => false) : plan.forceQuote;
      return inEncoding((row) => encodeCsvRow(row, o, force));
    }
    case "binary": {
      const oids = (fields ?? []).map((f) => f.dataTypeID);
      return (row) => encodeBinaryRow(row, oids);
    }
  }
}
