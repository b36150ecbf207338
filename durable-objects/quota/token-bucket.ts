// A tenant's Request-Unit token bucket, shared by all of the tenant's gateways (the CockroachDB
// distributed token bucket, rebuilt): pure arithmetic on a plain state object, so the QuotaBucket
// object persists it as is and the rules are testable without a runtime.
//
// Gateways ask for about `periodSeconds` of their expected use at a time and spend it locally.
//   - While the bucket holds tokens, a gateway gets what it asked for at once (bounded by
//     `maxGrantRu`); that may drive the bucket into debt by up to one grant.
//   - Once the bucket cannot cover the request, the grant trickles: it arrives evenly over at
//     most one period, at the gateway's share of the refill rate. So an exhausted tenant slows to
//     its refill rate instead of stopping dead, and the tenant's gateways together never get more
//     than the rate.
//   - Debt beyond what one period of trickling explains (charges that came after the fact: bytes
//     read, CPU, egress) is paid back by shrinking the rate handed out over the next period, never
//     below `debtRateFloor` of it, so a tenant in debt keeps a trickle.
//   - A refill rate of 0 is a hard limit: the burst is all the tenant will ever get, and once it is
//     spent the grant is a refusal (53400 at the client), not a trickle of nothing.
//
// Fair share: each gateway reports its demand, the rate it consumed lately, or `null` when it
// was held back (it waited for or was refused tokens since its previous request: it would use
// more). The rate is divided max-min fairly among the gateways seen in the last
// `instanceTtlSeconds`: a gateway that wants less than an equal share gets what it wants (with
// `demandHeadroom` to grow), the others split the rest equally. A gateway's share is recomputed on
// each of its requests, so the split converges within a period or two of a change in load.

export interface BucketConfig {
  refillRuPerSecond: number;
  burstRu: number;
}

export interface InstanceState {
  /** RU/s the instance consumed lately; null when it was held back (it would use more). */
  demandRuPerSecond: number | null;
  lastSeenMs: number;
  /** Highest request sequence number seen: a repeated request is not counted twice. */
  seq: number;
  /** RU granted by its last request and not yet reported as consumed (counts against a spend limit). */
  outstandingRu: number;
}

export interface BucketState {
  /** Tokens in the bucket; negative is debt. */
  tokensRu: number;
  lastRefillMs: number;
  instances: Record<string, InstanceState>;
}

export interface BucketOptions {
  /** How much expected use one grant covers, and the longest trickle (s). */
  periodSeconds: number;
  /** Largest single grant, so one gateway cannot drain a tenant's whole burst in one call. */
  maxGrantRu: number;
  /** A gateway not heard from for this long no longer takes a share of the rate (s). */
  instanceTtlSeconds: number;
  /** Instances remembered at most; the least recently seen are forgotten first. */
  instancesMax: number;
  /** A gateway with a known demand is given this multiple of it, so it can grow. */
  demandHeadroom: number;
  /** Fraction of the rate still handed out while systematic debt is paid back. */
  debtRateFloor: number;
}

export interface GrantRequest {
  instanceId: string;
  seq: number;
  wantRu: number;
  demandRuPerSecond: number | null;
  /** Extra bound on this grant (what is left under a spend limit); Infinity when none. */
  capRu: number;
}

export interface Grant {
  /** RU the gateway may spend. */
  grantedRu: number;
  /** 0: spend at once. Otherwise the grant arrives evenly over this many ms. */
  trickleMs: number;
  /** Tokens left in the bucket after this grant (negative: debt). */
  tokensRu: number;
  /** Ask again within this many ms. */
  validForMs: number;
  /** Set when nothing can be granted because the refill rate is 0 and the burst is spent. */
  hardLimitReached?: boolean;
}

export function newBucketState(config: BucketConfig, nowMs: number): BucketState {
  return { tokensRu: config.burstRu, lastRefillMs: nowMs, instances: {} };
}

/** Adds what the rate produced since the last refill, up to the burst (never changes debt's sign by more). */
export function refill(state: BucketState, config: BucketConfig, nowMs: number): BucketState {
  const elapsedMs = Math.max(0, nowMs - state.lastRefillMs);
  const added = (elapsedMs / 1000) * config.refillRuPerSecond;
  // A bucket already above the burst (the burst was lowered) is brought down to it.
  const tokensRu = Math.min(config.burstRu, state.tokensRu + added);
  return { ...state, tokensRu, lastRefillMs: Math.max(nowMs, state.lastRefillMs) };
}

/**
 * Max-min fair division of `rate` among instances with the given demands (null = unbounded).
 * Returns each instance's share, in the same order.
 */
