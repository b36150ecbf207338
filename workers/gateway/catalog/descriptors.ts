// Catalog descriptors: what a tenant's schemas, tables, indexes, constraints, sequences and views
// are. Each is stored as one JSON value under the tenant's own prefix (catalog/catalog-keys.ts) and
// carries a version that grows with every change. Expressions (defaults, CHECK constraints, index
// predicates, generated columns, domain constraints, view queries) are kept as SQL text (format 2,
// see README.md), parsed and bound again against the catalog of the day.
import { TEMP_TABLE_ID_END, TEMP_TABLE_ID_MIN } from "../keys/doc.ts";

/**
 * How expressions are stored. 1 (descriptors written before the field existed): the parser's JSON
 * tree. 2: SQL text (StoredSql). Descriptors of format 1 are upgraded when the catalog is read
 * (sql/bind/stored-sql.ts upgradeDescriptor) and written back as format 2 by the next change.
 */
export const DESCRIPTOR_FORMAT = 2;

/**
 * An expression or a query as SQL text in the canonical form of sql/parse/sql-text.ts, which
 * parses back into the tree it was printed from (bind/stored-sql.ts checks it when storing).
 * A tree from a format-1 descriptor that could not be printed (no such tree is known) is kept,
 * marked, as a LegacyTree, so the object keeps working; nothing new is ever stored that way.
 */
export type StoredSql = string | LegacyTree;

/** A format-1 parse tree kept as read (see StoredSql). Only sql/bind/stored-sql.ts looks inside. */
export interface LegacyTree {
  readonly legacyTree: unknown;
}

/** A column's type, as stored: Postgres OID and typmod. */
export interface StoredType {
  oid: number;
  typmod: number;
  /**
   * For a column of an enum type: a copy of the type's name, schema and labels, so that the row
   * codec, index keys and comparisons need no catalog lookup. The TypeDesc is the source of truth;
   * every DDL that changes it (ALTER TYPE … ADD VALUE) rewrites this copy in every column of that
   * type in the same transaction, which also gives those tables a new descriptor version.
   */
  enum?: StoredEnum;
  /**
   * For a column of a domain type (CREATE DOMAIN): the domain's identity and a copy of its
   * constraints and default; oid/typmod are then the base type's. Like the enum copy, this keeps
   * every layer under the binder free of catalog lookups (domains cannot be altered here, so the
   * copy never goes stale).
   */
  domain?: StoredDomain;
}

export interface StoredDomain {
  /** Descriptor id of the domain's TypeDesc; its pg_type.oid is relationOid(typeId). */
  typeId: number;
  name: string;
  schema: string;
  notNull: boolean;
  checks: Array<{ name: string; expr: StoredSql }>;
  /** The domain's DEFAULT, used by columns that have none of their own. */
  defaultExpr: StoredSql | null;
}

export interface StoredEnum {
  name: string;
  schema: string;
  labels: string[];
  sortOrders: number[];
}

export interface ColumnDesc {
  /** Stable id within the table; also the attribute number Postgres clients see (attnum). */
  id: number;
  name: string;
  type: StoredType;
  nullable: boolean;
  /** DEFAULT expression, or null. */
  defaultExpr: StoredSql | null;
  /** The hidden row id of a table declared without a primary key: never shown by `*`. */
  hidden: boolean;
  /** GENERATED … AS IDENTITY: "a" always, "d" by default; "" otherwise. */
  identity: "" | "a" | "d";
  /**
   * GENERATED ALWAYS AS (expr) STORED: the expression over the row's other columns,
   * computed into the stored row on every INSERT and UPDATE (pg_attribute.attgenerated 's').
   */
  generated?: StoredSql;
  /** COMMENT ON COLUMN (absent: none). */
  comment?: string;
}

export interface IndexColumn {
  columnId: number;
  /** DESC: the key encoding inverts the column, so NULLs come first, as in Postgres. */
  desc: boolean;
}

