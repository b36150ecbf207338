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
  /**
   * Longest a statement waits for an answer to a grant request to the tenant's QuotaBucket (a
   * Durable Object call of a few milliseconds, a few hundred on a loaded machine). Past it the
   * statement gets 53400 instead of waiting on: the session that sent the request may have ended
   * (workerd then cancels the call, which never answers), or the bucket is unreachable. 5 s is the
   * bound of a wait for RU (admitWaitMsMax) again: far above a live call, short of a client's patience.
   */
  grantRequestMsMax: 5_000,
  /**
   * How often the admission holding the turn (LocalQuota.admit decides one at a time) shows it is
   * alive, and how long without a sign of life it may be before the next in line passes it over.
   * A holder whose session ended mid-admission stops (workerd cancels an ended request's timers);
   * a live one beats every 250 ms whatever it waits for. 2 s is eight beats: a loaded event loop
   * delays timers by far less, and a session queued behind a gone one loses 2 s, not its deadline.
   */
  turnBeatMs: 250,
  turnSilentMsMax: 2_000,
  /**
   * A gateway reports its usage with its next grant request, which a busy gateway makes about every
   * grantTargetSeconds; one whose tenant stops querying would never make it, and the usage would be
   * missing from the bucket's history (and lost with the isolate). So once usage is charged, a timer
   * checks every usageFlushMs and reports it on its own (a report-only request) as soon as the tenant
   * has been quiet for usageFlushMs, or the oldest unreported usage is usageReportAgeMsMax old. A
   * tenant that stops is in the history within 2 × usageFlushMs (+ one call); a busy one costs no
   * more bucket calls than before, since its grant requests already report within the period.
   */
  usageFlushMs: 2_000,
  /** Unreported usage older than this is reported even while the tenant keeps querying (one grant period). */
  usageReportAgeMsMax: 10_000,
  /**
   * Least RU one statement is assumed to cost when it is admitted (LocalQuota.admit reserves the
   * measured average per statement, never less): a point select costs about 0.6 RU of KV work
   * (0.5 per read batch + 0.125 per read request) plus egress and gateway CPU, so 1 RU.
   */
  statementEstimateRuMin: 1,
} as const;
