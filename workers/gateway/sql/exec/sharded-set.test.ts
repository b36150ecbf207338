import { describe, expect, it } from "vitest";
import { ShardedStringSet } from "./sharded-set.ts";

describe("ShardedStringSet", () => {
  it("is a set: add answers whether the string was new, has and size agree with a plain Set", () => {
    const sharded = new ShardedStringSet();
    const plain = new Set<string>();
    const long = "x".repeat(1000);
    const inputs = ["", "a", "b", "a", "", long, long + "y", long, "\u{1F600}", "\uD83D", ...Array.from({ length: 5000 }, (_, i) => `k${i % 3000}`)];
    for (const s of inputs) {
      expect(sharded.add(s)).toBe(!plain.has(s));
      plain.add(s);
      expect(sharded.size).toBe(plain.size);
    }
    for (const s of [...plain, "absent", long + "z"]) expect(sharded.has(s)).toBe(plain.has(s));
  });
});