export interface IndexDesc {
  /** 1 is always the primary index (the rows themselves). */
  id: number;
  name: string;
  unique: boolean;
  primary: boolean;
  columns: IndexColumn[];
  /**
   * "write-only" while an index is being built outside a transaction: every write maintains it
   * (and enforces its uniqueness), no read uses it. Absent once the build has finished.
   */
  state?: "write-only";
  /** Made by a PRIMARY KEY / UNIQUE constraint (pg_constraint lists it), not by CREATE INDEX. */
  constraint?: true;
  /** COMMENT ON INDEX (absent: none). */
  comment?: string;
  /**
   * CREATE INDEX … WHERE: the predicate (over the table's columns). Only rows for which
   * it is true have an entry, and uniqueness holds among those rows alone (absent: every row).
   */
  predicate?: StoredSql;
}

export interface CheckDesc {
  name: string;
  expr: StoredSql;
}

export type FkAction = "a" | "r" | "c" | "n" | "d"; // no action, restrict, cascade, set null, set default

export interface ForeignKeyDesc {
  name: string;
  columnIds: number[];
  refTableId: number;
  refColumnIds: number[];
  onDelete: FkAction;
  onUpdate: FkAction;
}

interface DescBase {
  id: number;
  name: string;
  /** Grows by one with every change to this descriptor. */
  version: number;
  /** COMMENT ON TABLE / VIEW / SEQUENCE / SCHEMA (absent: none). */
  comment?: string;
  /** DESCRIPTOR_FORMAT when written; absent in descriptors of format 1. */
  format?: number;
}

export interface SchemaDesc extends DescBase {
  kind: "schema";
}

export interface TableDesc extends DescBase {
  kind: "table";
  schemaId: number;
  columns: ColumnDesc[];
  nextColumnId: number;
  /** The primary index; for a table without a declared key, over the hidden rowid column. */
  primaryIndex: IndexDesc;
  indexes: IndexDesc[];
  nextIndexId: number;
  checks: CheckDesc[];
  foreignKeys: ForeignKeyDesc[];
  /** Name of the primary key constraint (t_pkey), or "" when the key is the hidden rowid. */
  pkeyName: string;
  /** Storage parameters accepted by CREATE TABLE … WITH (…); kept for \d, not used. */
  options: Record<string, string>;
  /** Where the rows and indexes are stored (see dataIdOf); absent: the table's own id. */
  dataId?: number;
  /** Temporary tables only: ON COMMIT DELETE ROWS ("delete") or DROP ("drop"); absent: PRESERVE ROWS. */
  onCommit?: "delete" | "drop";
  /** Row triggers (CREATE TRIGGER … FOR EACH ROW); absent: none. */
  triggers?: TriggerDesc[];
}

/** A row trigger of a table: the PL/pgSQL function it runs, when, and for which events. */
export interface TriggerDesc {
  /** Allocated from the descriptor ids (never a descriptor itself), so its pg_trigger.oid is unique. */
  id: number;
  name: string;
  functionId: number;
  timing: "before" | "after";
  /** In the order PostgreSQL prints them: insert, delete, update. */
  events: Array<"insert" | "delete" | "update">;
  /** The string arguments of EXECUTE FUNCTION f('a', …) (TG_ARGV). */
  args: string[];
}

export interface ViewDesc extends DescBase {
  kind: "view";
  schemaId: number;
  /** The view's query (a SELECT, VALUES or set operation). */
  query: StoredSql;
  /** Column names given in CREATE VIEW v(a, b); empty: the query's own names. */
  columnNames: string[];
}

export interface SequenceDesc extends DescBase {
  kind: "sequence";
  schemaId: number;
  start: string;
  increment: string;
  min: string;
  max: string;
  cycle: boolean;
  /** Owning column (serial), so DROP TABLE drops it too: [tableId, columnId] or null. */
  ownedBy: [number, number] | null;
  /** Where the current value is stored (see dataIdOf); absent: the sequence's own id. */
  dataId?: number;
  /**
   * AS type (int2, int4 or int8 OID), as pg_sequence.seqtypid reports it. Absent in descriptors
   * written before it was kept: then inferred from the owning column or the bounds.
   */
  typeOid?: number;
}

/**
 * A user-defined type: CREATE TYPE … AS ENUM. Its OID (pg_type.oid, what RowDescription reports)
 * is relationOid(id), unique because descriptor ids are; pg_enum rows get enumLabelOid(id, i).
 */
