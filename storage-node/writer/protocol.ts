// Messages between the HTTP thread (writer-client.ts) and the writer thread (writer-worker.ts).
// The HTTP thread assigns commit timestamps in the order it posts jobs; the writer applies jobs in
// exactly that order, so commit-timestamp order is apply order (the serialization order).

import type { ClearRecord } from "../clearing/cleared-spans.ts";

export type WriterJob =
  | { kind: "commit" | "batch"; id: number; tenantId: number; commitTs: bigint; body: Uint8Array }
  /** Intents of a txnWrite, or a durable abort (body: an encoded abort request); no timestamp. */
  | { kind: "txnWrite" | "abortTxn"; id: number; tenantId: number; commitTs: bigint; body: Uint8Array }
  | { kind: "gc"; id: number; thresholdTs: bigint }
  | { kind: "drop"; id: number; tenantId: number }
  /** Delete the versions of one cleared span, in bounded steps (posted once the HTTP thread knows the record). */
  | { kind: "clear"; id: number; key: ClearKey }
  /** The HTTP thread's usage counters, [tenantId, encoded counters] (metrics.ts), stored as they are. */
  | { kind: "counters"; id: number; entries: Array<[number, Uint8Array]> }
  /** A step of a tenant move (storage-node/moves/): run in posting order with the data jobs around it. */
  | { kind: "move"; id: number; step: MoveStep }
  /** Delete a moved tenant's state from this node (the source, after the move), in bounded steps. */
  | { kind: "purge"; id: number; tenantId: number };

/**
 * fence: this node stops serving the tenant (moved away); every job of it posted later is refused.
 * import: the tenant is arriving; `ops` (an encoded group entry, replication/group-entry.ts) are
 *   keys of its state copied from the source; `first` wipes what this node held of it before.
 * adopt: this node serves the tenant (from now on), with its clock at or above `clockAtLeast`.
 *   An import with `adopt` does both in one transaction, once the tenant's state after the import
 *   has the source's digest (else nothing of it is written): of its whole state, or (digestOf
 *   "touched") of the keys `ops` touch.
 */
export type MoveStep =
  | { op: "fence"; tenantId: number }
  | { op: "import"; tenantId: number; first: boolean; ops: Uint8Array; adopt?: { digest: string; clockAtLeast: bigint; digestOf: "state" | "touched" } }
  | { op: "adopt"; tenantId: number; clockAtLeast: bigint };

/** Identifies a clear record. */
export interface ClearKey {
  tenantId: number;
  clearTs: bigint;
  start: Uint8Array;
}

/** Changes to the clear records, for the HTTP thread's copy of the index. */
export interface ClearNews {
  /** Stored by this group's commits. */
  added: ClearRecord[];
  /** Every version deleted. */
  done: ClearKey[];
  /** Removed (GC threshold passed, or the tenant was dropped). */
  expired: ClearKey[];
}

export interface WriterReply {
  id: number;
  /** The encoded KvResponse to send to the client (a commit/batch outcome), empty for gc/drop. */
  response: Uint8Array;
  ok: boolean;
  readBytes: number;
  writeBytes: number;
  /** gc, drop, clear: version entries removed. */
  removed?: number;
}

/** [tenantId, liveBytes, mvccBytes] for tenants whose counters changed. */
export type TenantBytesUpdate = Array<[number, number, number]>;

export type WriterMessage =
  | {
      kind: "ready";
      maxCommitTs: bigint;
      gcThresholdTs: bigint;
      droppedTenants: number[];
      /** Tenants this node does not serve: moved away, or arriving and not adopted yet (node-keys.ts 0x0B). */
      movedTenants: number[];
      bytes: TenantBytesUpdate;
      /** Every clear record on disk, pending or done. */
      clears: ClearRecord[];
    }
  | { kind: "done"; replies: WriterReply[]; bytes: TenantBytesUpdate; clears?: ClearNews }
  | { kind: "failed"; ids: number[]; message: string; bytes: TenantBytesUpdate; clears?: ClearNews };

export interface WriterConfig {
  dataDir: string;
  limits: import("../limits.ts").StorageLimits;
  noSync: boolean;
  /** Set on a replicated node: the BroadcastChannel to its replica (replication/replicated-engine.ts). */
  replicationChannel?: string;
}
