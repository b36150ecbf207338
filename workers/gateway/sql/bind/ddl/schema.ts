// CREATE SCHEMA, bound: the name and IF NOT EXISTS. (AUTHORIZATION names the tenant's one role,
// which owns everything, and is not looked at.)
import type { PgNode } from "../../parse/ast.ts";

export interface CreateSchemaCommand {
  readonly kind: "create-schema";
  readonly name: string;
  readonly ifNotExists: boolean;
}

export function bindCreateSchema(stmt: PgNode): CreateSchemaCommand {
  return { kind: "create-schema", name: stmt["schemaname"] as string, ifNotExists: stmt["if_not_exists"] === true };
}
