// The keyspace: where every byte of a tenant's data lives.
//
//   ┌─ node-local keys (< 0x74; the storage node's own metadata, unreachable by tenants)
//   │
//   ├─ 0x74 <tenant id: u64 BE>                         tenant prefix (common/tenant-prefix.ts)
//   │    │
//   │    ├─ /0x88+1  DESCRIPTOR_TABLE_ID  /1 /<descriptor id>              → descriptor (catalog)
//   │    ├─ /0x88+2  NAMESPACE_TABLE_ID   /1 /<parent id>/<schema id>/<name> → descriptor id
//   │    ├─ /0x88+3  DESC_ID_GEN_TABLE_ID /1                               → next descriptor id
//   │    ├─ /0x88+4  STATISTICS_TABLE_ID  /1 /<table id>/<column id>…      → table statistics
//   │    ├─ /0x88+5  SETTINGS_TABLE_ID    /1 /<name>                       → tenant settings
//   │    ├─ /0x88+6  HTTP_TXN_END_TABLE_ID /1 /<handle expiry ms>/<txn id>  → "ended" (HTTP transactions)
//   │    │   … system table ids below FIRST_USER_DESCRIPTOR_ID are reserved …
//   │    │
//   │    ├─ /<table id ≥ 100> /<index id> /<key columns…> [/<primary key columns…>]  → row value
//   │    │        │              │
//   │    │        │              └─ PRIMARY_INDEX_ID (1) holds the rows; secondary indexes 2, 3, …
//   │    │        │                 carry the primary key after their own columns when not unique
//   │    │        └─ a sequence is a descriptor id too: /<sequence id>/1 → its current value
//   │    │           (SEQUENCE_INDEX_ID), one key, so nextval() is one read-modify-write
//   │    │
//   │    └─ /<TEMP_TABLE_ID_MIN ≤ id < TEMP_TABLE_ID_END> …   temporary tables, indexes, sequences:
//   │             the same layout, but NEVER stored: the gateway serves this span from the
//   │             session's memory (kv/local-range.ts), each session its own copy of it
//   │
//   └─ 0x74 <tenant id + 1> …                            the next tenant
//
// Ids (table, index, descriptor) are varint-encoded (encoding.ts), which sorts numerically and
// makes small ids one byte. Key columns use sql/rowenc/datum-key.ts, ascending or descending per index
// column. Everything a tenant owns — rows, indexes, catalog, sequences, statistics — sorts inside
// [tenantPrefix(id), tenantPrefix(id + 1)), so dropping a tenant is one range deletion, and
// dropping a table or index is one range deletion of its prefix.

import { PgError } from "../../../common/errors.ts";
import { TENANT_PREFIX_BYTES, tenantOfKey, tenantPrefix } from "../../../common/tenant-prefix.ts";
import { KeyWriter, decodeUvarintAscending, encodeStringAscending, encodeUvarintAscending } from "./encoding.ts";

// System tables inside each tenant's prefix, in key order.
export const DESCRIPTOR_TABLE_ID = 1;
export const NAMESPACE_TABLE_ID = 2;
export const DESC_ID_GEN_TABLE_ID = 3;
export const STATISTICS_TABLE_ID = 4;
export const SETTINGS_TABLE_ID = 5;
/**
 * One key per interactive HTTP transaction that ended (COMMIT or ROLLBACK), so its sealed handle
 * cannot be replayed; ordered by the handle's expiry so expired records are one range deletion
 * (workers/gateway/http/txn-end-record.ts).
 */
export const HTTP_TXN_END_TABLE_ID = 6;
/** Ids below this are reserved for system tables; user tables, indexes' tables and sequences start here. */
export const FIRST_USER_DESCRIPTOR_ID = 100;

/**
 * Descriptor ids of temporary objects (tables, their indexes' tables, sequences, views), allocated
 * per session. Ids of stored descriptors stay below TEMP_TABLE_ID_MIN. Both ranges are bounded by
 * the object identifiers clients see, which are 32-bit (catalog/oids.ts): every descriptor owns
 * a block of 1,900 OIDs for its indexes, constraints or enum labels, starting at 1e7, so
 * descriptor ids must stay under ~2.26 million.
 */
