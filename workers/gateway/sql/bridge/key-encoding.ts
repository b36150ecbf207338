// Order-preserving key encoding of datums: byte order of the encoding equals SQL order (ascending;
// descending inverts every byte). NULL sorts last ascending and first descending, as in Postgres.
// Local stand-in for the types engineer's keys/ encodings, covering every indexable type the
// engine stores. Each value is self-delimiting, so columns concatenate into composite keys.
//
//   0x01 false | 0x02 true                    bool
//   0x10 + 8-byte big-endian, sign flipped     int2/int4/int8, date
//   0x20 + 8-byte IEEE, sign-adjusted          float4/float8 (NaN above +Infinity, -0 = 0)
//   0x28 + sign-adjusted float + decimal text  numeric (float orders; text breaks ties exactly)
//   0x30 + bytes with 0x00 → 0x00 0xFF, end 0x00 0x01   text, bytea, uuid, …
//   0xF0                                       NULL (ascending)
import { PgError } from "../../../../common/errors.ts";
import type { Datum } from "../types/datum.ts";
import { Numeric } from "../types/numeric.ts";
import { Oid, type SqlType } from "../types/type.ts";

const NULL_TAG = 0xf0;
const FALSE_TAG = 0x01;
const TRUE_TAG = 0x02;
const INT_TAG = 0x10;
const FLOAT_TAG = 0x20;
const NUMERIC_TAG = 0x28;
const BYTES_TAG = 0x30;
const TIME_TAG = 0x18;

const enc = new TextEncoder();
const dec = new TextDecoder();

function pushBytes(out: number[], b: Uint8Array): void {
  for (const v of b) {
    out.push(v);
    if (v === 0) out.push(0xff);
  }
  out.push(0x00, 0x01);
}

function pushInt64(out: number[], v: bigint): void {
  const u = BigInt.asUintN(64, v) ^ (1n << 63n);
  for (let i = 7; i >= 0; i--) out.push(Number((u >> BigInt(i * 8)) & 0xffn));
}

function pushFloat(out: number[], x: number): void {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Number.isNaN(x) ? NaN : x === 0 ? 0 : x);
  let u = buf.getBigUint64(0);
  if (Number.isNaN(x)) u = 0xfff8000000000001n; // above +Infinity after the flip below
  u = u & (1n << 63n) ? ~u & 0xffffffffffffffffn : u | (1n << 63n);
  for (let i = 7; i >= 0; i--) out.push(Number((u >> BigInt(i * 8)) & 0xffn));
}

function readFloat(b: Uint8Array, o: number): number {
  let u = 0n;
  for (let i = 0; i < 8; i++) u = (u << 8n) | BigInt(b[o + i]!);
  u = u & (1n << 63n) ? u & ~(1n << 63n) : ~u & 0xffffffffffffffffn;
  if (u === 0xfff8000000000001n) return NaN;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setBigUint64(0, u);
  return buf.getFloat64(0);
}

function readInt64(b: Uint8Array, o: number): bigint {
  let u = 0n;
  for (let i = 0; i < 8; i++) u = (u << 8n) | BigInt(b[o + i]!);
  return BigInt.asIntN(64, u ^ (1n << 63n));
}

function readBytes(b: Uint8Array, o: number): [Uint8Array, number] {
  const out: number[] = [];
  let i = o;
  for (;;) {
    const v = b[i]!;
    if (v === 0) {
      if (b[i + 1] === 0x01) return [Uint8Array.from(out), i + 2];
      out.push(0);
      i += 2;
    } else {
      out.push(v);
      i++;
    }
  }
}

function isTextual(oid: number): boolean {
  return oid === Oid.text || oid === Oid.varchar || oid === Oid.bpchar || oid === Oid.name || oid === Oid.uuid || oid === Oid.char || oid === Oid.json;
}

/** Appends the ascending encoding of `d` (of type t) to `out`. */
function encodeAsc(out: number[], t: SqlType, d: Datum): void {
  if (d === null) {
    out.push(NULL_TAG);
    return;
  }
  switch (t.oid) {
    case Oid.bool:
      out.push(d ? TRUE_TAG : FALSE_TAG);
      return;
    case Oid.int2:
    case Oid.int4:
    case Oid.int8:
    case Oid.oid:
      out.push(INT_TAG);
      pushInt64(out, BigInt(d as number | bigint));
      return;
    case Oid.date:
      out.push(FLOAT_TAG);
      pushFloat(out, d as number);
      return;
    case Oid.timestamp:
    case Oid.timestamptz:
      out.push(TIME_TAG);
      pushInt64(out, d as bigint);
      return;
    case Oid.float4:
    case Oid.float8:
      out.push(FLOAT_TAG);
      pushFloat(out, d as number);
      return;
    case Oid.numeric: {
      const n = d as Numeric;
      out.push(NUMERIC_TAG);
      pushFloat(out, n.isNaN() ? NaN : n.toNumber());
      pushBytes(out, enc.encode(n.isFinite() ? n.value.toFixed() : n.toString()));
      return;
    }
    case Oid.bytea:
      out.push(BYTES_TAG);
      pushBytes(out, d as Uint8Array);
      return;
    default:
      if (isTextual(t.oid)) {
        out.push(BYTES_TAG);
        pushBytes(out, enc.encode(d as string));
        return;
      }
      throw new PgError("feature_not_supported", `type ${t.name} cannot be part of an index key`);
  }
}

/** Appends the encoding of one key column (ascending or descending). */
export function encodeKeyDatum(out: number[], t: SqlType, d: Datum, desc: boolean): void {
  if (!desc) {
    encodeAsc(out, t, d);
    return;
  }
  const start = out.length;
  encodeAsc(out, t, d);
  for (let i = start; i < out.length; i++) out[i] = 0xff - out[i]!;
}

/** Decodes one key column at `o`; returns the datum and the offset after it. */
export function decodeKeyDatum(b: Uint8Array, o: number, t: SqlType, desc: boolean): [Datum, number] {
  const src = desc ? invertFrom(b, o) : b;
  const base = desc ? 0 : o;
  const [d, end] = decodeAsc(src, base, t);
  return [d, desc ? o + end : end];
}

function invertFrom(b: Uint8Array, o: number): Uint8Array {
  const out = new Uint8Array(b.length - o);
  for (let i = 0; i < out.length; i++) out[i] = 0xff - b[o + i]!;
  return out;
}

function decodeAsc(b: Uint8Array, o: number, t: SqlType): [Datum, number] {
  const tag = b[o]!;
  if (tag === NULL_TAG) return [null, o + 1];
  switch (tag) {
    case FALSE_TAG:
      return [false, o + 1];
    case TRUE_TAG:
      return [true, o + 1];
    case INT_TAG: {
      const v = readInt64(b, o + 1);
      return [t.oid === Oid.int8 ? v : Number(v), o + 9];
    }
    case TIME_TAG:
      return [readInt64(b, o + 1), o + 9];
    case FLOAT_TAG:
      return [readFloat(b, o + 1), o + 9];
    case NUMERIC_TAG: {
      const [text, end] = readBytes(b, o + 9);
      return [Numeric.parse(dec.decode(text)), end];
    }
    case BYTES_TAG: {
      const [bytes, end] = readBytes(b, o + 1);
      return [t.oid === Oid.bytea ? bytes : dec.decode(bytes), end];
    }
    default:
      throw new PgError("data_corrupted", `unknown key tag 0x${tag.toString(16)} at offset ${o}`);
  }
}
