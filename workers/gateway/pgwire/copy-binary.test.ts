// COPY's binary format both ways. Expected errors are what PostgreSQL 15.18 answered to the same
// bytes (`printf … | psql -c "copy b2 (a int, b text) from stdin binary"`); inputs are also fed
// split at every byte.
import { describe, expect, it } from "vitest";
import { Oid } from "../sql/types/type.ts";
import { BinaryCopyReader, encodeBinaryRow, PGCOPY_HEADER, PGCOPY_TRAILER } from "./copy-binary.ts";
import type { CopyRecord } from "./copy-input.ts";
import { pgwireLimits } from "./limits.ts";

const COLUMNS = [
  { name: "a", typeOid: Oid.int4 },
  { name: "b", typeOid: Oid.text },
];

function cat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

const ROW_1_X = [0, 2, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0x78];

function read(bytes: Uint8Array, chunks: number[] = []): CopyRecord[] {
  const r = new BinaryCopyReader("b2", COLUMNS);
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

function rows(bytes: Uint8Array): Array<[number, Array<string | null>]> {
  const shape = (rs: CopyRecord[]) => rs.map((r) => [r.line, r.fields] as [number, Array<string | null>]);
  const whole = shape(read(bytes));
  for (let cut = 1; cut < bytes.length; cut++) expect(shape(read(bytes, [cut]))).toEqual(whole);
  return whole;
}

function error(bytes: Uint8Array): Record<string, string> {
  try {
    read(bytes);
  } catch (err) {
    const e = err as { code: string; message: string; where?: string };
    return e.where === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, where: e.where };
  }
  throw new Error("no error");
}

describe("COPY TO binary", () => {
  it("writes the PGCOPY header, tuples of length-prefixed send forms, -1 for NULL, and the trailer", () => {
    expect(Buffer.from(PGCOPY_HEADER).toString("latin1")).toBe("PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0");
    expect([...encodeBinaryRow(["1", "x"], [Oid.int4, Oid.text])]).toEqual(ROW_1_X);
    expect([...encodeBinaryRow([null], [Oid.int4])]).toEqual([0, 1, 0xff, 0xff, 0xff, 0xff]);
    expect([...PGCOPY_TRAILER]).toEqual([0xff, 0xff]);
  });
});

describe("COPY FROM binary", () => {
  it("reads tuples split anywhere; the trailer is optional; a header extension is skipped", () => {
    expect(rows(cat(PGCOPY_HEADER, ROW_1_X, [0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], PGCOPY_TRAILER))).toEqual([
      [1, ["1", "x"]],
      [2, [null, ""]],
    ]);
    expect(rows(cat(PGCOPY_HEADER, ROW_1_X))).toEqual([[1, ["1", "x"]]]);
    const withExtension = cat(PGCOPY_HEADER.subarray(0, 15), [0, 0, 0, 2, 0x61, 0x62], PGCOPY_TRAILER);
    expect(rows(withExtension)).toEqual([]);
    // Flags below bit 16 are not critical.
    expect(rows(cat(PGCOPY_HEADER.subarray(0, 11), [0, 0, 0, 1, 0, 0, 0, 0], PGCOPY_TRAILER))).toEqual([]);
  });

  it("refuses a bad header as Postgres does (no line context: it comes before the first row)", () => {
    expect(error(new Uint8Array(0))).toEqual({ code: "22P04", message: "COPY file signature not recognized" });
    expect(error(cat([0x50, 0x47, 0x43, 0x4f, 0x50, 0x58], PGCOPY_HEADER.subarray(6)))).toEqual({ code: "22P04", message: "COPY file signature not recognized" });
    expect(error(PGCOPY_HEADER.subarray(0, 14))).toEqual({ code: "22P04", message: "invalid COPY file header (missing flags)" });
    expect(error(cat(PGCOPY_HEADER.subarray(0, 11), [0, 1, 0, 0, 0, 0, 0, 0]))).toEqual({ code: "22P04", message: "invalid COPY file header (WITH OIDS)" });
    expect(error(cat(PGCOPY_HEADER.subarray(0, 11), [0, 2, 0, 0, 0, 0, 0, 0]))).toEqual({ code: "22P04", message: "unrecognized critical flags in COPY file header" });
    expect(error(PGCOPY_HEADER.subarray(0, 17))).toEqual({ code: "22P04", message: "invalid COPY file header (missing length)" });
    expect(error(cat(PGCOPY_HEADER.subarray(0, 15), [0, 0, 0, 4, 1]))).toEqual({ code: "22P04", message: "invalid COPY file header (wrong length)" });
  });

  it("refuses bad tuples with Postgres's messages and contexts", () => {
    expect(error(cat(PGCOPY_HEADER, [0, 3, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 1, 0x78, 0, 0, 0, 0], PGCOPY_TRAILER))).toEqual({
      code: "22P04", message: "row field count is 3, expected 2", where: "COPY b2, line 1",
    });
    expect(error(cat(PGCOPY_HEADER, [0, 2, 0, 0, 0, 3, 0, 0, 1, 0, 0, 0, 1, 0x78], PGCOPY_TRAILER))).toEqual({
      code: "08P01", message: "insufficient data left in message", where: "COPY b2, line 1, column a",
    });
    expect(error(cat(PGCOPY_HEADER, [0, 2, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0x78], PGCOPY_TRAILER))).toEqual({
      code: "22P03", message: "incorrect binary data format", where: "COPY b2, line 1, column a",
    });
    expect(error(cat(PGCOPY_HEADER, [0, 2, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 1, 0x78], PGCOPY_TRAILER))).toEqual({
      code: "22P04", message: "invalid field size", where: "COPY b2, line 1, column a",
    });
    expect(error(cat(PGCOPY_HEADER, [0, 2, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1, 0xff], PGCOPY_TRAILER))).toEqual({
      code: "22021", message: 'invalid byte sequence for encoding "UTF8": 0xff', where: "COPY b2, line 1, column b",
    });
    expect(error(cat(PGCOPY_HEADER, ROW_1_X, [0, 2, 0]))).toEqual({ code: "22P04", message: "unexpected EOF in COPY data", where: "COPY b2, line 2, column a" });
    expect(error(cat(PGCOPY_HEADER, ROW_1_X, PGCOPY_TRAILER, [0x67]))).toEqual({ code: "22P04", message: "received copy data after EOF marker", where: "COPY b2, line 2" });
  });

  it("refuses data that arrives after the trailer in a later CopyData", () => {
    const r = new BinaryCopyReader("b2", COLUMNS);
    r.push(cat(PGCOPY_HEADER, ROW_1_X, PGCOPY_TRAILER));
    expect(() => r.push(Uint8Array.of(1))).toThrow(expect.objectContaining({ message: "received copy data after EOF marker", where: "COPY b2, line 2" }));
  });

  it("bounds a field at copyLineBytesMax", () => {
    const max = pgwireLimits.copyLineBytesMax;
    const size = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    const r = new BinaryCopyReader("b2", COLUMNS);
    expect(() => r.push(cat(PGCOPY_HEADER, [0, 2, 0, 0, 0, 4, 0, 0, 0, 1], size(max + 1)))).toThrow(expect.objectContaining({ code: "54000", where: "COPY b2, line 1, column b" }));
    const ok = new BinaryCopyReader("b2", [{ name: "b", typeOid: Oid.bytea }]);
    expect(ok.push(cat(PGCOPY_HEADER, [0, 1], size(max - 6), new Uint8Array(max - 6)))[0]!.fields[0]!.length).toBe(2 + 2 * (max - 6));
  });
});
