// pg_catalog and information_schema as clients read them (psql's \d, postgres.js's type fetch,
// drizzle and Prisma introspection): virtual tables computed from the catalog snapshot at bind
// time. Only the columns clients use are filled; catalogs Warren has no equivalent for (triggers,
// policies, publications, …) exist and are empty, so client queries run and return nothing.
import type { Catalog } from "../../catalog/catalog.ts";
import type { ColumnDesc, IndexDesc, TableDesc } from "../../catalog/descriptors.ts";
import { isTemp, PG_CATALOG_SCHEMA_ID } from "../../catalog/descriptors.ts";
import { BOOTSTRAP_SUPERUSER_OID, DATABASE_OID, indexOid, namespaceOid, relationOid } from "../../catalog/oids.ts";
import type { Datum } from "../types/datum.ts";
import { arrayOf, formatType, isKnownTypeOid, Oid, type SqlType, typeFromOid, typeInfo, Types } from "../types/type.ts";
import type { OutputColumn } from "./bound.ts";

export interface SystemTable {
  cols: OutputColumn[];
  rows: Datum[][];
}

type ColSpec = [string, SqlType];

const O = Types.oid;
const N = Types.name;
const T = Types.text;
const B = Types.bool;
const I2 = Types.int2;
const I4 = Types.int4;
const F4 = Types.float4;
const C = Types.char;

function table(spec: ColSpec[], rows: Datum[][]): SystemTable {
  return { cols: spec.map(([name, type]) => ({ name, type, tableId: 0, columnId: 0 })), rows };
}

export interface SystemContext {
  catalog: Catalog;
  user: string;
  database: string;
  searchPath: readonly string[];
}

function tables(c: Catalog): TableDesc[] {
  return c.descriptors().filter((d): d is TableDesc => d.kind === "table");
}

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

function visibleCols(t: TableDesc): ColumnDesc[] {
  return t.columns.filter((c) => !c.hidden);
}

function attnum(t: TableDesc, columnId: number): number {
  return visibleCols(t).findIndex((c) => c.id === columnId) + 1;
}

function indexName(t: TableDesc, ix: IndexDesc): string {
  return ix.primary ? t.pkeyName : ix.name;
}

function userIndexes(t: TableDesc): IndexDesc[] {
  return [...(t.pkeyName !== "" ? [t.primaryIndex] : []), ...t.indexes];
}

export function indexDef(t: TableDesc, ix: IndexDesc): string {
  const cols = ix.columns.map((c) => `${t.columns.find((x) => x.id === c.columnId)?.name ?? "?"}${c.desc ? " DESC" : ""}`).join(", ");
  return `CREATE ${ix.unique ? "UNIQUE " : ""}INDEX ${indexName(t, ix)} ON public.${t.name} USING btree (${cols})`;
}

