// A stable sort that returns to the event loop while it works. One Array.prototype.sort over a
// million rows holds the thread for a second or more, during which no other request, timeout or
// cancel can run; here runs of sqlLimits.sortRunRows are sorted by Array.prototype.sort (a few ms
// each), then merged bottom-up, charging the statement's budget one unit per comparison.
import { sqlLimits } from "../limits.ts";
import type { StatementBudget } from "./budget.ts";

/** Elements merged between two looks at the budget (charged together). */
const MERGE_STEP = 1024;

/**
 * Sorts `items` (stable, like Array.prototype.sort) and returns the sorted array, which may be a
 * different array of the same length. Needs one more array of `items.length` slots for merging.
 */
export async function sortInterruptibly<T>(items: T[], cmp: (a: T, b: T) => number, budget: StatementBudget): Promise<T[]> {
  const n = items.length;
  const run = sqlLimits.sortRunRows;
  // Sorting a run of r elements costs about r·log2(r) comparisons.
  const runCost = (r: number): number => Math.ceil(r * Math.log2(Math.max(2, r)));
  if (n <= run) {
    items.sort(cmp);
    if (budget.charge(runCost(n))) await budget.pause();
    return items;
  }
  for (let lo = 0; lo < n; lo += run) {
    const hi = Math.min(n, lo + run);
    const part = items.slice(lo, hi).sort(cmp);
    for (let i = 0; i < part.length; i++) items[lo + i] = part[i]!;
    if (budget.charge(runCost(hi - lo))) await budget.pause();
  }
  let src = items;
  let dst: T[] = new Array<T>(n);
  for (let width = run; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(n, lo + width);
      const hi = Math.min(n, lo + 2 * width);
      let i = lo;
      let j = mid;
      let k = lo;
      while (k < hi) {
        const stop = Math.min(hi, k + MERGE_STEP);
        for (; k < stop; k++) {
          // Ties take the left run's element first: the merge keeps the sort stable.
          if (j >= hi || (i < mid && cmp(src[i]!, src[j]!) <= 0)) dst[k] = src[i++]!;
          else dst[k] = src[j++]!;
        }
        if (budget.charge(MERGE_STEP)) await budget.pause();
      }
    }
    const t = src;
    src = dst;
    dst = t;
  }
  return src;
}
