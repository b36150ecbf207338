// The SystemContext a statement's pg_catalog / information_schema tables and catalog functions
// are computed from: the binder's catalog snapshot, user, database, search path and settings,
// plus the binder-backed pieces the catalogs need (a view's column types, stored expressions
// and view queries printed as Postgres prints them).
import type { TableDesc, ViewDesc } from "../../catalog/descriptors.ts";
import type { PgNode } from "../parse/ast.ts";
import { typeOfStored, type SqlType } from "../types/type.ts";
import type { Binder } from "./binder.ts";
import { deparseStored, deparseViewQuery, fromScope, type DeparseEnv } from "./deparse.ts";
import { tableScope } from "./dml.ts";
import { Scope } from "./scope.ts";
import { bindQuery } from "./select.ts";
import { relationName } from "./system-tables/constraints.ts";
import type { SystemContext } from "./system-tables/index.ts";
import { exprNode, queryNode } from "./stored-sql.ts";
import type { StoredSql } from "../../catalog/descriptors.ts";

export function systemContext(b: Binder): SystemContext {
  const x: SystemContext = { catalog: b.catalog, user: b.user, database: b.database, searchPath: b.searchPath, ...(b.settings !== undefined ? { settings: b.settings } : {}) };
  const viewCols = new Map<number, Array<{ name: string; type: SqlType }>>();
  const relName = (names: readonly string[]): string => {
    const rel = b.catalog.resolveRelation(names, b.searchPath);
    return rel === undefined ? names.join(".") : relationName(x, rel);
  };
  const columnsOf = (names: readonly string[]): Array<{ name: string; type: SqlType }> => {
    const rel = b.catalog.resolveRelation(names, b.searchPath);
    if (rel?.kind === "table") return rel.columns.filter((c) => !c.hidden).map((c) => ({ name: c.name, type: typeOfStored(c.type) }));
    if (rel?.kind === "view") return x.viewColumns!(rel);
    return [];
  };
  x.viewColumns = (v: ViewDesc) => {
    let cols = viewCols.get(v.id);
    if (cols === undefined) {
      try {
        cols = bindQuery(b, queryNode(v.query), null).cols.map((c, i) => ({ name: v.columnNames[i] ?? c.name, type: c.type }));
      } catch {
        // A view whose query no longer binds (a column it used was dropped) shows no columns.
        cols = [];
      }
      viewCols.set(v.id, cols);
    }
    return cols;
  };
  x.exprText = (t: TableDesc, expr: StoredSql, target: SqlType | null, pretty = true) => {
    const env: DeparseEnv = { binder: b, scope: new Scope(tableScope(t, t.name, 0, null), null), qualify: false, relationName: relName, pretty, columnsOf };
    return deparseStored(env, exprNode(expr), target);
  };
  x.viewDef = (v: ViewDesc, pretty = true) => {
    const query = queryNode(v.query);
    const s = (query["SelectStmt"] as PgNode | undefined) ?? query;
    const env: DeparseEnv = { binder: b, scope: fromScope(b, (s["fromClause"] as PgNode[] | undefined) ?? [], columnsOf), qualify: true, relationName: relName, pretty, columnsOf };
    return deparseViewQuery(env, query, v.columnNames);
  };
  return x;
}
