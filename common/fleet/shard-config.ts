// The replica configuration of one shard, as the configuration manager (the FleetDirectory Durable
// Object) stores it and as every storage node and edge isolate caches it. Shared wire type: the
// Durable Object (workerd) and the storage node (Node) both import it, so it holds no code that
// needs either platform. storage-node/replication/README.md describes the protocol around it.

/** A storage node's name in the fleet (stable across restarts: its data dir belongs to it). */
export type NodeId = string;

export interface ShardConfig {
  readonly shardId: number;
  /**
   * Increases by one at every change of primary or replica set. Every replication message carries
   * it; a replica refuses messages of an older epoch, so a replaced primary cannot get a write
   * acknowledged (fencing).
   */
  readonly epoch: number;
  /** The leaseholder of this epoch: the only node that serves reads and acknowledges commits. */
  readonly primary: NodeId;
  /** Every node that must hold a log entry before it commits (the primary included). */
  readonly replicas: readonly NodeId[];
  /** Nodes catching up from the primary's log; they count for nothing until added to `replicas`. */
  readonly learners: readonly NodeId[];
  /**
   * The primary's lease, on the directory's clock. No other node is made primary before it has
   * passed; the primary itself stops acknowledging earlier (see replication/lease.ts).
   */
  readonly leaseExpiresAtMs: number;
}

export function isReplica(config: ShardConfig, node: NodeId): boolean {
  return config.replicas.includes(node);
}
