import { describe, expect, it } from "vitest";
import { FREE_TIER } from "../../common/request-units.ts";
import { grant, refill } from "./token-bucket.ts";

const config = { refillRuPerSecond: FREE_TIER.refillRuPerSecond, burstRu: FREE_TIER.burstRu };
const opts = { maxGrantRu: 100_000, trickleSeconds: 10 };

describe("RU token bucket", () => {
  it("refills at the free-tier rate and stops at the burst", () => {
    expect(refill({ tokensRu: 0, lastRefillMs: 0 }, config, 1000).tokensRu).toBe(100);
    expect(refill({ tokensRu: config.burstRu - 50, lastRefillMs: 0 }, config, 10_000).tokensRu).toBe(config.burstRu);
    // A clock going backwards adds nothing.
    expect(refill({ tokensRu: 5, lastRefillMs: 1000 }, config, 500).tokensRu).toBe(5);
  });

  it("grants what is asked while tokens remain, bounded by the largest grant", () => {
    const r = grant({ tokensRu: 1_000_000, lastRefillMs: 0 }, config, 0, 5000, opts);
    expect(r.grant.grantedRu).toBe(5000);
    expect(r.state.tokensRu).toBe(995_000);
    const big = grant({ tokensRu: 1_000_000, lastRefillMs: 0 }, config, 0, 10_000_000, opts);
    expect(big.grant.grantedRu).toBe(opts.maxGrantRu);
  });

  it("only trickles (refill rate × grant period) once the bucket is in debt", () => {
    const r = grant({ tokensRu: -10, lastRefillMs: 0 }, config, 0, 50_000, opts);
    expect(r.grant.grantedRu).toBe(config.refillRuPerSecond * opts.trickleSeconds);
    expect(r.grant.tokensRu).toBe(-10 - 1000);
  });

  it("never grants a negative amount", () => {
    expect(grant({ tokensRu: 10, lastRefillMs: 0 }, config, 0, -5, opts).grant.grantedRu).toBe(0);
  });
});
