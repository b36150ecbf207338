// The replication protocol reads time only through this, so tests can run it on a fake clock.

export interface Clock {
  /** Milliseconds on a clock that never goes back (performance.now() in a node). */
  nowMs(): number;
}

export const monotonicClock: Clock = { nowMs: () => performance.now() };

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  private ms: number;
  constructor(startMs = 0) {
    this.ms = startMs;
  }
  nowMs(): number {
    return this.ms;
  }
  advance(ms: number): void {
    if (ms < 0) throw new RangeError("a clock does not go back");
    this.ms += ms;
  }
}
