// COPY's CSV format both ways. Expected rows and errors are what PostgreSQL 15.18 did with the
// same bytes (`printf … | psql -c "copy t from stdin csv"`); every input is also fed split at
// every byte, so quoted line ends and quotes cut between CopyData messages read the same.
import { describe, expect, it } from "vitest";
import { csvValue, CsvCopyReader, encodeCsvRow, parseCsvLine, type CsvFormat } from "./copy-csv.ts";
import type { CopyRecord } from "./copy-input.ts";

const CSV: CsvFormat = { delimiter: ",", nullString: "", quote: '"', escape: '"' };
const enc = new TextEncoder();

function read(bytes: Uint8Array, fmt: CsvFormat, chunks: number[]): CopyRecord[] {
  const r = new CsvCopyReader("t", fmt);
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

function rows(input: string, fmt = CSV): Array<[number, Array<string | null>, string | undefined]> {
  const bytes = enc.encode(input);
  const shape = (rs: CopyRecord[]) => rs.map((r) => [r.line, r.fields, r.text] as [number, Array<string | null>, string | undefined]);
  const whole = shape(read(bytes, fmt, []));
  for (let cut = 1; cut < bytes.length; cut++) expect(shape(read(bytes, fmt, [cut]))).toEqual(whole);
  expect(shape(read(bytes, fmt, Array.from({ length: bytes.length }, () => 1)))).toEqual(whole);
  return whole;
}

function error(input: string, fmt = CSV): Record<string, string> {
  try {
    read(enc.encode(input), fmt, []);
  } catch (err) {
    const e = err as { code: string; message: string; where?: string; hint?: string };
    return Object.fromEntries(Object.entries({ code: e.code, message: e.message, where: e.where, hint: e.hint }).filter(([, v]) => v !== undefined)) as Record<string, string>;
  }
  throw new Error("no error");
}

describe("COPY TO csv", () => {
  it("quotes only what must be quoted, doubling quotes", () => {
    expect(encodeCsvRow(["1", null, "", "a,b", 'q"u', "l\nf", "c\rr", "plain"], CSV, [])).toBe('1,,"","a,b","q""u","l\nf","c\rr",plain\n');
  });

  it("quotes `\\.` alone only in a one-column row, and values equal to the NULL marker", () => {
    expect(encodeCsvRow(["\\."], CSV, [])).toBe('"\\."\n');
    expect(encodeCsvRow(["\\.", "x"], CSV, [])).toBe("\\.,x\n");
    expect(encodeCsvRow(["NULL", null], { ...CSV, nullString: "NULL" }, [])).toBe('"NULL",NULL\n');
  });

  it("FORCE_QUOTE, another quote and escape", () => {
    expect(encodeCsvRow(["a", "b", null], CSV, [true, false, true])).toBe('"a",b,\n');
    const f: CsvFormat = { delimiter: "|", nullString: "NULL", quote: "'", escape: "\\" };
    expect(csvValue("it's a\\b", f, false, false)).toBe("'it\\'s a\\\\b'");
    expect(csvValue('say "hi"', f, false, false)).toBe('say "hi"');
  });
});

describe("COPY FROM csv", () => {
  it("takes an unquoted empty field as NULL and a quoted one as the empty string", () => {
    expect(rows(',""\n')).toEqual([[1, [null, ""], ',""']]);
    expect(rows('x,"x"\n', { ...CSV, nullString: "x" })).toEqual([[1, [null, "x"], 'x,"x"']]);
  });

  it("joins quoted and unquoted pieces, doubles quotes, keeps spaces", () => {
    expect(parseCsvLine('"ab"c,d', CSV)).toEqual(["abc", "d"]);
    expect(parseCsvLine('"a""b",c', CSV)).toEqual(['a"b', "c"]);
    expect(parseCsvLine('"a" ,c', CSV)).toEqual(["a ", "c"]);
    expect(parseCsvLine("'a\\'b',c", { ...CSV, quote: "'", escape: "\\" })).toEqual(["a'b", "c"]);
    expect(parseCsvLine('"a\\"b",c', { ...CSV, escape: "\\" })).toEqual(['a"b', "c"]);
    expect(parseCsvLine('"a\\xb",c', { ...CSV, escape: "\\" })).toEqual(["a\\xb", "c"]);
  });

  it("keeps line ends inside quotes, across CopyData messages, counting one line per record", () => {
    expect(rows('"a\nb",x\n1,2\n')).toEqual([
      [1, ["a\nb", "x"], '"a\nb",x'],
      [2, ["1", "2"], "1,2"],
    ]);
    expect(rows('a,"b\r\nc"\r\nd,e\r\n')).toEqual([
      [1, ["a", "b\r\nc"], 'a,"b\r\nc"'],
      [2, ["d", "e"], "d,e"],
    ]);
  });

  it("ends at `\\.` alone on a line; elsewhere `\\.` is a value", () => {
    expect(rows("a,b\n\\.\nc,d\n")).toEqual([[1, ["a", "b"], "a,b"]]);
    expect(rows('a,b\n"\\.",x\n\\.,y\n')).toEqual([
      [1, ["a", "b"], "a,b"],
      [2, ["\\.", "x"], '"\\.",x'],
      [3, ["\\.", "y"], "\\.,y"],
    ]);
  });

  it("errors as Postgres 15: an unterminated quote (the record's text shown), a stray line end", () => {
    expect(error('1,"ab\n')).toEqual({ code: "22P04", message: "unterminated CSV quoted field", where: 'COPY t, line 1: "1,"ab\n"' });
    expect(error('a"b,c\n')).toEqual({ code: "22P04", message: "unterminated CSV quoted field", where: 'COPY t, line 1: "a"b,c\n"' });
    expect(error("a,b\r\nc,d\n")).toEqual({ code: "22P04", message: "unquoted newline found in data", hint: "Use quoted CSV field to represent newline.", where: "COPY t, line 2" });
    expect(error("a,b\nc,d\r\n")).toEqual({
      code: "22P04",
      message: "unquoted carriage return found in data",
      hint: "Use quoted CSV field to represent carriage return.",
      where: "COPY t, line 2",
    });
  });
});
