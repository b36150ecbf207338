// pg_class and what hangs off a relation: pg_attribute, pg_attrdef, pg_index, pg_sequence and the
// pg_depend rows that tie a serial/identity sequence to its column ("Owned by" in psql's \d).
import { exprRefText } from "./expr-ref.ts";
import type { Catalog } from "../../../catalog/catalog.ts";
import { type ColumnDesc, isTemp, type TableDesc } from "../../../catalog/descriptors.ts";
import { BOOTSTRAP_SUPERUSER_OID, indexOid, namespaceOid, relationOid } from "../../../catalog/oids.ts";
import type { Datum } from "../../types/datum.ts";
import { arrayOf, Oid, type SqlType, Types, typeOfStored, typeInfo } from "../../types/type.ts";
import { defaultBtreeOpclass } from "./opclass.ts";
import {
  B, C, F4, I2, I4, I8, N, O, T, attnum, indexName, relations, sequences, table, tables, userIndexes, views, visibleCols,
  type SystemContext, type SystemTable,
} from "./context.ts";
import { SYSTEM_RELATION_OIDS } from "./oids.ts";
import { typeAlign, typeCollation, typeStorage } from "./types.ts";

const HEAP_AM = 2;
const BTREE_AM = 403;

export function pgClass(x: SystemContext): SystemTable {
  const rows: Datum[][] = [];
  for (const d of relations(x.catalog)) {
    const kind = d.kind === "table" ? "r" : d.kind === "view" ? "v" : "S";
    const t = d.kind === "table" ? d : null;
    const natts = t !== null ? visibleCols(t).length : d.kind === "view" ? (x.viewColumns?.(d).length ?? 0) : 3;
    // Foreign keys are enforced by internal triggers in Postgres, on both tables, and psql asks
    // for a table's foreign keys (and the ones referencing it) only when relhastriggers is set.
    const hasTriggers = t !== null && (t.foreignKeys.length > 0 || x.catalog.referencing(t.id).length > 0 || (t.triggers?.length ?? 0) > 0);
    // relpersistence: 't' for the session's temporary relations (and their indexes), else 'p'.
    const persistence = isTemp(d) ? "t" : "p";
    const options = t !== null && Object.keys(t.options).length > 0 ? Object.entries(t.options).map(([k, v]) => `${k}=${v}`) : null;
    rows.push([relationOid(d.id), d.name, namespaceOid(d.schemaId), 0, 0, BOOTSTRAP_SUPERUSER_OID, kind === "r" ? HEAP_AM : 0, 0, 0, -1, 0, t !== null && userIndexes(t).length > 0, false, persistence, kind, natts, t?.checks.length ?? 0, kind === "v", hasTriggers, false, false, false, false, "d", false, null, options, null, 0, 0, 0]);
    if (t !== null) {
      for (const ix of userIndexes(t)) {
        rows.push([indexOid(t.id, ix.id), indexName(t, ix), namespaceOid(t.schemaId), 0, 0, BOOTSTRAP_SUPERUSER_OID, BTREE_AM, 0, 0, -1, 0, false, false, persistence, "i", ix.columns.length, 0, false, false, false, false, false, false, "n", false, null, null, null, 0, 0, 0]);
      }
    }
  }
  return table(
    [["oid", O], ["relname", N], ["relnamespace", O], ["reltype", O], ["reloftype", O], ["relowner", O], ["relam", O], ["relfilenode", O], ["reltablespace", O], ["reltuples", F4], ["reltoastrelid", O], ["relhasindex", B], ["relisshared", B], ["relpersistence", C], ["relkind", C], ["relnatts", I2], ["relchecks", I2], ["relhasrules", B], ["relhastriggers", B], ["relhassubclass", B], ["relrowsecurity", B], ["relforcerowsecurity", B], ["relispartition", B], ["relreplident", C], ["relispopulated", B], ["relacl", arrayOf(T)], ["reloptions", arrayOf(T)], ["relpartbound", T], ["relpages", I4], ["relfrozenxid", O], ["relminmxid", O]],
    rows,
  );
}