const BUILDERS: Record<string, (x: SystemContext) => SystemTable> = {
  pg_type: () =>
    table(
      [["oid", O], ["typname", N], ["typnamespace", O], ["typowner", O], ["typlen", I2], ["typbyval", B], ["typtype", C], ["typcategory", C], ["typispreferred", B], ["typisdefined", B], ["typdelim", C], ["typrelid", O], ["typelem", O], ["typarray", O], ["typbasetype", O], ["typtypmod", I4], ["typnotnull", B], ["typcollation", O]],
      typeOids().map((oid) => {
        const info = typeInfo(oid);
        const elem = info.category === "A" ? (typeFromOid(oid).elem?.oid ?? 0) : 0;
        const stringy = info.category === "S";
        return [oid, info.name, namespaceOid(PG_CATALOG_SCHEMA_ID), BOOTSTRAP_SUPERUSER_OID, info.typlen, info.typlen > 0 && info.typlen <= 8, info.category === "P" ? "p" : "b", info.category, info.preferred, true, ",", 0, elem, info.arrayOid, 0, -1, false, stringy ? 100 : 0];
      }),
    ),
  pg_namespace: (x) =>
    table(
      [["oid", O], ["nspname", N], ["nspowner", O], ["nspacl", T]],
      ["pg_catalog", "public", "information_schema", ...x.catalog.descriptors().filter((d) => d.kind === "schema").map((d) => d.name)].map((name) => {
        const s = x.catalog.schema(name)!;
        return [namespaceOid(s.id), name, BOOTSTRAP_SUPERUSER_OID, null];
      }),
    ),
  pg_class: (x) => {
    const rows: Datum[][] = [];
    for (const d of x.catalog.descriptors()) {
      if (d.kind === "schema") continue;
      const kind = d.kind === "table" ? "r" : d.kind === "view" ? "v" : "S";
      const t = d.kind === "table" ? d : null;
      // relpersistence: 't' for the session's temporary relations (and their indexes), else 'p'.
      const persistence = isTemp(d) ? "t" : "p";
      rows.push([relationOid(d.id), d.name, namespaceOid(d.schemaId), 0, BOOTSTRAP_SUPERUSER_OID, kind === "r" ? 2 : 0, -1, t !== null && userIndexes(t).length > 0, persistence, kind, t === null ? 0 : visibleCols(t).length, t?.checks.length ?? 0, false, false, false, false, false, 0, 0, "d", 0, null, null]);
      if (t !== null) {
        for (const ix of userIndexes(t)) {
          rows.push([indexOid(t.id, ix.id), indexName(t, ix), namespaceOid(t.schemaId), 0, BOOTSTRAP_SUPERUSER_OID, 403, -1, false, persistence, "i", ix.columns.length, 0, false, false, false, false, false, 0, 0, "n", 0, null, null]);
        }
      }
    }
    return table(
      [["oid", O], ["relname", N], ["relnamespace", O], ["reltype", O], ["relowner", O], ["relam", O], ["reltuples", F4], ["relhasindex", B], ["relpersistence", C], ["relkind", C], ["relnatts", I2], ["relchecks", I2], ["relhasrules", B], ["relhastriggers", B], ["relrowsecurity", B], ["relforcerowsecurity", B], ["relispartition", B], ["reltablespace", O], ["reloftype", O], ["relreplident", C], ["reltoastrelid", O], ["relpartbound", T], ["reloptions", arrayOf(T)]],
      rows,
    );
  },
  pg_attribute: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) {
      visibleCols(t).forEach((c, i) => {
        rows.push([relationOid(t.id), c.name, c.type.oid, c.type.typmod, i + 1, typeInfo(c.type.oid).typlen, !c.nullable, false, c.defaultExpr !== null, c.identity, "", 0]);
      });
    }
    return table([["attrelid", O], ["attname", N], ["atttypid", O], ["atttypmod", I4], ["attnum", I2], ["attlen", I2], ["attnotnull", B], ["attisdropped", B], ["atthasdef", B], ["attidentity", C], ["attgenerated", C], ["attcollation", O]], rows);
  },
  pg_index: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) {
      for (const ix of userIndexes(t)) {
        rows.push([indexOid(t.id, ix.id), relationOid(t.id), ix.columns.length, ix.unique, ix.primary, false, true, false, ix.columns.map((c) => attnum(t, c.columnId)).join(" ")]);
      }
    }
    return table([["indexrelid", O], ["indrelid", O], ["indnatts", I2], ["indisunique", B], ["indisprimary", B], ["indisclustered", B], ["indisvalid", B], ["indisreplident", B], ["indkey", T]], rows);
  },
  pg_constraint: (x) => {
    const rows: Datum[][] = [];
    let n = 0;
    for (const t of tables(x.catalog)) {
      const ns = namespaceOid(t.schemaId);
      const rel = relationOid(t.id);
      for (const ix of userIndexes(t)) {
        if (!ix.primary && !ix.unique) continue;
        rows.push([2_000_000_000 + t.id * 1000 + n++, indexName(t, ix), ns, ix.primary ? "p" : "u", rel, indexOid(t.id, ix.id), 0, ix.columns.map((c) => attnum(t, c.columnId)), null, false, false, 0]);
      }
      for (const ch of t.checks) rows.push([2_000_000_000 + t.id * 1000 + n++, ch.name, ns, "c", rel, 0, 0, null, null, false, false, 0]);
      for (const fk of t.foreignKeys) {
        const parent = x.catalog.get(fk.refTableId);
        const p = parent?.kind === "table" ? parent : null;
        rows.push([2_000_000_000 + t.id * 1000 + n++, fk.name, ns, "f", rel, 0, relationOid(fk.refTableId), fk.columnIds.map((id) => attnum(t, id)), p === null ? null : fk.refColumnIds.map((id) => attnum(p, id)), false, false, 0]);
      }
    }
    return table([["oid", O], ["conname", N], ["connamespace", O], ["contype", C], ["conrelid", O], ["conindid", O], ["confrelid", O], ["conkey", arrayOf(I2)], ["confkey", arrayOf(I2)], ["condeferrable", B], ["condeferred", B], ["conparentid", O]], rows);
  },
  pg_database: (x) =>
    table(
      [["oid", O], ["datname", N], ["datdba", O], ["encoding", I4], ["datcollate", T], ["datctype", T], ["daticulocale", T], ["datlocprovider", C], ["datallowconn", B], ["datacl", T]],
      [[DATABASE_OID, x.database, BOOTSTRAP_SUPERUSER_OID, 6, "C", "C", null, "c", true, null]],
    ),
  pg_roles: (x) =>
    table([["oid", O], ["rolname", N], ["rolsuper", B], ["rolinherit", B], ["rolcreaterole", B], ["rolcreatedb", B], ["rolcanlogin", B]], [[BOOTSTRAP_SUPERUSER_OID, x.user, false, true, false, false, true]]),
  pg_user: (x) => table([["usename", N], ["usesysid", O], ["usesuper", B]], [[x.user, BOOTSTRAP_SUPERUSER_OID, false]]),
  pg_am: () => table([["oid", O], ["amname", N], ["amtype", C]], [[2, "heap", "t"], [403, "btree", "i"]]),
  pg_attrdef: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) {
      visibleCols(t).forEach((c, i) => {
        if (c.defaultExpr !== null) rows.push([relationOid(t.id) * 100 + i, relationOid(t.id), i + 1, defaultText(c)]);
      });
    }
    return table([["oid", O], ["adrelid", O], ["adnum", I2], ["adbin", T]], rows);
  },
  pg_settings: () => table([["name", T], ["setting", T]], []),
  pg_sequences: (x) =>
    table(
      [["schemaname", N], ["sequencename", N], ["start_value", Types.int8], ["increment_by", Types.int8], ["min_value", Types.int8], ["max_value", Types.int8], ["cycle", B]],
      x.catalog.descriptors().filter((d) => d.kind === "sequence").map((d) => {
        const s = d as import("../../catalog/descriptors.ts").SequenceDesc;
        return [schemaName(x, s.schemaId), s.name, BigInt(s.start), BigInt(s.increment), BigInt(s.min), BigInt(s.max), s.cycle];
      }),
    ),
  pg_tables: (x) =>
    table([["schemaname", N], ["tablename", N], ["tableowner", N], ["hasindexes", B]], tables(x.catalog).map((t) => [schemaName(x, t.schemaId), t.name, x.user, userIndexes(t).length > 0])),
  pg_views: (x) =>
    table([["schemaname", N], ["viewname", N], ["viewowner", N], ["definition", T]], x.catalog.descriptors().filter((d) => d.kind === "view").map((d) => [schemaName(x, (d as { schemaId: number }).schemaId), d.name, x.user, null])),
  pg_indexes: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) for (const ix of userIndexes(t)) rows.push([schemaName(x, t.schemaId), t.name, indexName(t, ix), null, indexDef(t, ix)]);
    return table([["schemaname", N], ["tablename", N], ["indexname", N], ["tablespace", N], ["indexdef", T]], rows);
  },
  pg_description: () => table([["objoid", O], ["classoid", O], ["objsubid", I4], ["description", T]], []),
  pg_inherits: () => table([["inhrelid", O], ["inhparent", O], ["inhseqno", I4], ["inhdetachpending", B]], []),
  pg_partitioned_table: () => table([["partrelid", O], ["partstrat", C]], []),
  pg_trigger: () => table([["oid", O], ["tgrelid", O], ["tgname", N], ["tgenabled", C], ["tgisinternal", B], ["tgparentid", O]], []),
  pg_policy: () => table([["oid", O], ["polname", N], ["polrelid", O], ["polcmd", C], ["polpermissive", B], ["polroles", arrayOf(O)], ["polqual", T], ["polwithcheck", T]], []),
  pg_statistic_ext: () => table([["oid", O], ["stxrelid", O], ["stxname", N], ["stxnamespace", O], ["stxkind", arrayOf(C)], ["stxstattarget", I4]], []),
  pg_publication: () => table([["oid", O], ["pubname", N], ["puballtables", B]], []),
  pg_publication_rel: () => table([["oid", O], ["prpubid", O], ["prrelid", O], ["prqual", T], ["prattrs", T]], []),
  pg_publication_namespace: () => table([["oid", O], ["pnpubid", O], ["pnnspid", O]], []),
  pg_collation: () => table([["oid", O], ["collname", N]], [[100, "default"], [950, "C"]]),
  pg_enum: () => table([["oid", O], ["enumtypid", O], ["enumsortorder", F4], ["enumlabel", N]], []),
  pg_extension: () => table([["oid", O], ["extname", N], ["extversion", T]], []),
  pg_stat_user_indexes: () => table([["relid", O], ["indexrelid", O], ["schemaname", N], ["relname", N], ["indexrelname", N], ["idx_scan", Types.int8]], []),
  pg_opclass: () => table([["oid", O], ["opcname", N], ["opcmethod", O]], []),
  pg_proc: () => table([["oid", O], ["proname", N], ["pronamespace", O]], []),
  pg_locks: () => table([["locktype", T], ["pid", I4], ["granted", B]], []),
  pg_stat_activity: () => table([["pid", I4], ["datname", N], ["usename", N], ["state", T], ["query", T]], []),
};

