// What pgwire needs from the SQL session, beyond `execute` (workers/gateway/sql/result.ts).
//
// The additions are optional: pgwire uses them when the session has them and falls back
// honestly when it does not (see README.md, "Describe without the engine's help").
import type { FieldDescription, SqlSession, StatementResult } from "../sql/result.ts";
import type { TransactionStatus } from "./backend.ts";

export interface DescribedStatement {
  /** One type OID per $n parameter (the declared OID where the client gave one, else the inferred one). */
  paramTypes: number[];
  /** The columns the statement returns ([] when it returns no rows). */
  fields: FieldDescription[];
}

export interface PgwireSession extends SqlSession {
  /**
   * Parameter types and result columns of ONE statement, without running it (the extended query
   * protocol's Describe of a prepared statement comes before Bind). `paramTypes` holds the OIDs the
   * client declared in Parse (0 = infer). Throws PgError like execute (42601, 42P01, …).
   */
  describe?(sql: string, paramTypes: readonly number[]): Promise<DescribedStatement>;
  /** I (idle), T (in a transaction block) or E (in a failed one), for ReadyForQuery. */
  transactionStatus?(): TransactionStatus;
  /**
   * pgwire reported an error of its own (a Parse, Bind or Describe error, a failed COPY …): inside
   * a transaction block the block is now failed, as after any ERROR in Postgres.
   */
  failTransactionBlock?(): void;
  /**
   * Runs ONE statement and hands its rows to `sink` batch by batch, waiting for the sink before
   * producing more (COPY TO streams a table through it). The result has the tag and no rows.
   */
  executeStreaming?(
    sql: string,
    params: Array<string | null>,
    sink: (fields: FieldDescription[], rows: Array<Array<string | null>>) => Promise<void>,
    /** Called before an implicit rerun: discard what the sink holds; false when rows already reached the client. */
    rewind?: () => boolean,
  ): Promise<StatementResult>;
  /** True inside BEGIN … COMMIT (the engine's Session has this today). */
  readonly inTransaction?: boolean;
}
