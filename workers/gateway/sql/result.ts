// What executing SQL produces, in the shape both client interfaces need: the Postgres wire protocol
// (RowDescription / DataRow / CommandComplete) and Neon's HTTP API ({command, rowCount, rows,
// fields}). Values are in Postgres's text format, exactly as Postgres prints them.

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

export interface StatementResult {
  /** The command tag's verb: "SELECT", "INSERT", "CREATE TABLE", … */
  command: string;
  /** Rows affected or returned; null for commands that report none (CREATE TABLE, BEGIN, …). */
  rowCount: number | null;
  fields: FieldDescription[];
  rows: Array<Array<string | null>>;
}

/** One session of a tenant: its settings and open transaction live here between statements. */
export interface SqlSession {
  /**
   * Runs one query string (possibly several statements, like the simple query protocol) with
   * optional positional parameters ($1 …, text format, null for SQL NULL). Throws PgError.
   */
  execute(sql: string, params?: Array<string | null>): Promise<StatementResult[]>;
  /**
   * Cancels the statement running now: it fails with 57014 "canceling statement due to user
   * request" at its next check point (the session then runs the next statement normally). Returns
   * whether a statement was running; called between statements it does nothing.
   */
  cancel(): boolean;
  /**
   * The session ended (connection closed, HTTP request done): its temporary tables and their data
   * are dropped and an open transaction is rolled back. Callers that end a session call this.
   */
  close?(): void;
}
