// CREATE [OR REPLACE] [TEMP] VIEW, bound: the view's name, and its query checked by binding it
// (the caller's `validate`), with every unqualified relation name qualified by the schema it
// resolves to now, as the SQL text the descriptor keeps. Whether the query reads a temporary
// relation is noted here too (such a view is temporary itself, as in PostgreSQL).
import { isTemp } from "../../../catalog/descriptors.ts";
import { stringList, type PgNode } from "../../parse/ast.ts";
import type { TypeNameScope } from "../expr.ts";
import { storeQuery } from "../stored-sql.ts";
import { type RelationName, relationName } from "./names.ts";

export interface CreateViewCommand {
  readonly kind: "create-view";
  readonly relation: RelationName;
  readonly replace: boolean;
  /** The query as stored text, its relations qualified. */
  readonly query: string;
  /** The query reads a temporary relation: the view goes to the temporary schema. */
  readonly readsTemp: boolean;
  /** CREATE VIEW v (a, b) AS …: the column names given (empty: the query's). */
  readonly columnNames: readonly string[];
}

/** True when `query` names a temporary relation (a view over one is temporary itself, as in Postgres). */
function readsTempRelation(scope: TypeNameScope, query: unknown): boolean {
  if (scope.catalog.tempSchema === undefined || query === null || typeof query !== "object") return false;
  if (Array.isArray(query)) return query.some((q) => readsTempRelation(scope, q));
  const o = query as PgNode;
  const rv = o["RangeVar"] as PgNode | undefined;
  if (rv !== undefined) {
    const names = rv["schemaname"] ? [rv["schemaname"] as string, rv["relname"] as string] : [rv["relname"] as string];
    const d = scope.catalog.resolveRelation(names, scope.searchPath);
    if (d !== undefined && isTemp(d)) return true;
  }
  return Object.values(o).some((v) => readsTempRelation(scope, v));
}

/** The names of every WITH query in `node` (a RangeVar naming one is not a relation). */
function cteNames(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const n of node) cteNames(n, out);
  else if (node !== null && typeof node === "object") {
    const cte = (node as PgNode)["CommonTableExpr"] as PgNode | undefined;
    if (cte !== undefined) out.add(cte["ctename"] as string);
    for (const v of Object.values(node as PgNode)) cteNames(v, out);
  }
  return out;
}

/**
 * A copy of a view's query whose unqualified relation names carry the schema they resolve to now,
 * as Postgres binds a view to its relations when it is created: the view keeps reading them
 * whatever the search_path of a later session (pg_dump reads view definitions with an empty one).
 */
function qualifyRelations(scope: TypeNameScope, node: unknown, ctes: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => qualifyRelations(scope, n, ctes));
  if (node === null || typeof node !== "object") return node;
  const out: PgNode = {};
  for (const [k, v] of Object.entries(node as PgNode)) out[k] = qualifyRelations(scope, v, ctes);
  const rv = out["RangeVar"] as PgNode | undefined;
  if (rv !== undefined && rv["schemaname"] === undefined && !ctes.has(rv["relname"] as string)) {
    const d = scope.catalog.resolveRelation([rv["relname"] as string], scope.searchPath);
    if (d !== undefined && !isTemp(d)) {
      const schema = scope.catalog.get(d.schemaId);
      if (schema !== undefined) out["RangeVar"] = { ...rv, schemaname: schema.name };
    }
  }
  return out;
}

/** `validate` binds the query (its errors are the statement's); `scope` resolves its relations. */
export function bindCreateView(stmt: PgNode, scope: TypeNameScope, validate: (query: PgNode) => void): CreateViewCommand {
  validate(stmt["query"] as PgNode);
  const query = qualifyRelations(scope, stmt["query"] as PgNode, cteNames(stmt["query"], new Set())) as PgNode;
  return {
    kind: "create-view",
    relation: relationName(stmt["view"] as PgNode),
    replace: stmt["replace"] === true,
    query: storeQuery(query),
    readsTemp: readsTempRelation(scope, query),
    columnNames: stringList(stmt["aliases"] as PgNode[] | undefined),
  };
}
