// The node's hybrid logical clock. A timestamp is (wall-clock ms << 16) | logical: it follows
// real time when the wall clock moves, and still increases strictly when many timestamps are taken
// in the same millisecond or the wall clock steps backwards. Every timestamp the node hands out
// (read timestamps, commit timestamps) comes from `next()`, so all are distinct and ordered.
//
// Monotonic across restarts: the node persists the highest commit timestamp in the same LMDB
// transaction as the commit, and starts the clock above it (`observe`), so a restart (even with a
// wall clock that moved backwards) never issues a timestamp below a committed one.

export const LOGICAL_BITS = 16n;
const LOGICAL_MASK = (1n << LOGICAL_BITS) - 1n;

export function makeTimestamp(wallMs: number, logical = 0): bigint {
  return (BigInt(wallMs) << LOGICAL_BITS) | BigInt(logical);
}

export function wallMsOf(ts: bigint): number {
  return Number(ts >> LOGICAL_BITS);
}

export function logicalOf(ts: bigint): number {
  return Number(ts & LOGICAL_MASK);
}

export class HybridClock {
  private last: bigint;
  private readonly nowMs: () => number;

  constructor(nowMs: () => number = Date.now, floor = 0n) {
    this.nowMs = nowMs;
    this.last = floor;
  }

  /** A fresh timestamp, strictly greater than every one returned before. */
  next(): bigint {
    const wall = makeTimestamp(this.nowMs());
    // When the logical counter would overflow into the wall part, the result is still a larger
    // number: the clock simply runs a millisecond ahead until real time catches up.
    this.last = wall > this.last ? wall : this.last + 1n;
    return this.last;
  }

  /** The largest timestamp handed out so far (no new one is taken). */
  current(): bigint {
    return this.last;
  }

  /**
   * The largest timestamp this node can have handed out by now, across restarts: every one came
   * from `next()` at a moment no later than now, so none exceeds the current millisecond with a
   * full logical part (or `last`, when the clock ran ahead of real time). A read timestamp above
   * this was not issued by the node; one below it may predate a restart, when `last` starts at the
   * highest committed timestamp and can be behind a read timestamp issued just before the crash.
   */
  issuedBound(): bigint {
    const wall = makeTimestamp(this.nowMs()) | LOGICAL_MASK;
    return wall > this.last ? wall : this.last;
  }

  /** Moves the clock past a timestamp it learned about (a committed version on disk, or a peer's). */
  observe(ts: bigint): void {
    if (ts > this.last) this.last = ts;
  }
}
