// The session's parse cache at its bounds (sql/limits.ts): entries, text per entry, least recently used first out.
import { describe, expect, it } from "vitest";
import { sqlLimits } from "./limits.ts";
import { ParseCache } from "./parse-cache.ts";
import type { Parsed } from "./parsed-statement.ts";

const parse = async (): Promise<readonly Parsed[]> => [];

describe("ParseCache", () => {
  it("keeps parseCacheEntriesMax texts; one more evicts the least recently used", async () => {
    const c = new ParseCache();
    for (let i = 0; i < sqlLimits.parseCacheEntriesMax; i++) await c.get(`select ${i}`, parse);
    expect(c.size).toBe(sqlLimits.parseCacheEntriesMax);
    await c.get("select 0", parse); // used again: now the most recent
    await c.get("select new", parse);
    expect(c.size).toBe(sqlLimits.parseCacheEntriesMax);
    const hits = c.stats.hits;
    await c.get("select 0", parse);
    expect(c.stats.hits).toBe(hits + 1);
    const parses = c.stats.parses;
    await c.get("select 1", parse); // the least recently used one went
    expect(c.stats.parses).toBe(parses + 1);
  });

  it("keeps a text of parseCacheTextCharsMax characters, not one character more", async () => {
    const c = new ParseCache();
    const at = "x".repeat(sqlLimits.parseCacheTextCharsMax);
    await c.get(at, parse);
    await c.get(at, parse);
    expect(c.stats).toEqual({ parses: 1, hits: 1 });
    const over = at + "x";
    await c.get(over, parse);
    await c.get(over, parse);
    expect(c.stats).toEqual({ parses: 3, hits: 1 });
  });

  it("holds at most parseCacheTextCharsTotalMax characters of text", async () => {
    const c = new ParseCache();
    const n = Math.floor(sqlLimits.parseCacheTextCharsTotalMax / sqlLimits.parseCacheTextCharsMax);
    for (let i = 0; i < n + 1; i++) await c.get(String(i).padEnd(sqlLimits.parseCacheTextCharsMax, " "), parse);
    expect(c.size).toBe(n);
  });

  it("does not keep a text whose parse failed", async () => {
    const c = new ParseCache();
    const fail = async (): Promise<readonly Parsed[]> => {
      throw new Error("syntax");
    };
    await expect(c.get("selec", fail)).rejects.toThrow("syntax");
    await expect(c.get("selec", fail)).rejects.toThrow("syntax");
    expect(c.stats).toEqual({ parses: 2, hits: 0 });
  });
});
