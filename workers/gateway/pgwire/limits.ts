// Bounds of the gateway's Postgres wire protocol, each with the reason for its value. Every one is
// tested at its edge (codec.test.ts, connection.test.ts, copy-*.test.ts).

export const pgwireLimits = {
  /**
   * Largest frontend message (its Int32 length, which counts itself). Postgres allows up to 1 GiB;
   * a gateway isolate has 128 MB, and the SQL layer refuses query strings over 1 MiB anyway, so
   * 16 MiB leaves room for a Bind with large parameters or a big CopyData row while keeping one
   * message well inside the isolate. A longer length is a protocol violation (08P01) and closes
   * the connection before any of the body is buffered.
   */
  messageBytesMax: 16 * 1024 * 1024,
  /**
   * Bytes received but not yet handled (a client pipelining ahead of the server). Bounded so a
   * client that floods without reading cannot exhaust the isolate: twice the largest message.
   */
  pendingBytesMax: 32 * 1024 * 1024,
  /** Prepared statements one connection may hold (Postgres has no bound; ORMs keep a few hundred). */
  preparedStatementsMax: 10_000,
  /** Open portals one connection may hold; each may buffer a result, so far fewer than statements. */
  portalsMax: 1_000,
  /** Parameters in one Bind: the protocol's Int16 count caps it at 65,535, as in Postgres. */
  bindParamsMax: 65_535,
  /**
   * COPY FROM STDIN rows in one batch: one session.copyRows statement under one savepoint. Larger
   * batches mean fewer statements (each costs a savepoint, a bind of the table and a statement
   * runner); a batch that fails on its data is replayed row by row to name the bad line, so
   * larger batches also make that slower. 500 rows of pgbench_accounts are ~50 KB of text.
   */
  copyBatchRowsMax: 500,
  /** Bytes of COPY row text gathered into one batch, so wide rows make smaller batches. */
  copyBatchBytesMax: 512 * 1024,
  /**
   * Fields in one COPY batch (rows × columns): a wide table gets fewer rows per batch, so the
   * batch's text fields and the values converted from them stay bounded in the isolate.
   */
  copyBatchParamsMax: 30_000,
  /**
   * Longest COPY row accepted, in bytes: a text/CSV line (a quoted CSV field may span lines) or
   * a binary tuple. Postgres allows 1 GiB; the gateway holds a row, its decoded text and a batch
   * of rows in a 128 MB isolate, so a row larger than this is refused with 54000 as a mistake.
   */
  copyLineBytesMax: 8 * 1024 * 1024,
  /**
   * COPY TO: output gathered before it is sent as one frame. Rows are CopyData messages of their
   * own (as Postgres sends them) but leave in frames of about this size, not one frame per row.
   */
  /**
   * The first bytes of a simple-query SELECT's result held back before rows stream to the client
   * (connection.ts streamSelect): results up to this size can still be discarded and rerun when
   * the implicit transaction meets a serialization failure, as gathered results always could;
   * point queries and pages are far smaller. Past it the rows stream with bounded memory.
   */
  streamHoldBytes: 256 * 1024,
  copyOutFrameBytes: 256 * 1024,
  /**
   * COPY TO: bytes handed to the transport but not yet written to the client, above which the
   * next batch of rows waits (back-pressure), where the transport can report the figure. Four
   * frames in flight keep the pipe busy while the gateway holds at most ~1 MiB of output.
   */
  copyOutBufferedBytesMax: 1024 * 1024,
} as const;
