// Order-preserving byte encodings of primitive values: for two values a < b, the encoding of a is
// bytewise less than the encoding of b (Ascending) or greater (Descending). Every encoding here is
// self-delimiting (no encoding is a prefix of another), so encodings can be concatenated into
// composite keys that sort column by column, and a Descending encoding is simply the bitwise
// complement of the Ascending one.
//
// Functions come in the CockroachDB shape: encodeXAscending / encodeXDescending append to a
// KeyWriter; decodeXAscending / decodeXDescending read from the front of a byte array and return
// the value and the rest of the bytes (a subarray, no copy).
//
// Tag bytes (first byte of each encoding, ascending). A column holds one type, so tags only have
// to order values of the same type; they are still kept apart so a corrupt key fails loudly.
//
//   0x10 0x11      bool false / true
//   0x12           string (UTF-8, escaped, terminated)
//   0x13           bytes (escaped, terminated)
//   0x14           uuid (16 raw bytes)
//   0x15           int128 (16 bytes, sign bit flipped)
//   0x30           float64 (8 bytes, transformed IEEE bits)
//   0x42..0x47     decimal: -Infinity, negative, zero, positive, +Infinity, NaN
//   0x80..0xfd     varint (signed 64-bit, length in the tag, CockroachDB's layout)
//   0xfe           NULL (ascending: after every value = Postgres's NULLS LAST for ASC)
//
// Descending encodings complement every byte, so NULL becomes 0x01 and sorts first: Postgres's
// NULLS FIRST for DESC. An index therefore returns rows in exactly Postgres's default ORDER BY
// order for its direction, and a reverse scan gives the opposite direction with Postgres's
// opposite default.

import { ByteWriter } from "../../../common/bytes.ts";
import { PgError } from "../../../common/errors.ts";

export const TAG_FALSE = 0x10;
export const TAG_TRUE = 0x11;
export const TAG_STRING = 0x12;
export const TAG_BYTES = 0x13;
export const TAG_UUID = 0x14;
export const TAG_INT128 = 0x15;
export const TAG_FLOAT = 0x30;
export const TAG_DECIMAL_NEG_INF = 0x42;
export const TAG_DECIMAL_NEG = 0x43;
export const TAG_DECIMAL_ZERO = 0x44;
export const TAG_DECIMAL_POS = 0x45;
export const TAG_DECIMAL_POS_INF = 0x46;
export const TAG_DECIMAL_NAN = 0x47;
export const TAG_INT_MIN = 0x80;
export const TAG_INT_MAX = 0xfd;
export const TAG_NULL = 0xfe;

const INT_MAX_WIDTH = 8;
const INT_ZERO = TAG_INT_MIN + INT_MAX_WIDTH; // 0x88
const INT_SMALL = TAG_INT_MAX - INT_ZERO - INT_MAX_WIDTH; // 109: 0..109 fit in the tag byte

const ESCAPE = 0x00;
const ESCAPED_ZERO = 0xff;
const ESCAPED_TERM = 0x01;

/**
 * The buffer keys are built in: the common growable writer (common/bytes.ts), whose `invertFrom`
 * turns an ascending encoding into a descending one.
 */
export class KeyWriter extends ByteWriter {}

function corrupt(what: string): PgError {
  return new PgError("internal_error", `corrupt key: ${what}`);
}

/** Reads byte i of b, complemented when decoding a descending encoding. */
function at(b: Uint8Array, i: number, mask: number): number {
  const v = b[i];
  if (v === undefined) throw corrupt("unexpected end of key");
  return v ^ mask;
}

function descending(w: KeyWriter, encode: () => void): void {
  const start = w.length;
  encode();
  w.invertFrom(start);
}

// ---- NULL ----

export function encodeNullAscending(w: KeyWriter): void {
  w.byte(TAG_NULL);
}
export function encodeNullDescending(w: KeyWriter): void {
  w.byte(~TAG_NULL & 0xff);
}
/** If b starts with a NULL marker in the given direction: [true, rest]; else [false, b]. */
export function decodeIfNull(b: Uint8Array, desc: boolean): [boolean, Uint8Array] {
  if (b.length > 0 && (b[0]! ^ (desc ? 0xff : 0)) === TAG_NULL) return [true, b.subarray(1)];
  return [false, b];
}

// ---- signed varint (int64) ----

export function encodeVarintAscending(w: KeyWriter, v: bigint): void {
  if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new PgError("internal_error", `varint out of int64 range: ${v}`);
  if (v < 0n) {
    // Tag counts the bytes needed for ~v; more bytes = more negative = smaller tag.
    const inv = -v - 1n;
    const n = Math.max(1, byteLength(inv)); // -1 needs one byte: the tag alone would read as 0
    w.byte(INT_ZERO - n);
    for (let i = n - 1; i >= 0; i--) w.byte(Number((v >> BigInt(8 * i)) & 0xffn));
    return;
  }
  if (v <= BigInt(INT_SMALL)) {
    w.byte(INT_ZERO + Number(v));
    return;
  }
  const n = byteLength(v);
  w.byte(INT_ZERO + INT_SMALL + n);
  for (let i = n - 1; i >= 0; i--) w.byte(Number((v >> BigInt(8 * i)) & 0xffn));
}

