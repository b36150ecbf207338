// Bounds of the gateway's KV client. Each value says why it is what it is; each has a test at its edge.

export const kvLimits = {
  /**
   * Batches a holder sends through one TenantKV channel (kv-channel.ts) before opening the next. Equal to the
   * edge's kvChannelBatchesMax (workers/edge/limits.ts), past which the edge refuses a channel's
   * batches; a test keeps the two equal.
   */
  kvChannelBatchesMax: 500,
  /**
   * Rows asked for in one scan page when the caller gives no hint. Large enough that a full scan
   * needs few round trips (each costs ~1 ms through the capability), small enough that one page of
   * wide rows stays a few MiB inside a 128 MB isolate.
   */
  scanPageRowsDefault: 1000,
  /** Upper bound on a page after geometric growth: a scan never holds more than this many rows of one page. */
  scanPageRowsMax: 10_000,
  /** Byte bound on one scan page, so a page of very wide rows cannot exhaust the isolate. */
  scanPageBytesMax: 4 * 1024 * 1024,
  /** Gets sent in one read request; the storage node bounds batch size as well, this keeps requests small. */
  getsPerRequestMax: 1000,
  /**
   * Largest encoded request sent: 16 MiB. A request is one Workers RPC argument to the edge's
   * TenantKV (the platform refuses serialized values over 32 MiB), the edge forwards at most
   * 16 MiB (workers/edge/limits.ts kvRequestBytesMax) and the storage node reads at most 16 MiB
   * (requestBytesMax). Checked before sending, so an oversized commit fails with 54000 saying
   * why instead of as a broken RPC.
   */
  requestBytesMax: 16 * 1024 * 1024,
  /**
   * How long one request keeps being re-sent while storage answers rate_limited / overloaded
   * (both refuse before executing anything, so re-sending is safe, commits included). A tenant's
   * share is 8,000 RU/s with a 160,000 RU burst (storage-node/limits.ts); a 100,000-row commit
   * costs ~112,000 RU, so a second one right after the first must wait ~10 s for tokens. Waiting
   * is what a Postgres client expects from a busy server; past 60 s the client gets 53400.
   * (statement_timeout is checked before each read request, not during these re-sends.)
   */
  throttledRetryMsMax: 60_000,
  /**
   * Bytes of temporary-table data (rows and index entries, each counted as key + value + 96 bytes
   * of bookkeeping, which is what it measurably costs: local-range.ts) one session keeps in
   * isolate memory: 16 MiB, about 95,000 rows of 60 bytes without secondary indexes — twice
   * Postgres's default temp_buffers, enough for the staging and scratch tables temporary tables
   * are used for. Temporary data never goes to storage (see sql/README.md,
   * "Temporary tables"), so this is memory of a 128 MB isolate that also holds a transaction's
   * write buffer and a statement's working memory; past it a commit fails with 54000.
   */
  localRangeBytesMax: 16 * 1024 * 1024,
  /**
   * The same for all sessions of the isolate together (one isolate serves every connection of a
   * tenant): 32 MiB, a quarter of the isolate, so many sessions with temporary tables cannot
   * starve the rest. Past it a commit that adds temporary data fails with 54000.
   */
  localRangesBytesMax: 32 * 1024 * 1024,
} as const;
