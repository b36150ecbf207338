// Where the catalog and the tables live inside a tenant's keyspace: the layout documented in
// keys/doc.ts (owned by the types layer), plus the catalog version key this engine adds:
//
//   /DESCRIPTOR_TABLE_ID/1/<desc id>         descriptor (JSON)
//   /DESC_ID_GEN_TABLE_ID/1                  next descriptor id (u64), allocated transactionally
//   /SETTINGS_TABLE_ID/1/"catalog.version"   catalog version (u64), bumped by every DDL transaction
//   /<sequence data id>/1                    sequence value (i64)
//   /<table data id>/<index>/<key columns…>  rows (index 1) and secondary index entries
//
// A table's (or sequence's) data id is its descriptor id until TRUNCATE or a rewrite gives it a
// fresh one (descriptors.ts dataIdOf); the old span is then cleared whole by the storage node.
import {
  descriptorIdGeneratorKey,
  descriptorKey,
  DESCRIPTOR_TABLE_ID,
  PRIMARY_INDEX_ID,
  sequenceValueKey,
  SETTINGS_TABLE_ID,
  tableIndexPrefix,
  tablePrefix,
  tempSpan,
} from "../keys/doc.ts";
import { encodeStringAscending, KeyWriter } from "../keys/encoding.ts";

export class Keyspace {
  readonly tenantId: number;
  private readonly versionKeyBytes: Uint8Array;
  private readonly descriptorsPrefixBytes: Uint8Array;

  constructor(tenantId: number) {
    this.tenantId = tenantId;
    const w = new KeyWriter();
    w.bytes(tableIndexPrefix(tenantId, SETTINGS_TABLE_ID, PRIMARY_INDEX_ID));
    encodeStringAscending(w, "catalog.version");
    this.versionKeyBytes = w.finish();
    this.descriptorsPrefixBytes = tableIndexPrefix(tenantId, DESCRIPTOR_TABLE_ID, PRIMARY_INDEX_ID);
  }

  /** Prefix of every key of one index of one table. */
  indexPrefix(tableId: number, indexId: number): Uint8Array {
    return tableIndexPrefix(this.tenantId, tableId, indexId);
  }

  tablePrefix(tableId: number): Uint8Array {
    return tablePrefix(this.tenantId, tableId);
  }

  descriptorKey(id: number): Uint8Array {
    return descriptorKey(this.tenantId, id);
  }

  descriptorsPrefix(): Uint8Array {
    return this.descriptorsPrefixBytes;
  }

  versionKey(): Uint8Array {
    return this.versionKeyBytes;
  }

  nextIdKey(): Uint8Array {
    return descriptorIdGeneratorKey(this.tenantId);
  }

  sequenceKey(id: number): Uint8Array {
    return sequenceValueKey(this.tenantId, id);
  }

  /** Every key of temporary objects: served from the session's memory, never stored. */
  tempSpan(): { start: Uint8Array; end: Uint8Array } {
    return tempSpan(this.tenantId);
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
