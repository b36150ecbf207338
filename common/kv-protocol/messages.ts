// The storage wire contract, as types. The gateway builds these, the edge Worker's TenantKV carries
// them (encoded, as opaque bytes, adding the tenant token), the storage node executes them.
// `codec.ts` turns them into the compact binary framing documented in storage-node/README.md.
//
// Keys are raw bytes that already carry the tenant prefix (common/tenant-prefix.ts); the node
// never interprets anything after it. Spans are half-open: [start, end).
//
// Transactions are optimistic and stateless on the node between requests (so a gateway isolate
// can die between statements and a client can carry the transaction as a sealed handle):
//   1. `begin` returns a read timestamp (and registers the transaction for the open-txn limit);
//   2. `read` requests read the snapshot at that timestamp;
//   3. `commit` sends the transaction id, the read timestamp, every span the transaction read and
//      all its writes. The node validates that nothing committed inside the read spans (or on the
//      written keys) after the read timestamp, then applies all writes atomically at a new commit
//      timestamp, or refuses with `conflict`. Retrying a commit with the same txnId returns the
//      first outcome and never applies twice.
// A `batch` is a single-shot transaction: reads at the latest timestamp and writes in one step.

import type { KvUsage } from "../request-units.ts";

/** Hybrid-logical-clock timestamp: (wall-clock ms << 16) | logical counter. Totally ordered. */
export type Timestamp = bigint;

export interface Span {
  start: Uint8Array;
  end: Uint8Array;
}

export type ReadOp =
  | { op: "get"; key: Uint8Array }
  | {
      op: "scan";
      start: Uint8Array;
      end: Uint8Array;
      reverse: boolean;
      /** Page bounds; the node also applies its own maxima. A page that stops early returns resumeKey. */
      maxRows: number;
      maxBytes: number;
    };

export type WriteOp =
  | { op: "put"; key: Uint8Array; value: Uint8Array }
  | { op: "delete"; key: Uint8Array }
  | { op: "deleteRange"; start: Uint8Array; end: Uint8Array }
  /**
   * Removes a whole span at commit, without tombstones and without limit on the keys in it (DROP
   * TABLE, TRUNCATE, DROP INDEX): the span reads as empty from commitTs on, reads below commitTs
   * get `snapshot_too_old`, writes into it are refused while the node keeps the record, and the
   * node deletes the versions in the background (storage-node/README.md, "Clearing spans").
   */
  | { op: "clearRange"; start: Uint8Array; end: Uint8Array }
  /** Write `value` (or delete when null) only if the current value equals `expected` (null = absent). */
  | { op: "cput"; key: Uint8Array; value: Uint8Array | null; expected: Uint8Array | null };

export type ReadResult =
  | { op: "get"; value: Uint8Array | null }
  | {
      op: "scan";
      rows: Array<{ key: Uint8Array; value: Uint8Array }>;
      /** Where the next page starts (forward: first unread key; reverse: exclusive end), or null when the span is exhausted. */
      resumeKey: Uint8Array | null;
    };

export type KvRequest =
  | { type: "begin" }
  | { type: "read"; readTs: Timestamp | null; ops: ReadOp[] }
  | { type: "commit"; txnId: Uint8Array; readTs: Timestamp; readSpans: Span[]; writes: WriteOp[] }
  | { type: "abort"; txnId: Uint8Array; readTs: Timestamp }
  | { type: "batch"; reads: ReadOp[]; writes: WriteOp[] }
  /**
   * A read inside a pessimistic transaction (storage-node/README.md, "Intents and locks"): sees the
   * transaction's own intents; `locks[i]` (LockMode) locks what op i reads before reading it,
   * waiting in the key's queue. With readTs null the snapshot is taken after the locks are held.
   */
  | { type: "txnRead"; txnId: Uint8Array; readTs: Timestamp | null; ops: ReadOp[]; locks: Uint8Array }
  /** Writes provisional intents (put, delete, cput only) under exclusive locks; they become versions at commit. */
  | { type: "txnWrite"; txnId: Uint8Array; readTs: Timestamp; writes: WriteOp[] }
  /** Moves a transaction's snapshot forward: nothing committed in `spans` after readTs → a newer readTs. */
  | { type: "refresh"; txnId: Uint8Array; readTs: Timestamp; spans: Span[] }
  /** Keeps a transaction's locks and intents alive (they expire after txnHeartbeatExpiryMs of silence). */
  /**
   * Keeps the transaction alive. `locksOnly`: it holds only in-memory locks, never an intent (a
   * session's advisory-lock holder), so a node that does not know it has lost them (it restarted)
   * and answers transaction_aborted instead of accepting the beat.
   */
  | { type: "heartbeat"; txnId: Uint8Array; locksOnly?: boolean }
  /**
   * Releases the transaction's in-memory locks on `keys` (keys it holds no intent on), and ends a
   * wait of it for a lock on one of them (that txnRead fails with lock_not_available). The
   * transaction stays alive. Advisory locks (pg_advisory_unlock, a canceled pg_advisory_lock).
   */
  | { type: "unlock"; txnId: Uint8Array; keys: Uint8Array[] };

