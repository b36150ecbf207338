import { describe, expect, it } from "vitest";
import { ByteWriter, bytesEqual, compareBytes, concatBytes, keyFromString, keyNext, keyString, prefixEnd } from "./bytes.ts";

const b = (...xs: number[]) => Uint8Array.from(xs);

describe("compareBytes / bytesEqual", () => {
  it("orders unsigned bytes, a prefix before its extensions", () => {
    expect(compareBytes(b(1, 2), b(1, 3))).toBeLessThan(0);
    expect(compareBytes(b(0x80), b(0x7f))).toBeGreaterThan(0); // unsigned, not signed
    expect(compareBytes(b(1), b(1, 0))).toBeLessThan(0);
    expect(compareBytes(b(), b(0))).toBeLessThan(0);
    expect(compareBytes(b(4, 5), b(4, 5))).toBe(0);
    expect(bytesEqual(b(4, 5), b(4, 5))).toBe(true);
    expect(bytesEqual(b(4, 5), b(4))).toBe(false);
    expect(bytesEqual(b(4, 5), b(4, 6))).toBe(false);
  });

  it("agrees with the order of keyString on every pair of short keys", () => {
    const keys = [b(), b(0), b(0, 0), b(0, 0xff), b(1), b(0x7f), b(0x80), b(0xff), b(0xff, 0)];
    for (const x of keys) {
      for (const y of keys) {
        const s = keyString(x) < keyString(y) ? -1 : keyString(x) > keyString(y) ? 1 : 0;
        expect(Math.sign(compareBytes(x, y))).toBe(s);
      }
    }
  });
});

describe("keyString", () => {
  it("round-trips short and long keys", () => {
    const long = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    for (const k of [b(), b(0, 0xff, 0x80), long]) expect(keyFromString(keyString(k))).toEqual(k);
  });
});

describe("keyNext / prefixEnd", () => {
  it("keyNext is the immediate successor: nothing sorts between key and keyNext(key)", () => {
    expect(keyNext(b(1, 2))).toEqual(b(1, 2, 0));
    expect(compareBytes(b(1, 2), keyNext(b(1, 2)))).toBeLessThan(0);
  });

  it("prefixEnd bounds every extension of the prefix", () => {
    expect(prefixEnd(b(1, 2, 3))).toEqual(b(1, 2, 4));
    expect(prefixEnd(b(1, 0xff, 0xff))).toEqual(b(2));
    const p = b(9, 0xfe);
    expect(compareBytes(b(9, 0xfe, 0xff, 0xff, 0xff), prefixEnd(p))).toBeLessThan(0);
    expect(compareBytes(b(9, 0xff), prefixEnd(p))).toBe(0);
  });

  it("prefixEnd does not modify its argument", () => {
    const p = b(1, 2);
    prefixEnd(p);
    expect(p).toEqual(b(1, 2));
  });

  it("a prefix with no upper bound is an internal error (XX000)", () => {
    expect(() => prefixEnd(b(0xff, 0xff))).toThrow(expect.objectContaining({ code: "XX000" }));
    expect(() => prefixEnd(b())).toThrow(expect.objectContaining({ code: "XX000" }));
  });
});

describe("concatBytes", () => {
  it("joins in order", () => {
    expect(concatBytes([b(1), b(), b(2, 3)])).toEqual(b(1, 2, 3));
    expect(concatBytes([])).toEqual(b());
  });
});

describe("ByteWriter", () => {
  it("grows past its initial size and keeps every byte", () => {
    const w = new ByteWriter(1);
    const want: number[] = [];
    for (let i = 0; i < 1000; i++) {
      w.byte(i & 0xff);
      want.push(i & 0xff);
    }
    w.bytes(b(1, 2, 3));
    want.push(1, 2, 3);
    expect(w.length).toBe(1003);
    expect(Array.from(w.finish())).toEqual(want);
  });

  it("writes big-endian integers and patches an Int32 in place", () => {
    const w = new ByteWriter(2);
    w.int16(-2);
    w.int32(0);
    w.uint32(0xfffffffe);
    w.uint64(0x0102030405060708n);
    w.patchInt32(2, 0x11223344);
    expect(Array.from(w.finish())).toEqual([0xff, 0xfe, 0x11, 0x22, 0x33, 0x44, 0xff, 0xff, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("uvarint: numbers and bigints give the same LEB128 bytes", () => {
    for (const v of [0, 1, 0x7f, 0x80, 300, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
      const n = new ByteWriter();
      n.uvarint(v);
      const g = new ByteWriter();
      g.uvarint(BigInt(v));
      expect(n.finish()).toEqual(g.finish());
    }
    const w = new ByteWriter();
    w.uvarint(300);
    expect(Array.from(w.finish())).toEqual([0xac, 0x02]);
  });

  it("utf8 returns the bytes written, with room for the worst case", () => {
    const w = new ByteWriter(1);
    expect(w.utf8("aé€😀")).toBe(1 + 2 + 3 + 4);
    expect(new TextDecoder().decode(w.finish())).toBe("aé€😀");
  });

  it("invertFrom complements only the tail", () => {
    const w = new ByteWriter();
    w.bytes(b(0x00, 0x0f, 0xf0));
    w.invertFrom(1);
    expect(Array.from(w.finish())).toEqual([0x00, 0xf0, 0x0f]);
  });

  it("finish copies; finishOwned shares only an exactly full buffer", () => {
    const w = new ByteWriter(2);
    w.byte(1);
    const copy = w.finish();
    w.byte(2);
    expect(Array.from(copy)).toEqual([1]); // later writes do not reach an earlier finish()
    const owned = w.finishOwned();
    expect(Array.from(owned)).toEqual([1, 2]);
    expect(owned.length).toBe(2);
  });

  it("reset empties the writer and drops an oversized buffer", () => {
    const w = new ByteWriter(4);
    w.bytes(new Uint8Array(100));
    w.reset(16, 4);
    expect(w.length).toBe(0);
    w.byte(7);
    expect(Array.from(w.finish())).toEqual([7]);
  });
});
