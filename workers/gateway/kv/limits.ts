// Bounds of the gateway's KV client. Each value says why it is what it is; each has a test at its edge.

export const kvLimits = {
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
} as const;
