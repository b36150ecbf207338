// A SqlSession over a real one, for tests that watch what a protocol asks of the engine: every
// method forwards (the contract has no optional methods, so a fake cannot drift from it); the
// texts of statements run (execute's query strings, run's statement texts, `COPY ROWS n` per copyRows batch) are recorded in order,
// and any method may be replaced to hold, fail or count calls.
import type { SqlSession } from "../result.ts";

export interface RecordingSession extends SqlSession {
  /** Query strings passed to execute() and texts of statements passed to run(), in order. */
  readonly executed: string[];
}

export function recordingSession(base: SqlSession, overrides: Partial<SqlSession> = {}): RecordingSession {
  const executed: string[] = [];
  const s: RecordingSession = {
    executed,
    parse: (sql) => base.parse(sql),
    prepare: (stmt, types) => base.prepare(stmt, types),
    run: (stmt, params, sink) => {
      executed.push(stmt.text);
      return base.run(stmt, params, sink);
    },
    execute: (sql, params) => {
      executed.push(sql);
      return base.execute(sql, params);
    },
    copyRows: (target, rows) => {
      executed.push(`COPY ROWS ${rows.length}`);
      return base.copyRows(target, rows);
    },
    cancel: () => base.cancel(),
    transactionStatus: () => base.transactionStatus(),
    get inTransaction() {
      return base.inTransaction;
    },
    failTransactionBlock: () => base.failTransactionBlock(),
    newInSubtransaction: (oid) => base.newInSubtransaction(oid),
    close: () => base.close(),
  };
  return Object.assign(s, overrides);
}
