// A Request-Unit token bucket: refills continuously at `refillRuPerSecond` up to `burstRu`.
// Pure arithmetic on a plain state object, so the QuotaBucket object can persist it as is and the
// rules are testable without a runtime.

export interface BucketState {
  tokensRu: number;
  lastRefillMs: number;
}

export interface BucketConfig {
  refillRuPerSecond: number;
  burstRu: number;
}

export interface Grant {
  /** RU the caller may spend locally now. */
  grantedRu: number;
  /** Tokens left in the bucket after this grant (may be negative: debt). */
  tokensRu: number;
  /** When the caller should come back at the latest (ms); shorter when the bucket is low. */
  validForMs: number;
}

export function refill(state: BucketState, config: BucketConfig, nowMs: number): BucketState {
  const elapsedMs = Math.max(0, nowMs - state.lastRefillMs);
  const tokensRu = Math.min(config.burstRu, state.tokensRu + (elapsedMs / 1000) * config.refillRuPerSecond);
  return { tokensRu, lastRefillMs: nowMs };
}

/**
 * Grants up to `wantRu`. With tokens in the bucket the caller gets what it asked for (bounded by
 * `maxGrantRu`) and may drive the bucket into debt by at most that much; once in debt, it only
 * gets a trickle: what the refill rate produces over `trickleSeconds`, so an exhausted tenant
 * slows to its refill rate instead of stopping dead.
 */
export function grant(
  state: BucketState,
  config: BucketConfig,
  nowMs: number,
  wantRu: number,
  opts: { maxGrantRu: number; trickleSeconds: number },
): { state: BucketState; grant: Grant } {
  const s = refill(state, config, nowMs);
  const want = Math.max(0, Math.min(wantRu, opts.maxGrantRu));
  let grantedRu: number;
  let validForMs: number;
  if (s.tokensRu > 0) {
    grantedRu = want;
    validForMs = opts.trickleSeconds * 1000;
  } else {
    grantedRu = Math.min(want, config.refillRuPerSecond * opts.trickleSeconds);
    validForMs = opts.trickleSeconds * 1000;
  }
  const next = { tokensRu: s.tokensRu - grantedRu, lastRefillMs: s.lastRefillMs };
  return { state: next, grant: { grantedRu, tokensRu: next.tokensRu, validForMs } };
}
