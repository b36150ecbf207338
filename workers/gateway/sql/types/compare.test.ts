import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compareDatums, datumsEqual, hashKey, rowHashKey } from "./compare.ts";
import { interval, type Datum } from "./datum.ts";
import { parseJsonb } from "./json.ts";
import { Decimal, Numeric } from "./numeric.ts";
import { Types, arrayOf, type SqlType } from "./type.ts";

const numerics = fc.oneof(
  fc.constantFrom(Numeric.NaN, Numeric.Infinity, Numeric.NegativeInfinity),
  fc.tuple(fc.integer({ min: -50, max: 50 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map(([m, s, extra]) =>
    Numeric.of(new Decimal(m).div(new Decimal(10).pow(s)), s + extra),
  ),
);

const cases: Array<[string, SqlType, fc.Arbitrary<Datum>]> = [
  ["float8 with -0 and NaN", Types.float8, fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1, -1, 0.5)],
  ["numeric with scales", Types.numeric, numerics],
  ["bpchar with padding", Types.bpchar, fc.constantFrom("a", "a ", "a  ", "", " ", "b")],
  ["interval spans", Types.interval, fc.tuple(fc.integer({ min: -2, max: 2 }), fc.integer({ min: -60, max: 60 }), fc.constantFrom(0n, 86_400_000_000n, -3_600_000_000n)).map(([m, d, u]) => interval(m, d, u))],
  ["jsonb with numeric scales", Types.jsonb, fc.constantFrom('{"a": 1}', '{"a": 1.0}', "[1, 2]", "[1.00, 2]", "null", '"x"', "[]", "{}", "true").map(parseJsonb)],
  ["int4[] with NULLs", arrayOf(Types.int4), fc.array(fc.option(fc.integer({ min: 0, max: 2 })), { maxLength: 3 })],
  ["text", Types.text, fc.string({ maxLength: 3 })],
  ["text outside the BMP", Types.text, fc.constantFrom("\u{1F600}", "\uFF71", "\uE000", "\u{10000}", "a", "")],
  ["date with infinities", Types.date, fc.constantFrom(-Infinity, Infinity, 0, 1, -1)],
  ["float8[]", arrayOf(Types.float8), fc.array(fc.constantFrom(0, -0, NaN, Infinity, -Infinity, null), { maxLength: 2 })],
];

describe("compareDatums and hashKey", () => {
  for (const [name, t, arb] of cases) {
    it(`${name}: hashKey equal ⇔ compare = 0; order is antisymmetric`, () => {
      fc.assert(
        fc.property(arb, arb, (a, b) => {
          const c = compareDatums(a, b, t);
          expect(hashKey(a, t) === hashKey(b, t)).toBe(c === 0);
          expect(rowHashKey([a, 1], [t, Types.int4]) === rowHashKey([b, 1], [t, Types.int4])).toBe(c === 0);
          expect(Math.sign(compareDatums(b, a, t))).toBe(c === 0 ? 0 : -Math.sign(c));
        }),
        { numRuns: 500 },
      );
    });
  }

  it("orders as Postgres does", () => {
    expect(compareDatums(NaN, Infinity, Types.float8)).toBeGreaterThan(0);
    expect(compareDatums(-0, 0, Types.float8)).toBe(0);
    expect(compareDatums("B", "a", Types.text)).toBeLessThan(0); // collation "C"
    expect(compareDatums("a", "a  ", Types.bpchar)).toBe(0);
    expect(compareDatums(interval(1, 0, 0n), interval(0, 30, 0n), Types.interval)).toBe(0);
    expect(compareDatums(parseJsonb("[]"), parseJsonb("null"), Types.jsonb)).toBeLessThan(0);
    expect(compareDatums(null, 1, Types.int4)).toBeGreaterThan(0); // NULLs last
    expect(compareDatums([1, null], [1, 2], arrayOf(Types.int4))).toBeGreaterThan(0);
    expect(compareDatums("\u{1F600}", "\uFFFF", Types.text)).toBeGreaterThan(0); // code point, not UTF-16
  });

  it("hashes rows and refuses json equality like Postgres", () => {
    expect(rowHashKey([1, Numeric.parse("1.50")], [Types.int4, Types.numeric])).toBe(rowHashKey([1, Numeric.parse("1.5")], [Types.int4, Types.numeric]));
    expect(() => datumsEqual("{}", "{}", Types.json)).toThrow(expect.objectContaining({ code: "42883" }));
  });
});
