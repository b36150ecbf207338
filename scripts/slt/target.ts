// What the sqllogictest runner needs from a database: a fresh, empty database per script, and a
// way to run one SQL text and get its rows in PostgreSQL's text format. Implementations:
// postgres.ts (the reference, PostgreSQL 15 through `pg`) and warren.ts (the real local stack
// over HTTP POST /sql).
import type { RawValue } from "./format.ts";

export interface QueryOutput {
  /** Number of result columns (0 for commands that return no rows). */
  columns: number;
  rows: RawValue[][];
}

/** One script's database: empty when opened, discarded when closed. */
export interface SqlSession {
  /** Runs one SQL text. Throws SqlError when the database rejects it. */
  execute(sql: string): Promise<QueryOutput>;
  close(): Promise<void>;
}

export interface SqlTarget {
  /** Short name for reports: "postgres", "warren". */
  readonly name: string;
  /** The database name `skipif` / `onlyif` lines are matched against. */
  readonly engine: string;
  /** A fresh empty database; `label` helps name it (the script's file name). */
  openSession(label: string): Promise<SqlSession>;
  /** Releases everything the target started. */
  close(): Promise<void>;
}

/** The database answered with an error (as opposed to the transport failing). */
export class SqlError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "SqlError";
    this.code = code;
  }
}
