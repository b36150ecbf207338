// COPY's text format both ways. Expected rows and errors are what PostgreSQL 15.18 did with the
// same bytes (`printf … | psql -c "copy t from stdin"`, VERBOSITY verbose); every input is also
// fed split at every byte, so a row, an escape or a line end cut between CopyData messages reads
// the same.
import { describe, expect, it } from "vitest";
import type { CopyRecord } from "./copy-input.ts";
import { encodeTextRow, escapeTextValue, TextCopyReader } from "./copy-text.ts";
import { pgwireLimits } from "./limits.ts";

const TEXT = { delimiter: "\t", nullString: "\\N" };
const enc = new TextEncoder();

function read(input: string | Uint8Array, fmt = TEXT, chunks: number[] = []): CopyRecord[] {
  const bytes = typeof input === "string" ? enc.encode(input) : input;
  const r = new TextCopyReader("t", fmt);
  const out: CopyRecord[] = [];
  let at = 0;
  for (const n of chunks) {
    out.push(...r.push(bytes.subarray(at, at + n)));
    at += n;
  }
  out.push(...r.push(bytes.subarray(at)));
  out.push(...r.finish());
  return out;
}

/** Rows as [line, fields], the same however the bytes are split. */
function rows(input: string, fmt = TEXT): Array<[number, Array<string | null>]> {
  const whole = read(input, fmt).map((r) => [r.line, r.fields] as [number, Array<string | null>]);
  const bytes = enc.encode(input);
  for (let cut = 1; cut < bytes.length; cut++) {
    expect(read(bytes, fmt, [cut]).map((r) => [r.line, r.fields])).toEqual(whole);
  }
  expect(read(bytes, fmt, Array.from({ length: bytes.length }, () => 1)).map((r) => [r.line, r.fields])).toEqual(whole);
  return whole;
}

function error(input: string | Uint8Array, fmt = TEXT): { code: string; message: string; where?: string; hint?: string } {
  try {
    read(input, fmt);
  } catch (err) {
    const e = err as { code: string; message: string; where?: string; hint?: string };
    const out: { code: string; message: string; where?: string; hint?: string } = { code: e.code, message: e.message };
    if (e.where !== undefined) out.where = e.where;
    if (e.hint !== undefined) out.hint = e.hint;
    return out;
  }
  throw new Error("no error");
}

describe("COPY TO text", () => {
  it("escapes backslash, the six control escapes and the delimiter; passes other bytes", () => {
    expect(escapeTextValue("a\\b\tc\nd\re\bf\fg\vh", "\t")).toBe("a\\\\b\\tc\\nd\\re\\bf\\fg\\vh");
    expect(escapeTextValue("x,y|z\u0001é", ",")).toBe("x\\,y|z\u0001é");
    expect(escapeTextValue("plain", "\t")).toBe("plain");
    expect(encodeTextRow(["1", null, "", "\\N"], TEXT)).toBe("1\t\\N\t\t\\\\N\n");
    expect(encodeTextRow(["a", null], { delimiter: ",", nullString: "" })).toBe("a,\n");
  });
});

