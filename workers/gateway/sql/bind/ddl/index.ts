// CREATE INDEX, bound: the table's name as written, the key columns, the options, and the partial
// index's predicate already as the SQL text the descriptor keeps (../stored-sql.ts). Names are
// resolved, and what Warren does not build is refused, by exec/ddl.ts createIndex, in
// PostgreSQL's order (an unknown table before an unsupported key).
import type { PgNode } from "../../parse/ast.ts";
import { storeExpr } from "../stored-sql.ts";

export interface CreateIndexCommand {
  readonly kind: "create-index";
  readonly table: readonly string[];
  /** Each key column by name; null for an expression (not supported). */
  readonly columns: ReadonlyArray<{ readonly name: string | null; readonly desc: boolean }>;
  readonly unique: boolean;
  readonly nullsNotDistinct: boolean;
  /** The name given, or null for one made from the table and columns. */
  readonly name: string | null;
  readonly ifNotExists: boolean;
  /** WHERE …, as stored SQL text; null for an index over every row. */
  readonly predicate: string | null;
}

export function bindCreateIndex(stmt: PgNode): CreateIndexCommand {
  const rv = stmt["relation"] as PgNode;
  const where = stmt["whereClause"] as PgNode | undefined;
  return {
    kind: "create-index",
    table: [rv["schemaname"], rv["relname"]].filter((x): x is string => typeof x === "string"),
    columns: (stmt["indexParams"] as PgNode[]).map((p) => {
      const e = p["IndexElem"] as PgNode;
      return { name: (e["name"] as string | undefined) ?? null, desc: e["ordering"] === "SORTBY_DESC" };
    }),
    unique: stmt["unique"] === true,
    nullsNotDistinct: stmt["nulls_not_distinct"] === true,
    name: (stmt["idxname"] as string | undefined) ?? null,
    ifNotExists: stmt["if_not_exists"] === true,
    predicate: where === undefined ? null : storeExpr(where),
  };
}
