// ALTER TABLE (and ALTER VIEW / SEQUENCE / INDEX … OWNER TO, which the grammar writes the same
// way), bound: the relation's name as written and one readonly action per subcommand, in order.
// Subcommands Warren does not run are kept as "unsupported" and refused (0A000) when the
// statement runs, after the relation is found, as PostgreSQL reports a missing relation first.
import { type PgNode } from "../../parse/ast.ts";
import { type TypeRef, typeRefOf } from "../type-ref.ts";
import { storeExpr } from "../stored-sql.ts";
import { bindColumnDef, bindTableConstraint, type ColumnDefinition, type TableConstraint } from "./create-table.ts";
import { type RoleSpec, roleSpec } from "./names.ts";
import { type SequenceOption, sequenceOptions } from "./sequence.ts";

export type AlterTableAction =
  | { readonly kind: "add-column"; readonly column: ColumnDefinition; readonly ifNotExists: boolean }
  | { readonly kind: "drop-column"; readonly column: string; readonly missingOk: boolean; readonly cascade: boolean }
  /** SET DEFAULT e (expr: its stored text) or DROP DEFAULT (null). */
  | { readonly kind: "set-default"; readonly column: string; readonly expr: string | null }
  | { readonly kind: "set-not-null"; readonly column: string }
  | { readonly kind: "drop-not-null"; readonly column: string }
  | { readonly kind: "alter-type"; readonly column: string; readonly type: TypeRef }
  | { readonly kind: "add-constraint"; readonly constraint: TableConstraint }
  | { readonly kind: "drop-constraint"; readonly name: string; readonly missingOk: boolean }
  /** SET (…) / RESET (…) of storage parameters: accepted, nothing to do. */
  | { readonly kind: "storage-options" }
  | { readonly kind: "owner"; readonly role: RoleSpec }
  | { readonly kind: "add-identity"; readonly column: string; readonly always: boolean; readonly options: readonly SequenceOption[] }
  | { readonly kind: "unsupported"; readonly subcommand: string };

export interface AlterTableCommand {
  readonly kind: "alter-table";
  readonly table: readonly string[];
  /** ALTER TABLE / VIEW / SEQUENCE / … as written (it names the command tag of OWNER TO). */
  readonly relationKind: "table" | "view" | "sequence" | "other";
  readonly missingOk: boolean;
  readonly actions: readonly AlterTableAction[];
}

function action(cmd: PgNode): AlterTableAction {
  const sub = cmd["subtype"] as string;
  const column = (cmd["name"] as string | undefined) ?? "";
  const def = cmd["def"] as PgNode | undefined;
  switch (sub) {
    case "AT_AddColumn":
      return { kind: "add-column", column: bindColumnDef(def!["ColumnDef"] as PgNode), ifNotExists: cmd["missing_ok"] === true };
    case "AT_DropColumn":
      return { kind: "drop-column", column, missingOk: cmd["missing_ok"] === true, cascade: cmd["behavior"] === "DROP_CASCADE" };
    case "AT_ColumnDefault":
      return { kind: "set-default", column, expr: def === undefined ? null : storeExpr(def) };
    case "AT_SetNotNull":
      return { kind: "set-not-null", column };
    case "AT_DropNotNull":
      return { kind: "drop-not-null", column };
    case "AT_AlterColumnType":
      return { kind: "alter-type", column, type: typeRefOf((def!["ColumnDef"] as PgNode)["typeName"] as PgNode) };
    case "AT_AddConstraint":
      return { kind: "add-constraint", constraint: bindTableConstraint(def!["Constraint"] as PgNode) };
    case "AT_DropConstraint":
      return { kind: "drop-constraint", name: column, missingOk: cmd["missing_ok"] === true };
    case "AT_SetRelOptions":
    case "AT_ResetRelOptions":
      return { kind: "storage-options" };
    case "AT_ChangeOwner":
      return { kind: "owner", role: roleSpec(cmd["newowner"] as PgNode | undefined) };
    case "AT_AddIdentity": {
      const con = def!["Constraint"] as PgNode;
      return { kind: "add-identity", column, always: con["generated_when"] === "a", options: sequenceOptions(con["options"] as PgNode[] | undefined) };
    }
    default:
      return { kind: "unsupported", subcommand: sub.replace("AT_", "") };
  }
}

export function bindAlterTable(stmt: PgNode): AlterTableCommand {
  const rv = stmt["relation"] as PgNode;
  const objtype = stmt["objtype"];
  return {
    kind: "alter-table",
    table: rv["schemaname"] ? [rv["schemaname"] as string, rv["relname"] as string] : [rv["relname"] as string],
    relationKind: objtype === "OBJECT_TABLE" ? "table" : objtype === "OBJECT_VIEW" ? "view" : objtype === "OBJECT_SEQUENCE" ? "sequence" : "other",
    missingOk: stmt["missing_ok"] === true,
    actions: (stmt["cmds"] as PgNode[]).map((c) => action(c["AlterTableCmd"] as PgNode)),
  };
}
