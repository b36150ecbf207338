// ALTER TABLE … RENAME COLUMN in the views that read the column. PostgreSQL keeps a view's query
// bound to its columns by number, so a renamed column is simply printed under its new name and the
// view keeps its own column names. Warren keeps a view's query as SQL text naming columns by name
// (catalog/README.md), so the text is rewritten instead: the view's query is bound against the
// catalog before the rename, every column reference that resolves to the renamed column (a table
// in FROM, not through an alias's column list) is renamed, and a select-list item that was named
// by that reference keeps its name (`b` becomes `bb AS b`), so the view's columns do not change.
import type { ColumnDesc, StoredSql, TableDesc, ViewDesc } from "../../catalog/descriptors.ts";
import type { PgNode } from "../parse/ast.ts";
import type { Binder } from "./binder.ts";
import { bindQuery } from "./select.ts";
import { queryNode, storeQuery } from "./stored-sql.ts";

/** The tree with the references in `hits` renamed `to`, unnamed select-list items naming them keeping `from`. */
function rename(node: unknown, hits: ReadonlySet<PgNode>, from: string, to: string): unknown {
  if (Array.isArray(node)) return node.map((n) => rename(n, hits, from, to));
  if (node === null || typeof node !== "object") return node;
  const o = node as PgNode;
  const ref = o["ColumnRef"] as PgNode | undefined;
  if (ref !== undefined && hits.has(ref)) {
    const fields = ref["fields"] as PgNode[];
    return { ColumnRef: { ...ref, fields: [...fields.slice(0, -1), { String: { sval: to } }] } };
  }
  const target = o["ResTarget"] as PgNode | undefined;
  if (target !== undefined && target["name"] === undefined) {
    const val = target["val"] as PgNode | undefined;
    const valRef = val?.["ColumnRef"] as PgNode | undefined;
    if (valRef !== undefined && hits.has(valRef)) return { ResTarget: { ...target, name: from, val: rename(val, hits, from, to) } };
  }
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, rename(v, hits, from, to)]));
}

/** Whether a query tree has a `*` or `t.*` (which expands to the columns' names of the day). */
function hasStar(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasStar);
  if (node === null || typeof node !== "object") return false;
  if ((node as PgNode)["A_Star"] !== undefined) return true;
  return Object.values(node as PgNode).some(hasStar);
}

/**
 * The view with `column` of `table` renamed `newName` in its query; null when the view does not
 * read it. `b` is a binder over the catalog before the rename. A view that no longer binds (it was
 * already broken) is left as it is. A view whose query has a `*` over the table gets its column
 * names fixed to today's (PostgreSQL expands the `*` when the view is created).
 */
export function renameColumnInView(b: Binder, view: ViewDesc, table: TableDesc, column: ColumnDesc, newName: string): { query: StoredSql; columnNames: string[] } | null {
  const tree = queryNode(view.query);
  const hits = new Set<PgNode>();
  b.columnRefSeen = (ref, c) => {
    if (c.base?.tableId === table.id && c.base.columnId === column.id) hits.add(ref);
  };
  let names: string[];
  try {
    names = bindQuery(b, tree, null).cols.map((c) => c.name);
  } catch {
    return null;
  } finally {
    b.columnRefSeen = null;
  }
  if (!b.usedTables.has(table.id)) return null;
  const query = hits.size === 0 ? view.query : storeQuery(rename(tree, hits, column.name, newName) as PgNode);
  const columnNames = view.columnNames.length === 0 && hasStar(tree) ? names : view.columnNames;
  // The hits may all be in another view this one reads (that view is rewritten on its own).
  if (query === view.query && columnNames === view.columnNames) return null;
  return { query, columnNames };
}