export const TEMP_TABLE_ID_MIN = 2_000_000;
/** One past the last temporary descriptor id: 250,000 temporary objects per session. */
export const TEMP_TABLE_ID_END = 2_250_000;

/** The index that holds a table's rows (and, for system tables, their single index). */
export const PRIMARY_INDEX_ID = 1;
/** A sequence's value lives at /<sequence id>/SEQUENCE_INDEX_ID. */
export const SEQUENCE_INDEX_ID = 1;

/** `/<tenant>/<table id>`: every key of a table, all its indexes. */
export function tablePrefix(tenantId: number, tableId: number): Uint8Array {
  const w = new KeyWriter(TENANT_PREFIX_BYTES + 9);
  w.bytes(tenantPrefix(tenantId));
  encodeUvarintAscending(w, tableId);
  return w.finish();
}

/** `/<tenant>/<table id>/<index id>`: every entry of one index; key columns follow. */
export function tableIndexPrefix(tenantId: number, tableId: number, indexId: number): Uint8Array {
  const w = new KeyWriter(TENANT_PREFIX_BYTES + 18);
  w.bytes(tenantPrefix(tenantId));
  encodeUvarintAscending(w, tableId);
  encodeUvarintAscending(w, indexId);
  return w.finish();
}

/** A KeyWriter already holding tableIndexPrefix, for appending key columns. */
export function indexKeyWriter(tenantId: number, tableId: number, indexId: number): KeyWriter {
  const w = new KeyWriter(64);
  w.bytes(tableIndexPrefix(tenantId, tableId, indexId));
  return w;
}

/** The span of every key of temporary objects (served from session memory, never stored). */
export function tempSpan(tenantId: number): { start: Uint8Array; end: Uint8Array } {
  return { start: tablePrefix(tenantId, TEMP_TABLE_ID_MIN), end: tablePrefix(tenantId, TEMP_TABLE_ID_END) };
}

/** Where a descriptor (table, index, sequence, schema, database) is stored. */
export function descriptorKey(tenantId: number, descriptorId: number): Uint8Array {
  const w = indexKeyWriter(tenantId, DESCRIPTOR_TABLE_ID, PRIMARY_INDEX_ID);
  encodeUvarintAscending(w, descriptorId);
  return w.finish();
}

/** A name in the namespace table: (parent database id, schema id, name) → descriptor id. */
export function namespaceKey(tenantId: number, parentId: number, schemaId: number, name: string): Uint8Array {
  const w = indexKeyWriter(tenantId, NAMESPACE_TABLE_ID, PRIMARY_INDEX_ID);
  encodeUvarintAscending(w, parentId);
  encodeUvarintAscending(w, schemaId);
  encodeStringAscending(w, name);
  return w.finish();
}

/** The counter from which new descriptor ids are allocated. */
export function descriptorIdGeneratorKey(tenantId: number): Uint8Array {
  return tableIndexPrefix(tenantId, DESC_ID_GEN_TABLE_ID, PRIMARY_INDEX_ID);
}

/** A sequence's current value. */
export function sequenceValueKey(tenantId: number, sequenceId: number): Uint8Array {
  return tableIndexPrefix(tenantId, sequenceId, SEQUENCE_INDEX_ID);
}

/** Splits a table key: tenant, table id, index id, and the bytes after them (key columns). */
export function decodeTableIndexKey(key: Uint8Array): { tenantId: number; tableId: number; indexId: number; rest: Uint8Array } {
  const tenantId = tenantOfKey(key);
  if (tenantId === null) throw new PgError("internal_error", "key is outside every tenant's span");
  const [tableId, afterTable] = decodeUvarintAscending(key.subarray(TENANT_PREFIX_BYTES));
  const [indexId, rest] = decodeUvarintAscending(afterTable);
  return { tenantId, tableId, indexId, rest };
}
