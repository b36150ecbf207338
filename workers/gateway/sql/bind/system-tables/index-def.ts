// CREATE INDEX text as pg_get_indexdef prints it (pg_indexes.indexdef, psql's \d index lines).
import type { IndexDesc, TableDesc } from "../../../catalog/descriptors.ts";
import { quoteIdent } from "../../functions/string-functions.ts";
import { indexName, schemaName, type SystemContext } from "./context.ts";

/** The key column list `a, b DESC`. */
export function indexColumnsText(t: TableDesc, ix: IndexDesc): string {
  return ix.columns.map((c) => `${quoteIdent(t.columns.find((x) => x.id === c.columnId)?.name ?? "?")}${c.desc ? " DESC" : ""}`).join(", ");
}

/** pg_get_indexdef(index): the table schema-qualified, as Postgres prints it (pretty output may leave it out). */
export function indexDef(x: Pick<SystemContext, "catalog">, t: TableDesc, ix: IndexDesc, qualified = true): string {
  const table = qualified ? `${quoteIdent(schemaName(x, t.schemaId))}.${quoteIdent(t.name)}` : quoteIdent(t.name);
  return `CREATE ${ix.unique ? "UNIQUE " : ""}INDEX ${quoteIdent(indexName(t, ix))} ON ${table} USING btree (${indexColumnsText(t, ix)})`;
}
