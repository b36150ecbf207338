// mvccScan / mvccGet / spanWrittenAfter against a plain in-memory model of the same versions, on a
// real LMDB engine: random keys (with 0x00 and 0xFF bytes, prefixes of each other), several
// versions per key with timestamps that differ in the high and the low 32 bits, tombstones, random
// read timestamps, forward and reverse pages of random sizes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { latestVersions, mvccGet, mvccScan, readVersion, spanWrittenAfter, tsBound, visibleAt } from "./read.ts";
import { compareBytes } from "../../common/bytes.ts";
import { encodeVersionValue, keySuccessor, TS_MAX, versionKey } from "./version-key.ts";

const hex = (b: Uint8Array | null | undefined): string | null => (b == null ? null : Buffer.from(b).toString("hex"));

// A small deterministic PRNG so a failure reproduces.
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Version {
  ts: bigint;
  value: Uint8Array | null;
}

describe("mvcc reads", () => {
  let dir: string;
  let engine: LmdbEngine;
  const model = new Map<string, { key: Uint8Array; versions: Version[] }>();
  const rnd = prng(7);
  const alphabet = [0x00, 0x01, 0xff, 0x74, 0x61];
  // Timestamps around a 2^32 boundary so both halves of the comparison are exercised.
  const BASE = (1n << 32n) - 40n;
  const stamps = Array.from({ length: 30 }, (_, i) => BASE + BigInt(i * 3));

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "warren-mvcc-read-"));
    engine = new LmdbEngine({ path: dir, noSync: true });
    for (let i = 0; i < 300; i++) {
      const len = 1 + Math.floor(rnd() * 4);
      const key = new Uint8Array(1 + len);
      key[0] = 0x74;
      for (let j = 1; j <= len; j++) key[j] = alphabet[Math.floor(rnd() * alphabet.length)]!;
      const id = hex(key)!;
      const entry = model.get(id) ?? { key, versions: [] };
      model.set(id, entry);
      const ts = stamps[Math.floor(rnd() * stamps.length)]!;
      if (entry.versions.some((v) => v.ts === ts)) continue;
      const value = rnd() < 0.2 ? null : new Uint8Array([i & 0xff, 0x00, 0xff]);
      entry.versions.push({ ts, value });
    }
    engine.writeSync((w) => {
      for (const { key, versions } of model.values()) for (const v of versions) w.put(versionKey(key, v.ts), encodeVersionValue(v.value));
    });
    engine.refresh();
  });

  afterAll(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const visible = (readTs: bigint): Array<{ key: Uint8Array; value: Uint8Array }> => {
    const out: Array<{ key: Uint8Array; value: Uint8Array }> = [];
    for (const { key, versions } of model.values()) {
      let best: Version | undefined;
      for (const v of versions) if (v.ts <= readTs && (!best || v.ts > best.ts)) best = v;
      if (best && best.value) out.push({ key, value: best.value });
    }
    return out.sort((a, b) => compareBytes(a.key, b.key));
  };

  it("compares timestamps across the 32-bit halves like BigInt does", () => {
    for (const readTs of [0n, BASE - 1n, BASE, BASE + 1n, (1n << 32n) - 1n, 1n << 32n, (1n << 32n) + 1n, TS_MAX - 1n, TS_MAX]) {
      const bound = tsBound(readTs);
      for (const ts of [0n, 1n, BASE, (1n << 32n) - 1n, 1n << 32n, (1n << 32n) + 5n, TS_MAX - 1n]) {
        expect(visibleAt(versionKey(new Uint8Array([0x74]), ts), bound)).toBe(ts <= readTs);
      }
    }
  });

  it("gets and scans (forward, reverse, paged) return exactly the model's visible rows", () => {
    const keys = [...model.values()].map((e) => e.key).sort(compareBytes);
    for (let round = 0; round < 60; round++) {
      const readTs = round === 0 ? TS_MAX : stamps[Math.floor(rnd() * stamps.length)]! + BigInt(Math.floor(rnd() * 3) - 1);
      const want = visible(readTs);
      for (const key of keys) {
        const w = want.find((r) => compareBytes(r.key, key) === 0);
        expect(hex(mvccGet(engine, key, readTs))).toBe(hex(w?.value));
      }
      const a = keys[Math.floor(rnd() * keys.length)]!;
      const b = keys[Math.floor(rnd() * keys.length)]!;
      const [start, end] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
      const inSpan = want.filter((r) => compareBytes(r.key, start) >= 0 && compareBytes(r.key, end) < 0);
      const pageRows = 1 + Math.floor(rnd() * 7);
      for (const reverse of [false, true]) {
        const got: Array<{ key: Uint8Array; value: Uint8Array }> = [];
        let s = start;
        let e = end;
        for (let pages = 0; pages < 1000; pages++) {
          const page = mvccScan(engine, readTs, { start: s, end: e, reverse, maxRows: pageRows, maxBytes: Number.MAX_SAFE_INTEGER });
          got.push(...page.rows);
          if (page.resumeKey === null) break;
          if (reverse) e = page.resumeKey;
          else s = page.resumeKey;
        }
        const expected = reverse ? [...inSpan].reverse() : inSpan;
        expect(got.map((r) => [hex(r.key), hex(r.value)])).toEqual(expected.map((r) => [hex(r.key), hex(r.value)]));
      }
    }
  });

  it("spanWrittenAfter finds a version above the timestamp in a span, and only then", () => {
    const keys = [...model.values()].map((e) => e.key).sort(compareBytes);
    for (let round = 0; round < 200; round++) {
      const ts = stamps[Math.floor(rnd() * stamps.length)]!;
      const a = keys[Math.floor(rnd() * keys.length)]!;
      const b = rnd() < 0.3 ? keySuccessor(a) : keys[Math.floor(rnd() * keys.length)]!;
      const [start, end] = compareBytes(a, b) <= 0 ? [a, b] : [b, a];
      const newer = [...model.values()].filter(
        (e) => compareBytes(e.key, start) >= 0 && compareBytes(e.key, end) < 0 && e.versions.some((v) => v.ts > ts),
      );
      const hit = spanWrittenAfter(engine, start, end, ts);
      if (newer.length === 0) expect(hit).toBeNull();
      else expect(newer.map((e) => hex(e.key))).toContain(hex(hit));
    }
  });

  it("spanWrittenAfter reads one version per key however long a key's history is", () => {
    const hot = new Uint8Array([0x74, 0x68, 0x00, 0x6f, 0x74]);
    const cold = new Uint8Array([0x74, 0x68, 0x00, 0x70]);
    engine.writeSync((w) => {
      for (let i = 1; i <= 2000; i++) w.put(versionKey(hot, BigInt(i)), encodeVersionValue(new Uint8Array([i & 0xff])));
      w.put(versionKey(cold, 5n), encodeVersionValue(new Uint8Array([1])));
    });
    engine.refresh();
    let entries = 0;
    const counting = {
      get: (k: Uint8Array) => engine.get(k),
      range: (o: Parameters<typeof engine.range>[0]) => {
        const inner = engine.range(o);
        return {
          *[Symbol.iterator]() {
            for (const e of inner) {
              entries++;
              yield e;
            }
          },
        };
      },
    };
    const start = new Uint8Array([0x74, 0x68]);
    const end = new Uint8Array([0x74, 0x69]);
    // Nothing above 2000: both keys judged by their newest version, the hot key's history skipped.
    expect(spanWrittenAfter(counting, start, end, 2000n)).toBeNull();
    expect(entries).toBeLessThanOrEqual(4);
    entries = 0;
    expect(hex(spanWrittenAfter(counting, start, end, 1999n))).toBe(hex(hot));
    expect(entries).toBe(1);
    entries = 0;
    expect(hex(spanWrittenAfter(counting, cold, keySuccessor(cold), 4n))).toBe(hex(cold));
    expect(spanWrittenAfter(counting, cold, keySuccessor(cold), 5n)).toBeNull();
    expect(spanWrittenAfter(counting, hot, keySuccessor(hot), 2000n)).toBeNull();
    expect(entries).toBeLessThanOrEqual(5);
  });
  it("latestVersions answers as readVersion at TS_MAX does, key by key, whatever the set of keys", () => {
    const keys = [...model.values()].map((e) => e.key);
    // Absent keys too: extensions and successors of stored ones, and a key with a long history.
    const asked = [...keys, ...keys.slice(0, 40).map(keySuccessor), new Uint8Array([0x74, 0x68, 0x00, 0x6f, 0x74]), new Uint8Array([0x74, 0xff, 0xff])];
    const say = (v: ReturnType<typeof readVersion>) => (v === undefined ? "none" : `${v.ts}:${hex(v.value)}`);
    for (let round = 0; round < 80; round++) {
      // From a handful (one seek per key) to hundreds (the merged walk), sparse or dense,
      // repeats allowed; a sparse set over many stored keys runs past the walk's visit bound.
      const size = 1 + Math.floor(rnd() * (round % 4 === 0 ? 8 : 300));
      const set = Array.from({ length: size }, () => asked[Math.floor(rnd() * asked.length)]!);
      const got = latestVersions(engine, set);
      expect(got.map(say)).toEqual(set.map((k) => say(readVersion(engine, k, TS_MAX))));
    }
  });
  it("latestVersions seeks once per cluster of asked keys and reads a bounded number of entries per key", () => {
    // 400 keys in a dense run, each with one version, and one key with 2,000 versions among them.
    const dense = Array.from({ length: 400 }, (_, i) => new Uint8Array([0x74, 0x71, 0x00, i >> 8, i & 0xff]));
    const hot = dense[200]!;
    engine.writeSync((w) => {
      for (const k of dense) w.put(versionKey(k, 7n), encodeVersionValue(new Uint8Array([k[4]!])));
      for (let i = 10; i < 2010; i++) w.put(versionKey(hot, BigInt(i)), encodeVersionValue(new Uint8Array([1])));
    });
    engine.refresh();
    let entries = 0;
    let ranges = 0;
    const counting = {
      get: (k: Uint8Array) => engine.get(k),
      range: (o: Parameters<typeof engine.range>[0]) => {
        ranges++;
        const inner = engine.range(o);
        return {
          *[Symbol.iterator]() {
            for (const e of inner) {
              entries++;
              yield e;
            }
          },
        };
      },
    };
    const say = (v: ReturnType<typeof readVersion>) => (v === undefined ? "none" : `${v.ts}:${hex(v.value)}`);
    // The whole run: one range, then one more past the hot key's history.
    expect(latestVersions(counting, dense).map(say)).toEqual(dense.map((k) => say(readVersion(engine, k, TS_MAX))));
    expect(ranges).toBeLessThanOrEqual(2);
    expect(entries).toBeLessThanOrEqual(400 + 2 * 40);
    // Every 20th key: the walk reads past 19 unasked keys between two asked ones, within its
    // slack; only the hot key's history (not asked here) makes it seek again.
    entries = 0;
    ranges = 0;
    const sparse = dense.filter((_, i) => i % 20 === 0 && i !== 200);
    expect(latestVersions(counting, sparse).map(say)).toEqual(sparse.map((k) => say(readVersion(engine, k, TS_MAX))));
    expect(ranges).toBe(2);
    expect(entries).toBeLessThanOrEqual(20 * sparse.length + 40);
    // Every 50th key: farther apart than the slack, so a seek per key, and never a long walk.
    entries = 0;
    ranges = 0;
    const far = [...dense.filter((_, i) => i % 50 === 0 && i !== 200), ...dense.slice(0, 10)];
    expect(latestVersions(counting, far).map(say)).toEqual(far.map((k) => say(readVersion(engine, k, TS_MAX))));
    expect(ranges).toBeLessThanOrEqual(far.length);
    expect(entries).toBeLessThanOrEqual(far.length * 34);
  });
});
