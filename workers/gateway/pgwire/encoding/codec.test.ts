// The codec's errors and edges; the tables themselves are checked against PostgreSQL 15 in
// test/clients/encodings.test.ts. Every message below is PostgreSQL 15.18's for the same input
// (convert_from / convert_to, and psql with PGCLIENTENCODING set).
import { describe, expect, it } from "vitest";
import { SINGLE_BYTE_ENCODINGS } from "../../sql/client-encoding.ts";
import { textCodec } from "./codec.ts";

function failure(f: () => unknown): { code: string; message: string } {
  try {
    f();
  } catch (err) {
    const e = err as { code: string; message: string };
    return { code: e.code, message: e.message };
  }
  throw new Error("no error");
}

describe("single-byte codecs", () => {
  it("UTF8 and SQL_ASCII need none (the bytes are UTF-8 as they are)", () => {
    expect(textCodec("UTF8")).toBeNull();
    expect(textCodec("SQL_ASCII")).toBeNull();
  });

  it("every encoding is ASCII in its lower half and round-trips every byte it maps", () => {
    for (const name of SINGLE_BYTE_ENCODINGS) {
      const codec = textCodec(name)!;
      const ascii = Uint8Array.from({ length: 127 }, (_, i) => i + 1);
      expect(codec.decode(ascii)).toBe(String.fromCharCode(...ascii));
      for (let b = 0x80; b <= 0xff; b++) {
        let text: string;
        try {
          text = codec.decode(Uint8Array.of(b));
        } catch {
          continue; // no character: checked against Postgres in test/clients/encodings.test.ts
        }
        expect(text.length).toBe(1);
        expect([...codec.encode(text)]).toEqual([b]);
      }
    }
  });

  it("LATIN1 is the first 256 code points; WIN1252 has the euro sign at 0x80", () => {
    expect(textCodec("LATIN1")!.decode(Uint8Array.of(0xe9, 0x80))).toBe("\u00e9\u0080");
    expect(textCodec("WIN1252")!.decode(Uint8Array.of(0x80))).toBe("€");
    expect([...textCodec("KOI8R")!.encode("Жук")]).toEqual([0xf6, 0xd5, 0xcb]);
  });

  it("a byte with no character is 22P05; NUL is 22021; the first one in order decides", () => {
    expect(failure(() => textCodec("WIN1252")!.decode(Uint8Array.of(0x41, 0x81, 0x00)))).toEqual({
      code: "22P05",
      message: 'character with byte sequence 0x81 in encoding "WIN1252" has no equivalent in encoding "UTF8"',
    });
    expect(failure(() => textCodec("LATIN1")!.decode(Uint8Array.of(0x41, 0x00, 0x42)))).toEqual({
      code: "22021",
      message: 'invalid byte sequence for encoding "LATIN1": 0x00',
    });
  });

  it("a character the encoding lacks is 22P05 naming its UTF-8 bytes (astral ones included)", () => {
    expect(failure(() => textCodec("LATIN1")!.encode("a€b"))).toEqual({
      code: "22P05",
      message: 'character with byte sequence 0xe2 0x82 0xac in encoding "UTF8" has no equivalent in encoding "LATIN1"',
    });
    expect(failure(() => textCodec("WIN1251")!.encode("x\u{1F600}"))).toEqual({
      code: "22P05",
      message: 'character with byte sequence 0xf0 0x9f 0x98 0x80 in encoding "UTF8" has no equivalent in encoding "WIN1251"',
    });
  });

  it("long inputs decode in chunks", () => {
    const bytes = new Uint8Array(20_000).fill(0xe9);
    expect(textCodec("LATIN1")!.decode(bytes)).toBe("é".repeat(20_000));
  });
});
