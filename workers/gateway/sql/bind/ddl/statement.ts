// A DDL statement bound into its command (the other files of this folder), for exec/'s DDL.
// CREATE VIEW needs the catalog (its relations are qualified as they resolve now) and a check of
// its query (`validateQuery`, which binds it); the rest is bound from the tree alone.
import { nodeKind, type StatementTree, statementTree, treeOf } from "../../parse/ast.ts";
import type { TypeNameScope } from "../expr.ts";
import { type AlterTableCommand, bindAlterTable } from "./alter-table.ts";
import { bindComment, type CommentCommand } from "./comment.ts";
import { bindCreateTable, type CreateTableCommand } from "./create-table.ts";
import { bindDrop, bindDropType, bindTruncate, type DropCommand, type DropTypeCommand, type TruncateCommand } from "./drop.ts";
import { bindCreateFunction, bindDropFunction, type CreateFunctionCommand, type DropFunctionCommand } from "./function.ts";
import { bindCreateIndex, type CreateIndexCommand } from "./index.ts";
import { bindRename, type RenameCommand } from "./rename.ts";
import { bindCreateSchema, type CreateSchemaCommand } from "./schema.ts";
import { type AlterSequenceCommand, bindAlterSequence, bindCreateSequence, type CreateSequenceCommand } from "./sequence.ts";
import { bindCreateTrigger, bindDropTrigger, type CreateTriggerCommand, type DropTriggerCommand } from "./trigger.ts";
import { type AlterEnumCommand, bindAlterEnum, bindCreateDomain, bindCreateEnum, type CreateDomainCommand, type CreateEnumCommand } from "./type.ts";
import { bindCreateView, type CreateViewCommand } from "./view.ts";

export type DdlCommand =
  | CreateTableCommand
  | CreateIndexCommand
  | DropCommand
  | DropTypeCommand
  | DropTriggerCommand
  | DropFunctionCommand
  | CreateEnumCommand
  | CreateDomainCommand
  | CreateFunctionCommand
  | CreateTriggerCommand
  | AlterEnumCommand
  | AlterTableCommand
  | CreateViewCommand
  | CreateSequenceCommand
  | AlterSequenceCommand
  | CreateSchemaCommand
  | TruncateCommand
  | CommentCommand
  | RenameCommand;

export function bindDdlStatement(tree: StatementTree, scope: TypeNameScope, validateQuery: (query: StatementTree) => void): DdlCommand {
  const [kind, stmt] = nodeKind(treeOf(tree));
  switch (kind) {
    case "CreateStmt":
      return bindCreateTable(stmt);
    case "IndexStmt":
      return bindCreateIndex(stmt);
    case "DropStmt":
      if (stmt["removeType"] === "OBJECT_FUNCTION") return bindDropFunction(stmt);
      if (stmt["removeType"] === "OBJECT_TRIGGER") return bindDropTrigger(stmt);
      return stmt["removeType"] === "OBJECT_TYPE" || stmt["removeType"] === "OBJECT_DOMAIN" ? bindDropType(stmt) : bindDrop(stmt);
    case "CreateEnumStmt":
      return bindCreateEnum(stmt);
    case "CreateDomainStmt":
      return bindCreateDomain(stmt);
    case "CreateFunctionStmt":
      return bindCreateFunction(stmt);
    case "CreateTrigStmt":
      return bindCreateTrigger(stmt);
    case "AlterEnumStmt":
      return bindAlterEnum(stmt);
    case "AlterTableStmt":
      return bindAlterTable(stmt);
    case "ViewStmt":
      return bindCreateView(stmt, scope, (q) => validateQuery(statementTree(q)));
    case "CreateSeqStmt":
      return bindCreateSequence(stmt);
    case "AlterSeqStmt":
      return bindAlterSequence(stmt);
    case "CreateSchemaStmt":
      return bindCreateSchema(stmt);
    case "TruncateStmt":
      return bindTruncate(stmt);
    case "CommentStmt":
      return bindComment(stmt);
    default:
      return bindRename(stmt);
  }
}
