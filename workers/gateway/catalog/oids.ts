// Object identifiers clients see (pg_class.oid, RowDescription's table OID, regclass). Postgres
// numbers user objects from 16384 (FirstNormalObjectId); descriptor ids map into that range.
//
// Objects that belong to a descriptor (a table's indexes and constraints, an enum's labels) get
// OIDs from a block of SUB_OIDS_PER_DESCRIPTOR numbers owned by that descriptor, above every
// relation OID. Blocks never overlap because descriptor ids are unique, and the last block (the
// highest temporary id, keys/doc.ts) still ends below 2^32, Postgres's oid being 32-bit unsigned:
//   relations    16,384 + id                         id < TEMP_TABLE_ID_END (2.25 M)
//   sub-objects  10,000,000 + id × 1,900 + slot       slot 0–899 indexes (by index id),
//                                                     slot 900–1,899 constraints (in order),
//                                                     slot 0–999 enum labels (enums have no others)
// A table may therefore create index ids up to INDEX_ID_MAX over its life and hold at most
// CONSTRAINTS_PER_TABLE_MAX constraints (sql/limits.ts names both, checked by every schema change).
// Before this layout, index OIDs (1e9 + id × 1000) of temporary tables ran into the constraint and
// enum label block at 3e9, and that block ran past 2^32 for high ids.

export const FIRST_NORMAL_OID = 16384;
const SUB_OID_BASE = 10_000_000;
const SUB_OIDS_PER_DESCRIPTOR = 1900;
/** The highest index id a table may use (index ids are never reused; PRIMARY_INDEX_ID is 1). */
export const INDEX_ID_MAX = 899;
const CONSTRAINT_SLOT_BASE = INDEX_ID_MAX + 1;
/** Constraints one table may hold (primary key, unique, check, foreign key together). */
export const CONSTRAINTS_PER_TABLE_MAX = SUB_OIDS_PER_DESCRIPTOR - CONSTRAINT_SLOT_BASE;
/** Labels one enum may hold. */
export const ENUM_LABELS_MAX = 1000;

export const BOOTSTRAP_SUPERUSER_OID = 10;
export const DATABASE_OID = 5;

export function relationOid(descId: number): number {
  return FIRST_NORMAL_OID + descId;
}

function subOid(descId: number, slot: number): number {
  return SUB_OID_BASE + descId * SUB_OIDS_PER_DESCRIPTOR + slot;
}

export function indexOid(tableId: number, indexId: number): number {
  return subOid(tableId, indexId);
}

/** pg_constraint.oid of the table's constraint number `n` (in the order pg_constraint lists them). */
export function constraintOid(tableId: number, n: number): number {
  return subOid(tableId, CONSTRAINT_SLOT_BASE + n);
}

/** The descriptor id of a relation OID (null when it is not one of ours). */
export function descIdOfOid(oid: number): number | null {
  if (oid >= FIRST_NORMAL_OID && oid < SUB_OID_BASE) return oid - FIRST_NORMAL_OID;
  return null;
}

/** [tableId, indexId] of an index OID, or null. */
export function indexOfOid(oid: number): [number, number] | null {
  if (oid < SUB_OID_BASE) return null;
  const rest = oid - SUB_OID_BASE;
  const slot = rest % SUB_OIDS_PER_DESCRIPTOR;
  return slot <= INDEX_ID_MAX ? [Math.floor(rest / SUB_OIDS_PER_DESCRIPTOR), slot] : null;
}

/** pg_enum.oid of label number `i` (declaration order) of the enum type with descriptor id `typeId`. */
export function enumLabelOid(typeId: number, i: number): number {
  return subOid(typeId, i);
}

/** Schemas: builtin ones keep Postgres's OIDs (pg_catalog 11, public 2200, information_schema ~13000). */
export function namespaceOid(schemaId: number): number {
  if (schemaId === 11) return 11;
  if (schemaId === 2) return 2200;
  if (schemaId === 12) return 13000;
  return FIRST_NORMAL_OID + schemaId;
}
