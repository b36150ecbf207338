// Bounds and timings of the replication protocol (README.md), each with its reason. The timings
// must keep: leaseRenewEveryMs < leaseMs - leaseSafetyMarginMs (a healthy primary never lapses) and
// failoverAfterMs ≥ leaseMs (a backup asks to take over only when the lease may have run out; the
// directory refuses earlier anyway).

export interface ReplicationLimits {
  /**
   * Length of the primary's lease as the FleetDirectory grants it. Failover takes about
   * failoverAfterMs + one directory round trip; with 2 s the acceptance bound of "a new leader
   * serves within 5 s" holds with room for a loaded machine. Shorter leases renew more often.
   */
  readonly leaseMs: number;
  /**
   * The longest lease a primary asks for when the directory answers slowly (replica.ts
   * leaseToAskMs): a lease counts from when its renewal was sent, so with round trips near
   * leaseMs − margin a base-length lease is over before its answer arrives, and the shard has no
   * leaseholder at all (seen under CPU load: the FleetDirectory shares workerd with the SQL load).
   * It is also the longest a failover then waits for an old lease: 10 s keeps a leaseholder with
   * round trips up to ~4.2 s (6 s round trips were logged at load average ~30), while a quiet
   * directory keeps the 2 s lease and its failover time.
   */
  readonly leaseMsMax: number;
  /** The primary asks for a new lease this often: three tries within one lease. */
  readonly leaseRenewEveryMs: number;
  /**
   * The primary treats its lease as ending this much before sentAt + leaseMs (its own clock, from
   * when it *sent* the renewal). Covers clock rate differences between the primary and the
   * directory: 10 % of the lease is far beyond any real clock drift (ppm) and still leaves 1.8 s.
   */
  readonly leaseSafetyMarginMs: number;
  /** Heartbeat (an empty prepare carrying the commit point) to each backup when idle. */
  readonly heartbeatEveryMs: number;
  /** A backup that has not heard from the primary for this long asks the directory to take over. */
  readonly failoverAfterMs: number;
  /** A backup that has not acknowledged for this long is removed from the configuration (commits wait for every replica). */
  readonly backupTimeoutMs: number;
  /** A node re-reads its shard's configuration from the directory this often (finds a new epoch it was not told about). */
  readonly configPollEveryMs: number;
  /** Entries in one prepare message: bounds a message while a replica catches up. */
  readonly prepareEntriesMax: number;
  /**
   * Applied entries a replica keeps in its log below the point every replica has applied (README.md,
   * "Snapshots and log truncation"). A replica that was away for fewer entries catches up from the
   * log; one further behind (or with a lost disk) needs a snapshot. 10,000 group entries is a few
   * minutes of steady writes here (one group per replication round trip) and at most a few hundred
   * MiB of log, while a restart after a crash (seconds) stays on the cheap path.
   */
  readonly logRetainEntries: number;
  /** How often a replica looks for a log prefix to drop. */
  readonly logTruncateEveryMs: number;
  /** Entries dropped in one step (one LMDB transaction): bounds the time the event loop is held. */
  readonly logTruncateEntriesMax: number;
  /**
   * Bytes of keys and values in one snapshot chunk (one frame with its own checksum, and one LMDB
   * transaction on the receiver). 1 MiB keeps both ends' memory small and the per-chunk fsync cheap
   * next to the bytes it carries. A single entry larger than this travels alone.
   */
  readonly snapshotChunkBytesMax: number;
  /** A snapshot transfer that delivers no byte for this long is abandoned (the sender died or is cut off). */
  readonly snapshotIdleTimeoutMs: number;
  /** Snapshots one node sends at once: each holds an LMDB read transaction (pages not reused) and a socket. */
  readonly snapshotSendsMax: number;
}

export const replicationLimits: ReplicationLimits = {
  leaseMs: 2_000,
  leaseMsMax: 10_000,
  leaseRenewEveryMs: 500,
  leaseSafetyMarginMs: 200,
  heartbeatEveryMs: 100,
  failoverAfterMs: 2_000,
  backupTimeoutMs: 1_500,
  configPollEveryMs: 1_000,
  prepareEntriesMax: 256,
  logRetainEntries: 10_000,
  logTruncateEveryMs: 1_000,
  logTruncateEntriesMax: 4_096,
  snapshotChunkBytesMax: 1024 * 1024,
  snapshotIdleTimeoutMs: 10_000,
  snapshotSendsMax: 2,
};

/**
 * The bounds an operator (WARREN_REPLICATION_LIMITS, JSON) may set for the log and snapshots, each
 * [min, max] with its reason. The timings above are not overridable: the FleetDirectory's lease and
 * every node's failure detector must agree on them.
 */
export const replicationLimitBounds = {
  /** At least 1: right after a truncation a replica still holds an entry, so a restart is not taken for a lost disk (replica.ts startedEmpty). */
  logRetainEntries: [1, 10_000_000],
  logTruncateEveryMs: [10, 60_000],
  logTruncateEntriesMax: [1, 1_000_000],
  /**
   * Below 1 KiB a chunk's own cost (a frame header, one fsync on the receiver) outweighs what it
   * carries; above 16 MiB both ends hold too much at once (a frame is buffered whole to check it).
   */
  snapshotChunkBytesMax: [1024, 16 * 1024 * 1024],
  /** At least a few heartbeats and a slow fsync; at most ten minutes of silence. */
  snapshotIdleTimeoutMs: [1_000, 600_000],
  /** At least one (else no replica could ever be rebuilt); at most a whole shard's worth of learners. */
  snapshotSendsMax: [1, 8],
} as const satisfies Partial<Record<keyof ReplicationLimits, readonly [number, number]>>;

export type ReplicationLimitOverrides = Partial<Pick<ReplicationLimits, keyof typeof replicationLimitBounds>>;

/** Checks overrides (unknown names, non-integers and values out of bounds throw RangeError) and returns the whole set. */
export function resolveReplicationLimits(overrides: Record<string, unknown>): ReplicationLimits {
  const out: Record<string, number> = { ...replicationLimits };
  for (const [name, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(replicationLimitBounds, name)) throw new RangeError(`unknown or fixed replication limit ${name}`);
    const [min, max] = replicationLimitBounds[name as keyof typeof replicationLimitBounds];
    if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new RangeError(`replication limit ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(value)}`);
    }
    out[name] = value;
  }
  return out as unknown as ReplicationLimits;
}
