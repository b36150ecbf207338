// Every bound the storage node enforces, in one place, each with the reason for its value.
// A request that crosses one is refused whole with `limit_exceeded` (or the more specific code
// named beside it) and writes nothing. Tests for each edge live in limits.test.ts.

/** LMDB's largest key with the default 4 KiB page (lmdb-js README). */
export const LMDB_KEY_BYTES_MAX = 1978;
/**
 * A stored version key is the user key escaped (each 0x00 becomes 0x00 0xFF, so at worst twice as
 * long), a 2-byte terminator and an 8-byte timestamp. The largest user key whose worst-case
 * version key still fits in LMDB: floor((1978 - 10) / 2) = 984 bytes. SQL index keys beyond that
 * are refused by Postgres too (btree entries are limited to about a third of a page).
 */
export const KEY_BYTES_MAX = Math.floor((LMDB_KEY_BYTES_MAX - 10) / 2);

export interface StorageLimits {
  /** See KEY_BYTES_MAX. */
  keyBytesMax: number;
  /** 1 MiB per value: big enough for any row the gateway stores whole, small enough that a page of rows fits a 128 MB Worker. */
  valueBytesMax: number;
  /**
   * Request body bound: 16 MiB. A commit reaches the node as one body that has already crossed the
   * gateway -> edge hop as ONE Workers RPC argument (the platform refuses serialized RPC values
   * over 32 MiB) and the edge's own forwarding bound (workers/edge/limits.ts kvRequestBytesMax,
   * 16 MiB); a larger value here could never be reached. It holds a 100,000-row bulk load
   * (`pgbench -i -s 1` encodes to 12.4 MiB) plus framing and read spans. The body is held whole
   * while it is decoded and validated.
   */
  requestBytesMax: number;
  /**
   * Operations (reads + writes + read spans) in one request: 120,000, so a transaction writing
   * 100,000 rows (pgbench -i -s 1, ADD PRIMARY KEY / ADD COLUMN … DEFAULT on a 100k-row table)
   * commits with room for its read spans and catalog keys. The bound is the stall: the writer
   * applies one commit in one LMDB write transaction and every other tenant's commit waits for it.
   * Measured on the 2-core dev box (load ≈ 4): 100,000 puts of 100 bytes take 1.6–1.8 s from
   * request to reply, and other tenants' small commits waited up to 1.5 s meanwhile; 250,000 took
   * 4.9–5.5 s (stall up to 5.1 s), too long to allow.
   */
  batchEntriesMax: number;
  /**
   * Written bytes (keys + values) in one commit or batch: 15 MiB, the request bound less room for
   * framing (≤ 7 bytes per op: 0.8 MiB at batchEntriesMax) and read spans. Bounds the size of one
   * LMDB write transaction.
   */
  txnWriteBytesMax: number;
  /**
   * Keys a deleteRange may tombstone in one commit: 120,000, the same as batchEntriesMax, because a
   * tombstone costs the writer what a put costs (one version written in the same LMDB write
   * transaction), so the same stall bound applies; a table a commit could fill, one commit can empty.
   */
  deleteRangeKeysMax: number;
  /**
   * Version entries one step of a background clear (DROP TABLE / TRUNCATE / DROP INDEX, see
   * clearing/) deletes in one LMDB write transaction: 2,000. The bound is the stall again: while a
   * step runs, every other tenant's commit waits for it (commits queued meanwhile run before the
   * next step). Measured with clear-latency.serial.test.ts on the shared 2-core box (load 12-17):
   * with 4,000 per step another tenant's back-to-back commits went from p50 11 ms to 75 ms during
   * a 400,000-version clear; with 2,000 (and the pause below) from 13 ms to 19 ms, p99 93 to
   * 117 ms, while one 100,000-key commit stalled them for 5-8 s. Smaller steps cost more fsyncs per
   * version: 1,000 per step took 44 µs per version against 13 µs at 4,000.
   */
  clearChunkKeysMax: number;
  /**
   * Least pause between two steps of a background clear: 2 ms. The writer also waits at least as
   * long as the step itself took, so a clear holds the writer (and the disk's fsyncs) at most
   * about half the time, and a commit arriving during a step finds the writer free right after
   * it. Steps yield to queued commits anyway; the pause is for the commits that arrive meanwhile.
   */
  clearChunkPauseMs: number;
  /**
   * Clear records one tenant may hold at once: 20,000. A record stays until its span is deleted
   * and the GC window (gcWindowMs) has passed its commit, and each costs about 200 bytes on each
   * of the two threads, so this bounds a tenant's share of that memory at about 8 MB. 20,000 per
   * 10 minutes is 33 DROP/TRUNCATE/DROP INDEX per second sustained; beyond it a clear is refused
   * with limit_exceeded (54000) until older records expire.
   */
  clearSpansPerTenantMax: number;
  /** Rows in one scan page, whatever the client asks for. */
  scanRowsMax: number;
  /** Bytes in one scan page, and in one response overall: the gateway holds a page in a 128 MB isolate. */
  scanBytesMax: number;
  /** Response bytes over all reads of one request (several scans share it). */
  responseBytesMax: number;
  /**
   * A transaction's age at commit (now - readTs). Interactive transactions can idle between
   * statements; five minutes is generous for people and still bounds how long the node must keep
   * commit outcomes and old versions around.
   */
  txnDurationMsMax: number;
  /** begin'd, not yet committed or aborted, per tenant: bounds the registry one tenant can fill. */
  openTxnsPerTenantMax: number;
  /**
   * A transaction holding locks or intents that sends nothing (no request, no heartbeat) for this
   * long is abandoned: a waiter for one of its locks, or the sweeper, aborts it and its intents go.
   * The gateway heartbeats every 2 s (workers/gateway/txn/limits.ts), so 10 s is five missed beats:
   * a vanished gateway's locks block others for at most ~10 s.
   */
  txnHeartbeatExpiryMs: number;
  /**
   * Longest wait for one lock before the waiter gets `conflict` (40001): a bound on a request held
   * on the node (PostgreSQL's lock_timeout defaults to none; a statement_timeout ends it sooner).
   */
  lockWaitMsMax: number;
  /** Transaction ids are client-made random ids; 64 bytes is room for a UUID plus a gateway tag. */
  txnIdBytesMax: number;
  /** MVCC history kept; must be >= txnDurationMsMax so a live transaction's snapshot is never collected. */
  gcWindowMs: number;
  /** How often the collector runs a pass. */
  gcIntervalMs: number;
  /**
   * Entries a GC page reads (GC queue entries plus the versions of their keys) in one write
   * transaction, so a pass never holds the writer for long; commit groups run between pages.
   */
  gcBatchEntriesMax: number;
  /**
   * The node's capacity in Request Units per second, measured on a 2-core machine (about 10k small
   * durable write transactions per second through the API, 2 RU each). Per-tenant defaults derive from it.
   */
  nodeRuPerSecond: number;
  /** A tenant's sustained share: 40% of the node, CockroachDB Serverless's default. */
  tenantRuPerSecond: number;
  /**
   * Burst: 20 seconds at the tenant's rate (CockroachDB's default is 10 s). The largest commit
   * (batchEntriesMax writes, 1 RU each, plus txnWriteBytesMax at 1024 RU/MiB ≈ 135,000 RU) must be
   * admissible with a full bucket: it runs once the balance it leaves refills to zero within
   * rateLimitWaitMsMax, so the burst must be ≥ 135,000 − 8,000 RU; with 10 s (80,000 RU) a
   * 100,000-row load could never commit. The tenant is then in debt for the excess (a few seconds).
   */
  tenantBurstRu: number;
  /** How long an over-limit request waits for tokens before `rate_limited`. Waiting (not failing fast) is also backpressure on a flooding client. */
  rateLimitWaitMsMax: number;
  /** Requests executing at once; beyond this the node is saturated and admission becomes fair-queued. */
  inFlightMax: number;
  /** Requests one tenant may have queued (rate wait or admission); beyond it, refused at once. */
  tenantQueueMax: number;
  /** How long a request may wait for an execution slot before `overloaded`. */
  admissionWaitMsMax: number;
  /**
   * Requests one KV stream (common/kv-protocol/stream.ts) may have in flight: 256. Past it the node
   * stops reading that connection until answers go out (TCP backpressure on the client), so one
   * connection cannot queue unbounded work or memory; admission (inFlightMax, tenantQueueMax) still
   * applies to each request. 256 is far above what a gateway pipelines (a few per statement) and
   * enough for the benchmark's pipelined single-key load to keep the node busy.
   */
  streamInFlightMax: number;
  /** Bytes of an Authorization header: a wt1 token is under 100 bytes. */
  authHeaderBytesMax: number;
  /** Verified tokens cached (token -> claims) so the HMAC runs once per token, not once per request. */
  tokenCacheEntriesMax: number;
  /** Body of an admin JSON request. */
  adminBodyBytesMax: number;
  /**
   * Versions one GET /v1/admin/span-versions counts before answering `more: true`: the count runs
   * on the HTTP thread, and 100,000 entries take tens of milliseconds, about one large scan page.
   */
  adminCensusVersionsMax: number;
  /** How long a SIGTERM drain waits for in-flight requests before closing anyway. */
  drainMsMax: number;
  /**
   * How often the per-tenant usage counters (metrics.ts) are written to LMDB: 10 s. A SIGKILL loses
   * at most this much of the counters (a clean stop writes them last); each write is one small
   * transaction of the tenants that changed, so the writer hardly notices it.
   */
  countersPersistIntervalMs: number;
  /**
   * One chunk of a tenant move's copy (POST /v1/admin/tenant-import, and what the source's export
   * and tail put in one chunk): one writer transaction and one replication log entry. 4 MiB keeps
   * an entry far below a replication message's bound (64 MiB) and a writer step in milliseconds.
   */
  moveChunkBytesMax: number;
  /**
   * A tenant's whole state as one export (GET /v1/tenant-export on the replication port), read in
   * one synchronous pass of one LMDB read transaction and held in memory: 64 MiB is about 0.3 s of
   * the replica's event loop here. A larger tenant needs a streamed export (not built: README).
   */
  moveExportBytesMax: number;
}

