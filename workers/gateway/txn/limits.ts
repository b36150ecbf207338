// Bounds of one transaction in the gateway. Writes are buffered in the isolate until commit and
// go to storage in one commit request, so they follow the storage node's per-request bounds
// (storage-node/limits.ts: 10,000 entries and 8 MiB of writes per commit).

export const txnLimits = {
  /** Keys one transaction may write: the storage node's 10,000 entries per commit, less room for read spans. */
  writesMax: 9_000,
  /** Bytes of keys and values one transaction may write: under the node's 8 MiB per commit, with headroom for framing. */
  writeBytesMax: 7 * 1024 * 1024,
  /** Entries (writes + read spans) in one commit request: the storage node's batchEntriesMax. */
  commitEntriesMax: 10_000,
  /** Read spans kept in memory before neighbours are merged (long read-only scans of many keys). */
  readSpansKeptMax: 20_000,
} as const;
