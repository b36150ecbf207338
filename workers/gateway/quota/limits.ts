// Bounds of the gateway's local Request-Unit quota (local-quota.ts), each with the reason for its value.

export const quotaLimits = {
  /**
   * Smallest batch of Request Units the gateway asks its QuotaBucket for. 1,000 RU is ten seconds
   * of the free tier's refill, so an idle-ish tenant asks at most every few seconds.
   */
  grantRuMin: 1000,
  /** Seconds of expected use one grant should cover (the CockroachDB target request period). */
  grantTargetSeconds: 10,
  /** Weight of the newest measurement in the smoothed consumption rate (CockroachDB's default 0.5). */
  rateSmoothing: 0.5,
  /**
   * Longest a query waits for trickled Request Units (a tenant over its rate, or paying back the
   * debt of an expensive statement) before it is refused with 53400. At the free tier's 100 RU/s
   * that covers 500 RU, several typical statements; a client is better told than left hanging.
   */
  admitWaitMsMax: 5_000,
} as const;
