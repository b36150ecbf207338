// SQL embedded in a PL/pgSQL function (a statement, or the expression of an assignment or a
// condition), parsed and bound; ../plpgsql/embedded.ts binds each text once per catalog and runs it.
// Also a type name as PL/pgSQL declarations write it.
import { PgError } from "../../../../common/errors.ts";
import { nodeKind, type PgNode, type StatementTree, statementTree } from "../parse/ast.ts";
import { parseSql } from "../parse/parser.ts";
import type { Binder } from "./binder.ts";
import type { Expr, Rel } from "./bound.ts";
import { bindDelete, bindInsert, bindUpdate, type BoundDelete, type BoundInsert, type BoundUpdate } from "./dml.ts";
import { bindExpr, bindTypeName, ctxFor } from "./expr.ts";
import { Scope } from "./scope.ts";
import { bindQuery, bindWith } from "./select.ts";
import type { SqlType } from "../types/type.ts";

export type EmbeddedStatement =
  | { readonly kind: "query"; readonly rel: Rel }
  | { readonly kind: "insert"; readonly bound: BoundInsert }
  | { readonly kind: "update"; readonly bound: BoundUpdate }
  | { readonly kind: "delete"; readonly bound: BoundDelete }
  /** Any other statement: run as the session runs it (DDL and the like). */
  | { readonly kind: "utility"; readonly statement: StatementTree };

/** The one statement of an embedded SQL text (42601 for none or several). */
async function oneStatement(sql: string): Promise<PgNode> {
  const stmts = await parseSql(sql);
  if (stmts.length !== 1) throw new PgError("syntax_error", `query "${sql}" ${stmts.length === 0 ? "is empty" : "contains more than one statement"}`);
  return stmts[0]!.stmt;
}

/** A statement of a function body, bound by `b` (whose variables resolver names the function's variables). */
export async function bindEmbeddedStatement(b: Binder, sql: string): Promise<EmbeddedStatement> {
  const node = await oneStatement(sql);
  const [kind, stmt] = nodeKind(node);
  if (stmt["withClause"] !== undefined && kind !== "SelectStmt") bindWith(b, stmt["withClause"] as PgNode, null);
  switch (kind) {
    case "SelectStmt":
      return { kind: "query", rel: bindQuery(b, node, null) };
    case "InsertStmt":
      return { kind: "insert", bound: bindInsert(b, stmt) };
    case "UpdateStmt":
      return { kind: "update", bound: bindUpdate(b, stmt) };
    case "DeleteStmt":
      return { kind: "delete", bound: bindDelete(b, stmt) };
    case "TransactionStmt":
      throw new PgError("invalid_transaction_termination", "invalid transaction termination");
    case "VariableSetStmt":
    case "VariableShowStmt":
      throw new PgError("feature_not_supported", "SET and SHOW are not supported inside PL/pgSQL functions");
    default:
      return { kind: "utility", statement: statementTree(node) };
  }
}

/**
 * `SELECT source` bound: one expression (`x + 1`), or, for anything more (`count(*) FROM t`), the
 * query whose one row holds the value.
 */
export async function bindEmbeddedValue(b: Binder, source: string): Promise<{ readonly kind: "value"; readonly expr: Expr } | { readonly kind: "query"; readonly rel: Rel }> {
  const node = await oneStatement(`SELECT ${source}`);
  const [, sel] = nodeKind(node);
  const others = Object.keys(sel).filter((k) => !["targetList", "limitOption", "op"].includes(k));
  const targets = (sel["targetList"] as PgNode[] | undefined) ?? [];
  if (others.length === 0 && targets.length === 1) {
    const val = (targets[0]!["ResTarget"] as PgNode)["val"] as PgNode;
    return { kind: "value", expr: bindExpr(b, val, ctxFor(new Scope([], null), "PL/pgSQL expressions")) };
  }
  return { kind: "query", rel: bindQuery(b, node, null) };
}

/** A type name as written in a declaration (`numeric(10,2)`, `mood`), resolved. */
export async function bindTypeText(b: Binder, typeName: string): Promise<SqlType> {
  const stmts = await parseSql(`SELECT NULL::${typeName}`);
  const [, sel] = nodeKind(stmts[0]!.stmt);
  const target = ((sel["targetList"] as PgNode[])[0]!["ResTarget"] as PgNode)["val"] as PgNode;
  const tn = (target["TypeCast"] as PgNode)["typeName"] as PgNode;
  return bindTypeName(tn, b);
}
