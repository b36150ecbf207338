// Compact encoding of a row's non-key columns (the KV value), kept apart from key encodings as
// CockroachDB keeps rowenc/valueside apart from keyside: values need not sort, only be small and
// survive schema changes.
//
//   row    := entry*                       entries in increasing column id; NULL columns omitted
//   entry  := uvarint((idDelta << 4) | tag) payload
//
// The id is a delta from the previous entry's id, so small and dense ids cost one byte with the
// tag. The tag says how long the payload is without knowing the column's type, so a reader skips
// columns it does not ask for (dropped columns) and reports NULL for ids absent from the row
// (columns added after the row was written): ADD COLUMN and DROP COLUMN rewrite no rows.
//
//   tag  payload
//   1    zigzag varint                     int2, int4, int8, oid, date (±infinity as int32 min/max),
//                                          time (microseconds of the day)
//   2    8-byte IEEE big-endian            float4, float8 (-0 and NaN kept)
//   3    uvarint length + UTF-8            text, varchar, bpchar, name, "char", json
//   4    uvarint length + bytes            bytea
//   5    (none)                            bool true
//   6    (none)                            bool false
//   7    uvarint length + numeric text     numeric, keeping its display scale (1.50)
//   8    zigzag varint                     timestamp, timestamptz (microseconds since 1970)
//   9    3 zigzag varints                  interval months, days, micros
//   10   16 bytes                          uuid
//   11   uvarint length + jsonb text       jsonb (normalized text, re-parsed on read)
//   13   2 zigzag varints                  timetz: microseconds of the day, UTC offset seconds east
//   12   uvarint length + array body       arrays: uvarint count, then per element a tag
//                                          (0 = NULL) and its payload
//
// Varints are LEB128 over bigint, so no width limit applies (timestamps ±infinity exceed int64
// when counted from 1970).

import { ByteWriter } from "../../../../common/bytes.ts";
import { PgError } from "../../../../common/errors.ts";
import { interval, Jsonb, TimeTz, type Datum, type Interval } from "./datum.ts";
import { formatJsonb, parseJsonb } from "./json.ts";
import { Numeric } from "./numeric.ts";
import { uuidFromBytes, uuidToBytes } from "./scalar-text.ts";
import { Oid, formatType, physicalOid, type SqlType } from "./type.ts";

const TAG_INT = 1;
const TAG_FLOAT = 2;
const TAG_STRING = 3;
const TAG_BYTES = 4;
const TAG_TRUE = 5;
const TAG_FALSE = 6;
const TAG_NUMERIC = 7;
const TAG_TIMESTAMP = 8;
const TAG_INTERVAL = 9;
const TAG_UUID = 10;
const TAG_JSONB = 11;
const TAG_ARRAY = 12;
const TAG_TIMETZ = 13;
const TAG_BITS = 4n;
/** 2 ** TAG_BITS, for headers built as numbers. */
const TAG_SCALE = 16;

const DATE_NOBEGIN = -2147483648;
const DATE_NOEND = 2147483647;

const utf8Encoder = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8Decoder = {
  decode(bytes: Uint8Array): string {
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw corrupt("invalid UTF-8");
    }
  },
};

export interface ValueColumn {
  /** The column's stable id in its table descriptor (never reused). */
  readonly id: number;
  readonly type: SqlType;
}

/** Bytes of the unsigned LEB128 varint of n (a non-negative safe integer). */
function varintBytes(n: number): number {
  let b = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    b++;
  }
  return b;
}

/** Value bytes: the common growable writer plus the zigzag varint of signed integers. */
class Writer extends ByteWriter {
  /** Empties the writer for reuse, dropping a buffer grown past `keepBytesMax`. */
  restart(keepBytesMax: number): void {
    this.len = 0;
    if (this.buf.length > keepBytesMax) this.buf = new Uint8Array(256);
  }

