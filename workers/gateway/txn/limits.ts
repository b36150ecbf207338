// Bounds of one transaction in the gateway. Writes are buffered in the isolate until commit and
// go to storage in ONE commit request, which crosses two hops whole: the gateway isolate hands it
// to the edge's TenantKV as one Workers RPC argument (the platform refuses serialized RPC values
// over 32 MiB; the edge forwards at most 16 MiB, workers/edge/limits.ts kvRequestBytesMax), and
// the edge posts it as one HTTP body to the storage node, which accepts 120,000 entries, 15 MiB of
// writes and 16 MiB of body per commit (storage-node/limits.ts). So the bounds below are the
// node's, less room for read spans and framing, and kv/limits.ts checks the encoded size.

// With intents (storage-node/README.md, "Intents and locks"), writes past flushKeys go to storage
// as the transaction runs, so writesMax / writeBytesMax below bound only what is buffered and
// unsent at one moment (a synchronous burst of puts with no read or chunk boundary between them),
// not the transaction: a transaction may write as much as the node's disk holds.

export const txnLimits = {
  /**
   * Keys one transaction may write: 110,000, so a 100,000-row load (`pgbench -i -s 1` COPYs
   * 100,000 accounts plus branches, tellers and TRUNCATEs in one transaction) or a rewrite of a
   * 100,000-row table (ADD PRIMARY KEY, ADD COLUMN … DEFAULT) commits. The buffer lives in a
   * 128 MB isolate: measured in Node, 100,000 buffered pgbench rows hold ~62 MB of heap (the
   * commit then encodes ~12.4 MiB more), so this is also about as far as memory allows. Leaves
   * 10,000 of the node's 120,000 entries per commit for read spans.
   */
  writesMax: 110_000,
  /**
   * Bytes of keys and values one transaction may write: 14 MiB, under the node's 15 MiB per commit
   * so the framing (≤ 7 bytes per write, 0.8 MiB at writesMax) and read spans fit the 16 MiB
   * request. pgbench's 100,000 accounts rows are ~12 MiB.
   */
  writeBytesMax: 14 * 1024 * 1024,
  /** Entries (writes + read spans) in one commit request: the storage node's batchEntriesMax. */
  commitEntriesMax: 120_000,
  /** Read spans kept in memory before neighbours are merged (long read-only scans of many keys). */
  readSpansKeptMax: 20_000,
  /**
   * Buffered writes of earlier statements past which they go to storage as intents (txnWrite) at
   * the next read or table-writer chunk: the buffer is what makes reads of a small transaction
   * cheap (no request for read-your-own-writes), so small transactions never flush.
   */
  flushKeys: 8_192,
  /**
   * Past these, everything buffered goes, the current statement's writes included (one COPY of a
   * million rows): at ~430 heap bytes per buffered 100-byte row (write-buffer.ts), 32,768 rows are
   * ~14 MB of a 128 MB isolate.
   */
  flushKeysHard: 32_768,
  flushBytesHard: 8 * 1024 * 1024,
  /** One txnWrite request: well inside the node's batchEntriesMax and requestBytesMax. */
  flushBatchKeysMax: 16_384,
  flushBatchBytesMax: 4 * 1024 * 1024,
  /** Heartbeat period of a transaction holding locks or intents (the node's expiry is 10 s: 5 beats). */
  heartbeatIntervalMs: 2_000,
  /** Heartbeats stop after this: twice the node's txnDurationMsMax (5 min), past which no commit is accepted anyway. */
  heartbeatForMsMax: 10 * 60_000,
  /**
   * Keys one transaction asks the node to lock (UPDATE/DELETE targets). Each is an entry in the
   * node's in-memory lock table; past this, rows are still validated at commit (serializable) but
   * no longer locked, so an UPDATE of a million rows does not put a million entries in node memory.
   */
  locksPerTxnMax: 10_000,
  /**
   * Live heap of a gateway isolate while one statement writes a transaction of any size (the COPY
   * of `pgbench -i -s 10`'s 1,000,000 rows, ALTER TABLE … ADD PRIMARY KEY over them): 64 MiB, half
   * of a Workers isolate's 128 MB, so the other half stays for what the statement does not bound
   * here (a query's working memory is its own 64 MiB, sql/limits.ts workMemBytes, and is not spent
   * at the same time) and garbage between collections. What keeps a bulk statement under it is the
   * buffer bounds above (flushKeysHard, flushBytesHard) and ADD PRIMARY KEY / CREATE INDEX working a
   * page at a time. Code cannot check it (a Worker cannot read its own heap: workerd answers
   * process.memoryUsage() with zeros); it is measured from outside through workerd's inspector
   * (test/harness/gateway-heap.ts: V8 heap plus ArrayBuffer backing stores after a forced full
   * collection; the parser's WASM memory is not in it), asserted by test/pgwire-pgbench.test.ts
   * around `pgbench -i` and printed by `npm run bench`'s pgbench section.
   */
  bulkLiveHeapBytesMax: 64 * 1024 * 1024,
  /** Snapshot refreshes one request may trigger before giving up with 40001. */
  refreshesPerRequestMax: 5,
  /** A transaction older than this refreshes its snapshot before committing (the node refuses commits older than 5 min). */
  refreshBeforeCommitMs: 60_000,
} as const;
