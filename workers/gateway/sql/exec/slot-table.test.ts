// SlotTable and its builder at the segment edge (sqlLimits.hashSegmentSlots): a table of one
// segment or less is one allocation; a larger one is built one segment per step, never more, and
// reads back what was written on both sides of every segment boundary.
import { describe, expect, it } from "vitest";
import { sqlLimits } from "../limits.ts";
import { SlotTableBuilder } from "./slot-table.ts";

const SEG = sqlLimits.hashSegmentSlots;

describe("SlotTable", () => {
  it("builds a table of at most one segment in one step", () => {
    for (const length of [16, SEG]) {
      const b = new SlotTableBuilder(length);
      expect(b.step()).toBe(length * 4);
      expect(b.done).toBe(true);
      expect(b.step()).toBe(0);
      expect(b.finish()).toMatchObject({ allocatedBytes: 0, table: { length, mask: length - 1 } });
    }
  });

  it("builds a larger table one segment per step, and finish() allocates only what is missing", () => {
    const b = new SlotTableBuilder(SEG * 8);
    const steps: number[] = [];
    for (let i = 0; i < 3; i++) steps.push(b.step());
    expect(steps).toEqual([SEG * 4, SEG * 4, SEG * 4]);
    expect(b.done).toBe(false);
    const { table, allocatedBytes } = b.finish();
    expect(allocatedBytes).toBe(5 * SEG * 4);
    expect(table.byteLength).toBe(8 * SEG * 4);
    for (let s = 1; s < 8; s++) {
      table.set(s * SEG - 1, -s);
      table.set(s * SEG, s);
    }
    for (let s = 1; s < 8; s++) expect([table.get(s * SEG - 1), table.get(s * SEG)]).toEqual([-s, s]);
    expect(table.get(SEG + 1)).toBe(0);
  });

  it("refuses a length that is not a power of two", () => {
    for (const length of [0, 3, SEG + 1]) expect(() => new SlotTableBuilder(length)).toThrow(/power of two/);
  });
});