  zigzag(v: bigint | number): void {
    // Fast path for small numbers (most ints and dates) without BigInt allocation.
    if (typeof v === "number" && v >= -0x3fffffff && v <= 0x3fffffff) {
      let z = v >= 0 ? v * 2 : -v * 2 - 1;
      while (z >= 0x80) {
        this.byte((z & 0x7f) | 0x80);
        z = Math.floor(z / 128);
      }
      this.byte(z);
      return;
    }
    const x = BigInt(v);
    this.uvarint(x >= 0n ? x << 1n : (-x << 1n) - 1n);
  }

  /**
   * `s` as UTF-8 behind its byte length, encoded in place (no intermediate array per value: a
   * COPY of a million rows stores a million strings). Room is made for the longest length prefix
   * the worst case could need; when the real length needs fewer prefix bytes the text moves down.
   */
  utf8Prefixed(s: string): void {
    const maxBytes = s.length * 3;
    const room = varintBytes(maxBytes);
    this.ensure(room + maxBytes + 8); // + 8: uvarint below ensures 8 more, which must not regrow the buffer
    const at = this.len;
    const { written } = utf8Encoder.encodeInto(s, this.buf.subarray(at + room));
    const need = varintBytes(written);
    if (need < room) this.buf.copyWithin(at + need, at + room, at + room + written);
    this.uvarint(written);
    this.len = at + need + written;
  }

  lengthPrefixed(bytes: Uint8Array): void {
    this.uvarint(bytes.length);
    this.bytes(bytes);
  }
}

class Reader {
  pos = 0;
  private readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  byte(): number {
    const b = this.buf[this.pos];
    if (b === undefined) throw corrupt("unexpected end of row value");
    this.pos++;
    return b;
  }

  uvarint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 700n) throw corrupt("varint too long");
    }
  }

  smallUvarint(): number {
    const v = this.uvarint();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw corrupt("length out of range");
    return Number(v);
  }

  zigzag(): bigint {
    const z = this.uvarint();
    return z & 1n ? -((z + 1n) >> 1n) : z >> 1n;
  }

  take(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw corrupt("value runs past the end of the row");
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  lengthPrefixed(): Uint8Array {
    return this.take(this.smallUvarint());
  }
}

function corrupt(what: string): PgError {
  return new PgError("data_corrupted", `corrupt row value: ${what}`);
}

const floatBuf = new DataView(new ArrayBuffer(8));

/** Writes the tag and payload of one non-null datum; returns nothing, appends to w. */
function writeTagged(w: Writer, d: Exclude<Datum, null>, t: SqlType, header: (tag: number) => void): void {
  if (t.elem !== undefined) {
    header(TAG_ARRAY);
    const body = new Writer();
    const elems = d as readonly Datum[];
    body.uvarint(elems.length);
    for (const e of elems) {
      if (e === null) body.byte(0);
      else writeTagged(body, e, t.elem, (tag) => body.byte(tag));
    }
    w.lengthPrefixed(body.finish());
    return;
  }
  if (t.enum !== undefined) {
    // An enum value is stored as its label (ALTER TYPE … RENAME VALUE is therefore refused).
    header(TAG_STRING);
    return w.lengthPrefixed(utf8Encoder.encode(d as string));
  }
  switch (physicalOid(t.oid)) {
    case Oid.bool:
      return header(d ? TAG_TRUE : TAG_FALSE);
    case Oid.int2:
    case Oid.int4:
    case Oid.int8:
    case Oid.oid:
    case Oid.time:
      header(TAG_INT);
      return w.zigzag(d as number | bigint);
    case Oid.timetz:
      header(TAG_TIMETZ);
      w.zigzag((d as TimeTz).micros);
      return w.zigzag((d as TimeTz).offsetSeconds);
    case Oid.date: {
      const days = d as number;
      header(TAG_INT);
      return w.zigzag(days === Infinity ? DATE_NOEND : days === -Infinity ? DATE_NOBEGIN : days);
    }
    case Oid.float4:
    case Oid.float8:
      header(TAG_FLOAT);
      floatBuf.setFloat64(0, d as number);
      for (let i = 0; i < 8; i++) w.byte(floatBuf.getUint8(i));
      return;
    case Oid.numeric:
      header(TAG_NUMERIC);
      return w.lengthPrefixed(utf8Encoder.encode((d as Numeric).toString()));
    case Oid.timestamp:
    case Oid.timestamptz:
      header(TAG_TIMESTAMP);
      return w.zigzag(d as bigint);
    case Oid.interval: {
      const iv = d as Interval;
      header(TAG_INTERVAL);
      w.zigzag(iv.months);
      w.zigzag(iv.days);
      return w.zigzag(iv.micros);
    }
    case Oid.uuid:
      header(TAG_UUID);
      return w.bytes(uuidToBytes(d as string));
    case Oid.bytea:
      header(TAG_BYTES);
      return w.lengthPrefixed(d as Uint8Array);
    case Oid.jsonb:
      header(TAG_JSONB);
      return w.lengthPrefixed(utf8Encoder.encode(formatJsonb(d as Jsonb)));
    case Oid.text:
    case Oid.varchar:
    case Oid.bpchar:
    case Oid.name:
    case Oid.char:
    case Oid.json:
    case Oid.unknown:
      header(TAG_STRING);
      return w.utf8Prefixed(d as string);
    default:
      throw new PgError("feature_not_supported", `values of type ${formatType(t)} cannot be stored`);
  }
}

