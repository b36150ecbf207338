import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DATE_DAYS_MAX, DATE_DAYS_MIN, TIMESTAMP_MICROS_MAX, TIMESTAMP_MICROS_MIN } from "../types/calendar.ts";
import { compareBytes } from "../../../../common/bytes.ts";
import { compareDatums } from "../types/compare.ts";
import { TIMESTAMP_INFINITY, TIMESTAMP_NEG_INFINITY, interval, type Datum } from "../types/datum.ts";
import { Decimal, Numeric } from "../types/numeric.ts";
import { Types, typeFromName, type SqlType } from "../types/type.ts";
import { decodeKeyDatum, decodeKeyTuple, encodeKeyDatum, encodeKeyTuple } from "./datum-key.ts";
import { KeyWriter } from "../../keys/encoding.ts";

const numericArb: fc.Arbitrary<Numeric> = fc.oneof(
  fc.constantFrom(Numeric.NaN, Numeric.Infinity, Numeric.NegativeInfinity, Numeric.Zero),
  fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: -40, max: 40 })).map(([m, e]) =>
    Numeric.fromDecimal(new Decimal(m.toString()).times(new Decimal(10).pow(e))),
  ),
  fc.tuple(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 3 })).map(([m, s]) =>
    Numeric.of(new Decimal(m).div(new Decimal(10).pow(s)), s + 1),
  ),
);

const withNulls = <T extends Datum>(a: fc.Arbitrary<T>): fc.Arbitrary<Datum> => fc.option(a, { freq: 8 }) as fc.Arbitrary<Datum>;

const cases: Array<[string, SqlType, fc.Arbitrary<Datum>]> = [
  ["bool", Types.bool, withNulls(fc.boolean())],
  ["int2", Types.int2, withNulls(fc.integer({ min: -32768, max: 32767 }))],
  ["int4", Types.int4, withNulls(fc.oneof(fc.integer(), fc.integer({ min: -200, max: 200 })))],
  ["int8", Types.int8, withNulls(fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.bigInt({ min: -300n, max: 300n })))],
  ["oid", Types.oid, withNulls(fc.integer({ min: 0, max: 4294967295 }))],
  ["float8", Types.float8, withNulls(fc.double())],
  ["float4", Types.float4, withNulls(fc.float().map(Math.fround))],
  ["numeric", Types.numeric, withNulls(numericArb)],
  ["text", Types.text, withNulls(fc.string({ unit: "binary" }))],
  ["text with NULs", Types.text, withNulls(fc.string({ unit: fc.constantFrom("\u0000", "\u0001", "a", "\u00ff", "\uffff") }))],
  ["varchar", Types.varchar, withNulls(fc.string())],
  ["bpchar", Types.bpchar, withNulls(fc.string({ unit: fc.constantFrom(" ", "a", "b") }))],
  ["bytea", Types.bytea, withNulls(fc.uint8Array())],
  ["bytea 0/255", Types.bytea, withNulls(fc.uint8Array({ min: 0, max: 255 }).map((a) => a.map((x) => (x & 1 ? 0 : 255))))],
  ["uuid", Types.uuid, withNulls(fc.uuid())],
  ["date", Types.date, withNulls(fc.oneof(fc.integer({ min: DATE_DAYS_MIN, max: DATE_DAYS_MAX }), fc.constantFrom(Infinity, -Infinity)))],
  ["timestamp", Types.timestamp, withNulls(fc.oneof(fc.bigInt({ min: TIMESTAMP_MICROS_MIN, max: TIMESTAMP_MICROS_MAX }), fc.constantFrom(TIMESTAMP_INFINITY, TIMESTAMP_NEG_INFINITY)))],
  ["timestamptz", Types.timestamptz, withNulls(fc.bigInt({ min: TIMESTAMP_MICROS_MIN, max: TIMESTAMP_MICROS_MAX }))],
  ["interval", Types.interval, withNulls(fc.tuple(fc.integer(), fc.integer(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(([m, d, us]) => interval(m, d, us)))],
];

function encode(d: Datum, t: SqlType, dir: "asc" | "desc"): Uint8Array {
  const w = new KeyWriter(4);
  encodeKeyDatum(w, d, t, dir);
  return w.finish();
}

const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);

