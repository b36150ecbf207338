// Names as DDL writes them, read out of the parse tree: a relation (RangeVar) and a role
// (RoleSpec). Nothing is looked up here; exec/ resolves them against the catalog of the moment.
import type { PgNode } from "../../parse/ast.ts";

/** A relation named by a statement: `[schema.]name`, and whether TEMP was said. */
export interface RelationName {
  readonly schema: string | null;
  readonly name: string;
  /** CREATE TEMP … (relpersistence "t"). */
  readonly temp: boolean;
}

export function relationName(rv: PgNode): RelationName {
  const schema = rv["schemaname"];
  return { schema: typeof schema === "string" && schema !== "" ? schema : null, name: rv["relname"] as string, temp: rv["relpersistence"] === "t" };
}

/** The name parts a lookup takes: [schema, name] or [name]. */
export function nameParts(r: RelationName): string[] {
  return r.schema !== null ? [r.schema, r.name] : [r.name];
}

/** OWNER TO's role: a name, or CURRENT_USER / SESSION_USER / CURRENT_ROLE. */
export type RoleSpec = { readonly kind: "name"; readonly name: string } | { readonly kind: "current" };

export function roleSpec(role: PgNode | undefined): RoleSpec {
  const kind = role?.["roletype"] as string | undefined;
  if (kind === "ROLESPEC_CURRENT_USER" || kind === "ROLESPEC_SESSION_USER" || kind === "ROLESPEC_CURRENT_ROLE") return { kind: "current" };
  return { kind: "name", name: (role?.["rolename"] as string | undefined) ?? "" };
}