/** Reads the payload for `tag` as a datum of type t. */
function readTagged(r: Reader, tag: number, t: SqlType): Datum {
  const mismatch = (): PgError => corrupt(`tag ${tag} does not hold a value of type ${formatType(t)}`);
  if (t.elem !== undefined) {
    if (tag !== TAG_ARRAY) throw mismatch();
    const body = new Reader(r.lengthPrefixed());
    const n = body.smallUvarint();
    const out: Datum[] = [];
    for (let i = 0; i < n; i++) {
      const et = body.byte();
      out.push(et === 0 ? null : readTagged(body, et, t.elem));
    }
    return out;
  }
  switch (tag) {
    case TAG_TRUE:
    case TAG_FALSE:
      if (t.oid !== Oid.bool) throw mismatch();
      return tag === TAG_TRUE;
    case TAG_INT: {
      const v = r.zigzag();
      if (t.oid === Oid.int8 || t.oid === Oid.time) return v;
      if (t.oid === Oid.date) {
        const days = Number(v);
        return days === DATE_NOEND ? Infinity : days === DATE_NOBEGIN ? -Infinity : days;
      }
      if (t.oid === Oid.int2 || t.oid === Oid.int4 || physicalOid(t.oid) === Oid.oid) return Number(v);
      throw mismatch();
    }
    case TAG_FLOAT: {
      if (t.oid !== Oid.float4 && t.oid !== Oid.float8) throw mismatch();
      const bytes = r.take(8);
      for (let i = 0; i < 8; i++) floatBuf.setUint8(i, bytes[i]!);
      return floatBuf.getFloat64(0);
    }
    case TAG_NUMERIC:
      if (t.oid !== Oid.numeric) throw mismatch();
      try {
        return Numeric.parse(utf8Decoder.decode(r.lengthPrefixed()));
      } catch (e) {
        if (e instanceof PgError && e.code === "XX001") throw e;
        throw corrupt("bad numeric text");
      }
    case TAG_TIMESTAMP:
      if (t.oid !== Oid.timestamp && t.oid !== Oid.timestamptz) throw mismatch();
      return r.zigzag();
    case TAG_TIMETZ: {
      if (t.oid !== Oid.timetz) throw mismatch();
      const micros = r.zigzag();
      return new TimeTz(micros, Number(r.zigzag()));
    }
    case TAG_INTERVAL: {
      if (t.oid !== Oid.interval) throw mismatch();
      const months = Number(r.zigzag());
      const days = Number(r.zigzag());
      return interval(months, days, r.zigzag());
    }
    case TAG_UUID:
      if (t.oid !== Oid.uuid) throw mismatch();
      return uuidFromBytes(r.take(16));
    case TAG_BYTES:
      if (t.oid !== Oid.bytea) throw mismatch();
      return r.lengthPrefixed().slice();
    case TAG_JSONB:
      if (t.oid !== Oid.jsonb) throw mismatch();
      try {
        return parseJsonb(utf8Decoder.decode(r.lengthPrefixed()));
      } catch (e) {
        if (e instanceof PgError && e.code === "XX001") throw e;
        throw corrupt("bad jsonb text");
      }
    case TAG_STRING:
      return utf8Decoder.decode(r.lengthPrefixed());
    default:
      throw corrupt(`unknown tag ${tag}`);
  }
}

