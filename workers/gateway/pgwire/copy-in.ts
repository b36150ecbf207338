// COPY … FROM STDIN, served in pgwire: the rows the client streams as CopyData are read here by
// the format's decoder (copy-text.ts, copy-csv.ts, copy-binary.ts) and written through the
// session in batches of text fields:
//
//   CopyData ─► decoder ─► records ─► header / field count / FORCE_* / each value through its
//   column's input function (to locate a bad value: COPY t, line 3, column b: "x") ─► batch
//   ─► session.copyRows({ relation, columns }, rows)
//
// copyRows (sql/bind/copy-rows.ts) writes a batch as `INSERT INTO t (c1, …) OVERRIDING SYSTEM
// VALUE VALUES ($1, …), …` of untyped literals would (an empty field becomes '' and char(n) pads
// it), without building, parsing or planning that SQL: each field goes through its column's
// compiled cast straight into the insert path. Sending the batch as SQL text with parameters cost
// about twice the gateway CPU per row (README, "COPY").
//
// The whole COPY is one transaction, as in Postgres: inside BEGIN … COMMIT (pgbench -i) it
// commits or rolls back with the client's transaction; outside one it runs in a transaction of
// its own, begun before the first batch and committed at CopyDone, so a failure anywhere leaves
// nothing written. Its size is bounded by the storage node's disk, not the gateway: the
// transaction's writes go to storage as intents as it runs (txn/limits.ts flushKeys).
//
// When a batch fails on a constraint (a duplicate key, a NOT NULL), the batch is replayed row by
// row where nothing of it stays (under a savepoint, or in a transaction rolled back), to report
// the line that failed as Postgres does.
import { PgError } from "../../../common/errors.ts";
import { parseText } from "../sql/types/text-io.ts";
import { isKnownTypeOid, typeFromOid, type SqlType } from "../sql/types/type.ts";
import { BinaryCopyReader } from "./copy-binary.ts";
import { CsvCopyReader } from "./copy-csv.ts";
import { copyOptions, forcedColumns, type CopyOptions } from "./copy-options.ts";
import { badCopyData, withCopyContext, type CopyDecoder, type CopyErrorPlace, type CopyRecord } from "./copy-input.ts";
import { resolveCopyTable, type CopyTarget } from "./copy-target.ts";
import { TextCopyReader } from "./copy-text.ts";
import { textCodec, type TextCodec } from "./encoding/codec.ts";
import { pgwireLimits } from "./limits.ts";
import type { CopyCommand } from "../sql/prepared.ts";
import type { SqlSession } from "../sql/result.ts";
import type { CopyRowsTarget } from "../sql/bind/copy-rows.ts";

export interface CopyInParams {
  session: SqlSession;
  target: CopyTarget;
  options: CopyOptions;
  decoder: CopyDecoder;
  /** CSV: per COPY column, whether FORCE_NOT_NULL / FORCE_NULL name it. */
  forceNotNull: readonly boolean[];
  forceNull: readonly boolean[];
  /** The relation and columns as the session resolves them for copyRows. */
  rowsTarget: CopyRowsTarget;
}

interface PendingRow {
  values: Array<string | null>;
  line: number;
  text: string | undefined;
}

/** The savepoint a batch runs under inside the client's transaction (released after it). */
const BATCH_SAVEPOINT = "warren_copy_batch";

/** Errors that depend on a row's data, worth replaying the batch to locate. */
function dataDependent(err: unknown): err is PgError {
  return err instanceof PgError && (err.code.startsWith("22") || err.code.startsWith("23"));
}

/**
 * COPY FROM … (FREEZE) only on a table created or truncated in the current subtransaction, as in
 * Postgres (pgbench -i truncates first, then copies with FREEZE in the same transaction). Warren
 * writes such rows as any others; the check keeps a client from relying on a guarantee it lacks.
 * One difference remains: a single query string `CREATE TABLE x …; COPY x FROM STDIN (FREEZE)`
 * is one implicit transaction in Postgres (accepted) but runs statement by statement here when it
 * holds DDL (connection.ts), so the COPY is refused.
 */
function checkFreeze(session: SqlSession, target: CopyTarget): void {
  if (session.newInSubtransaction(target.oid)) return;
  throw new PgError("object_not_in_prerequisite_state", "cannot perform COPY FREEZE because the table was not created or truncated in the current subtransaction");
}