describe("COPY FROM text", () => {
  it("splits fields, takes \\N as NULL on the raw text, and decodes escapes", () => {
    expect(rows("1\tone\t\\N\n2\t\\\\N\t\\q\\N\n")).toEqual([
      [1, ["1", "one", null]],
      [2, ["2", "\\N", "qN"]],
    ]);
    expect(rows("a\\tb\\\\c\t\\x41\\101\\x\\xg\t\\b\\f\\n\\r\\v\n")).toEqual([[1, ["a\tb\\c", "AAxxg", "\b\f\n\r\v"]]]);
    expect(rows("\\xc3\\xa9\t\\303\\251\n")).toEqual([[1, ["é", "é"]]]);
    expect(rows("a\\,b,c\n", { delimiter: ",", nullString: "\\N" })).toEqual([[1, ["a,b", "c"]]]);
    expect(rows("\tb\n", { delimiter: "\t", nullString: "" })).toEqual([[1, [null, "b"]]]);
  });

  it("reads the last line without a line end; a backslash before a newline is data; a lone final backslash is dropped", () => {
    expect(rows("a\tb")).toEqual([[1, ["a", "b"]]]);
    expect(rows("a\tb\\\nc\n")).toEqual([[1, ["a", "b\nc"]]]);
    expect(rows("a\tb\\")).toEqual([[1, ["a", "b"]]]);
    expect(rows("\n")).toEqual([[1, [""]]]);
  });

  it("takes the first line's end for all: \\n, \\r\\n or \\r", () => {
    expect(rows("a\tb\r\nc\td\r\n")).toEqual([[1, ["a", "b"]], [2, ["c", "d"]]]);
    expect(rows("a\tb\rc\td\r")).toEqual([[1, ["a", "b"]], [2, ["c", "d"]]]);
    expect(error("a\tb\r\nc\td\n")).toEqual({ code: "22P04", message: "literal newline found in data", hint: 'Use "\\n" to represent newline.', where: "COPY t, line 2" });
    expect(error("a\tb\nc\td\r\n")).toEqual({ code: "22P04", message: "literal carriage return found in data", hint: 'Use "\\r" to represent carriage return.', where: "COPY t, line 2" });
    expect(error("a\tb\rc\td\n")).toMatchObject({ message: "literal newline found in data", where: "COPY t, line 2" });
  });

  it("stops at \\. and keeps the data before it on the same line, as Postgres 15 does", () => {
    expect(rows("a\tb\n\\.\nignored\n")).toEqual([[1, ["a", "b"]]]);
    expect(rows("a\tb\\.\nignored")).toEqual([[1, ["a", "b"]]]);
    expect(rows("a\tb\r\n\\.\r\n")).toEqual([[1, ["a", "b"]]]);
    expect(error("a\\.b\tc\n")).toEqual({ code: "22P04", message: "end-of-copy marker corrupt", where: "COPY t, line 1" });
    expect(error("a\tb\n\\.x\n")).toEqual({ code: "22P04", message: "end-of-copy marker corrupt", where: "COPY t, line 2" });
    expect(error("a\tb\n\\.\r\n")).toEqual({ code: "22P04", message: "end-of-copy marker does not match previous newline style", where: "COPY t, line 2" });
    expect(error("a\tb\r\n\\.\n")).toEqual({ code: "22P04", message: "end-of-copy marker does not match previous newline style", where: "COPY t, line 2" });
  });

  it("refuses bytes that are not UTF-8, in the line or made by an escape, naming them", () => {
    expect(error(Uint8Array.of(0x61, 0x09, 0xff, 0x0a))).toEqual({ code: "22021", message: 'invalid byte sequence for encoding "UTF8": 0xff', where: "COPY t, line 1" });
    expect(error("\\xff\tb\n")).toEqual({ code: "22021", message: 'invalid byte sequence for encoding "UTF8": 0xff', where: 'COPY t, line 1: "\\xff\tb"' });
    expect(error("1\t\\0\n")).toEqual({ code: "22021", message: 'invalid byte sequence for encoding "UTF8": 0x00', where: 'COPY t, line 1: "1\t\\0"' });
    expect(error("1\t\\xe2\\x82\tc\n")).toMatchObject({ message: 'invalid byte sequence for encoding "UTF8": 0xe2 0x82' });
  });

  it("bounds a line at copyLineBytesMax: that many bytes are a row, one more is 54000", () => {
    const max = pgwireLimits.copyLineBytesMax;
    const ok = new Uint8Array(max + 1).fill(0x61);
    ok[max] = 0x0a;
    expect(read(ok)[0]!.fields[0]!.length).toBe(max);
    const long = new Uint8Array(max + 2).fill(0x61);
    long[max + 1] = 0x0a;
    expect(error(long)).toMatchObject({ code: "54000", where: "COPY t, line 1" });
    // Also when the line arrives in pieces and has no end yet.
    const r = new TextCopyReader("t", TEXT);
    r.push(new Uint8Array(max).fill(0x61));
    expect(() => r.push(Uint8Array.of(0x61))).toThrow(expect.objectContaining({ code: "54000" }));
  });
});
