// Messages between the replicas of one shard. Every one carries the sender's epoch; a receiver
// that knows a higher epoch answers `stale` and acts on nothing in it.
import type { NodeId } from "../../common/fleet/shard-config.ts";
import type { LogEntry } from "./log.ts";

/** Primary → backup or learner: entries after prevSeq (maybe none: a heartbeat) and the commit point. */
export interface Prepare {
  readonly kind: "prepare";
  readonly shardId: number;
  readonly epoch: number;
  readonly from: NodeId;
  /** The entry just before `entries`, which the receiver must hold with the same epoch (0: none). */
  readonly prevSeq: number;
  readonly prevEpoch: number;
  readonly entries: readonly LogEntry[];
  readonly committedSeq: number;
}

/** Backup → primary. ok: its log equals the primary's up to matchSeq (durably). Not ok: it lacks prevSeq; matchSeq is its last entry, where the primary should look next. */
export interface Ack {
  readonly kind: "ack";
  readonly shardId: number;
  readonly epoch: number;
  readonly from: NodeId;
  readonly ok: boolean;
  readonly matchSeq: number;
}

/** Anyone → the sender of a message from an older epoch. */
export interface Stale {
  readonly kind: "stale";
  readonly shardId: number;
  readonly epoch: number;
  readonly from: NodeId;
}

/**
 * Primary → a replica or learner whose next entry the primary's log no longer holds (it was
 * truncated after every replica applied it): "your log lacks my base (baseSeq, baseEpoch); pull a
 * snapshot of my state from me" (GET /v1/snapshot, snapshot-install.ts). A receiver whose log
 * holds that base answers an ack at it instead.
 */
export interface SnapshotNeeded {
  readonly kind: "snapshot";
  readonly shardId: number;
  readonly epoch: number;
  readonly from: NodeId;
  readonly baseSeq: number;
  readonly baseEpoch: number;
}

export type ReplicationMessage = Prepare | Ack | Stale | SnapshotNeeded;