/** Skips one payload without knowing its type. */
function skipTagged(r: Reader, tag: number): void {
  switch (tag) {
    case TAG_TRUE:
    case TAG_FALSE:
      return;
    case TAG_INT:
    case TAG_TIMESTAMP:
      r.uvarint();
      return;
    case TAG_FLOAT:
      r.take(8);
      return;
    case TAG_INTERVAL:
      r.uvarint();
      r.uvarint();
      r.uvarint();
      return;
    case TAG_UUID:
      r.take(16);
      return;
    case TAG_STRING:
    case TAG_BYTES:
    case TAG_NUMERIC:
    case TAG_JSONB:
    case TAG_ARRAY:
      r.lengthPrefixed();
      return;
    default:
      throw corrupt(`unknown tag ${tag}`);
  }
}

/** Room for a typical row at once (pgbench_accounts' rows are ~100 bytes), not 64 bytes doubled. */
const rowWriter = new Writer(256);
const rowWriterKeepBytesMax = 64 * 1024;

/**
 * Encodes a row's values: `values[i]` belongs to `cols[i]`; `cols` must be in increasing id order
 * (an internal error otherwise). NULLs are omitted.
 */
export function encodeRowValue(cols: readonly ValueColumn[], values: readonly Datum[]): Uint8Array {
  if (cols.length !== values.length) throw new PgError("internal_error", `row value has ${values.length} values for ${cols.length} columns`);
  // One writer for every row (this function never runs inside itself): the value is copied out by
  // finish(), so a row costs one allocation, not a 256-byte buffer too (a COPY of a million rows
  // made a million of them for the collector). A buffer a huge row grew is not kept.
  const w = rowWriter;
  w.restart(rowWriterKeepBytesMax);
  let prevId = 0;
  for (let i = 0; i < cols.length; i++) {
    const col = cols[i]!;
    if (col.id <= prevId && i > 0) throw new PgError("internal_error", `row value columns out of order at id ${col.id}`);
    const v = values[i]!;
    if (v === null) continue;
    // The header (id delta, tag) as a number: column ids are small, so no BigInt per value.
    const delta = (col.id - prevId) * TAG_SCALE;
    writeTagged(w, v, col.type, (tag) => w.uvarint(delta + tag));
    prevId = col.id;
  }
  return w.finish();
}

/**
 * Decodes the columns asked for (`cols` in increasing id order) into one slot each: NULL for ids
 * the row does not hold; entries for other ids (dropped columns) are skipped.
 */
export function decodeRowValue(bytes: Uint8Array, cols: readonly ValueColumn[]): Datum[] {
  const out: Datum[] = new Array<Datum>(cols.length).fill(null);
  const r = new Reader(bytes);
  let id = 0;
  let ci = 0;
  while (!r.done) {
    const header = r.uvarint();
    id += Number(header >> TAG_BITS);
    const tag = Number(header & 0xfn);
    while (ci < cols.length && cols[ci]!.id < id) ci++;
    if (ci < cols.length && cols[ci]!.id === id) out[ci] = readTagged(r, tag, cols[ci]!.type);
    else skipTagged(r, tag);
  }
  return out;
}

/** The column ids present (non-NULL) in an encoded row, in order. */
export function rowValueColumnIds(bytes: Uint8Array): number[] {
  const r = new Reader(bytes);
  const ids: number[] = [];
  let id = 0;
  while (!r.done) {
    const header = r.uvarint();
    id += Number(header >> TAG_BITS);
    skipTagged(r, Number(header & 0xfn));
    ids.push(id);
  }
  return ids;
}
