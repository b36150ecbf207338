// pg_constraint: primary keys, unique constraints, CHECKs and foreign keys, each with the text
// pg_get_constraintdef prints for it (kept beside the row so the function and the table agree).
import type { FkAction, TableDesc } from "../../../catalog/descriptors.ts";
import { constraintOid, indexOid, namespaceOid, relationOid } from "../../../catalog/oids.ts";
import { quoteIdent } from "../../functions/string-functions.ts";
import type { Datum } from "../../types/datum.ts";
import { arrayOf } from "../../types/type.ts";
import { B, C, I2, I4, N, O, T, attnum, indexName, table, tables, userIndexes, type SystemContext, type SystemTable } from "./context.ts";


export interface ConstraintRow {
  oid: number;
  name: string;
  table: TableDesc;
  type: "p" | "u" | "c" | "f";
  indexOid: number;
  refTableOid: number;
  keys: number[];
  refKeys: number[] | null;
  onUpdate: FkAction;
  onDelete: FkAction;
  /** What pg_get_constraintdef(oid, true) returns. */
  def: string;
  /** What pg_get_constraintdef(oid) returns (not pretty: CHECK expressions fully parenthesised). */
  plainDef: string;
}

const ACTION_TEXT: Record<FkAction, string> = { a: "", r: "RESTRICT", c: "CASCADE", n: "SET NULL", d: "SET DEFAULT" };

/** A relation's name as ruleutils prints it: qualified unless its schema is on the search path first. */
export function relationName(x: SystemContext, t: { name: string; schemaId: number }): string {
  const schema = x.catalog.get(t.schemaId)?.name ?? "public";
  const visible = x.catalog.resolveRelation([t.name], x.searchPath);
  return visible !== undefined && visible.schemaId === t.schemaId ? quoteIdent(t.name) : `${quoteIdent(schema)}.${quoteIdent(t.name)}`;
}

export function constraintRows(x: SystemContext): ConstraintRow[] {
  const out: ConstraintRow[] = [];
  for (const t of tables(x.catalog)) {
    let n = 0;
    const oid = (): number => constraintOid(t.id, n++);
    const colNames = (ids: number[], of: TableDesc): string => ids.map((id) => quoteIdent(of.columns.find((c) => c.id === id)?.name ?? "?")).join(", ");
    for (const ix of userIndexes(t)) {
      if (!ix.primary && ix.constraint !== true) continue;
      const ids = ix.columns.map((c) => c.columnId);
      out.push({ oid: oid(), name: indexName(t, ix), table: t, type: ix.primary ? "p" : "u", indexOid: indexOid(t.id, ix.id), refTableOid: 0, keys: ids.map((id) => attnum(t, id)), refKeys: null, onUpdate: "a", onDelete: "a", def: `${ix.primary ? "PRIMARY KEY" : "UNIQUE"} (${colNames(ids, t)})`, plainDef: `${ix.primary ? "PRIMARY KEY" : "UNIQUE"} (${colNames(ids, t)})` });
    }
    for (const ch of t.checks) {
      const text = x.exprText?.(t, ch.expr, null) ?? "?";
      const plain = x.exprText?.(t, ch.expr, null, false) ?? "?";
      out.push({ oid: oid(), name: ch.name, table: t, type: "c", indexOid: 0, refTableOid: 0, keys: [], refKeys: null, onUpdate: "a", onDelete: "a", def: `CHECK (${text})`, plainDef: `CHECK (${plain})` });
    }
    for (const fk of t.foreignKeys) {
      const parent = x.catalog.get(fk.refTableId);
      const p = parent?.kind === "table" ? parent : null;
      let def = `FOREIGN KEY (${colNames(fk.columnIds, t)}) REFERENCES ${p === null ? "?" : relationName(x, p)}(${p === null ? "" : colNames(fk.refColumnIds, p)})`;
      if (fk.onUpdate !== "a") def += ` ON UPDATE ${ACTION_TEXT[fk.onUpdate]}`;
      if (fk.onDelete !== "a") def += ` ON DELETE ${ACTION_TEXT[fk.onDelete]}`;
      out.push({ oid: oid(), name: fk.name, table: t, type: "f", indexOid: 0, refTableOid: relationOid(fk.refTableId), keys: fk.columnIds.map((id) => attnum(t, id)), refKeys: p === null ? null : fk.refColumnIds.map((id) => attnum(p, id)), onUpdate: fk.onUpdate, onDelete: fk.onDelete, def, plainDef: def });
    }
  }
  return out;
}

export function pgConstraint(x: SystemContext): SystemTable {
  const rows: Datum[][] = constraintRows(x).map((r) => [
    r.oid, r.name, namespaceOid(r.table.schemaId), r.type, false, false, true, relationOid(r.table.id), 0, r.indexOid, 0, r.refTableOid,
    r.type === "f" ? r.onUpdate : " ", r.type === "f" ? r.onDelete : " ", r.type === "f" ? "s" : " ", true, 0, r.type === "c" ? false : true,
    r.keys.length > 0 ? r.keys : null, r.refKeys, r.type === "c" ? r.def : null,
  ]);
  return table(
    [["oid", O], ["conname", N], ["connamespace", O], ["contype", C], ["condeferrable", B], ["condeferred", B], ["convalidated", B], ["conrelid", O], ["contypid", O], ["conindid", O], ["conparentid", O], ["confrelid", O], ["confupdtype", C], ["confdeltype", C], ["confmatchtype", C], ["conislocal", B], ["coninhcount", I4], ["connoinherit", B], ["conkey", arrayOf(I2)], ["confkey", arrayOf(I2)], ["conbin", T]],
    rows,
  );
}
