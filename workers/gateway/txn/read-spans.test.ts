import { describe, expect, it } from "vitest";
import { compactSpans } from "./read-spans.ts";

const b = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const point = (x: number) => ({ start: b(x), end: b(x, 0) });

describe("compactSpans", () => {
  it("drops point reads of written keys and merges touching spans", () => {
    const out = compactSpans([point(5), { start: b(1), end: b(3) }, { start: b(2), end: b(4) }, point(9)], [{ op: "put", key: b(5), value: b() }], 100);
    expect(out.map((s) => [Array.from(s.start), Array.from(s.end)])).toEqual([[[1], [4]], [[9], [9, 0]]]);
  });

  it("coarsens to at most the allowed number of spans, covering every original span", () => {
    const spans = Array.from({ length: 100 }, (_, i) => point(i * 2));
    const out = compactSpans(spans, [], 7);
    expect(out.length).toBeLessThanOrEqual(7);
    for (const s of spans) {
      expect(out.some((o) => o.start[0]! <= s.start[0]! && (o.end[0]! > s.start[0]! || (o.end[0] === s.start[0] && o.end.length > 1)))).toBe(true);
    }
  });
});
