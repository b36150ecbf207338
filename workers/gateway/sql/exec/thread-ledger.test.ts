// The ledger's arithmetic with explicit times: one slice alone gets all of its time, overlapping
// slices share the overlap equally, the total never exceeds the time covered, and an abandoned
// slice stops taking a share after its deadline.
import { describe, expect, it } from "vitest";
import { sqlLimits } from "../limits.ts";
import { StatementBudget } from "./budget.ts";
import { ThreadLedger, type LedgerEntry } from "./thread-ledger.ts";

function entry(abandonAfterMs = Infinity): LedgerEntry & { ms: number } {
  const e = { ms: 0, abandonAfterMs, credit: (ms: number) => (e.ms += ms) };
  return e;
}

describe("ThreadLedger", () => {
  it("a slice alone is credited its whole length", () => {
    const l = new ThreadLedger();
    const a = entry();
    l.begin(a, 100);
    l.end(a, 103);
    expect(a.ms).toBe(3);
    expect(l.openSlices).toBe(0);
  });

  it("overlapping slices share the overlap equally and the sum equals the time covered", () => {
    const l = new ThreadLedger();
    const [a, b, c] = [entry(), entry(), entry()];
    l.begin(a, 0); // A alone 0–10
    l.begin(b, 10); // A, B 10–16
    l.begin(c, 16); // A, B, C 16–19
    l.end(a, 19); // B, C 19–25
    l.end(b, 25); // C alone 25–27
    l.end(c, 27);
    expect(a.ms).toBeCloseTo(10 + 3 + 1);
    expect(b.ms).toBeCloseTo(3 + 1 + 3);
    expect(c.ms).toBeCloseTo(1 + 3 + 2);
    expect(a.ms + b.ms + c.ms).toBeCloseTo(27);
  });

  it("time with no slice open is nobody's", () => {
    const l = new ThreadLedger();
    const a = entry();
    l.begin(a, 0);
    l.end(a, 2);
    l.begin(a, 50);
    l.end(a, 51);
    expect(a.ms).toBe(3);
  });

  it("a budget's open slice shares until ledgerAbandonGraceMs past its deadline, not a millisecond longer", async () => {
    const l = new ThreadLedger();
    const timeoutMs = 50;
    const lost = new StatementBudget({ timeoutMs, ledger: l }); // never finished
    const t0 = performance.now();
    const a = entry();
    const edge = t0 + timeoutMs + sqlLimits.ledgerAbandonGraceMs;
    // Before the edge (the budget read its clock just before t0) the lost slice still halves a's
    // share …
    l.begin(a, edge - 60);
    l.end(a, edge - 50);
    expect(a.ms).toBeCloseTo(5);
    expect(l.openSlices).toBe(1);
    // … past it, it is dropped and a is credited alone.
    l.begin(a, edge + 5);
    l.end(a, edge + 9);
    expect(a.ms).toBeCloseTo(5 + 4);
    expect(l.openSlices).toBe(0);
    expect(lost.isCanceled).toBe(false);
  });

  it("an entry shares at exactly its abandonAfterMs and not after it", () => {
    const l = new ThreadLedger();
    const lost = entry(10);
    const a = entry();
    l.begin(lost, 0);
    l.begin(a, 6);
    l.end(a, 10); // at the edge: still shared, 2 each
    expect(a.ms).toBe(2);
    l.begin(a, 10.5); // past it: lost is dropped at this boundary
    l.end(a, 11.5);
    expect(a.ms).toBe(3);
    expect(l.openSlices).toBe(0);
  });

  it("a frozen clock: slices that ended unmeasured share the time up to the next reading that moved, once", () => {
    const l = new ThreadLedger();
    const [a, b, c] = [entry(), entry(), entry()];
    // a and b ran in the event at reading 100 and paused (the clock showed them nothing) …
    l.begin(a, 100);
    l.begin(b, 100);
    l.end(a, 100, true);
    l.end(b, 100, true);
    expect(a.ms + b.ms).toBe(0);
    // … the next event reads 106: those 6 ms were theirs, half each …
    l.begin(c, 106);
    expect(a.ms).toBe(3);
    expect(b.ms).toBe(3);
    // … and only once: c's own slice, ended measured, takes the next stretch alone.
    l.end(c, 106);
    l.begin(c, 110);
    l.end(c, 111);
    expect(a.ms + b.ms).toBe(6);
    expect(c.ms).toBe(1);
  });

  it("an abandoned slice stops sharing after its deadline", () => {
    const l = new ThreadLedger();
    const lost = entry(5);
    const a = entry();
    l.begin(lost, 0);
    l.begin(a, 0);
    l.end(a, 4); // shared: 2 each
    l.begin(a, 10); // past 5: lost is dropped when this boundary settles (nobody gets 4–10 but lost, and lost is gone)
    l.end(a, 14);
    expect(a.ms).toBe(2 + 4);
    expect(l.openSlices).toBe(0);
  });
});
