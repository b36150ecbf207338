// Binary send/receive per type against PostgreSQL 15's own bytes: each expected value below is
// what `SELECT <type>send(<value>)` printed on a PG 15.18 server (TimeZone UTC). Both directions
// are checked: text → bytes is Postgres's typsend, bytes → text must read back the same value.
import { describe, expect, it } from "vitest";
import { Oid } from "../sql/types/type.ts";
import { binaryParamToText, hasBinaryResult, textToBinaryResult } from "./binary.ts";

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString("hex");
}

function bytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, "hex"));
}

// [type OID, Warren's text for the value, PG 15's send bytes, text read back (when it differs)]
const CASES: Array<[number, string, string, string?]> = [
  [Oid.bool, "t", "01"],
  [Oid.time, "13:45:07.25", "0000000b86dcaf50"],
  [Oid.timetz, "01:02:03-03:30", "00000000dde878c000003138"],
  [Oid.timetz, "23:59:59.999999+05:45:30", "000000141dd75fffffffaf06"],
  [Oid.int2, "-2", "fffe"],
  [Oid.int4, "123456", "0001e240"],
  [Oid.int8, "-9223372036854775808", "8000000000000000"],
  [Oid.oid, "4294967295", "ffffffff"],
  [Oid.float4, "-0.1", "bdcccccd", "-0.10000000149011612"],
  [Oid.float8, "1e-300", "01a56e1fc2f8f359"],
  [Oid.numeric, "123456789.000100", "0004000200000006000109291a850001"],
  [Oid.numeric, "-0.00012", "0002ffff40000005000107d0"],
  [Oid.numeric, "Infinity", "00000000d0000020"],
  [Oid.numeric, "-Infinity", "00000000f0000020"],
  [Oid.numeric, "NaN", "00000000c0000000"],
  [Oid.numeric, "0.000", "0000000000000003"],
  [Oid.text, "héllo", "68c3a96c6c6f"],
  [Oid.bytea, "\\x00ff", "00ff"],
  [Oid.uuid, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc999c0b4ef8bb6d6bb9bd380a11"],
  [Oid.date, "0044-03-15 BC", "fff49d7b"],
  [Oid.date, "infinity", "7fffffff"],
  [Oid.timestamp, "1999-12-31 23:59:59.999999", "ffffffffffffffff"],
  [Oid.timestamptz, "2024-01-02 01:04:05+00", "0002b0ead7eeab40"],
  [Oid.interval, "1 year 2 mons -3 days +04:05:06.7", "000000036c966ee0fffffffd0000000e"],
  [Oid.jsonb, '{"a": [true, null], "b": 1}', "017b2261223a205b747275652c206e756c6c5d2c202262223a20317d"],
  [Oid.json, '{"b": 1}', "7b2262223a20317d"],
  [1007, "{1,NULL,3}", "00000001000000010000001700000003000000010000000400000001ffffffff0000000400000003"],
  [1009, '{"a b",""}', "00000001000000000000001900000002000000010000000361206200000000"],
  [1007, "{}", "000000000000000000000017"],
  [Oid.char, "x", "78"],
  [Oid.bpchar, "ab  ", "61622020"],
];

describe("binary send and receive, against PostgreSQL 15's bytes", () => {
  for (const [oid, text, want, back] of CASES) {
    it(`${oid} ${JSON.stringify(text)}`, () => {
      expect(hasBinaryResult(oid)).toBe(true);
      expect(hex(textToBinaryResult(oid, text))).toBe(want);
      expect(binaryParamToText(oid, bytes(want))).toBe(back ?? text);
    });
  }
});

describe("binary receive errors are Postgres's", () => {
  it("a value shorter than its type is 08P01, a longer one 22P03", () => {
    expect(() => binaryParamToText(Oid.int4, bytes("000001"))).toThrow(expect.objectContaining({ code: "08P01", message: "insufficient data left in message" }));
    expect(() => binaryParamToText(Oid.int4, bytes("0000000001"))).toThrow(expect.objectContaining({ code: "22P03", message: "incorrect binary data format" }));
  });

  it("text that is not UTF-8 is 22021 naming the bytes", () => {
    expect(() => binaryParamToText(Oid.text, bytes("61c328"))).toThrow(expect.objectContaining({ code: "22021", message: 'invalid byte sequence for encoding "UTF8": 0xc3 0x28' }));
  });

  it("an array of another element type is 42804; more than one dimension is refused", () => {
    const textArray = "00000001000000000000001900000001000000010000000178";
    expect(() => binaryParamToText(1007, bytes(textArray))).toThrow(expect.objectContaining({ code: "42804" }));
    expect(() => binaryParamToText(1007, bytes("00000002000000000000001700000001000000010000000100000001"))).toThrow(expect.objectContaining({ code: "0A000" }));
    expect(() => binaryParamToText(1007, bytes("00000007000000000000001700000001000000010000000100000001"))).toThrow(expect.objectContaining({ code: "22P03" }));
  });

  it("a numeric with a bad sign or digit is 22P03", () => {
    expect(() => binaryParamToText(Oid.numeric, bytes("0001000012340000000a"))).toThrow(expect.objectContaining({ code: "22P03" }));
    expect(() => binaryParamToText(Oid.numeric, bytes("00010000000000002710"))).toThrow(expect.objectContaining({ code: "22P03" }));
  });

  it("types without a binary form are refused with 0A000", () => {
    expect(hasBinaryResult(Oid.regclass)).toBe(false);
    expect(() => textToBinaryResult(Oid.regclass, "pg_class")).toThrow(expect.objectContaining({ code: "0A000" }));
  });
});
