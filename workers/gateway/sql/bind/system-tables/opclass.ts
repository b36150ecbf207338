// pg_opclass (the default btree operator classes of the types an index key may have, with
// PostgreSQL 15's OIDs, names and families) and pg_stat_user_indexes (one row per user index;
// Warren keeps no scan statistics, so idx_scan and the tuple counts are 0). drizzle-kit's
// introspection joins pg_index.indclass to pg_opclass to learn each index column's operator class.
import { PG_CATALOG_SCHEMA_ID } from "../../../catalog/descriptors.ts";
import { BOOTSTRAP_SUPERUSER_OID, indexOid, namespaceOid, relationOid } from "../../../catalog/oids.ts";
import type { Datum } from "../../types/datum.ts";
import { Oid, physicalOid, type SqlType } from "../../types/type.ts";
import { B, I8, N, O, indexName, schemaName, table, tables, userIndexes, type SystemContext, type SystemTable } from "./context.ts";

/** pg_am.oid of btree. */
const BTREE_AM_OID = 403;

// [oid, opcname, opcintype, opcfamily, opckeytype] from PostgreSQL 15 (btree, opcdefault).
const BTREE_DEFAULT_OPCLASSES: ReadonlyArray<readonly [number, string, number, number, number]> = [
  [1978, "int4_ops", Oid.int4, 1976, 0],
  [1979, "int2_ops", Oid.int2, 1976, 0],
  [1981, "oid_ops", Oid.oid, 1989, 0],
  [3122, "date_ops", Oid.date, 434, 0],
  [3123, "float8_ops", Oid.float8, 1970, 0],
  [3124, "int8_ops", Oid.int8, 1976, 0],
  [3125, "numeric_ops", Oid.numeric, 1988, 0],
  [3126, "text_ops", Oid.text, 1994, 0],
  [3127, "timestamptz_ops", Oid.timestamptz, 434, 0],
  [3128, "timestamp_ops", Oid.timestamp, 434, 0],
  [10000, "array_ops", 2277, 397, 0],
  [10003, "bool_ops", Oid.bool, 424, 0],
  [10004, "bpchar_ops", Oid.bpchar, 426, 0],
  [10006, "bytea_ops", Oid.bytea, 428, 0],
  [10007, "char_ops", Oid.char, 429, 0],
  [10012, "float4_ops", Oid.float4, 1970, 0],
  [10022, "interval_ops", Oid.interval, 1982, 0],
  [10028, "name_ops", Oid.name, 1994, 2275],
  [10038, "time_ops", Oid.time, 1996, 0],
  [10041, "timetz_ops", Oid.timetz, 2000, 0],
  [10065, "uuid_ops", Oid.uuid, 2968, 0],
  [10069, "enum_ops", 3500, 3522, 0],
  [10088, "jsonb_ops", Oid.jsonb, 4033, 0],
];

const OPCLASS_BY_TYPE = new Map<number, number>(BTREE_DEFAULT_OPCLASSES.map(([oid, , intype]) => [intype, oid]));
const ANYENUM_OID = 3500;

/**
 * The default btree operator class an index column of type `t` gets (pg_index.indclass):
 * varchar uses text_ops, as in Postgres; enums enum_ops; reg* types oid_ops. 0 when none.
 */
export function defaultBtreeOpclass(t: SqlType): number {
  if (t.enum !== undefined) return OPCLASS_BY_TYPE.get(ANYENUM_OID)!;
  if (t.oid === Oid.varchar) return OPCLASS_BY_TYPE.get(Oid.text)!;
  return OPCLASS_BY_TYPE.get(physicalOid(t.oid)) ?? 0;
}

export function pgOpclass(): SystemTable {
  const ns = namespaceOid(PG_CATALOG_SCHEMA_ID);
  return table(
    [["oid", O], ["opcmethod", O], ["opcname", N], ["opcnamespace", O], ["opcowner", O], ["opcfamily", O], ["opcintype", O], ["opcdefault", B], ["opckeytype", O]],
    BTREE_DEFAULT_OPCLASSES.map(([oid, name, intype, family, keytype]) => [oid, BTREE_AM_OID, name, ns, BOOTSTRAP_SUPERUSER_OID, family, intype, true, keytype]),
  );
}

export function pgStatUserIndexes(x: SystemContext): SystemTable {
  const rows: Datum[][] = [];
  for (const t of tables(x.catalog)) {
    for (const ix of userIndexes(t)) rows.push([relationOid(t.id), indexOid(t.id, ix.id), schemaName(x, t.schemaId), t.name, indexName(t, ix), 0n, 0n, 0n]);
  }
  return table(
    [["relid", O], ["indexrelid", O], ["schemaname", N], ["relname", N], ["indexrelname", N], ["idx_scan", I8], ["idx_tup_read", I8], ["idx_tup_fetch", I8]],
    rows,
  );
}
