// The per-address login throttle at its edges: backoff 1 s, 2 s, 4 s … capped; other addresses
// unaffected; an address that logged in successfully is never throttled.
import { describe, expect, it } from "vitest";
import { limits } from "../limits.ts";
import { backoffMs, LoginThrottle } from "./login-throttle.ts";

describe("LoginThrottle", () => {
  it("lets the first three failures pass, then backs off exponentially from 1 s, up to the cap", () => {
    expect(limits.loginFailuresFree).toBe(3);
    expect([0, 1, 2, 3, 4, 5, 12].map(backoffMs)).toEqual([0, 0, 0, 1_000, 2_000, 4_000, 512_000]);
    expect(backoffMs(13)).toBe(limits.loginBackoffMaxMs);
    expect(backoffMs(64)).toBe(limits.loginBackoffMaxMs);
  });

  it("slows the failing address only, until its backoff has passed", () => {
    let now = 0;
    const t = new LoginThrottle(() => now);
    for (let i = 0; i < 10; i++) {
      now += backoffMs(i) + 1;
      expect(t.retryAtMs("x")).toBe(null);
      t.failed("x");
    }
    expect(t.retryAtMs("x")).toBe(now + backoffMs(10));
    expect(t.retryAtMs("y")).toBe(null);
    now += backoffMs(10) - 1;
    expect(t.retryAtMs("x")).not.toBe(null);
    now += 1;
    expect(t.retryAtMs("x")).toBe(null);
  });

  it("never throttles an address that logged in successfully, and a success clears its failures", () => {
    let now = 0;
    const t = new LoginThrottle(() => now);
    t.succeeded("x");
    for (let i = 0; i < 10; i++) t.failed("x");
    expect(t.retryAtMs("x")).toBe(null);
    for (let i = 0; i < 3; i++) t.failed("z");
    t.succeeded("z");
    now += limits.loginSuccessMemoryMs;
    expect(t.retryAtMs("z")).toBe(null); // failures cleared by the success
    t.failed("x");
    expect(t.retryAtMs("x")).not.toBe(null); // the success is forgotten after a day
  });
});
