// KeyMap and ChunkedList against a Map and an array as the reference: the same values for the same
// keys across table growth and block edges, values in first-set order, and no step that allocates
// more than a block, a chunk or a segment.
import { describe, expect, it } from "vitest";
import { sqlLimits } from "../limits.ts";
import { ChunkedList } from "./chunked-list.ts";
import { KeyMap } from "./key-map.ts";
import { KeySet } from "./key-set.ts";

describe("KeyMap", () => {
  it("agrees with a Map over 200,000 sets, gets and overwrites, and keeps first-set order", () => {
    const m = new KeyMap<number>();
    const ref = new Map<string, number>();
    for (let i = 0; i < 200_000; i++) {
      const k = `${(i * 7919) % 150_000};`;
      m.set(k, i);
      ref.set(k, i);
    }
    expect(m.size).toBe(ref.size);
    expect([...m.values()]).toEqual([...ref.values()]);
    const wrong: string[] = [];
    for (const [k, v] of ref) if (m.get(k) !== v) wrong.push(k);
    expect(wrong).toEqual([]);
    expect(m.get("150000;")).toBeUndefined();
  });

  it("getOrSet makes a value only for a new key", () => {
    const m = new KeyMap<{ n: number }>();
    let made = 0;
    const a = m.getOrSet("a", () => ({ n: ++made }));
    const again = m.getOrSet("a", () => ({ n: ++made }));
    expect(again).toBe(a);
    expect(m.getOrSet("b", () => ({ n: ++made }))).toEqual({ n: 2 });
    expect(made).toBe(2);
    expect(m.size).toBe(2);
  });
});

describe("KeySet ids", () => {
  it("interns keys as 0, 1, 2… in first-add order; a repeat gets its id back", () => {
    const s = new KeySet();
    expect([s.intern("x"), s.intern("y"), s.intern("x"), s.intern("z"), s.intern("y")]).toEqual([-1, -2, 0, -3, 1]);
    expect([s.idOf("z"), s.idOf("w")]).toEqual([2, -1]);
  });
});

describe("ChunkedList", () => {
  it("holds, reads and overwrites across block edges, iterating in push order", () => {
    const l = new ChunkedList<number>();
    const n = 3 * (1 << 14) + 5;
    for (let i = 0; i < n; i++) l.push(i);
    expect(l.length).toBe(n);
    for (const i of [0, (1 << 14) - 1, 1 << 14, n - 1]) expect(l.at(i)).toBe(i);
    l.set(1 << 14, -1);
    let sum = 0;
    let count = 0;
    for (const v of l) {
      sum += v;
      count++;
    }
    expect(count).toBe(n);
    expect(sum).toBe((n * (n - 1)) / 2 - (1 << 14) - 1);
    expect(() => l.at(n)).toThrow(RangeError);
    expect(() => l.set(-1, 0)).toThrow(RangeError);
  });
});

it("a KeyMap's key set never allocates more than a segment or a chunk at once", () => {
  const m = new KeyMap<number>();
  for (let i = 0; i < 600_000; i++) m.set(`${i}`, i);
  expect(m.heldBytes).toBeGreaterThan(4 * 1024 * 1024);
  expect((m as unknown as { keys: KeySet }).keys.largestAllocationBytes).toBeLessThanOrEqual(Math.max(sqlLimits.hashSegmentSlots * 4, sqlLimits.keySetChunkChars * 2));
});
