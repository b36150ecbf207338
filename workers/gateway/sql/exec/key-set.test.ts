// KeySet against a plain Set as the reference: the same answers to add and has for keys across
// table growth (incremental rehashing), entry blocks, arena chunks, and the chunk's edge (a key of
// keySetChunkChars - 1 units is the longest kept in the arena, one more is kept whole).
import { describe, expect, it } from "vitest";
import { sqlLimits } from "../limits.ts";
import { KeySet } from "./key-set.ts";

/** A small seeded generator, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 0x1_0000_0000;
  };
}

function check(keys: readonly string[]): KeySet {
  const set = new KeySet();
  const ref = new Set<string>();
  const mismatches: string[] = [];
  for (const k of keys) {
    if (set.add(k) !== !ref.has(k)) mismatches.push(`add ${JSON.stringify(k.slice(0, 40))}`);
    ref.add(k);
  }
  for (const k of ref) if (!set.has(k)) mismatches.push(`has ${JSON.stringify(k.slice(0, 40))}`);
  expect(mismatches.slice(0, 5)).toEqual([]);
  expect(set.size).toBe(ref.size);
  return set;
}

describe("KeySet", () => {
  it("agrees with a Set over 100,000 adds with repeats (several growths, blocks and chunks)", () => {
    const r = rng(7);
    const keys = Array.from({ length: 100_000 }, () => `${Math.floor(r() * 60_000)};${"x".repeat(Math.floor(r() * 20))}`);
    const set = check(keys);
    for (let i = 0; i < 1000; i++) expect(set.has(`absent ${i}`)).toBe(false);
  });

  it("tells apart keys that differ only in length, in one code unit, or in surrogate halves", () => {
    check(["", "a", "aa", "", "a\u0000", "\u0000", "é", "e\u0301", "\u{1F600}", "\uD83D", "\uDE00", "\uD83D\uDE00", "a", "aa"]);
  });

  it("keeps a key of keySetChunkChars - 1 units in the arena and one unit longer whole, both found", () => {
    const edge = "k".repeat(sqlLimits.keySetChunkChars - 1);
    const over = "k".repeat(sqlLimits.keySetChunkChars);
    const set = check(["a", edge, over, edge + "!", "b", edge, over, "a"]);
    expect(set.size).toBe(5);
    // The arena key took a whole chunk (2 bytes a unit); the long one is held as a string.
    expect(set.heldBytes).toBeGreaterThan(2 * sqlLimits.keySetChunkChars * 2);
  });

  it("allocates at most a segment, a chunk or a block at once, even as its table grows past 2^21 slots", () => {
    const set = new KeySet();
    for (let i = 0; i < 1_100_000; i++) set.add(`${i};`);
    // 1.1 M keys: the table doubled to 2^22 slots (16 MiB), the arena took ~120 chunks.
    expect(set.heldBytes).toBeGreaterThan(16 * 1024 * 1024);
    expect(set.largestAllocationBytes).toBeLessThanOrEqual(Math.max(sqlLimits.hashSegmentSlots * 4, sqlLimits.keySetChunkChars * 2));
    for (const k of ["0;", "524287;", "1099999;"]) expect(set.has(k)).toBe(true);
    expect(set.has("1100000;")).toBe(false);
  });

  it("holds few bytes while small (a set per group of a GROUP BY)", () => {
    const set = check(["1;", "2;", "3;"]);
    expect(set.heldBytes).toBeLessThan(1024);
  });

  it("charges what it holds, about the keys' own bytes plus a small overhead per key", () => {
    const set = new KeySet();
    for (let i = 0; i < 200_000; i++) set.add(`${i};`);
    const perKey = set.heldBytes / set.size;
    // ~7 units of key (14 bytes), 2 of header, 8 of hash and ref, 8–16 of table slot at ≤ 1/2 load.
    expect(perKey).toBeGreaterThan(14);
    expect(perKey).toBeLessThan(64);
  });
});
