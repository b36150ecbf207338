// What executing SQL produces, in the shape both client interfaces need: the Postgres wire protocol
// (RowDescription / DataRow / CommandComplete) and Neon's HTTP API ({command, rowCount, rows,
// fields}). Values are in Postgres's text format, exactly as Postgres prints them.
import type { PgError } from "../../../common/errors.ts";
import type { ParsedStatement, PreparedStatement, RowSink } from "./prepared.ts";
import type { CopyRowsTarget } from "./bind/copy-rows.ts";

export interface FieldDescription {
  name: string;
  /** OID of the table the column comes from, or 0. */
  tableID: number;
  /** Attribute number of the column in that table, or 0. */
  columnID: number;
  /** Postgres type OID (23 = int4, 25 = text, …). */
  dataTypeID: number;
  /** pg_type.typlen: -1 for variable width. */
  dataTypeSize: number;
  /** Type modifier (atttypmod), -1 when none. */
  dataTypeModifier: number;
  format: "text";
}

/** A message for the client beside a result (RAISE NOTICE in a PL/pgSQL function): a NoticeResponse on the wire. */
export interface Notice {
  readonly severity: "NOTICE" | "WARNING" | "INFO";
  readonly error: PgError;
}

export interface StatementResult {
  /** The command tag's verb: "SELECT", "INSERT", "CREATE TABLE", … */
  command: string;
  /** Rows affected or returned; null for commands that report none (CREATE TABLE, BEGIN, …). */
  rowCount: number | null;
  fields: FieldDescription[];
  rows: Array<Array<string | null>>;
  /** Notices the statement raised, in order (absent: none). */
  notices?: readonly Notice[];
}

/**
 * One session of a tenant: its settings and open transaction live here between statements. The
 * one contract the protocols use (pgwire, HTTP); every method is required, so a test fake is
 * checked against the same shape as the engine (wrap a real session to record calls).
 */
export interface SqlSession {
  /**
   * The statements of a query string, parsed (once per text per session) but not bound. Throws
   * PgError (42601 with a position); the error fails an open transaction block.
   */
  parse(sql: string): Promise<readonly ParsedStatement[]>;
  /**
   * Binds ONE parsed statement against the current catalog without running it: its parameter
   * types (`paramTypes`: the OIDs the client declared, 0 = infer) and result columns. Runs no
   * statement; with the catalog cached, sends no storage request. Throws PgError (42P01, …).
   */
  prepare(stmt: ParsedStatement, paramTypes?: readonly number[]): Promise<PreparedStatement>;
  /**
   * Runs ONE statement from parse or prepare with positional parameters ($1 …, text format, null
   * for SQL NULL). With `sink`, a query's rows go there batch by batch (the next batch waits for
   * the sink) and the result has the tag and no rows. Throws PgError.
   */
  /**
   * `rewind` (with a sink): called before the statement is rerun after a serialization failure of
   * its implicit transaction; it discards what the sink holds and answers false when rows already
   * reached the client (then the failure is reported instead of rerunning).
   */
  run(stmt: ParsedStatement, params?: ReadonlyArray<string | null>, sink?: RowSink, rewind?: () => boolean): Promise<StatementResult>;
  /**
   * parse + run for a whole query string (possibly several statements, like the simple query
   * protocol: without BEGIN they run as one implicit transaction). Throws PgError.
   */
  execute(sql: string, params?: Array<string | null>): Promise<StatementResult[]>;
  /**
   * COPY FROM's rows: text fields (null = NULL) for `target.columns` of `target.relation`, written
   * as `INSERT … (columns) OVERRIDING SYSTEM VALUE VALUES` of untyped literals would write them
   * (same conversions, defaults, triggers and constraints), as ONE statement in the open
   * transaction or its own, without SQL text. Returns the rows written. Throws PgError, which
   * fails an open transaction block.
   */
  copyRows(target: CopyRowsTarget, rows: ReadonlyArray<ReadonlyArray<string | null>>): Promise<number>;
  /**
   * Cancels the statement running now: it fails with 57014 "canceling statement due to user
   * request" at its next check point (the session then runs the next statement normally). Returns
   * whether a statement was running; called between statements it does nothing.
   */
  cancel(): boolean;
  /** I (idle), T (in a transaction block) or E (in a failed one), for ReadyForQuery. */
  transactionStatus(): "I" | "T" | "E";
  /** True inside BEGIN … COMMIT (failed or not). */
  readonly inTransaction: boolean;
  /**
   * COPY … FREEZE's condition (PostgreSQL's rd_createSubid / rd_newRelfilenodeSubid): the table
   * with this pg_class oid was created, or given a new data id by TRUNCATE, in the current
   * subtransaction of the open transaction block.
   */
  newInSubtransaction(relationOid: number): boolean;
  /**
   * The caller reported an error of its own (a wire Bind error, a failed COPY, …): inside a
   * transaction block the block is now failed, as after any ERROR in Postgres.
   */
  failTransactionBlock(): void;
  /**
   * The session ended (connection closed, HTTP request done): its temporary tables and their data
   * are dropped and an open transaction is rolled back. Callers that end a session call this.
   */
  close(): void;
}