const INFORMATION_SCHEMA: Record<string, (x: SystemContext) => SystemTable> = {
  tables: (x) =>
    table(
      [["table_catalog", T], ["table_schema", T], ["table_name", T], ["table_type", T]],
      x.catalog.descriptors().filter((d) => d.kind === "table" || d.kind === "view").map((d) => [x.database, schemaName(x, (d as { schemaId: number }).schemaId), d.name, isTemp(d) ? "LOCAL TEMPORARY" : d.kind === "table" ? "BASE TABLE" : "VIEW"]),
    ),
  columns: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) {
      visibleCols(t).forEach((c, i) => {
        const type = typeFromOid(c.type.oid, c.type.typmod);
        const shown = formatType(type);
        const dataType = type.elem !== undefined ? "ARRAY" : shown.replace(/\(.*\)/, "");
        const charLen = (c.type.oid === Oid.varchar || c.type.oid === Oid.bpchar) && c.type.typmod >= 4 ? c.type.typmod - 4 : null;
        rows.push([x.database, schemaName(x, t.schemaId), t.name, c.name, i + 1, defaultText(c), c.nullable ? "YES" : "NO", dataType, charLen, type.name.replace(/^_/, "_"), c.identity !== "" ? "YES" : "NO"]);
      });
    }
    return table([["table_catalog", T], ["table_schema", T], ["table_name", T], ["column_name", T], ["ordinal_position", I4], ["column_default", T], ["is_nullable", T], ["data_type", T], ["character_maximum_length", I4], ["udt_name", T], ["is_identity", T]], rows);
  },
  schemata: (x) =>
    table([["catalog_name", T], ["schema_name", T], ["schema_owner", T]], ["pg_catalog", "public", "information_schema", ...x.catalog.descriptors().filter((d) => d.kind === "schema").map((d) => d.name)].map((n) => [x.database, n, x.user])),
  table_constraints: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) {
      const s = schemaName(x, t.schemaId);
      for (const ix of userIndexes(t)) if (ix.primary || ix.unique) rows.push([x.database, s, indexName(t, ix), s, t.name, ix.primary ? "PRIMARY KEY" : "UNIQUE"]);
      for (const fk of t.foreignKeys) rows.push([x.database, s, fk.name, s, t.name, "FOREIGN KEY"]);
      for (const ch of t.checks) rows.push([x.database, s, ch.name, s, t.name, "CHECK"]);
    }
    return table([["constraint_catalog", T], ["constraint_schema", T], ["constraint_name", T], ["table_schema", T], ["table_name", T], ["constraint_type", T]], rows);
  },
  key_column_usage: () => table([["constraint_name", T], ["table_schema", T], ["table_name", T], ["column_name", T], ["ordinal_position", I4]], []),
  constraint_column_usage: () => table([["constraint_name", T], ["table_schema", T], ["table_name", T], ["column_name", T]], []),
  sequences: (x) =>
    table([["sequence_schema", T], ["sequence_name", T]], x.catalog.descriptors().filter((d) => d.kind === "sequence").map((d) => [schemaName(x, (d as { schemaId: number }).schemaId), d.name])),
};