/** A pg_attribute row; `type` is a SqlType where it may be a user-defined type (enum columns). */
function attributeRow(relOid: number, name: string, type: SqlType | number, typmod: number, num: number, notNull: boolean, hasDefault: boolean, identity: string): Datum[] {
  const info = typeInfo(type);
  const typeOid = info.oid;
  const collatable = info.category === "S" && typeOid !== Oid.name ? 100 : typeOid === Oid.name ? 950 : 0;
  return [relOid, name, typeOid, -1, info.typlen, num, info.category === "A" ? 1 : 0, -1, typmod, info.typlen > 0 && info.typlen <= 8, typeStorage(type), typeAlign(type), notNull, hasDefault, false, identity, "", false, true, 0, collatable, null, null, null, "", null];
}

export function pgAttribute(x: SystemContext): SystemTable {
  const rows: Datum[][] = [];
  for (const t of tables(x.catalog)) {
    visibleCols(t).forEach((c, i) => {
      const row = attributeRow(relationOid(t.id), c.name, typeOfStored(c.type), c.type.typmod, i + 1, !c.nullable, hasAttrdef(c), c.identity);
      // A domain column: atttypid is the domain, whose typmod lives in pg_type.typtypmod.
      if (c.type.domain !== undefined) [row[2], row[8]] = [relationOid(c.type.domain.typeId), -1];
      if (c.generated !== undefined) row[16] = "s";
      rows.push(row);
    });
    for (const ix of userIndexes(t)) {
      ix.columns.forEach((ic, i) => {
        const c = t.columns.find((col) => col.id === ic.columnId)!;
        rows.push(attributeRow(indexOid(t.id, ix.id), c.name, typeOfStored(c.type), c.type.typmod, i + 1, false, false, ""));
      });
    }
  }
  for (const v of views(x.catalog)) {
    (x.viewColumns?.(v) ?? []).forEach((c, i) => rows.push(attributeRow(relationOid(v.id), c.name, c.type, c.type.typmod, i + 1, false, false, "")));
  }
  for (const s of sequences(x.catalog)) {
    [["last_value", Oid.int8], ["log_cnt", Oid.int8], ["is_called", Oid.bool]].forEach(([n, oid], i) => rows.push(attributeRow(relationOid(s.id), n as string, oid as number, -1, i + 1, true, false, "")));
  }
  return table(
    [["attrelid", O], ["attname", N], ["atttypid", O], ["attstattarget", I4], ["attlen", I2], ["attnum", I2], ["attndims", I4], ["attcacheoff", I4], ["atttypmod", I4], ["attbyval", B], ["attstorage", C], ["attalign", C], ["attnotnull", B], ["atthasdef", B], ["atthasmissing", B], ["attidentity", C], ["attgenerated", C], ["attisdropped", B], ["attislocal", B], ["attinhcount", I4], ["attcollation", O], ["attacl", arrayOf(T)], ["attoptions", arrayOf(T)], ["attfdwoptions", arrayOf(T)], ["attcompression", C], ["attmissingval", T]],
    rows,
  );
}

/** pg_attrdef: adbin names the default for pg_get_expr (Warren keeps no node trees: expr-ref.ts). */
export function pgAttrdef(x: SystemContext): SystemTable {
  const rows: Datum[][] = [];
  for (const t of tables(x.catalog)) {
    visibleCols(t).forEach((c, i) => {
      if (!hasAttrdef(c)) return;
      rows.push([attrdefOid(t, i + 1), relationOid(t.id), i + 1, exprRefText({ kind: "default", tableId: t.id, columnId: c.id })]);
    });
  }
  return table([["oid", O], ["adrelid", O], ["adnum", I2], ["adbin", T]], rows);
}

