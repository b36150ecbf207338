import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareDatums } from "./compare.ts";
import { TIMESTAMP_INFINITY, TIMESTAMP_NEG_INFINITY, interval, type Datum } from "./datum.ts";
import { parseJsonb } from "./json.ts";
import { Decimal, Numeric } from "./numeric.ts";
import { Types, arrayOf, type SqlType } from "./type.ts";
import { decodeRowValue, encodeRowValue, rowValueColumnIds, type ValueColumn } from "./value-encoding.ts";

const typed: Array<[SqlType, fc.Arbitrary<Datum>]> = [
  [Types.bool, fc.boolean()],
  [Types.int2, fc.integer({ min: -32768, max: 32767 })],
  [Types.int4, fc.integer()],
  [Types.int8, fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })],
  [Types.float8, fc.double()],
  [Types.float4, fc.float().map(Math.fround)],
  [Types.numeric, fc.tuple(fc.bigInt(), fc.integer({ min: 0, max: 6 })).map(([m, s]) => Numeric.of(new Decimal(m.toString()).div(new Decimal(10).pow(s)), s))],
  [Types.text, fc.string({ unit: "binary" })],
  [Types.bytea, fc.uint8Array()],
  [Types.uuid, fc.uuid()],
  [Types.date, fc.oneof(fc.integer({ min: -2_000_000, max: 2_000_000 }), fc.constantFrom(Infinity, -Infinity))],
  [Types.timestamptz, fc.oneof(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }), fc.constantFrom(TIMESTAMP_INFINITY, TIMESTAMP_NEG_INFINITY))],
  [Types.interval, fc.tuple(fc.integer(), fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(([m, d, u]) => interval(m, d, u))],
  [Types.jsonb, fc.json().map((j) => parseJsonb(j))],
  [arrayOf(Types.int4), fc.array(fc.option(fc.integer()))],
  [arrayOf(Types.text), fc.array(fc.option(fc.string()))],
];

const rowArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 12 })
  .chain((ids) => {
    const sorted = [...ids].sort((a, b) => a - b);
    return fc.tuple(
      ...sorted.map((id) =>
        fc.integer({ min: 0, max: typed.length - 1 }).chain((k) => {
          const [type, arb] = typed[k]!;
          return fc.option(arb, { freq: 4 }).map((v) => ({ col: { id, type } as ValueColumn, v: v as Datum }));
        }),
      ),
    );
  });

function sameDatum(a: Datum, b: Datum, t: SqlType): boolean {
  if (t.oid === Types.float8.oid || t.oid === Types.float4.oid) return Object.is(a, b);
  if (t.oid === Types.numeric.oid) return a === b || (a as Numeric).toString() === (b as Numeric).toString();
  return compareDatums(a, b, t) === 0;
}

describe("row value encoding", () => {
  it("round-trips every type, keeping -0, NaN and numeric scale", () => {
    fc.assert(
      fc.property(rowArb, (entries) => {
        const cols = entries.map((e) => e.col);
        const values = entries.map((e) => e.v);
        const back = decodeRowValue(encodeRowValue(cols, values), cols);
        back.forEach((v, i) => expect(sameDatum(v, values[i]!, cols[i]!.type)).toBe(true));
      }),
      { numRuns: 500 },
    );
  });

  it("writes strings in place with the shortest length prefix, at every prefix-size edge", () => {
    // In-place UTF-8 reserves a prefix for 3 bytes per UTF-16 unit and moves the text down when
    // the real length needs fewer prefix bytes: lengths around 127/128 and 16383/16384 bytes, ASCII
    // (moved) and three-byte text (not moved), each followed by a column that must still decode.
    const cols: ValueColumn[] = [
      { id: 1, type: Types.text },
      { id: 2, type: Types.int4 },
    ];
    const utf8 = new TextEncoder();
    for (const n of [0, 1, 42, 43, 127, 128, 129, 16383, 16384, 20000]) {
      for (const s of ["a".repeat(n), "€".repeat(Math.ceil(n / 3)), "é".repeat(n)]) {
        const bytes = encodeRowValue(cols, [s, -5]);
        expect(decodeRowValue(bytes, cols)).toEqual([s, -5]);
        const len = utf8.encode(s).length;
        const prefix = len < 128 ? 1 : len < 16384 ? 2 : 3;
        // header, prefix, text, header, zigzag(-5)
        expect(bytes.length).toBe(1 + prefix + len + 1 + 1);
      }
    }
  });

  it("omits NULLs and reads absent (added) columns as NULL, skips dropped ones", () => {
    const cols: ValueColumn[] = [
      { id: 1, type: Types.int4 },
      { id: 2, type: Types.text },
      { id: 3, type: Types.numeric },
      { id: 40, type: arrayOf(Types.text) },
    ];
    const row = encodeRowValue(cols, [7, null, Numeric.parse("1.50"), ["a", null]]);
    expect(rowValueColumnIds(row)).toEqual([1, 3, 40]);
    // Column 3 dropped, column 41 added later.
    const now: ValueColumn[] = [cols[0]!, cols[1]!, cols[3]!, { id: 41, type: Types.bool }];
    const back = decodeRowValue(row, now);
    expect(back[0]).toBe(7);
    expect(back[1]).toBe(null);
    expect(back[2]).toEqual(["a", null]);
    expect(back[3]).toBe(null);
  });

  it("is compact for small rows", () => {
    const cols: ValueColumn[] = [{ id: 1, type: Types.int4 }, { id: 2, type: Types.bool }, { id: 3, type: Types.text }];
    expect(encodeRowValue(cols, [5, true, "ab"]).length).toBe(2 + 1 + 4);
  });

  it("rejects corrupt bytes with XX001, never a crash", () => {
    const cols: ValueColumn[] = [{ id: 1, type: Types.text }];
    expect(() => decodeRowValue(Uint8Array.of((1 << 4) | 3, 10, 65), cols)).toThrow(expect.objectContaining({ code: "XX001" }));
    expect(() => decodeRowValue(Uint8Array.of((1 << 4) | 15), cols)).toThrow(expect.objectContaining({ code: "XX001" }));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        try {
          decodeRowValue(bytes, [{ id: 1, type: Types.int4 }, { id: 2, type: Types.text }]);
        } catch (e) {
          expect((e as { code?: string }).code).toBe("XX001");
        }
      }),
    );
  });
});