/** Checks a COPY … FROM STDIN (Postgres's errors, in its order) and prepares the loader for its data. */
/** `clientCodec`: client_encoding's codec (null: UTF-8), used unless the COPY names an ENCODING. */
export async function startCopyIn(session: SqlSession, cmd: CopyCommand, clientCodec: TextCodec | null = null): Promise<CopyIn> {
  const copy = cmd.statement;
  const target = await resolveCopyTable(session, copy);
  const options = copyOptions(copy, cmd.position);
  if (copy.hasWhere) {
    throw new PgError("feature_not_supported", "COPY FROM … WHERE is not supported", {
      hint: "Load into a staging table, then INSERT … SELECT … WHERE.",
    });
  }
  const names = target.columns.map((c) => c.name);
  const all = target.tableColumns.map((c) => c.name);
  const none = names.map(() => false);
  const csv = options.format === "csv";
  const forceNotNull = csv && options.forceNotNull.length > 0 ? forcedColumns("FORCE_NOT_NULL", options.forceNotNull, target.relation, all, names) : none;
  const forceNull = csv && options.forceNull.length > 0 ? forcedColumns("FORCE_NULL", options.forceNull, target.relation, all, names) : none;
  if (options.freeze) checkFreeze(session, target);
  const codec = options.encoding === null ? clientCodec : textCodec(options.encoding);
  const decoder: CopyDecoder =
    options.format === "text"
      ? new TextCopyReader(target.relation, options, codec)
      : csv
        ? new CsvCopyReader(target.relation, options, codec)
        : new BinaryCopyReader(target.relation, target.columns.map((c) => ({ name: c.name, typeOid: c.typeOid })));
  const rowsTarget: CopyRowsTarget = { relation: copy.relation!, columns: names };
  return new CopyIn({ session, target, options, decoder, forceNotNull, forceNull, rowsTarget });
}

/** Receives CopyData, turns records into rows and rows into INSERT batches. */
export class CopyIn {
  private readonly session: SqlSession;
  private readonly target: CopyTarget;
  private readonly options: CopyOptions;
  private readonly decoder: CopyDecoder;
  private readonly forceNotNull: readonly boolean[];
  private readonly forceNull: readonly boolean[];
  private readonly rowsTarget: CopyRowsTarget;
  /** The transaction this COPY began because the client had none open (committed at CopyDone). */
  private ownTransaction = false;
  /** Column types for checking values (null where the types layer has no input function to check with). */
  private readonly types: Array<SqlType | null>;
  private readonly batchRowsMax: number;
  private batch: PendingRow[] = [];
  private batchBytes = 0;
  rowsCopied = 0;

  constructor(p: CopyInParams) {
    this.session = p.session;
    this.target = p.target;
    this.options = p.options;
    this.decoder = p.decoder;
    this.forceNotNull = p.forceNotNull;
    this.forceNull = p.forceNull;
    this.rowsTarget = p.rowsTarget;
    this.types = p.target.columns.map((c) => (isKnownTypeOid(c.typeOid) ? typeFromOid(c.typeOid, c.typmod) : null));
    // Rows per INSERT: the row bound, lowered for wide tables so one statement's parameters stay bounded.
    this.batchRowsMax = Math.max(1, Math.min(pgwireLimits.copyBatchRowsMax, Math.floor(pgwireLimits.copyBatchParamsMax / Math.max(1, p.target.columns.length))));
  }

  get columnCount(): number {
    return this.target.columns.length;
  }

  get binary(): boolean {
    return this.options.format === "binary";
  }

  async data(bytes: Uint8Array): Promise<void> {
    for (const r of this.decoder.push(bytes)) await this.record(r);
  }

  /** CopyDone: the last record, the last batch; returns the rows copied. */
  async done(): Promise<number> {
    for (const r of this.decoder.finish()) await this.record(r);
    await this.flush();
    if (this.ownTransaction) {
      this.ownTransaction = false;
      await this.session.execute("COMMIT");
    }
    return this.rowsCopied;
  }

  /**
   * The COPY failed (a bad row, CopyFail, the client went away): the transaction it began is
   * rolled back, so nothing of it stays. Inside the client's transaction nothing is done here:
   * the error fails the client's block, as in Postgres.
   */
  async abort(): Promise<void> {
    if (!this.ownTransaction) return;
    this.ownTransaction = false;
    await this.session.execute("ROLLBACK");
  }

  private place(r: CopyRecord, extra: Partial<CopyErrorPlace> = {}): CopyErrorPlace {
    return { relation: this.target.relation, line: r.line, ...extra };
  }

