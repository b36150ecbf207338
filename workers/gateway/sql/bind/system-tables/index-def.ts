// CREATE INDEX text as pg_get_indexdef prints it (pg_indexes.indexdef, psql's \d index lines).
import type { IndexDesc, TableDesc } from "../../../catalog/descriptors.ts";
import { quoteIdent } from "../../functions/string-functions.ts";
import type { PgNode } from "../../parse/ast.ts";
import { indexName, schemaName, type SystemContext } from "./context.ts";
import type { StoredSql } from "../../../catalog/descriptors.ts";

/** The key column list `a, b DESC`. */
export function indexColumnsText(t: TableDesc, ix: IndexDesc): string {
  return ix.columns.map((c) => `${quoteIdent(t.columns.find((x) => x.id === c.columnId)?.name ?? "?")}${c.desc ? " DESC" : ""}`).join(", ");
}

/**
 * pg_get_indexdef(index [, 0, pretty]): the table schema-qualified, as Postgres prints it (pretty
 * output may leave it out); a partial index's WHERE parenthesised in full unless pretty.
 */
export function indexDef(x: SystemContext, t: TableDesc, ix: IndexDesc, qualified = true, pretty = false): string {
  const table = qualified ? `${quoteIdent(schemaName(x, t.schemaId))}.${quoteIdent(t.name)}` : quoteIdent(t.name);
  const where = ix.predicate === undefined ? "" : ` WHERE ${predicateText(x, t, ix.predicate, pretty)}`;
  return `CREATE ${ix.unique ? "UNIQUE " : ""}INDEX ${quoteIdent(indexName(t, ix))} ON ${table} USING btree (${indexColumnsText(t, ix)})${where}`;
}

/** The predicate as ruleutils prints it: non-pretty text carries its own parentheses. */
function predicateText(x: SystemContext, t: TableDesc, pred: StoredSql, pretty: boolean): string {
  return x.exprText?.(t, pred, null, pretty) ?? "?";
}
