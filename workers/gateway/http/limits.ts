// Bounds of the gateway's HTTP API (POST /sql), each with the reason for its value.

export const limits = {
  /**
   * Largest request body. Statements come from application code; a megabyte is a very large
   * generated INSERT, and parsing a body this size costs a few milliseconds of a Worker's CPU.
   * Bigger loads belong in several requests (or COPY over the wire protocol).
   */
  sqlRequestBytesMax: 1024 * 1024,
  /** Queries in one batch (`{queries:[…]}`): one transaction; beyond this it should be several. */
  batchQueriesMax: 1000,
  /** Parameters of one query: Postgres's own bound (Bind carries the count as an Int16). */
  paramsMax: 65_535,
  /**
   * Largest response body. A Worker has 128 MB; results are held to be serialised as one JSON
   * document, so they are capped well below that (Neon's HTTP API caps responses at 10 MB too).
   */
  responseBytesMax: 10 * 1024 * 1024,
} as const;

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
