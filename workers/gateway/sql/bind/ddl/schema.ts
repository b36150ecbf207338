// CREATE SCHEMA, bound: the name, IF NOT EXISTS, and the schema elements (CREATE TABLE / VIEW /
// INDEX / SEQUENCE / TRIGGER, GRANT) it makes in the new schema. (AUTHORIZATION names the
// tenant's one role, which owns everything, and is not looked at.)
import { PgError } from "../../../../../common/errors.ts";
import { nodeKind, type PgNode, statementTree, type StatementTree } from "../../parse/ast.ts";

export interface CreateSchemaCommand {
  readonly kind: "create-schema";
  readonly name: string;
  readonly ifNotExists: boolean;
  /**
   * The elements, in the order PostgreSQL runs them (sequences, tables, views, indexes, triggers,
   * grants: transformCreateSchemaStmt), each run as its own statement with the new schema first on
   * the search path, so unqualified names are created in it and found there.
   */
  readonly elements: readonly StatementTree[];
}

/** PostgreSQL's order of the element kinds; anything else is not a schema element. */
const ELEMENT_ORDER = ["CreateSeqStmt", "CreateStmt", "ViewStmt", "IndexStmt", "CreateTrigStmt", "GrantStmt"];

/** The relation an element creates (or, for an index or trigger, the table it is on). */
function elementRelation(kind: string, stmt: PgNode): PgNode | undefined {
  switch (kind) {
    case "CreateSeqStmt":
      return stmt["sequence"] as PgNode | undefined;
    case "ViewStmt":
      return stmt["view"] as PgNode | undefined;
    case "CreateStmt":
    case "IndexStmt":
    case "CreateTrigStmt":
      return stmt["relation"] as PgNode | undefined;
    default:
      return undefined;
  }
}

export function bindCreateSchema(stmt: PgNode): CreateSchemaCommand {
  const name = stmt["schemaname"] as string;
  const ifNotExists = stmt["if_not_exists"] === true;
  const elts = (stmt["schemaElts"] as PgNode[] | undefined) ?? [];
  if (ifNotExists && elts.length > 0) throw new PgError("feature_not_supported", "CREATE SCHEMA IF NOT EXISTS cannot include schema elements");
  const kinds = elts.map((e) => nodeKind(e));
  for (const [kind, body] of kinds) {
    if (!ELEMENT_ORDER.includes(kind)) throw new PgError("syntax_error", `unrecognized node type in CREATE SCHEMA: ${kind}`);
    const rel = elementRelation(kind, body);
    const schema = rel?.["schemaname"] as string | undefined;
    if (schema !== undefined && schema !== name) {
      throw new PgError("invalid_schema_definition", `CREATE specifies a schema (${schema}) different from the one being created (${name})`);
    }
  }
  // GRANT changes nothing (the tenant's one role owns everything, as the session's GRANT says).
  const ordered = ELEMENT_ORDER.filter((k) => k !== "GrantStmt").flatMap((k) => elts.filter((_, i) => kinds[i]![0] === k));
  return { kind: "create-schema", name, ifNotExists, elements: ordered.map((e) => statementTree(e)) };
}