describe("key encoding preserves order and round-trips", () => {
  for (const [name, t, arb] of cases) {
    it(`${name}: byte order = compareDatums order, both directions`, () => {
      fc.assert(
        fc.property(arb, arb, (a, b) => {
          const c = sign(compareDatums(a, b, t));
          expect(sign(compareBytes(encode(a, t, "asc"), encode(b, t, "asc")))).toBe(c);
          expect(sign(compareBytes(encode(a, t, "desc"), encode(b, t, "desc")))).toBe(c === 0 ? 0 : -c);
        }),
        { numRuns: 400 },
      );
    });

    it(`${name}: decode(encode(x)) = x and returns the rest`, () => {
      fc.assert(
        fc.property(arb, (a) => {
          for (const dir of ["asc", "desc"] as const) {
            const bytes = encode(a, t, dir);
            const tail = Uint8Array.of(0xfe, 0x00, 0x42);
            const joined = new Uint8Array(bytes.length + tail.length);
            joined.set(bytes);
            joined.set(tail, bytes.length);
            const [back, rest] = decodeKeyDatum(joined, t, dir);
            expect(compareDatums(back, a, t)).toBe(0);
            expect(Array.from(rest)).toEqual(Array.from(tail));
          }
        }),
        { numRuns: 300 },
      );
    });
  }

  it("puts NULL last ascending and first descending (Postgres's defaults)", () => {
    expect(compareBytes(encode(null, Types.int4, "asc"), encode(2147483647, Types.int4, "asc"))).toBeGreaterThan(0);
    expect(compareBytes(encode(null, Types.int4, "desc"), encode(-2147483648, Types.int4, "desc"))).toBeLessThan(0);
    expect(compareBytes(encode(null, Types.text, "asc"), encode("\u{10ffff}", Types.text, "asc"))).toBeGreaterThan(0);
    expect(compareBytes(encode(null, Types.float8, "asc"), encode(NaN, Types.float8, "asc"))).toBeGreaterThan(0);
    expect(compareBytes(encode(null, Types.numeric, "asc"), encode(Numeric.NaN, Types.numeric, "asc"))).toBeGreaterThan(0);
  });

  it("keeps exact values where the type allows", () => {
    for (const v of [0, 1, -1, 109, 110, -32768, 2147483647]) expect(decodeKeyDatum(encode(v, Types.int4, "asc"), Types.int4)[0]).toBe(v);
    expect(decodeKeyDatum(encode(-0, Types.float8, "asc"), Types.float8)[0]).toBe(0);
    const n12 = typeFromName("numeric", [10, 2]);
    expect((decodeKeyDatum(encode(Numeric.parse("1.5"), n12, "desc"), n12, "desc")[0] as Numeric).toString()).toBe("1.50");
    const c5 = typeFromName("char", [5]);
    expect(decodeKeyDatum(encode("ab   ", c5, "asc"), c5)[0]).toBe("ab   ");
  });

  it("orders composite keys lexicographically", () => {
    const types = [Types.int4, Types.text, Types.float8];
    const dirs = ["asc", "desc", "asc"] as const;
    const row = fc.tuple(withNulls(fc.integer({ min: -3, max: 3 })), withNulls(fc.constantFrom("", "a", "ab", "b")), withNulls(fc.double()));
    fc.assert(
      fc.property(row, row, (a, b) => {
        let expected = 0;
        for (let i = 0; i < 3 && expected === 0; i++) {
          const c = sign(compareDatums(a[i]!, b[i]!, types[i]!));
          expected = dirs[i] === "desc" && c !== 0 ? -c : c;
        }
        const ea = encodeKeyTuple(a, types, dirs);
        const eb = encodeKeyTuple(b, types, dirs);
        expect(sign(compareBytes(ea, eb))).toBe(expected);
        const [back, rest] = decodeKeyTuple(ea, types, dirs);
        expect(rest.length).toBe(0);
        back.forEach((v, i) => expect(compareDatums(v, a[i]!, types[i]!)).toBe(0));
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses types without a key encoding", () => {
    expect(() => encode(Numeric.Zero as never, Types.jsonb, "asc")).toThrow(expect.objectContaining({ code: "0A000" }));
  });
});
