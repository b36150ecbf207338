// The statement budget on its own: counted cadence and its calibration bounds, returning to the
// event loop, deadline and cancel (57014 with Postgres's two messages), interruptible sleep, and
// CPU accounting that leaves waits out.
import { describe, expect, it, vi } from "vitest";
import { sqlLimits } from "../limits.ts";
import { StatementBudget } from "./budget.ts";
import { ThreadLedger } from "./thread-ledger.ts";

function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe("StatementBudget", () => {
  it("asks for a pause after yieldUnitsInitial units, not one unit earlier", () => {
    const b = new StatementBudget({ timeoutMs: 60_000 });
    expect(b.charge(sqlLimits.yieldUnitsInitial - 1)).toBe(false);
    expect(b.charge(1)).toBe(true);
  });

  it("pause() returns to the event loop: a macrotask queued before it runs first", async () => {
    const b = new StatementBudget({ timeoutMs: 60_000 });
    let ran = false;
    setImmediate(() => (ran = true));
    // A microtask lets no other task run…
    await Promise.resolve();
    expect(ran).toBe(false);
    // …a pause does.
    b.charge(sqlLimits.yieldUnitsInitial);
    await b.pause();
    expect(ran).toBe(true);
    expect(b.stats().yields).toBe(1);
  });

  it("calibrates the cadence towards yieldSliceMs, within yieldUnitsMin … yieldUnitsMax", async () => {
    // Expensive units: 1 ms each, so a slice should hold about yieldSliceMs of them.
    const slow = new StatementBudget({ timeoutMs: 60_000 });
    for (let i = 0; i < 6; i++) {
      for (let u = 0; u < 64; u++) {
        spin(1);
        slow.charge(1);
      }
      await slow.pause();
    }
    expect(slow.cadenceUnits).toBeGreaterThanOrEqual(sqlLimits.yieldUnitsMin);
    expect(slow.cadenceUnits).toBeLessThanOrEqual(Math.max(sqlLimits.yieldUnitsMin, 4 * sqlLimits.yieldSliceMs));
    // Free units: the cadence grows, at most 4× a slice, never past yieldUnitsMax.
    const fast = new StatementBudget({ timeoutMs: 60_000 });
    for (let i = 0; i < 20; i++) {
      spin(1);
      fast.charge(sqlLimits.yieldUnitsMax * 10);
      await fast.pause();
    }
    expect(fast.cadenceUnits).toBe(sqlLimits.yieldUnitsMax);
  });

  it("fails with 57014 'statement timeout' past the deadline, at the next check", async () => {
    const b = new StatementBudget({ timeoutMs: 30 });
    expect(() => b.check()).not.toThrow();
    await new Promise((r) => setTimeout(r, 40));
    expect(() => b.check()).toThrow(expect.objectContaining({ code: "57014", message: "canceling statement due to statement timeout" }));
    b.charge(sqlLimits.yieldUnitsInitial);
    await expect(b.pause()).rejects.toMatchObject({ code: "57014" });
  });

  it("fails with 57014 'user request' after cancel(), and a sleep wakes at once", async () => {
    const b = new StatementBudget({ timeoutMs: 60_000 });
    const t0 = Date.now();
    const sleeping = b.sleep(10_000);
    setTimeout(() => b.cancel(), 20);
    await expect(sleeping).rejects.toMatchObject({ code: "57014", message: "canceling statement due to user request" });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(b.isCanceled).toBe(true);
  });

  it("a sleep past the deadline ends at the deadline with the timeout error", async () => {
    const b = new StatementBudget({ timeoutMs: 100 });
    const t0 = Date.now();
    await expect(b.sleep(10_000)).rejects.toMatchObject({ code: "57014", message: "canceling statement due to statement timeout" });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(2000);
  });

  it("counts held time as CPU and leaves waits (sleep, storage) out", async () => {
    const b = new StatementBudget({ timeoutMs: 60_000 });
    spin(30);
    b.charge(100);
    await b.sleep(150);
    b.suspend();
    await new Promise((r) => setTimeout(r, 100));
    b.resume();
    spin(20);
    const st = b.finish();
    expect(st.cpuMs).toBeGreaterThanOrEqual(45);
    // The 250 ms of waiting are not CPU (a loaded machine may stretch the spins a little).
    expect(st.cpuMs).toBeLessThan(200);
    expect(st.wallMs).toBeGreaterThanOrEqual(250);
    expect(st.workUnits).toBe(100);
    // Finished: the figures stay as they were.
    spin(5);
    expect(b.stats().cpuMs).toBe(st.cpuMs);
  });

  it("with a ledger, overlapping slices of two statements split the time they overlap", () => {
    const ledger = new ThreadLedger();
    const t0 = performance.now();
    const a = new StatementBudget({ timeoutMs: 60_000, ledger });
    spin(20); // a alone
    const b = new StatementBudget({ timeoutMs: 60_000, ledger });
    spin(40); // both open: 20 each
    const sa = a.finish();
    spin(10); // b alone
    const sb = b.finish();
    const total = performance.now() - t0;
    // Charged together no more than the time that passed, and each its part of it (a loaded
    // machine stretches the spins, never shrinks them).
    expect(sa.cpuMs + sb.cpuMs).toBeLessThanOrEqual(total + 0.01);
    expect(sa.cpuMs).toBeGreaterThanOrEqual(20 + 20 - 0.5);
    expect(sb.cpuMs).toBeGreaterThanOrEqual(20 + 10 - 0.5);
    expect(sa.cpuMs).toBeLessThan(sa.wallMs + 1);
    expect(ledger.openSlices).toBe(0);
  });

  it("with a frozen clock (production) and a ledger, two statements pausing together are charged the time to the next event once, not each", async () => {
    // A fresh module: the isolate's "clock runs" observation must not carry over from other tests.
    vi.resetModules();
    const { StatementBudget: Fresh } = await import("./budget.ts");
    const { ThreadLedger: FreshLedger } = await import("./thread-ledger.ts");
    let frozenMs = 1_000;
    const now = vi.spyOn(performance, "now").mockImplementation(() => frozenMs);
    try {
      const ledger = new FreshLedger();
      const a = new Fresh({ timeoutMs: 60_000, ledger });
      const b = new Fresh({ timeoutMs: 60_000, ledger });
      const both = Promise.all([a.pause(), b.pause()]);
      // The next event happens 8 ms later (their work and the timer's latency, told apart by nothing).
      frozenMs += 8;
      await both;
      const [sa, sb] = [a.finish(), b.finish()];
      expect(sa.cpuMs).toBe(4);
      expect(sb.cpuMs).toBe(4);
      // Without a ledger each would be charged all 8 (the old figure, and what a lone budget still is).
      const lone = new Fresh({ timeoutMs: 60_000 });
      const p = lone.pause();
      frozenMs += 8;
      await p;
      expect(lone.finish().cpuMs).toBe(8);
    } finally {
      now.mockRestore();
      vi.resetModules();
    }
  });

  it("a wait through the event loop (storage I/O) starts a fresh slice; a microtask-only wait does not", async () => {
    const b = new StatementBudget({ timeoutMs: 60_000 });
    expect(b.charge(sqlLimits.yieldUnitsInitial - 10)).toBe(false);
    b.suspend();
    await Promise.resolve();
    b.resume();
    expect(b.charge(10)).toBe(true);
    await b.pause();
    const slice = b.cadenceUnits;
    expect(b.charge(slice - 10)).toBe(false);
    b.suspend();
    await new Promise((r) => setTimeout(r, 5));
    b.resume();
    // A whole slice (as calibrated by now) before the next pause.
    const fresh = b.cadenceUnits;
    expect(fresh).toBeGreaterThan(10);
    expect(b.charge(fresh - 1)).toBe(false);
    expect(b.charge(1)).toBe(true);
  });

  it("refuses a resume without a suspend (an accounting bug, XX000)", () => {
    const b = new StatementBudget({ timeoutMs: 60_000 });
    expect(() => b.resume()).toThrow(expect.objectContaining({ code: "XX000" }));
  });
});
