// The interruptible sort against Array.prototype.sort: same order (stable), at and around the run
// length where it switches from one sort call to merging, and it returns to the event loop.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sqlLimits } from "../limits.ts";
import { StatementBudget } from "./budget.ts";
import { sortInterruptibly } from "./interruptible-sort.ts";

type Item = { key: number; seq: number };
const byKey = (a: Item, b: Item): number => a.key - b.key;

function items(keys: number[]): Item[] {
  return keys.map((key, seq) => ({ key, seq }));
}

describe("sortInterruptibly", () => {
  it("orders like a stable Array.prototype.sort (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 300 }), async (keys) => {
        const want = items(keys).sort(byKey);
        const got = await sortInterruptibly(items(keys), byKey, new StatementBudget({ timeoutMs: 60_000 }));
        expect(got).toEqual(want);
      }),
    );
  });

  it("sorts at the run length, one past it and across several merge passes", async () => {
    const run = sqlLimits.sortRunRows;
    for (const n of [run, run + 1, 5 * run + 7]) {
      // Few distinct keys, so stability is visible in `seq`.
      const keys = Array.from({ length: n }, (_, i) => (i * 7919) % 13);
      const want = items(keys).sort(byKey);
      const got = await sortInterruptibly(items(keys), byKey, new StatementBudget({ timeoutMs: 60_000 }));
      expect(got.length).toBe(n);
      expect(got).toEqual(want);
    }
  });

  it("returns to the event loop while it merges, and stops when canceled", async () => {
    const n = 200_000;
    const budget = new StatementBudget({ timeoutMs: 60_000 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      await sortInterruptibly(items(Array.from({ length: n }, (_, i) => (i * 7919) % n)), byKey, budget);
    } finally {
      clearInterval(timer);
    }
    expect(budget.stats().yields).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThan(0);
    const canceled = new StatementBudget({ timeoutMs: 60_000 });
    canceled.cancel();
    await expect(sortInterruptibly(items(Array.from({ length: n }, (_, i) => n - i)), byKey, canceled)).rejects.toMatchObject({ code: "57014" });
  });
});
