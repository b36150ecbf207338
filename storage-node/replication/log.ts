// The replication log of one replica: entries numbered 1, 2, 3… each written in one epoch. The
// primary appends; a backup appends what the primary sends and, when it meets an entry of an
// older epoch where the primary has another one, drops its own entry and everything after it
// (those were never committed: README.md, "Log matching"). Entries up to the commit point are
// never dropped. `epoch` is the highest epoch this replica has accepted, kept with the log so a
// restart cannot take messages of an older epoch again.

export interface LogEntry {
  readonly seq: number;
  readonly epoch: number;
  /** What the state machine applies; null is the no-op a new primary writes to start its epoch. */
  readonly payload: Uint8Array | null;
}

export interface ReplicationLog {
  lastSeq(): number;
  /** The entry at `seq`, or undefined if there is none (0 and past the end). */
  entry(seq: number): LogEntry | undefined;
  /** Entries from `fromSeq` on, at most `max`. */
  entries(fromSeq: number, max: number): LogEntry[];
  /**
   * Appends durably, all in one write (one fsync: proposals that arrive together and the entries of
   * one prepare are appended together). A backup acknowledges only after this returns. The first
   * entry's seq must be lastSeq() + 1, and the rest follow on.
   */
  append(entries: readonly LogEntry[]): void;
  /** Drops `fromSeq` and everything after it. */
  truncateFrom(fromSeq: number): void;
  /** The highest epoch accepted, durable. */
  epoch(): number;
  setEpoch(epoch: number): void;
}

/** The log in memory, for tests and the simulation; the node's own log lives in LMDB. */
export class MemoryLog implements ReplicationLog {
  private readonly list: LogEntry[] = [];
  private highestEpoch = 0;

  lastSeq(): number {
    return this.list.length;
  }
  entry(seq: number): LogEntry | undefined {
    return seq >= 1 ? this.list[seq - 1] : undefined;
  }
  entries(fromSeq: number, max: number): LogEntry[] {
    return this.list.slice(Math.max(0, fromSeq - 1), Math.max(0, fromSeq - 1) + max);
  }
  append(entries: readonly LogEntry[]): void {
    checkAppend(entries, this.list.length, this.highestEpoch);
    this.list.push(...entries);
  }
  truncateFrom(fromSeq: number): void {
    this.list.length = Math.min(this.list.length, Math.max(0, fromSeq - 1));
  }
  epoch(): number {
    return this.highestEpoch;
  }
  setEpoch(epoch: number): void {
    if (epoch < this.highestEpoch) throw new Error(`epoch goes back from ${this.highestEpoch} to ${epoch}`);
    this.highestEpoch = epoch;
  }
}

/** The preconditions of append(), shared by every implementation. */
export function checkAppend(entries: readonly LogEntry[], lastSeq: number, epoch: number): void {
  entries.forEach((e, i) => {
    if (e.seq !== lastSeq + 1 + i) throw new Error(`log append out of order: ${e.seq} after ${lastSeq + i}`);
    if (e.epoch > epoch) throw new Error(`entry of epoch ${e.epoch} appended while at epoch ${epoch}`);
  });
}
