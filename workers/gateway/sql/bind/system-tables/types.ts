// pg_type (every type the engine knows, and their array types), pg_collation, pg_enum.
import { PG_CATALOG_SCHEMA_ID } from "../../../catalog/descriptors.ts";
import { BOOTSTRAP_SUPERUSER_OID, enumLabelOid, namespaceOid, relationOid } from "../../../catalog/oids.ts";
import type { Datum } from "../../types/datum.ts";
import { arrayOf, isKnownTypeOid, Oid, type SqlType, typeFromOid, typeInfo } from "../../types/type.ts";
import { B, C, F4, I2, I4, N, O, T, table, type SystemContext, type SystemTable } from "./context.ts";

/** The collations of PostgreSQL 15 a client may name: "default" (100) and "C" (950). */
export const DEFAULT_COLLATION_OID = 100;
export const C_COLLATION_OID = 950;

function typeOids(): number[] {
  const out = new Set<number>();
  for (const oid of Object.values(Oid)) {
    if (!isKnownTypeOid(oid)) continue;
    out.add(oid);
    const arr = typeInfo(oid).arrayOid;
    if (arr !== 0) out.add(arr);
  }
  return [...out].sort((a, b) => a - b);
}

/** pg_type.typcollation: "C" for name, the default collation for the other string types. */
export function typeCollation(oid: number): number {
  if (oid === Oid.name) return C_COLLATION_OID;
  const info = typeInfo(oid);
  return info.category === "S" ? DEFAULT_COLLATION_OID : 0;
}

/** pg_type.typstorage as PostgreSQL 15 has it: plain for fixed width, main for numeric, extended for the other varlena types. */
export function typeStorage(type: SqlType | number): string {
  if ((typeof type === "number" ? type : type.oid) === Oid.numeric) return "m";
  return typeInfo(type).typlen === -1 ? "x" : "p";
}

/** pg_type.typalign: by the type's width (int alignment for varlena types, double for 8-byte ones and timetz's 12). */
export function typeAlign(type: SqlType | number): string {
  const len = typeInfo(type).typlen;
  return len === -1 ? "i" : len === 8 || len === 12 ? "d" : len === 4 ? "i" : len === 2 ? "s" : "c";
}

export function pgType(x: SystemContext): SystemTable {
  // User-defined enum types, as Postgres 15 shows them (typtype e, category E, 4 bytes by value, int
  // alignment, plain storage). They have no array type here (arrays of enums are not supported), so typarray is 0.
  // Domains (typtype d) show their base type's storage, category and collation, as in Postgres.
  const enums: Datum[][] = x.catalog.types().map((d) => {
    const dm = d.domain;
    if (dm === undefined) return [relationOid(d.id), d.name, namespaceOid(d.schemaId), BOOTSTRAP_SUPERUSER_OID, 4, true, "e", "E", false, true, ",", 0, 0, 0, 0, -1, false, 0, 0, null, null, "i", "p"];
    const info = typeInfo(dm.base.oid);
    return [relationOid(d.id), d.name, namespaceOid(d.schemaId), BOOTSTRAP_SUPERUSER_OID, info.typlen, info.typlen > 0 && info.typlen <= 8, "d", info.category, false, true, ",", 0, 0, 0, dm.base.oid, dm.base.typmod, dm.notNull, 0, typeCollation(dm.base.oid), null, null, typeAlign(dm.base.oid), typeStorage(dm.base.oid)];
  });
  return table(
    [["oid", O], ["typname", N], ["typnamespace", O], ["typowner", O], ["typlen", I2], ["typbyval", B], ["typtype", C], ["typcategory", C], ["typispreferred", B], ["typisdefined", B], ["typdelim", C], ["typrelid", O], ["typelem", O], ["typarray", O], ["typbasetype", O], ["typtypmod", I4], ["typnotnull", B], ["typndims", I4], ["typcollation", O], ["typdefault", T], ["typacl", arrayOf(T)], ["typalign", C], ["typstorage", C]],
    typeOids().map((oid) => {
      const info = typeInfo(oid);
      const elem = info.category === "A" ? (typeFromOid(oid).elem?.oid ?? 0) : 0;
      const collation = elem !== 0 ? typeCollation(elem) : typeCollation(oid);
      return [oid, info.name, namespaceOid(PG_CATALOG_SCHEMA_ID), BOOTSTRAP_SUPERUSER_OID, info.typlen, info.typlen > 0 && info.typlen <= 8, info.category === "P" ? "p" : "b", info.category, info.preferred, true, ",", 0, elem, info.arrayOid, 0, -1, false, 0, collation, null, null, typeAlign(oid), typeStorage(oid)] as Datum[];
    }).concat(enums),
  );
}

export function pgCollation(): SystemTable {
  const ns = namespaceOid(PG_CATALOG_SCHEMA_ID);
  return table(
    [["oid", O], ["collname", N], ["collnamespace", O], ["collowner", O], ["collprovider", C], ["collisdeterministic", B], ["collencoding", I4], ["collcollate", T], ["collctype", T]],
    [[DEFAULT_COLLATION_OID, "default", ns, BOOTSTRAP_SUPERUSER_OID, "d", true, -1, null, null], [C_COLLATION_OID, "C", ns, BOOTSTRAP_SUPERUSER_OID, "c", true, -1, "C", "C"]],
  );
}

/** pg_enum: one row per label of every enum type, in declaration order within a type. */
export function pgEnum(x: SystemContext): SystemTable {
  const rows: Datum[][] = [];
  for (const d of x.catalog.types()) d.labels.forEach((label, i) => rows.push([enumLabelOid(d.id, i), relationOid(d.id), d.sortOrders[i]!, label]));
  return table([["oid", O], ["enumtypid", O], ["enumsortorder", F4], ["enumlabel", N]], rows);
}
