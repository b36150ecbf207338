// ALTER TABLE … RENAME COLUMN in the views that read the column. PostgreSQL keeps a view's query
// bound to its columns by number, so a renamed column is simply printed under its new name and the
// view keeps its own column names. Warren keeps a view's query as SQL text naming columns by name
// (catalog/README.md), so the text is rewritten instead: the view's query is bound against the
// catalog before the rename, every column reference that resolves to the renamed column (a table
// in FROM, not through an alias's column list) is renamed, and a select-list item that was named
// by that reference keeps its name (`b` becomes `bb AS b`), so the view's columns do not change.
// A view that merges the column in a JOIN … USING or NATURAL JOIN keeps the table's old names under
// an alias column list instead (`t t(a, b, c)`), as PostgreSQL prints such a view.
import type { ColumnDesc, StoredSql, TableDesc, ViewDesc } from "../../catalog/descriptors.ts";
import { stringList, type PgNode } from "../parse/ast.ts";
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

/** Whether the tree has a JOIN … USING naming `name`, or a NATURAL JOIN (which may merge it). */
function joinMerges(node: unknown, name: string): boolean {
  if (Array.isArray(node)) return node.some((n) => joinMerges(n, name));
  if (node === null || typeof node !== "object") return false;
  const join = (node as PgNode)["JoinExpr"] as PgNode | undefined;
  if (join !== undefined) {
    const using = join["usingClause"] as PgNode[] | undefined;
    if (join["isNatural"] === true || (using !== undefined && stringList(using).includes(name))) return true;
  }
  return Object.values(node as PgNode).some((v) => joinMerges(v, name));
}

/**
 * The tree with every FROM reference to `table` given an alias column list that names all its
 * columns as they were (`t` becomes `t t(a, b, c)`, `t x(p)` becomes `t x(p, b, c)`), so every
 * name the query uses, a USING list's included, keeps meaning the same column. PostgreSQL prints
 * a view over a renamed USING column the same way.
 */
function aliasTable(node: unknown, table: TableDesc, oldNames: readonly string[]): unknown {
  if (Array.isArray(node)) return node.map((n) => aliasTable(n, table, oldNames));
  if (node === null || typeof node !== "object") return node;
  const rv = (node as PgNode)["RangeVar"] as PgNode | undefined;
  if (rv !== undefined && rv["relname"] === table.name) {
    const alias = rv["alias"] as PgNode | undefined;
    const given = stringList((alias?.["colnames"] as PgNode[] | undefined) ?? []);
    const colnames = [...given, ...oldNames.slice(given.length)].map((sval) => ({ String: { sval } }));
    return { RangeVar: { ...rv, alias: { ...(alias ?? {}), aliasname: (alias?.["aliasname"] as string | undefined) ?? table.name, colnames } } };
  }
  return Object.fromEntries(Object.entries(node as PgNode).map(([k, v]) => [k, aliasTable(v, table, oldNames)]));
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
  // A USING list cannot name the column on one side only: the table keeps its old names under an alias.
  const merged = joinMerges(tree, column.name);
  const oldNames = table.columns.filter((c) => !c.hidden).map((c) => c.name);
  const query = merged ? storeQuery(aliasTable(tree, table, oldNames) as PgNode) : hits.size === 0 ? view.query : storeQuery(rename(tree, hits, column.name, newName) as PgNode);
  const columnNames = view.columnNames.length === 0 && hasStar(tree) ? names : view.columnNames;
  // The hits may all be in another view this one reads (that view is rewritten on its own).
  if (query === view.query && columnNames === view.columnNames) return null;
  return { query, columnNames };
}