/** An identity column's nextval is not a default in Postgres (no pg_attrdef row, atthasdef false). */
export function hasAttrdef(c: ColumnDesc): boolean {
  return (c.defaultExpr !== null && c.identity === "") || c.generated !== undefined;
}

/** pg_attrdef.oid of a table's column default (attnum counts the visible columns). */
export function attrdefOid(t: TableDesc, attnum: number): number {
  return relationOid(t.id) * 100 + attnum - 1;
}

/** The default as pg_get_expr(adbin, adrelid) prints it (not pretty: information_schema.columns.column_default). */
export function defaultText(x: SystemContext, t: TableDesc, c: ColumnDesc): string | null {
  // A generated column's pg_attrdef row holds its generation expression.
  const e = c.generated ?? c.defaultExpr;
  if (e === null) return null;
  return x.exprText?.(t, e, typeOfStored(c.type), false) ?? null;
}

export function pgIndex(x: SystemContext): SystemTable {
  const rows: Datum[][] = [];
  for (const t of tables(x.catalog)) {
    for (const ix of userIndexes(t)) {
      const n = ix.columns.length;
      const keyTypes = ix.columns.map((c) => {
        const stored = t.columns.find((col) => col.id === c.columnId)?.type;
        return stored === undefined ? undefined : typeOfStored(stored);
      });
      const collations = keyTypes.map((k) => (k !== undefined && typeInfo(k).category === "S" ? typeCollation(k.oid) : 0));
      const opclasses = keyTypes.map((k) => (k === undefined ? 0 : defaultBtreeOpclass(k)));
      rows.push([indexOid(t.id, ix.id), relationOid(t.id), n, n, ix.unique, false, ix.primary, false, true, false, ix.state !== "write-only", false, true, true, false, ix.columns.map((c) => attnum(t, c.columnId)), collations, opclasses, ix.columns.map((c) => (c.desc ? 3 : 0)), null, ix.predicate === undefined ? null : exprRefText({ kind: "indpred", tableId: t.id, indexId: ix.id })]);
    }
  }
  return table(
    [["indexrelid", O], ["indrelid", O], ["indnatts", I2], ["indnkeyatts", I2], ["indisunique", B], ["indnullsnotdistinct", B], ["indisprimary", B], ["indisexclusion", B], ["indimmediate", B], ["indisclustered", B], ["indisvalid", B], ["indcheckxmin", B], ["indisready", B], ["indislive", B], ["indisreplident", B], ["indkey", Types.int2vector], ["indcollation", Types.oidvector], ["indclass", Types.oidvector], ["indoption", Types.int2vector], ["indexprs", T], ["indpred", T]],
    rows,
  );
}

export function pgSequence(x: SystemContext): SystemTable {
  return table(
    [["seqrelid", O], ["seqtypid", O], ["seqstart", I8], ["seqincrement", I8], ["seqmax", I8], ["seqmin", I8], ["seqcache", I8], ["seqcycle", B]],
    sequences(x.catalog).map((s) => [relationOid(s.id), sequenceTypeOid(x.catalog, s), BigInt(s.start), BigInt(s.increment), BigInt(s.max), BigInt(s.min), 1n, s.cycle]),
  );
}

/** A sequence's type: its owning column's for serial/identity, else bigint (Warren keeps no AS type). */
function sequenceTypeOid(c: Catalog, s: { ownedBy: [number, number] | null; max: string; typeOid?: number }): number {
  if (s.typeOid !== undefined) return s.typeOid;
  if (s.ownedBy !== null) {
    const t = c.get(s.ownedBy[0]);
    const col = t?.kind === "table" ? t.columns.find((x) => x.id === s.ownedBy![1]) : undefined;
    if (col !== undefined && (col.type.oid === Oid.int2 || col.type.oid === Oid.int4 || col.type.oid === Oid.int8)) return col.type.oid;
  }
  if (s.max === "32767") return Oid.int2;
  if (s.max === "2147483647") return Oid.int4;
  return Oid.int8;
}

