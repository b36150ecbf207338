// Bounds of the SQL layer inside one gateway isolate (128 MB). Each says why; each is tested at its edge.

export const sqlLimits = {
  /** Longest query string accepted: 1 MiB of SQL is far beyond hand-written statements and keeps parse memory bounded. */
  statementCharsMax: 1024 * 1024,
  /**
   * Bytes of rows one statement may hold in memory for sorts, hash joins, aggregation and
   * DISTINCT together: 64 MiB, half the isolate, leaving room for the write buffer, the parser's
   * WASM heap and the result being paged out. Past it a query fails with 53200, the isolate lives.
   * A session's work_mem setting may lower the budget, never raise it above this.
   */
  workMemBytes: 64 * 1024 * 1024,
  /** Rows kept for one result returned at once (HTTP / simple query); larger results must page. */
  resultRowsMax: 1_000_000,
  /** Bytes of text in one result returned at once: 32 MiB, within the isolate next to work memory. */
  resultBytesMax: 32 * 1024 * 1024,
  /** Depth of nested expressions/subqueries the binder accepts, far past real queries, before JS recursion could overflow. */
  nestingDepthMax: 200,
  /** Iterations of a recursive CTE before it is assumed to be unbounded: a runaway recursion stops after seconds of CPU, not minutes. */
  recursiveIterationsMax: 100_000,
} as const;
