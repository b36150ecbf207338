// The cleared-span index against a brute-force model: random nested and overlapping spans of a few
// tenants, random adds and removes, and every lookup (point, span, newer-than, visible pieces)
// compared with a linear scan over the same records.
import { describe, expect, it } from "vitest";
import { compareBytes } from "../../common/bytes.ts";
import { ClearedSpans, type ClearRecord } from "./cleared-spans.ts";

/** A tiny seeded generator (mulberry32), so a failure replays. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Keys of 1-3 bytes over a small alphabet, so spans nest, touch and overlap often. */
function key(r: () => number): Uint8Array {
  const n = 1 + Math.floor(r() * 3);
  return Uint8Array.from({ length: n }, () => Math.floor(r() * 6) * 40);
}

const overlaps = (r: ClearRecord, start: Uint8Array, end: Uint8Array | null): boolean =>
  end === null ? compareBytes(r.start, start) <= 0 && compareBytes(start, r.end) < 0 : compareBytes(r.start, end) < 0 && compareBytes(r.end, start) > 0;

/** The model's visible pieces: walk every boundary and keep the gaps no hole covers. */
function modelVisible(records: ClearRecord[], tenantId: number, start: Uint8Array, end: Uint8Array, readTs: bigint): boolean[] {
  // Sample points: every record boundary and the span's own bounds, sorted; a point is visible
  // when it is in [start, end) and no hole (cleared at or below readTs) covers it.
  const holes = records.filter((r) => r.tenantId === tenantId && r.clearTs <= readTs && overlaps(r, start, end));
  const points = [start, ...holes.flatMap((h) => [h.start, h.end])].filter((p) => compareBytes(p, start) >= 0 && compareBytes(p, end) < 0);
  return points.map((p) => !holes.some((h) => overlaps(h, p, null)));
}

function visibleByPieces(pieces: Array<{ start: Uint8Array; end: Uint8Array }> | null, records: ClearRecord[], tenantId: number, start: Uint8Array, end: Uint8Array, readTs: bigint): boolean[] {
  const holes = records.filter((r) => r.tenantId === tenantId && r.clearTs <= readTs && overlaps(r, start, end));
  const points = [start, ...holes.flatMap((h) => [h.start, h.end])].filter((p) => compareBytes(p, start) >= 0 && compareBytes(p, end) < 0);
  const ps = pieces ?? [{ start, end }];
  return points.map((p) => ps.some((x) => compareBytes(x.start, p) <= 0 && compareBytes(p, x.end) < 0));
}

describe("ClearedSpans", () => {
  it("answers every lookup as a linear scan over the same records would (seeded, 3 tenants)", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed);
      const index = new ClearedSpans();
      const model: ClearRecord[] = [];
      for (let step = 0; step < 400; step++) {
        const tenantId = 1 + Math.floor(r() * 3);
        if (r() < 0.7 || model.length === 0) {
          let s = key(r);
          let e = key(r);
          if (compareBytes(s, e) > 0) [s, e] = [e, s];
          if (compareBytes(s, e) === 0) e = Uint8Array.of(...s, 0);
          const rec: ClearRecord = { tenantId, start: s, end: e, clearTs: BigInt(step + 1), done: false };
          index.add(rec);
          model.push(rec);
        } else {
          const victim = model.splice(Math.floor(r() * model.length), 1)[0]!;
          expect(index.remove(victim)).toBe(victim);
        }
        expect(index.size).toBe(model.length);
        expect(index.count(tenantId)).toBe(model.filter((m) => m.tenantId === tenantId).length);
        // Lookups.
        let qs = key(r);
        let qe = key(r);
        if (compareBytes(qs, qe) > 0) [qs, qe] = [qe, qs];
        const readTs = BigInt(Math.floor(r() * (step + 2)));
        const mine = model.filter((m) => m.tenantId === tenantId);
        expect(index.first(tenantId, qs, null) !== null).toBe(mine.some((m) => overlaps(m, qs, null)));
        expect(index.first(tenantId, qs, qe) !== null).toBe(compareBytes(qs, qe) < 0 && mine.some((m) => overlaps(m, qs, qe)));
        const newer = index.first(tenantId, qs, qe, (x) => x.clearTs > readTs);
        expect(newer !== null).toBe(compareBytes(qs, qe) < 0 && mine.some((m) => m.clearTs > readTs && overlaps(m, qs, qe)));
        if (newer !== null) expect(newer.clearTs > readTs && overlaps(newer, qs, qe)).toBe(true);
        if (compareBytes(qs, qe) < 0) {
          const pieces = index.visiblePieces(tenantId, qs, qe, readTs);
          expect(visibleByPieces(pieces, model, tenantId, qs, qe, readTs)).toEqual(modelVisible(model, tenantId, qs, qe, readTs));
          for (const p of pieces ?? []) {
            expect(compareBytes(p.start, p.end)).toBeLessThan(0);
            expect(compareBytes(p.start, qs)).toBeGreaterThanOrEqual(0);
            expect(compareBytes(p.end, qe)).toBeLessThanOrEqual(0);
          }
        }
      }
    }
  });

  it("keeps tenants apart: a record of one tenant never matches another's keys", () => {
    const index = new ClearedSpans();
    index.add({ tenantId: 7, start: Uint8Array.of(0), end: Uint8Array.of(255), clearTs: 5n, done: false });
    expect(index.first(8, Uint8Array.of(10), null)).toBeNull();
    expect(index.first(7, Uint8Array.of(10), null)?.clearTs).toBe(5n);
    expect(index.visiblePieces(8, Uint8Array.of(1), Uint8Array.of(2), 10n)).toBeNull();
    expect(index.visiblePieces(7, Uint8Array.of(1), Uint8Array.of(2), 10n)).toEqual([]);
    expect(index.visiblePieces(7, Uint8Array.of(1), Uint8Array.of(2), 4n)).toBeNull();
  });
});