export function fairShares(rate: number, demands: ReadonlyArray<number | null>): number[] {
  const shares: number[] = demands.map(() => 0);
  let left = rate;
  let open = demands.map((_, i) => i);
  // Water filling: settle every instance that wants no more than an equal split of what is left,
  // then split again among the rest, until everyone left wants more than the split.
  while (open.length > 0 && left > 0) {
    const split = left / open.length;
    const settled = open.filter((i) => demands[i] !== null && demands[i]! <= split);
    if (settled.length === 0) {
      for (const i of open) shares[i] = split;
      return shares;
    }
    for (const i of settled) {
      shares[i] = demands[i]!;
      left -= demands[i]!;
    }
    open = open.filter((i) => !settled.includes(i));
  }
  return shares;
}

/** Forgets instances not seen within the TTL, then the least recently seen beyond the bound. */
function liveInstances(instances: Record<string, InstanceState>, nowMs: number, o: BucketOptions): Record<string, InstanceState> {
  const live = Object.entries(instances)
    .filter(([, s]) => nowMs - s.lastSeenMs <= o.instanceTtlSeconds * 1000)
    .sort((a, b) => b[1].lastSeenMs - a[1].lastSeenMs)
    .slice(0, o.instancesMax);
  return Object.fromEntries(live);
}

/** This instance's share of `rate`, given every live instance's demand (with headroom). */
function shareOf(instances: Record<string, InstanceState>, id: string, rate: number, o: BucketOptions): number {
  const ids = Object.keys(instances);
  const demands = ids.map((k) => {
    const d = instances[k]!.demandRuPerSecond;
    return d === null ? null : d * o.demandHeadroom;
  });
  const shares = fairShares(rate, demands);
  const mine = shares[ids.indexOf(id)] ?? 0;
  // Rate nobody claims (every instance wants little) is not wasted: the asker may use it too.
  const unclaimed = rate - shares.reduce((a, b) => a + b, 0);
  return mine + Math.max(0, unclaimed);
}

/** Sum of RU granted to instances other than `id` and not yet reported back as consumed. */
export function outstandingOfOthers(state: BucketState, id: string): number {
  let sum = 0;
  for (const [k, s] of Object.entries(state.instances)) if (k !== id) sum += s.outstandingRu;
  return sum;
}

/**
 * Handles one gateway's request: refills, records the instance, and grants (see the file
 * comment). `isRepeat` tells the caller the request's sequence number was already seen, so its
 * consumption must not be counted again.
 */
export function requestGrant(
  state: BucketState,
  config: BucketConfig,
  nowMs: number,
  req: GrantRequest,
  o: BucketOptions,
): { state: BucketState; grant: Grant; isRepeat: boolean } {
  const s = refill(state, config, nowMs);
  const prior = s.instances[req.instanceId];
  const isRepeat = prior !== undefined && req.seq <= prior.seq;
  const instances = liveInstances(
    { ...s.instances, [req.instanceId]: { demandRuPerSecond: req.demandRuPerSecond, lastSeenMs: nowMs, seq: Math.max(req.seq, prior?.seq ?? 0), outstandingRu: 0 } },
    nowMs,
    o,
  );
  const periodMs = o.periodSeconds * 1000;
  const want = Math.max(0, Math.min(req.wantRu, o.maxGrantRu, req.capRu));

  let grantedRu: number;
  let trickleMs = 0;
  let hardLimitReached = false;
  if (s.tokensRu >= want) {
    grantedRu = want;
  } else if (config.refillRuPerSecond === 0) {
    // A hard limit: whatever burst is left, and nothing more, ever.
    grantedRu = Math.max(0, Math.min(want, s.tokensRu));
    hardLimitReached = grantedRu === 0;
  } else {
    let rate = shareOf(instances, req.instanceId, config.refillRuPerSecond, o);
    // Debt up to one period of the rate is the trickle already handed out; more is systematic.
    const excessDebt = -s.tokensRu - config.refillRuPerSecond * o.periodSeconds;
    if (excessDebt > 0) rate = Math.max(rate * o.debtRateFloor, rate - excessDebt / o.periodSeconds);
    grantedRu = Math.min(want, rate * o.periodSeconds);
    trickleMs = rate > 0 ? Math.ceil((grantedRu / rate) * 1000) : 0;
  }
  instances[req.instanceId]!.outstandingRu = grantedRu;
  const next: BucketState = { tokensRu: s.tokensRu - grantedRu, lastRefillMs: s.lastRefillMs, instances };
  const grant: Grant = {
    grantedRu,
    trickleMs,
    tokensRu: next.tokensRu,
    // A hard-limited tenant asks again after a while: an operator may raise the limit.
    validForMs: trickleMs > 0 ? trickleMs : periodMs,
  };
  if (hardLimitReached) grant.hardLimitReached = true;
  return { state: next, grant, isRepeat };
}
