import { describe, expect, it } from "vitest";
import { FREE_TIER } from "../../common/request-units.ts";
import { fairShares, newBucketState, refill, requestGrant, type BucketOptions, type BucketState, type GrantRequest } from "./token-bucket.ts";

const config = { refillRuPerSecond: FREE_TIER.refillRuPerSecond, burstRu: FREE_TIER.burstRu };
const o: BucketOptions = { periodSeconds: 10, maxGrantRu: 100_000, instanceTtlSeconds: 30, instancesMax: 256, demandHeadroom: 1.5, debtRateFloor: 0.05 };
const state = (tokensRu: number, lastRefillMs = 0): BucketState => ({ tokensRu, lastRefillMs, instances: {} });
let seq = 0;
const ask = (wantRu: number, instanceId = "a", demandRuPerSecond: number | null = null, capRu = Infinity): GrantRequest => ({
  instanceId,
  seq: ++seq,
  wantRu,
  demandRuPerSecond,
  capRu,
});

describe("refill", () => {
  it("refills at the rate and stops at the burst; a clock going backwards adds nothing", () => {
    expect(refill(state(0), config, 1000).tokensRu).toBe(100);
    expect(refill(state(config.burstRu - 50), config, 10_000).tokensRu).toBe(config.burstRu);
    expect(refill(state(5, 1000), config, 500).tokensRu).toBe(5);
    // Debt is paid back by the refill like anything else.
    expect(refill(state(-1000), config, 4000).tokensRu).toBe(-600);
  });
});

describe("grants", () => {
  it("grants what is asked at once while tokens cover it, bounded by the largest grant", () => {
    const r = requestGrant(state(1_000_000), config, 0, ask(5000), o);
    expect(r.grant).toMatchObject({ grantedRu: 5000, trickleMs: 0, validForMs: 10_000 });
    expect(r.state.tokensRu).toBe(995_000);
    expect(requestGrant(state(1_000_000), config, 0, ask(10_000_000), o).grant.grantedRu).toBe(o.maxGrantRu);
    expect(requestGrant(state(10), config, 0, ask(-5), o).grant.grantedRu).toBe(0);
  });

  it("trickles at the refill rate over at most one period once the bucket cannot cover the request", () => {
    const r = requestGrant(state(300), config, 0, ask(50_000), o);
    // One period of the rate, arriving evenly over the period: 100 RU/s.
    expect(r.grant.grantedRu).toBe(1000);
    expect(r.grant.trickleMs).toBe(10_000);
    expect(r.grant.validForMs).toBe(10_000);
    expect(r.state.tokensRu).toBe(-700);
    // A small request trickles over less than the period, at the same rate.
    const small = requestGrant(state(0), config, 0, ask(250), o);
    expect(small.grant).toMatchObject({ grantedRu: 250, trickleMs: 2500 });
  });

  it("debt beyond one period of trickle slows the rate handed out until it is paid, never below the floor", () => {
    // 1,000 RU of debt is the trickle already out: no slowdown.
    expect(requestGrant(state(-1000), config, 0, ask(50_000), o).grant.grantedRu).toBe(1000);
    // 1,500 RU: 500 are systematic, paid over the period: 100 - 50 RU/s.
    const r = requestGrant(state(-1500), config, 0, ask(50_000), o);
    expect(r.grant.grantedRu).toBeCloseTo(500, 9);
    expect(r.grant.trickleMs).toBe(10_000);
    // Huge debt (a 1 GiB scan charged after the fact): 5 % of the rate still flows.
    expect(requestGrant(state(-1e9), config, 0, ask(50_000), o).grant.grantedRu).toBeCloseTo(50, 9);
  });

  it("keeps a tenant that spends steadily at its refill rate over many periods (with its burst spent)", () => {
    let s = state(0);
    let granted = 0;
    // A gateway that always wants more, asking every time its trickle ends.
    let now = 0;
    while (now < 600_000) {
      const r = requestGrant(s, config, now, ask(5000), o);
      s = r.state;
      granted += r.grant.grantedRu;
      now += r.grant.validForMs;
    }
    expect(granted / (now / 1000)).toBeCloseTo(config.refillRuPerSecond, 0);
  });

  it("a zero rate is a hard limit: what is left of the burst, then a refusal, never a trickle", () => {
    const hard = { refillRuPerSecond: 0, burstRu: 300 };
    let s = newBucketState(hard, 0);
    const first = requestGrant(s, hard, 0, ask(1000), o);
    expect(first.grant).toMatchObject({ grantedRu: 300, trickleMs: 0 });
    expect(first.grant.hardLimitReached).toBeUndefined();
    s = first.state;
    const later = requestGrant(s, hard, 3_600_000, ask(1000), o);
    expect(later.grant).toMatchObject({ grantedRu: 0, trickleMs: 0, hardLimitReached: true });
    // A request for nothing is not a refusal.
    expect(requestGrant(s, hard, 0, ask(0), o).grant.hardLimitReached).toBeUndefined();
  });

  it("honours an extra cap (what a spend limit leaves)", () => {
    expect(requestGrant(state(1e6), config, 0, ask(5000, "a", null, 120), o).grant.grantedRu).toBe(120);
  });

  it("counts a repeated sequence number as a repeat", () => {
    const s = requestGrant(state(1e6), config, 0, { instanceId: "x", seq: 7, wantRu: 1, demandRuPerSecond: null, capRu: Infinity }, o);
    expect(s.isRepeat).toBe(false);
    const again = requestGrant(s.state, config, 1, { instanceId: "x", seq: 7, wantRu: 1, demandRuPerSecond: null, capRu: Infinity }, o);
    expect(again.isRepeat).toBe(true);
    expect(requestGrant(again.state, config, 2, { instanceId: "x", seq: 8, wantRu: 1, demandRuPerSecond: null, capRu: Infinity }, o).isRepeat).toBe(false);
  });
});

