// Object identifiers clients see (pg_class.oid, RowDescription's table OID, regclass). Postgres
// numbers user objects from 16384 (FirstNormalObjectId); descriptor ids map into that range, and
// index OIDs into a separate range so they never collide with a relation's.

export const FIRST_NORMAL_OID = 16384;
const INDEX_OID_BASE = 1_000_000_000;
const INDEXES_PER_TABLE = 1000;

export const BOOTSTRAP_SUPERUSER_OID = 10;
export const DATABASE_OID = 5;

export function relationOid(descId: number): number {
  return FIRST_NORMAL_OID + descId;
}

export function indexOid(tableId: number, indexId: number): number {
  return INDEX_OID_BASE + tableId * INDEXES_PER_TABLE + indexId;
}

/** The descriptor id of a relation OID (null when it is not one of ours). */
export function descIdOfOid(oid: number): number | null {
  if (oid >= FIRST_NORMAL_OID && oid < INDEX_OID_BASE) return oid - FIRST_NORMAL_OID;
  return null;
}

/** [tableId, indexId] of an index OID, or null. */
export function indexOfOid(oid: number): [number, number] | null {
  if (oid < INDEX_OID_BASE) return null;
  const rest = oid - INDEX_OID_BASE;
  return [Math.floor(rest / INDEXES_PER_TABLE), rest % INDEXES_PER_TABLE];
}

/** pg_enum.oid blocks: one per enum type, sqlLimits.enumLabelsMax wide, above the index OIDs. */
const ENUM_LABEL_OID_BASE = 3_000_000_000;
const ENUM_LABELS_PER_TYPE = 1000;

/** pg_enum.oid of label number `i` (declaration order) of the enum type with descriptor id `typeId`. */
export function enumLabelOid(typeId: number, i: number): number {
  return ENUM_LABEL_OID_BASE + typeId * ENUM_LABELS_PER_TYPE + i;
}

/** Schemas: builtin ones keep Postgres's OIDs (pg_catalog 11, public 2200, information_schema ~13000). */
export function namespaceOid(schemaId: number): number {
  if (schemaId === 11) return 11;
  if (schemaId === 2) return 2200;
  if (schemaId === 12) return 13000;
  return FIRST_NORMAL_OID + schemaId;
}
