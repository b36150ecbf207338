// What every pg_catalog / information_schema builder shares: the context a statement is bound in
// (catalog snapshot, user, database, search path, settings, how a view's columns are typed), the
// SystemTable shape, and small helpers over descriptors (visible columns, attnums, index names).
import type { Catalog } from "../../../catalog/catalog.ts";
import type { ColumnDesc, Descriptor, IndexDesc, SequenceDesc, TableDesc, ViewDesc } from "../../../catalog/descriptors.ts";
import type { PgNode } from "../../parse/ast.ts";
import type { Datum } from "../../types/datum.ts";
import { type SqlType, Types } from "../../types/type.ts";
import type { OutputColumn } from "../bound.ts";
import type { StoredSql } from "../../../catalog/descriptors.ts";

export interface SystemTable {
  cols: OutputColumn[];
  rows: Datum[][];
}

/** One run-time setting as pg_settings shows it. */
export interface SettingRow {
  name: string;
  setting: string;
  /** pg_settings.source: default, client, session, … */
  source: string;
  bootVal: string;
}

export interface SystemContext {
  catalog: Catalog;
  user: string;
  database: string;
  searchPath: readonly string[];
  /** The session's settings for pg_settings (absent: pg_settings is empty). */
  settings?: () => SettingRow[];
  /** A view's output columns (names and types), from binding its query. */
  viewColumns?: (v: ViewDesc) => Array<{ name: string; type: SqlType }>;
  /** Postgres's text of a stored expression (a default, a CHECK), as pg_get_expr prints it (pretty: its third argument, default on here). */
  exprText?: (t: TableDesc, expr: StoredSql, target: SqlType | null, pretty?: boolean) => string;
  /** A view's query as pg_get_viewdef(view, pretty) prints it (pretty by default here). */
  viewDef?: (v: ViewDesc, pretty?: boolean) => string;
}

export type ColSpec = [string, SqlType];

export const O = Types.oid;
export const N = Types.name;
export const T = Types.text;
export const B = Types.bool;
export const I2 = Types.int2;
export const I4 = Types.int4;
export const I8 = Types.int8;
export const F4 = Types.float4;
export const C = Types.char;

export function table(spec: ColSpec[], rows: Datum[][]): SystemTable {
  return { cols: spec.map(([name, type]) => ({ name, type, tableId: 0, columnId: 0 })), rows };
}

export function tables(c: Catalog): TableDesc[] {
  return c.descriptors().filter((d): d is TableDesc => d.kind === "table");
}

export function views(c: Catalog): ViewDesc[] {
  return c.descriptors().filter((d): d is ViewDesc => d.kind === "view");
}

export function sequences(c: Catalog): SequenceDesc[] {
  return c.descriptors().filter((d): d is SequenceDesc => d.kind === "sequence");
}

export function relations(c: Catalog): Array<Exclude<Descriptor, { kind: "schema" | "type" }>> {
  return c.descriptors().filter((d): d is Exclude<Descriptor, { kind: "schema" | "type" | "function" }> => d.kind !== "schema" && d.kind !== "type" && d.kind !== "function");
}

export function visibleCols(t: TableDesc): ColumnDesc[] {
  return t.columns.filter((c) => !c.hidden);
}

/** The attribute number clients see: the column's position among the visible columns. */
export function attnum(t: TableDesc, columnId: number): number {
  return visibleCols(t).findIndex((c) => c.id === columnId) + 1;
}

export function indexName(t: TableDesc, ix: IndexDesc): string {
  return ix.primary ? t.pkeyName : ix.name;
}

/** The indexes a client sees: the primary key's (unless the key is the hidden row id) and the secondary ones. */
export function userIndexes(t: TableDesc): IndexDesc[] {
  return [...(t.pkeyName !== "" ? [t.primaryIndex] : []), ...t.indexes];
}

export function schemaName(x: Pick<SystemContext, "catalog">, schemaId: number): string {
  return x.catalog.get(schemaId)?.name ?? "public";
}

/** Every schema, built-in ones first (pg_catalog, public, information_schema). */
export function schemaNames(x: Pick<SystemContext, "catalog">): string[] {
  return ["pg_catalog", "public", "information_schema", ...x.catalog.descriptors().filter((d) => d.kind === "schema").map((d) => d.name)];
}