function schemaName(x: SystemContext, schemaId: number): string {
  const d = x.catalog.get(schemaId);
  return d?.name ?? "public";
}

function defaultText(c: ColumnDesc): string | null {
  if (c.defaultExpr === null) return null;
  const f = c.defaultExpr["FuncCall"] as { funcname?: Array<{ String?: { sval?: string } }>; args?: Array<{ A_Const?: { sval?: { sval?: string } } }> } | undefined;
  const fname = f?.funcname?.map((n) => n.String?.sval).join(".");
  if (fname === "nextval") return `nextval('${f!.args?.[0]?.A_Const?.sval?.sval ?? ""}'::regclass)`;
  const k = c.defaultExpr["A_Const"] as { ival?: { ival?: number }; sval?: { sval?: string }; boolval?: { boolval?: boolean }; fval?: { fval?: string } } | undefined;
  if (k?.ival !== undefined) return String(k.ival.ival ?? 0);
  if (k?.sval !== undefined) return `'${k.sval.sval ?? ""}'::text`;
  if (k?.boolval !== undefined) return String(k.boolval.boolval ?? false);
  if (k?.fval !== undefined) return k.fval.fval ?? null;
  if (fname !== undefined) return `${fname}()`;
  return null;
}

/** The system table `schema.name` (schema null: pg_catalog, which is always searched first). */
export function systemTable(x: SystemContext, schema: string | null, name: string): SystemTable | undefined {
  if (schema === "information_schema") return INFORMATION_SCHEMA[name]?.(x);
  if (schema === null || schema === "pg_catalog") return Object.hasOwn(BUILDERS, name) ? BUILDERS[name]!(x) : undefined;
  return undefined;
}
