// Messages between the HTTP thread (writer-client.ts) and the writer thread (writer-worker.ts).
// The HTTP thread assigns commit timestamps in the order it posts jobs; the writer applies jobs in
// exactly that order, so commit-timestamp order is apply order (the serialization order).

export type WriterJob =
  | { kind: "commit" | "batch"; id: number; tenantId: number; commitTs: bigint; body: Uint8Array }
  | { kind: "gc"; id: number; thresholdTs: bigint }
  | { kind: "drop"; id: number; tenantId: number }
  /** The HTTP thread's usage counters, [tenantId, encoded counters] (metrics.ts), stored as they are. */
  | { kind: "counters"; id: number; entries: Array<[number, Uint8Array]> };

export interface WriterReply {
  id: number;
  /** The encoded KvResponse to send to the client (a commit/batch outcome), empty for gc/drop. */
  response: Uint8Array;
  ok: boolean;
  readBytes: number;
  writeBytes: number;
  /** gc: version entries removed. */
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
      bytes: TenantBytesUpdate;
    }
  | { kind: "done"; replies: WriterReply[]; bytes: TenantBytesUpdate }
  | { kind: "failed"; ids: number[]; message: string; bytes: TenantBytesUpdate };

export interface WriterConfig {
  dataDir: string;
  limits: import("../limits.ts").StorageLimits;
  noSync: boolean;
}