export interface TypeDesc extends DescBase {
  kind: "type";
  schemaId: number;
  /** Labels in declaration order (pg_enum.enumlabel) and their pg_enum.enumsortorder (enums; empty for domains). */
  labels: string[];
  sortOrders: number[];
  /** Set for a domain (CREATE DOMAIN): its base type, NOT NULL, CHECK constraints and DEFAULT. */
  domain?: { base: StoredType; notNull: boolean; checks: Array<{ name: string; expr: StoredSql }>; defaultExpr: StoredSql | null };
}

/**
 * A user-defined function (CREATE FUNCTION). Its OID (pg_proc.oid) is relationOid(id). The body is
 * kept as source text, as pg_proc.prosrc keeps it; LANGUAGE sql bodies are parsed where called.
 */
export interface FunctionDesc extends DescBase {
  kind: "function";
  schemaId: number;
  argNames: string[];
  argTypes: StoredType[];
  returnType: StoredType;
  language: "sql" | "plpgsql";
  body: string;
  /** pg_proc.provolatile: immutable, stable, volatile. */
  volatility: "i" | "s" | "v";
  strict: boolean;
  /** LANGUAGE sql whose body is one `SELECT expr`: that expression (inlined where called), else null. */
  sqlExpr: StoredSql | null;
}

export type Descriptor = SchemaDesc | TableDesc | ViewDesc | SequenceDesc | TypeDesc | FunctionDesc;
export type RelationDesc = TableDesc | ViewDesc | SequenceDesc;
/** Everything that lives in a schema and is not a relation. */
export type SchemaMemberDesc = RelationDesc | TypeDesc;

/** Ids below this are fixed; user descriptors are allocated from here. */
export const FIRST_USER_DESC_ID = 100;
export const PUBLIC_SCHEMA_ID = 2;
export const PG_CATALOG_SCHEMA_ID = 11;
export const INFORMATION_SCHEMA_ID = 12;
/**
 * The session's temporary schema (Postgres's pg_temp_N, alias pg_temp). It and every object in it
 * exist only in that session's catalog (catalog-store.ts) and their data only in its memory
 * (kv/local-range.ts): they are never written to storage, so no other session sees them.
 */
export const TEMP_SCHEMA_ID = 13;

/** A descriptor id of a temporary object (allocated by the session, never stored). */
export function isTempId(id: number): boolean {
  return id === TEMP_SCHEMA_ID || (id >= TEMP_TABLE_ID_MIN && id < TEMP_TABLE_ID_END);
}

/** The temporary schema, or an object in it. */
export function isTemp(d: Descriptor): boolean {
  return isTempId(d.id);
}

export function encodeDescriptor(d: Descriptor): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ ...d, format: DESCRIPTOR_FORMAT }));
}

export function decodeDescriptor(bytes: Uint8Array): Descriptor {
  return JSON.parse(new TextDecoder().decode(bytes)) as Descriptor;
}

/**
 * The id a table's rows and indexes (or a sequence's value) are stored under: /<dataId>/<index>/….
 * It starts as the descriptor id; TRUNCATE (and TRUNCATE … RESTART IDENTITY for owned sequences,
 * and a rewrite such as ADD PRIMARY KEY) gives the object a fresh one allocated like a descriptor
 * id, as PostgreSQL gives a truncated table a new relfilenode. New rows go to the new, empty span
 * at once, in the same transaction, and the old span is cleared whole (clearRange) by the storage
 * node in the background, never touching the new rows. The OID clients see stays the same.
 */
export function dataIdOf(d: TableDesc | SequenceDesc): number {
  return d.dataId ?? d.id;
}

/** The columns a `*` expands to: every column but the hidden row id, in declaration order. */
export function visibleColumns(t: TableDesc): ColumnDesc[] {
  return t.columns.filter((c) => !c.hidden);
}

export function columnById(t: TableDesc, id: number): ColumnDesc {
  const c = t.columns.find((col) => col.id === id);
  if (c === undefined) throw new Error(`table ${t.name} has no column id ${id}`);
  return c;
}