export function encodeVarintDescending(w: KeyWriter, v: bigint): void {
  descending(w, () => encodeVarintAscending(w, v));
}

function byteLength(nonNegative: bigint): number {
  let n = 0;
  let x = nonNegative;
  while (x > 0n) {
    n++;
    x >>= 8n;
  }
  return n;
}

function decodeVarint(b: Uint8Array, mask: number): [bigint, Uint8Array] {
  const tag = at(b, 0, mask);
  if (tag < TAG_INT_MIN || tag > TAG_INT_MAX) throw corrupt(`expected an integer, found tag 0x${tag.toString(16)}`);
  if (tag < INT_ZERO) {
    const n = INT_ZERO - tag;
    let v = -1n; // sign-extend: start from all ones
    for (let i = 1; i <= n; i++) v = (v << 8n) | BigInt(at(b, i, mask));
    return [v, b.subarray(n + 1)];
  }
  if (tag <= INT_ZERO + INT_SMALL) return [BigInt(tag - INT_ZERO), b.subarray(1)];
  const n = tag - INT_ZERO - INT_SMALL;
  let v = 0n;
  for (let i = 1; i <= n; i++) v = (v << 8n) | BigInt(at(b, i, mask));
  return [v, b.subarray(n + 1)];
}

export function decodeVarintAscending(b: Uint8Array): [bigint, Uint8Array] {
  return decodeVarint(b, 0);
}
export function decodeVarintDescending(b: Uint8Array): [bigint, Uint8Array] {
  return decodeVarint(b, 0xff);
}

/** Unsigned ids (table, index, descriptor ids) use the same layout: non-negative varints. */
export function encodeUvarintAscending(w: KeyWriter, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new PgError("internal_error", `invalid unsigned key id ${v}`);
  encodeVarintAscending(w, BigInt(v));
}
export function decodeUvarintAscending(b: Uint8Array): [number, Uint8Array] {
  const [v, rest] = decodeVarint(b, 0);
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt(`invalid unsigned id ${v}`);
  return [Number(v), rest];
}

// ---- int128 (interval spans, which exceed int64) ----

const TWO_127 = 2n ** 127n;

export function encodeInt128Ascending(w: KeyWriter, v: bigint): void {
  if (v < -TWO_127 || v >= TWO_127) throw new PgError("internal_error", `int128 out of range: ${v}`);
  const u = v + TWO_127; // offset binary: sign bit flipped
  w.byte(TAG_INT128);
  for (let i = 15; i >= 0; i--) w.byte(Number((u >> BigInt(8 * i)) & 0xffn));
}
export function encodeInt128Descending(w: KeyWriter, v: bigint): void {
  descending(w, () => encodeInt128Ascending(w, v));
}
function decodeInt128(b: Uint8Array, mask: number): [bigint, Uint8Array] {
  if (at(b, 0, mask) !== TAG_INT128) throw corrupt("expected an int128");
  let u = 0n;
  for (let i = 1; i <= 16; i++) u = (u << 8n) | BigInt(at(b, i, mask));
  return [u - TWO_127, b.subarray(17)];
}
export function decodeInt128Ascending(b: Uint8Array): [bigint, Uint8Array] {
  return decodeInt128(b, 0);
}
export function decodeInt128Descending(b: Uint8Array): [bigint, Uint8Array] {
  return decodeInt128(b, 0xff);
}

// ---- float64 ----

const floatView = new DataView(new ArrayBuffer(8));

/**
 * IEEE bits transformed so byte order is numeric order: positive numbers get the sign bit set,
 * negative numbers are complemented. -0 is encoded as 0 (they are equal in SQL) and every NaN as
 * one canonical NaN, which lands above +Infinity, as Postgres orders NaN.
 */
export function encodeFloatAscending(w: KeyWriter, x: number): void {
  floatView.setFloat64(0, x === 0 ? 0 : Number.isNaN(x) ? NaN : x);
  const negative = (floatView.getUint8(0) & 0x80) !== 0;
  w.byte(TAG_FLOAT);
  for (let i = 0; i < 8; i++) {
    const byte = floatView.getUint8(i);
    w.byte(negative ? ~byte & 0xff : i === 0 ? byte | 0x80 : byte);
  }
}
export function encodeFloatDescending(w: KeyWriter, x: number): void {
  descending(w, () => encodeFloatAscending(w, x));
}
function decodeFloat(b: Uint8Array, mask: number): [number, Uint8Array] {
  if (at(b, 0, mask) !== TAG_FLOAT) throw corrupt("expected a float");
  const positive = (at(b, 1, mask) & 0x80) !== 0;
  for (let i = 0; i < 8; i++) {
    const byte = at(b, i + 1, mask);
    floatView.setUint8(i, positive ? (i === 0 ? byte & 0x7f : byte) : ~byte & 0xff);
  }
  return [floatView.getFloat64(0), b.subarray(9)];
}
export function decodeFloatAscending(b: Uint8Array): [number, Uint8Array] {
  return decodeFloat(b, 0);
}
export function decodeFloatDescending(b: Uint8Array): [number, Uint8Array] {
  return decodeFloat(b, 0xff);
}

