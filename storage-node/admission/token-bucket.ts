// A Request-Unit token bucket with reservations: a request takes its estimated cost up front,
// which may drive the balance negative; it may run once the balance it left behind has refilled
// back to zero (so a request larger than the whole burst still runs, after a proportional wait). Callers behind it in line therefore wait their turn (FIFO within a tenant), and a
// request whose turn is further away than the wait bound is refused without taking anything.
// Actual costs known only after execution (bytes read) are charged as debt.

export class TokenBucket {
  private tokens: number;
  private lastRefillMs: number;
  readonly ratePerSecond: number;
  readonly burst: number;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.tokens = burst;
    this.lastRefillMs = nowMs;
  }

  private refill(nowMs: number): void {
    const elapsed = nowMs - this.lastRefillMs;
    if (elapsed > 0) {
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
      this.lastRefillMs = nowMs;
    }
  }

  /**
   * Reserves `cost`. Returns the wait in ms before the request may run (0 = now), or -1 when
   * that wait would exceed maxWaitMs (then nothing is reserved).
   */
  reserve(cost: number, nowMs: number, maxWaitMs: number): number {
    this.refill(nowMs);
    const after = this.tokens - cost;
    if (after >= 0) {
      this.tokens = after;
      return 0;
    }
    // It may run once the balance it leaves behind has refilled to zero.
    const waitMs = Math.ceil((-after * 1000) / this.ratePerSecond);
    if (waitMs > maxWaitMs) return -1;
    this.tokens = after;
    return waitMs;
  }

  /** Charges cost found after the fact (may go into debt). */
  charge(cost: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= cost;
  }

  /** How long until the balance is back to zero (for retry hints). */
  msUntilPositive(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.ratePerSecond);
  }

  balance(nowMs: number): number {
    this.refill(nowMs);
    return this.tokens;
  }
}