describe("fair share among a tenant's gateways", () => {
  it("divides max-min fairly: small demands are met, the rest split equally", () => {
    expect(fairShares(100, [null, null])).toEqual([50, 50]);
    expect(fairShares(100, [10, null, null])).toEqual([10, 45, 45]);
    expect(fairShares(90, [10, 20, null])).toEqual([10, 20, 60]);
    expect(fairShares(100, [60, 70])).toEqual([50, 50]);
    expect(fairShares(100, [])).toEqual([]);
    expect(fairShares(0, [null])).toEqual([0]);
  });

  it("several busy gateways converge on equal shares of the rate, whatever their start", () => {
    // Three gateways that all want more than the rate; one starts with a head start of tokens.
    let s = state(0);
    const got: Record<string, number> = { a: 0, b: 0, c: 0 };
    const next: Record<string, number> = { a: 0, b: 1000, c: 3000 };
    let now = 0;
    for (let i = 0; i < 300; i++) {
      const id = Object.keys(next).sort((x, y) => next[x]! - next[y]!)[0]!;
      now = next[id]!;
      const r = requestGrant(s, config, now, ask(5000, id, null), o);
      s = r.state;
      if (now >= 120_000) got[id]! += r.grant.grantedRu;
      next[id] = now + r.grant.validForMs;
    }
    const seconds = (now - 120_000) / 1000;
    for (const id of ["a", "b", "c"]) expect(got[id]! / seconds).toBeGreaterThan((config.refillRuPerSecond / 3) * 0.85);
    const total = (got.a! + got.b! + got.c!) / seconds;
    expect(total).toBeGreaterThan(config.refillRuPerSecond * 0.9);
    expect(total).toBeLessThan(config.refillRuPerSecond * 1.1);
  });

  it("a light gateway keeps what it uses; a busy one gets the rest", () => {
    let s = state(0);
    s = requestGrant(s, config, 0, ask(5000, "busy", null), o).state;
    const light = requestGrant(s, config, 1, ask(5000, "light", 10), o);
    // Its demand plus headroom: 15 RU/s over the period.
    expect(light.grant.grantedRu).toBeCloseTo(150, 6);
    // A period later (the trickles handed out have been refilled, so no systematic debt slows it):
    const busy = requestGrant(light.state, config, 10_001, ask(5000, "busy", null), o);
    expect(busy.grant.grantedRu / 10).toBeCloseTo(config.refillRuPerSecond - 15, 6);
  });

  it("forgets gateways not heard from within the TTL, so the survivors get the whole rate", () => {
    let s = state(0);
    s = requestGrant(s, config, 0, ask(5000, "gone", null), o).state;
    const shared = requestGrant(s, config, 1000, ask(5000, "here", null), o);
    expect(shared.grant.grantedRu).toBeCloseTo(500, 6);
    const alone = requestGrant(shared.state, config, 31_001, ask(5000, "here", null), o);
    expect(Object.keys(alone.state.instances)).toEqual(["here"]);
    expect(alone.grant.grantedRu).toBeGreaterThan(shared.grant.grantedRu);
  });

  it("remembers at most instancesMax gateways", () => {
    let s = state(1e9);
    for (let i = 0; i < 300; i++) s = requestGrant(s, config, i, ask(1, `g${i}`), o).state;
    expect(Object.keys(s.instances)).toHaveLength(o.instancesMax);
    expect(s.instances["g299"]).toBeDefined();
    expect(s.instances["g0"]).toBeUndefined();
  });
});