/** Lock strength of a txnRead op (the low bits of its lock byte). */
export const LockMode = { none: 0, exclusive: 1, shared: 2 } as const;

/**
 * Flags or-ed into a txnRead lock byte. `nowait`: when the lock is not free at once the request
 * fails with lock_not_available (nothing more locked, the transaction stays alive) instead of
 * waiting. `keepOnDeadlock`: a deadlock fails this request only (what the transaction holds stays
 * held) instead of aborting the transaction; a session's advisory-lock holder uses both
 * (pg_try_advisory_lock, and pg_advisory_lock's 40P01 that must not drop the session's other locks).
 */
export const LockFlag = { nowait: 0x10, keepOnDeadlock: 0x20 } as const;
/** The strength bits of a lock byte. */
export const LOCK_MODE_MASK = 0x0f;

export type KvResponse = (
  | { type: "begin"; readTs: Timestamp }
  | { type: "read"; readTs: Timestamp; results: ReadResult[] }
  | { type: "commit"; commitTs: Timestamp }
  | { type: "abort" }
  | { type: "batch"; commitTs: Timestamp; results: ReadResult[] }
  /** txnWrite, heartbeat and unlock: done. */
  | { type: "ack" }
  | { type: "refresh"; readTs: Timestamp }
  | { type: "error"; error: KvError }
) & {
  /**
   * What the node metered for this request (common/request-units.ts), the very numbers it added to
   * the tenant's counters: present when the request asked for it (the `warren-kv-usage: 1` HTTP
   * header, KV_USAGE_HEADER in codec.ts) and the node is new enough to send it. Additive: it travels
   * in a trailer after the message, which a client that did not ask never receives.
   */
  usage?: KvUsage;
};

/**
 * Every error the node can return. `retryable` errors (conflict, snapshot too old, rate limited,
 * overloaded) mean the whole transaction may be retried from the start; the gateway maps
 * conflict and snapshot_too_old to SQLSTATE 40001.
 */
export const KvErrorCode = {
  malformed_request: 1,
  unauthenticated: 2,
  token_expired: 3,
  outside_tenant_span: 4,
  limit_exceeded: 5,
  conflict: 6,
  condition_failed: 7,
  snapshot_too_old: 8,
  rate_limited: 9,
  overloaded: 10,
  too_many_open_transactions: 11,
  transaction_expired: 12,
  tenant_dropped: 13,
  internal: 14,
  /** Waiting for a lock would close a cycle of waits: this transaction was aborted (SQLSTATE 40P01). */
  deadlock: 15,
  /** A key this transaction locks or writes has a version committed after its snapshot: refresh, or retry (40001). */
  write_too_old: 16,
  /** The transaction was aborted on the node (its heartbeat expired, it was pushed, or the node restarted): 40001. */
  transaction_aborted: 17,
  /** A nowait lock was held by another transaction, or the wait was ended by `unlock` (SQLSTATE 55P03); nothing changed. */
  lock_not_available: 18,
  /**
   * The tenant is not served by this node: it moved to another shard, or is being moved here and
   * not adopted yet (storage-node/replication/README.md "Tenant moves"). Nothing was applied, so
   * the request may be sent again wherever the FleetDirectory now places the tenant (HTTP 421).
   */
  tenant_moved: 19,
  // Codes of the storage fleet start at 20 (storage-node/replication/README.md). They are made by
  // the edge, never by a node's KV service: the edge could not reach storage in time and nothing
  // was executed (`unavailable`), or the connection broke mid-request (`outcome_unknown`).
  unavailable: 20,
  outcome_unknown: 21,
} as const;
export type KvErrorName = keyof typeof KvErrorCode;

export interface KvError {
  code: KvErrorName;
  message: string;
  /** The offending key, when there is one (conflict, condition_failed, outside_tenant_span, limit_exceeded). */
  key?: Uint8Array;
  /** For condition_failed: the value actually found (null = absent). */
  actual?: Uint8Array | null;
  /** For rate_limited / overloaded: how long to wait before retrying. */
  retryAfterMs?: number;
}
