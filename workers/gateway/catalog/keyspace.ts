// Where the catalog and the tables live inside a tenant's keyspace:
//
//   tenant prefix (9 bytes) / table id / index id / key columns…
//
//   /1/1/<desc id>        descriptor (JSON)            system table 1 "descriptors"
//   /1/2/0                catalog version (u64)         bumped by every DDL transaction
//   /1/2/1                next descriptor id (u64)      allocated transactionally
//   /2/1/<sequence id>    sequence value (i64)
//   /<table ≥ 100>/<index>/<key columns…>             rows (index 1) and secondary index entries
//
// Ids use an order-preserving unsigned varint so that the whole keyspace sorts by table, then index.
import { tenantPrefix } from "../../../common/tenant-prefix.ts";
import { concatBytes } from "../kv/bytes.ts";

export const DESCRIPTOR_TABLE_ID = 1;
export const META_TABLE_ID = 1;
export const DESCRIPTORS_INDEX = 1;
export const META_INDEX = 2;
export const SEQUENCE_TABLE_ID = 2;
export const SEQUENCE_INDEX = 1;
export const META_VERSION = 0;
export const META_NEXT_ID = 1;

const SMALL_MAX = 0x6f;

/** Ascending order-preserving unsigned varint: one byte below 112, else 0xF0+n then n big-endian bytes. */
export function encodeUvarint(v: number): Uint8Array {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`id ${v} is not a non-negative safe integer`);
  if (v <= SMALL_MAX) return Uint8Array.of(0x80 + v);
  const bytes: number[] = [];
  let x = v;
  while (x > 0) {
    bytes.unshift(x % 256);
    x = Math.floor(x / 256);
  }
  return Uint8Array.of(0xf0 + bytes.length, ...bytes);
}

/** Decodes an id at `offset`; returns the value and the offset after it. */
export function decodeUvarint(b: Uint8Array, offset: number): [number, number] {
  const first = b[offset]!;
  if (first < 0xf0) return [first - 0x80, offset + 1];
  const n = first - 0xf0;
  let v = 0;
  for (let i = 1; i <= n; i++) v = v * 256 + b[offset + i]!;
  return [v, offset + 1 + n];
}

export class Keyspace {
  readonly prefix: Uint8Array;
  constructor(tenantId: number) {
    this.prefix = tenantPrefix(tenantId);
  }

  /** Prefix of every key of one index of one table. */
  indexPrefix(tableId: number, indexId: number): Uint8Array {
    return concatBytes([this.prefix, encodeUvarint(tableId), encodeUvarint(indexId)]);
  }

  tablePrefix(tableId: number): Uint8Array {
    return concatBytes([this.prefix, encodeUvarint(tableId)]);
  }

  descriptorKey(id: number): Uint8Array {
    return concatBytes([this.indexPrefix(DESCRIPTOR_TABLE_ID, DESCRIPTORS_INDEX), encodeUvarint(id)]);
  }

  descriptorsPrefix(): Uint8Array {
    return this.indexPrefix(DESCRIPTOR_TABLE_ID, DESCRIPTORS_INDEX);
  }

  versionKey(): Uint8Array {
    return concatBytes([this.indexPrefix(META_TABLE_ID, META_INDEX), encodeUvarint(META_VERSION)]);
  }

  nextIdKey(): Uint8Array {
    return concatBytes([this.indexPrefix(META_TABLE_ID, META_INDEX), encodeUvarint(META_NEXT_ID)]);
  }

  sequenceKey(id: number): Uint8Array {
    return concatBytes([this.indexPrefix(SEQUENCE_TABLE_ID, SEQUENCE_INDEX), encodeUvarint(id)]);
  }
}

export function encodeU64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, false);
  return out;
}

export function decodeU64(b: Uint8Array | null): bigint {
  if (b === null || b.length !== 8) return 0n;
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
}

export function encodeI64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, v, false);
  return out;
}

export function decodeI64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, false);
}
