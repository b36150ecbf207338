// The replication log of one replica: entries numbered 1, 2, 3… each written in one epoch. The
// primary appends; a backup appends what the primary sends and, when it meets an entry of an
// older epoch where the primary has another one, drops its own entry and everything after it
// (those were never committed: README.md, "Log matching"). Entries up to the commit point are
// never dropped. `epoch` is the highest epoch this replica has accepted, kept with the log so a
// restart cannot take messages of an older epoch again.
//
// The log's prefix is dropped once it is applied (truncatePrefix, README.md "Snapshots and log
// truncation"), or replaced by a snapshot of the state at some entry (reset). Either way the log
// remembers the last entry it dropped, its *base* (seq, epoch), so the previous-entry check of a
// prepare still works right after it: the log holds base.seq + 1 … lastSeq().

export interface LogEntry {
  readonly seq: number;
  readonly epoch: number;
  /** What the state machine applies; null is the no-op a new primary writes to start its epoch. */
  readonly payload: Uint8Array | null;
}

export interface ReplicationLog {
  /** The last entry's seq (the base's when the log holds no entry after it; 0 for a new log). */
  lastSeq(): number;
  /** The first entry the log holds (base + 1); entries before it are in the applied state only. */
  firstSeq(): number;
  /** The epoch of entry `seq` if the log knows it (held, or the base), else undefined; 0 for seq 0. */
  epochAt(seq: number): number | undefined;
  /** The entry at `seq`, or undefined if there is none (0, before firstSeq() and past the end). */
  entry(seq: number): LogEntry | undefined;
  /** Entries from `fromSeq` on, at most `max`. */
  entries(fromSeq: number, max: number): LogEntry[];
  /**
   * Appends durably, all in one write (one fsync: proposals that arrive together and the entries of
   * one prepare are appended together). A backup acknowledges only after this returns. The first
   * entry's seq must be lastSeq() + 1, and the rest follow on.
   */
  append(entries: readonly LogEntry[]): void;
  /** Drops `fromSeq` and everything after it (never below firstSeq(): those are applied). */
  truncateFrom(fromSeq: number): void;
  /** Drops every entry up to `throughSeq` (applied entries only; throughSeq ≤ lastSeq()); it becomes the base. */
  truncatePrefix(throughSeq: number): void;
  /** The highest epoch accepted, durable. */
  epoch(): number;
  setEpoch(epoch: number): void;
}

/** The log in memory, for tests and the simulation; the node's own log lives in LMDB. */
export class MemoryLog implements ReplicationLog {
  /** list[i] is entry base.seq + 1 + i. */
  private list: LogEntry[] = [];
  private base = { seq: 0, epoch: 0 };
  private highestEpoch = 0;

  lastSeq(): number {
    return this.base.seq + this.list.length;
  }
  firstSeq(): number {
    return this.base.seq + 1;
  }
  epochAt(seq: number): number | undefined {
    return seq === this.base.seq ? this.base.epoch : this.entry(seq)?.epoch;
  }
  entry(seq: number): LogEntry | undefined {
    return seq > this.base.seq ? this.list[seq - this.base.seq - 1] : undefined;
  }
  entries(fromSeq: number, max: number): LogEntry[] {
    const at = Math.max(0, fromSeq - this.base.seq - 1);
    return this.list.slice(at, at + max);
  }
  append(entries: readonly LogEntry[]): void {
    checkAppend(entries, this.lastSeq(), this.highestEpoch);
    this.list.push(...entries);
  }
  truncateFrom(fromSeq: number): void {
    checkTruncateFrom(fromSeq, this.base.seq);
    this.list.length = Math.min(this.list.length, fromSeq - this.base.seq - 1);
  }
  truncatePrefix(throughSeq: number): void {
    const epoch = this.epochAt(throughSeq);
    if (throughSeq <= this.base.seq) return;
    if (epoch === undefined) throw new Error(`truncatePrefix(${throughSeq}) past the log's end ${this.lastSeq()}`);
    this.list = this.list.slice(throughSeq - this.base.seq);
    this.base = { seq: throughSeq, epoch };
  }
  /** The state was replaced by a snapshot at (seq, epoch): the log holds nothing after it. */
  reset(seq: number, epoch: number): void {
    this.list = [];
    this.base = { seq, epoch };
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

/** truncateFrom never reaches the base or below: those entries are applied (committed). */
export function checkTruncateFrom(fromSeq: number, baseSeq: number): void {
  if (fromSeq <= baseSeq) throw new Error(`truncateFrom(${fromSeq}) reaches the log's applied base ${baseSeq}`);
}
