// A type name as written (`varchar(20)`, `myschema.mood[]`), read out of the parse tree but not yet
// looked up: DDL is bound without the catalog, and the names it carries are resolved when it runs
// (bind/expr.ts bindTypeRef), so "relation already exists" and IF NOT EXISTS come before a type
// lookup, as they did when exec read the tree.
import { nodeKind, stringList, type PgNode } from "../parse/ast.ts";

export interface TypeRef {
  /** The name's parts, as the grammar gives them (`int` is ["pg_catalog", "int4"]). */
  readonly names: readonly string[];
  /** The type modifiers; null for one that is not a simple integer constant (42601 when resolved). */
  readonly mods: readonly (number | null)[];
  /** How many `[]` follow the name. */
  readonly arrayDims: number;
  /** Where the name is in the statement, for error positions. */
  readonly location: number | undefined;
}

/** A TypeName node as a TypeRef. */
export function typeRefOf(tn: PgNode): TypeRef {
  const mods = ((tn["typmods"] as PgNode[] | undefined) ?? []).map((m) => {
    const [k, body] = nodeKind(m);
    return k === "A_Const" && body["ival"] !== undefined ? ((body["ival"] as { ival?: number }).ival ?? 0) : null;
  });
  return {
    names: stringList(tn["names"] as PgNode[]),
    mods,
    arrayDims: ((tn["arrayBounds"] as PgNode[] | undefined) ?? []).length,
    location: tn["location"] as number | undefined,
  };
}