// ---- bytes and strings ----

/** 0x00 is escaped as 0x00 0xff; the value ends with 0x00 0x01 (below any escaped byte pair). */
function encodeEscaped(w: KeyWriter, tag: number, bytes: Uint8Array): void {
  w.byte(tag);
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== ESCAPE) continue;
    w.bytes(bytes.subarray(start, i));
    w.byte(ESCAPE);
    w.byte(ESCAPED_ZERO);
    start = i + 1;
  }
  w.bytes(bytes.subarray(start));
  w.byte(ESCAPE);
  w.byte(ESCAPED_TERM);
}

function decodeEscaped(b: Uint8Array, tag: number, mask: number): [Uint8Array, Uint8Array] {
  if (at(b, 0, mask) !== tag) throw corrupt(`expected tag 0x${tag.toString(16)}`);
  const out: number[] = [];
  let i = 1;
  for (;;) {
    const c = at(b, i, mask);
    if (c !== ESCAPE) {
      out.push(c);
      i++;
      continue;
    }
    const next = at(b, i + 1, mask);
    if (next === ESCAPED_TERM) return [Uint8Array.from(out), b.subarray(i + 2)];
    if (next !== ESCAPED_ZERO) throw corrupt("bad escape in bytes");
    out.push(0);
    i += 2;
  }
}

export function encodeBytesAscending(w: KeyWriter, bytes: Uint8Array): void {
  encodeEscaped(w, TAG_BYTES, bytes);
}
export function encodeBytesDescending(w: KeyWriter, bytes: Uint8Array): void {
  descending(w, () => encodeEscaped(w, TAG_BYTES, bytes));
}
export function decodeBytesAscending(b: Uint8Array): [Uint8Array, Uint8Array] {
  return decodeEscaped(b, TAG_BYTES, 0);
}
export function decodeBytesDescending(b: Uint8Array): [Uint8Array, Uint8Array] {
  return decodeEscaped(b, TAG_BYTES, 0xff);
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Strings are their UTF-8 bytes, so byte order is code-point order (the "C" collation). */
export function encodeStringAscending(w: KeyWriter, s: string): void {
  encodeEscaped(w, TAG_STRING, utf8Encoder.encode(s));
}
export function encodeStringDescending(w: KeyWriter, s: string): void {
  descending(w, () => encodeEscaped(w, TAG_STRING, utf8Encoder.encode(s)));
}
export function decodeStringAscending(b: Uint8Array): [string, Uint8Array] {
  const [bytes, rest] = decodeEscaped(b, TAG_STRING, 0);
  return [utf8Decoder.decode(bytes), rest];
}
export function decodeStringDescending(b: Uint8Array): [string, Uint8Array] {
  const [bytes, rest] = decodeEscaped(b, TAG_STRING, 0xff);
  return [utf8Decoder.decode(bytes), rest];
}

// ---- bool ----

export function encodeBoolAscending(w: KeyWriter, v: boolean): void {
  w.byte(v ? TAG_TRUE : TAG_FALSE);
}
export function encodeBoolDescending(w: KeyWriter, v: boolean): void {
  w.byte(~(v ? TAG_TRUE : TAG_FALSE) & 0xff);
}
function decodeBool(b: Uint8Array, mask: number): [boolean, Uint8Array] {
  const tag = at(b, 0, mask);
  if (tag !== TAG_TRUE && tag !== TAG_FALSE) throw corrupt("expected a bool");
  return [tag === TAG_TRUE, b.subarray(1)];
}
export function decodeBoolAscending(b: Uint8Array): [boolean, Uint8Array] {
  return decodeBool(b, 0);
}
export function decodeBoolDescending(b: Uint8Array): [boolean, Uint8Array] {
  return decodeBool(b, 0xff);
}

// ---- fixed 16 bytes (uuid) ----

export function encodeUuidAscending(w: KeyWriter, bytes16: Uint8Array): void {
  if (bytes16.length !== 16) throw new PgError("internal_error", "uuid must be 16 bytes");
  w.byte(TAG_UUID);
  w.bytes(bytes16);
}
export function encodeUuidDescending(w: KeyWriter, bytes16: Uint8Array): void {
  descending(w, () => encodeUuidAscending(w, bytes16));
}
function decodeUuid(b: Uint8Array, mask: number): [Uint8Array, Uint8Array] {
  if (at(b, 0, mask) !== TAG_UUID) throw corrupt("expected a uuid");
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = at(b, i + 1, mask);
  return [out, b.subarray(17)];
}
export function decodeUuidAscending(b: Uint8Array): [Uint8Array, Uint8Array] {
  return decodeUuid(b, 0);
}
export function decodeUuidDescending(b: Uint8Array): [Uint8Array, Uint8Array] {
  return decodeUuid(b, 0xff);
}
