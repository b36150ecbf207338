// The byte toolkit: the one definition of byte-string order, key successors and the growable
// buffer every encoder in the project builds on (KV frames, key encodings, value encodings, the
// Postgres wire outbox). Shared by the storage node and the Workers, so it imports only
// common/errors.ts and runs in both runtimes.
//
// Order: unsigned bytes, and a prefix sorts before its extensions — the order LMDB and the storage
// node keep keys in. Every span check, key sort and bytea comparison uses `compareBytes`.

import { PgError } from "./errors.ts";

/** Negative, zero or positive as `a` sorts before, with or after `b`. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The immediate successor of `key` in byte order (`key` followed by 0x00): [key, keyNext(key)) spans exactly `key`. */
export function keyNext(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

/**
 * The smallest key greater than every key that starts with `prefix`: drop trailing 0xff bytes and
 * increment the last remaining one. A prefix of only 0xff bytes (or the empty prefix) has no such
 * key: that is a programmer error (every Warren key starts with a tenant prefix, which has an
 * end), so it throws XX000 rather than returning a value every caller would have to check.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) throw new PgError("internal_error", "prefixEnd: prefix has no upper bound");
  const out = prefix.slice(0, end);
  out[end - 1]! += 1;
  return out;
}

/** The half-open span of every key starting with `prefix`. */
export function prefixSpan(prefix: Uint8Array): { start: Uint8Array; end: Uint8Array } {
  return { start: prefix, end: prefixEnd(prefix) };
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A string whose JavaScript ordering equals the byte ordering of `key` (one UTF-16 unit per byte),
 * so keys can live in Maps and be sorted with the fast native string comparison.
 */
export function keyString(key: Uint8Array): string {
  // Keys are short (tens of bytes): a plain loop beats spreading into fromCharCode by ~5x.
  if (key.length <= 256) {
    let s = "";
    for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!);
    return s;
  }
  let s = "";
  for (let i = 0; i < key.length; i += 4096) {
    s += String.fromCharCode.apply(null, key.subarray(i, Math.min(key.length, i + 4096)) as unknown as number[]);
  }
  return s;
}

/** The inverse of `keyString`. */
export function keyFromString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

const utf8 = new TextEncoder();

/**
 * A growable byte buffer: appends grow it by doubling, so building a message of n bytes costs
 * O(n) copying in all. Multi-byte integers are big-endian (network order, and the order that makes
 * unsigned fixed-width integers sort bytewise). Encoders extend it with their own formats.
 *
 * `buf` and `len` are protected so a subclass can write in place after `ensure(n)` (varints,
 * `TextEncoder.encodeInto`) without a method call per byte. The DataView for multi-byte integers
 * is made on first use: most key writers never need one, and they are made per key.
 */
export class ByteWriter {
  protected buf: Uint8Array;
  protected len = 0;
  private dataView: DataView | null = null;

  constructor(initialBytes = 64) {
    this.buf = new Uint8Array(Math.max(1, initialBytes));
  }

  /** A DataView over the current buffer (a new one after the buffer grows). */
  protected get view(): DataView {
    if (this.dataView === null) this.dataView = new DataView(this.buf.buffer);
    return this.dataView;
  }

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  /** Makes room for `extra` more bytes after the ones written. */
  protected ensure(extra: number): void {
    const need = this.len + extra;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.dataView = null;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  int16(v: number): void {
    this.ensure(2);
    this.view.setInt16(this.len, v, false);
    this.len += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.len, v, false);
    this.len += 4;
  }

  uint32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.len, v, false);
    this.len += 4;
  }

  uint64(v: bigint): void {
    this.ensure(8);
    this.view.setBigUint64(this.len, v, false);
    this.len += 8;
  }

  /**
   * Unsigned LEB128: seven bits a byte, low group first, high bit set on every byte but the last.
   * Numbers take a BigInt-free path (callers check they are non-negative safe integers).
   */
  uvarint(v: number | bigint): void {
    if (typeof v === "number") {
      this.ensure(8);
      while (v >= 0x80) {
        this.buf[this.len++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.buf[this.len++] = v;
      return;
    }
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  /** `s` as UTF-8, no length and no terminator; returns the number of bytes written. */
  utf8(s: string): number {
    // encodeInto needs room for the worst case (3 bytes per UTF-16 unit).
    this.ensure(s.length * 3);
    const { written } = utf8.encodeInto(s, this.buf.subarray(this.len));
    this.len += written;
    return written;
  }

  /** Overwrites an Int32 written earlier (a length known only after the bytes that follow it). */
  patchInt32(at: number, v: number): void {
    this.view.setInt32(at, v, false);
  }

  /** Overwrites a Uint32 written earlier (a frame's length, known once its payload is written). */
  patchUint32(at: number, v: number): void {
    this.view.setUint32(at, v, false);
  }

  /**
   * The bytes written so far, without a copy, and a fresh buffer of `nextBytes` to go on with: for
   * an outbox that hands what it gathered to a socket (which keeps the bytes until they are sent)
   * and keeps writing.
   */
  handOff(nextBytes: number): Uint8Array {
    const out = this.buf.subarray(0, this.len);
    this.buf = new Uint8Array(Math.max(1, nextBytes));
    this.len = 0;
    this.dataView = null;
    return out;
  }

  /** Complements bytes [from, length): turns an ascending key encoding into a descending one. */
  invertFrom(from: number): void {
    for (let i = from; i < this.len; i++) this.buf[i] = ~this.buf[i]! & 0xff;
  }

  /** A copy of the bytes written so far; the writer stays usable. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }

  /**
   * The bytes written so far without a copy when the buffer is exactly full (a writer pre-sized to
   * its message), else a copy. The writer must not be written to afterwards.
   */
  finishOwned(): Uint8Array {
    return this.len === this.buf.length ? this.buf : this.buf.slice(0, this.len);
  }

  /** Forgets everything written; a buffer grown past `keepBytesMax` is dropped for a fresh one. */
  reset(keepBytesMax: number, initialBytes: number): void {
    this.len = 0;
    if (this.buf.length > keepBytesMax) {
      this.buf = new Uint8Array(Math.max(1, initialBytes));
      this.dataView = null;
    }
  }
}