export const DEFAULT_LIMITS: Readonly<StorageLimits> = Object.freeze({
  keyBytesMax: KEY_BYTES_MAX,
  valueBytesMax: 1024 * 1024,
  requestBytesMax: 16 * 1024 * 1024,
  batchEntriesMax: 120_000,
  txnWriteBytesMax: 15 * 1024 * 1024,
  deleteRangeKeysMax: 120_000,
  clearChunkKeysMax: 2000,
  clearChunkPauseMs: 2,
  clearSpansPerTenantMax: 20_000,
  scanRowsMax: 10_000,
  scanBytesMax: 4 * 1024 * 1024,
  responseBytesMax: 16 * 1024 * 1024,
  txnDurationMsMax: 5 * 60 * 1000,
  openTxnsPerTenantMax: 1000,
  txnHeartbeatExpiryMs: 10_000,
  lockWaitMsMax: 30_000,
  txnIdBytesMax: 64,
  gcWindowMs: 10 * 60 * 1000,
  gcIntervalMs: 10 * 1000,
  gcBatchEntriesMax: 2000,
  nodeRuPerSecond: 20_000,
  tenantRuPerSecond: 8_000,
  tenantBurstRu: 160_000,
  rateLimitWaitMsMax: 1000,
  inFlightMax: 64,
  tenantQueueMax: 512,
  admissionWaitMsMax: 2000,
  streamInFlightMax: 256,
  authHeaderBytesMax: 512,
  tokenCacheEntriesMax: 10_000,
  adminBodyBytesMax: 4096,
  adminCensusVersionsMax: 100_000,
  drainMsMax: 10_000,
  countersPersistIntervalMs: 10_000,
  moveChunkBytesMax: 4 * 1024 * 1024,
  moveExportBytesMax: 64 * 1024 * 1024,
});

/** Merges overrides and checks the relations between limits that correctness depends on. */
export function resolveLimits(overrides: Partial<StorageLimits> = {}): StorageLimits {
  const limits: StorageLimits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new RangeError(`storage limit ${name} must be a positive number, got ${String(value)}`);
    }
  }
  if (limits.keyBytesMax > KEY_BYTES_MAX) {
    throw new RangeError(`keyBytesMax ${limits.keyBytesMax} exceeds ${KEY_BYTES_MAX}, the largest key LMDB can store as a version key`);
  }
  if (limits.gcWindowMs < limits.txnDurationMsMax) {
    throw new RangeError("gcWindowMs must be >= txnDurationMsMax, or a live transaction's snapshot could be collected");
  }
  return limits;
}