  private async record(r: CopyRecord): Promise<void> {
    const columns = this.target.columns;
    if (this.options.header !== false && r.line === 1) {
      if (this.options.header === "match") this.matchHeader(r);
      return;
    }
    const lineText = r.text === undefined ? {} : { lineText: r.text };
    if (r.fields.length > columns.length) throw badCopyData("extra data after last expected column", this.place(r, lineText));
    const values = r.fields;
    const csv = this.options.format === "csv";
    // Column by column, as Postgres's NextCopyFrom goes: a missing field is found only after the
    // fields before it went through their columns' input functions (so a bad value comes first).
    // Checking each value now reports it with its line, column and text; the INSERT could not.
    for (let i = 0; i < columns.length; i++) {
      if (i >= values.length) throw badCopyData(`missing data for column "${columns[i]!.name}"`, this.place(r, lineText));
      if (csv) {
        if (values[i] === null && this.forceNotNull[i]) values[i] = this.options.nullString;
        else if (values[i] !== null && this.forceNull[i] && values[i] === this.options.nullString) values[i] = null;
      }
      const v = values[i]!;
      const t = this.types[i];
      if (v === null || t === null || t === undefined) continue;
      try {
        parseText(v, t);
      } catch (err) {
        if (err instanceof PgError && err.condition === "feature_not_supported") continue; // the INSERT decides
        throw withCopyContext(err, this.place(r, { column: columns[i]!.name, value: r.text === undefined ? undefined : v }));
      }
    }
    this.batch.push({ values, line: r.line, text: r.text });
    this.batchBytes += r.bytes;
    if (this.batch.length >= this.batchRowsMax || this.batchBytes >= pgwireLimits.copyBatchBytesMax) await this.flush();
  }

  /** HEADER MATCH: the header line must name the COPY columns, in order (Postgres 15). */
  private matchHeader(r: CopyRecord): void {
    const columns = this.target.columns;
    const place = this.place(r, r.text === undefined ? {} : { lineText: r.text });
    if (r.fields.length !== columns.length) {
      throw badCopyData(`wrong number of fields in header line: got ${r.fields.length}, expected ${columns.length}`, place);
    }
    r.fields.forEach((got, i) => {
      const expected = columns[i]!.name;
      if (got === null) {
        throw badCopyData(`column name mismatch in header line field ${i + 1}: got null value ("${this.options.nullString}"), expected "${expected}"`, place);
      }
      if (got !== expected) throw badCopyData(`column name mismatch in header line field ${i + 1}: got "${got}", expected "${expected}"`, place);
    });
  }

  private async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const rows = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    if (!this.session.inTransaction) {
      await this.session.execute("BEGIN");
      this.ownTransaction = true;
    }
    await this.session.execute(`SAVEPOINT ${BATCH_SAVEPOINT}`);
    try {
      await this.session.copyRows(this.rowsTarget, rows.map((r) => r.values));
    } catch (err) {
      // A foreign key's error has no line in Postgres (it is checked at the end of the
      // statement): nothing to locate.
      if (!dataDependent(err) || err.code === "23503") throw err;
      await this.replay(rows, err);
      return;
    }
    await this.session.execute(`RELEASE SAVEPOINT ${BATCH_SAVEPOINT}`);
    this.rowsCopied += rows.length;
  }

  /**
   * A batch failed on its data: roll it back to its savepoint and run its rows one at a time, to
   * find the line that fails and report it as Postgres does (the failure then fails the
   * transaction; abort() rolls back one the COPY began). If no row fails alone (the error needed
   * the whole batch, or was transient), the rows written one by one stand and the COPY goes on.
   */
  private async replay(rows: PendingRow[], failure: PgError): Promise<void> {
    try {
      await this.session.execute(`ROLLBACK TO SAVEPOINT ${BATCH_SAVEPOINT}`);
    } catch {
      // The transaction sent writes of the batch to storage before it failed, so the savepoint
      // cannot be rolled back to (txn/write-buffer.ts): report the error without its line
      // rather than the savepoint's. Batches are sized so this does not happen (a flush falls
      // at a batch's first read, before its writes), but a trigger's reads could cause it.
      throw failure;
    }
    for (const row of rows) {
      try {
        await this.session.copyRows(this.rowsTarget, [row.values]);
      } catch (err) {
        throw this.located(err, row);
      }
    }
    await this.session.execute(`RELEASE SAVEPOINT ${BATCH_SAVEPOINT}`);
    this.rowsCopied += rows.length;
  }

  /** Postgres's context for an error raised while inserting a row. */
  private located(err: unknown, row: PendingRow): PgError {
    if (!(err instanceof PgError)) return withCopyContext(err, { relation: this.target.relation, line: row.line });
    // Foreign keys are checked at the end of the statement in Postgres, outside the row's context.
    if (err.code === "23503") return err;
    // NOT NULL and CHECK fail before the row is stored, while its line is still at hand.
    const showLine = (err.code === "23502" || err.code === "23514") && row.text !== undefined;
    return withCopyContext(err, showLine ? { relation: this.target.relation, line: row.line, lineText: row.text } : { relation: this.target.relation, line: row.line });
  }
}
