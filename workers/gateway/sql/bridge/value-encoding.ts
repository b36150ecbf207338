// Compact row value encoding: for each non-NULL column, its column id (as a delta from the
// previous one, varint), the payload length and a type-directed payload. Absent ids are NULL, so
// adding a column needs no rewrite, and a dropped column's bytes are skipped by length until the
// row is next written. Local stand-in for the types engineer's
// value-encoding.ts.
import { PgError } from "../../../../common/errors.ts";
import type { Datum, Interval } from "../types/datum.ts";
import { interval } from "../types/datum.ts";
import { Numeric } from "../types/numeric.ts";
import { Oid, type SqlType } from "../types/type.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

class Writer {
  buf = new Uint8Array(64);
  len = 0;
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  byte(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v;
  }
  uvarint(v: number): void {
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }
  bytes(b: Uint8Array): void {
    this.uvarint(b.length);
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  f64(x: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.len, x);
    this.len += 8;
  }
  i64(x: bigint): void {
    this.ensure(8);
    new DataView(this.buf.buffer).setBigInt64(this.len, x);
    this.len += 8;
  }
}

class Reader {
  o = 0;
  readonly b: Uint8Array;
  private readonly dv: DataView;
  constructor(b: Uint8Array) {
    this.b = b;
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  byte(): number {
    return this.b[this.o++]!;
  }
  uvarint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const x = this.b[this.o++]!;
      v += (x & 0x7f) * mul;
      if (x < 0x80) return v;
      mul *= 128;
    }
  }
  bytes(): Uint8Array {
    const n = this.uvarint();
    const out = this.b.subarray(this.o, this.o + n);
    this.o += n;
    return out;
  }
  f64(): number {
    const v = this.dv.getFloat64(this.o);
    this.o += 8;
    return v;
  }
  i64(): bigint {
    const v = this.dv.getBigInt64(this.o);
    this.o += 8;
    return v;
  }
}

function zigzag(n: number): number {
  return n >= 0 ? n * 2 : -n * 2 - 1;
}

function unzigzag(n: number): number {
  return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
}

function writeDatum(w: Writer, t: SqlType, d: Datum): void {
  if (t.elem !== undefined) {
    const arr = d as readonly Datum[];
    w.uvarint(arr.length);
    for (const e of arr) {
      w.byte(e === null ? 0 : 1);
      if (e !== null) writeDatum(w, t.elem, e);
    }
    return;
  }
  switch (t.oid) {
    case Oid.bool:
      w.byte(d ? 1 : 0);
      return;
    case Oid.int2:
    case Oid.int4:
    case Oid.oid:
      w.uvarint(zigzag(d as number));
      return;
    case Oid.int8:
    case Oid.timestamp:
    case Oid.timestamptz:
      w.i64(d as bigint);
      return;
    case Oid.float4:
    case Oid.float8:
    case Oid.date:
      w.f64(d as number);
      return;
    case Oid.numeric: {
      const n = d as Numeric;
      w.uvarint(n.dscale);
      w.bytes(enc.encode(n.isFinite() ? n.value.toFixed() : n.toString()));
      return;
    }
    case Oid.bytea:
      w.bytes(d as Uint8Array);
      return;
    case Oid.interval: {
      const iv = d as Interval;
      w.uvarint(zigzag(iv.months));
      w.uvarint(zigzag(iv.days));
      w.i64(iv.micros);
      return;
    }
    default:
      if (typeof d === "string") {
        w.bytes(enc.encode(d));
        return;
      }
      throw new PgError("feature_not_supported", `cannot store a value of type ${t.name}`);
  }
}

function readDatum(r: Reader, t: SqlType): Datum {
  if (t.elem !== undefined) {
    const n = r.uvarint();
    const out: Datum[] = [];
    for (let i = 0; i < n; i++) out.push(r.byte() === 0 ? null : readDatum(r, t.elem));
    return out;
  }
  switch (t.oid) {
    case Oid.bool:
      return r.byte() === 1;
    case Oid.int2:
    case Oid.int4:
    case Oid.oid:
      return unzigzag(r.uvarint());
    case Oid.int8:
    case Oid.timestamp:
    case Oid.timestamptz:
      return r.i64();
    case Oid.float4:
    case Oid.float8:
    case Oid.date:
      return r.f64();
    case Oid.numeric: {
      const scale = r.uvarint();
      const text = dec.decode(r.bytes());
      const n = Numeric.parse(text);
      return n.isFinite() ? Numeric.of(n.value, scale) : n;
    }
    case Oid.bytea:
      return r.bytes().slice();
    case Oid.interval: {
      const months = unzigzag(r.uvarint());
      const days = unzigzag(r.uvarint());
      return interval(months, days, r.i64());
    }
    default:
      return dec.decode(r.bytes());
  }
}

export interface ValueColumn {
  id: number;
  type: SqlType;
}

/** Encodes a row: `cols` sorted by id, `values[i]` belongs to `cols[i]`. */
export function encodeRowValue(cols: readonly ValueColumn[], values: readonly Datum[]): Uint8Array {
  const w = new Writer();
  let prev = 0;
  for (let i = 0; i < cols.length; i++) {
    const v = values[i]!;
    if (v === null) continue;
    w.uvarint(cols[i]!.id - prev);
    prev = cols[i]!.id;
    const payload = new Writer();
    writeDatum(payload, cols[i]!.type, v);
    w.bytes(payload.buf.subarray(0, payload.len));
  }
  return w.buf.slice(0, w.len);
}

/** Decodes into one slot per entry of `cols` (sorted by id); ids not in `cols` are skipped. */
export function decodeRowValue(bytes: Uint8Array, cols: readonly ValueColumn[]): Datum[] {
  const out: Datum[] = new Array(cols.length).fill(null);
  const r = new Reader(bytes);
  let id = 0;
  let ci = 0;
  while (r.o < bytes.length) {
    id += r.uvarint();
    const len = r.uvarint();
    while (ci < cols.length && cols[ci]!.id < id) ci++;
    if (ci < cols.length && cols[ci]!.id === id) {
      const end = r.o + len;
      out[ci] = readDatum(r, cols[ci]!.type);
      if (r.o !== end) throw new PgError("data_corrupted", `column ${id} payload is ${len} bytes, read ${len + r.o - end}`);
    } else {
      r.o += len;
    }
  }
  return out;
}
