// What the protocols need to know of a parsed statement before it is bound against the catalog:
// its kind, whether it returns a row set, its highest $n, whether it may change the settings a
// connection reports, and, for COPY, the COPY statement bound (../parsed-statement.ts keeps these).
import { nodeKind, type PgNode, someNode, type StatementTree, treeOf } from "../parse/ast.ts";
import { type CopyStatement, copyStatement } from "./copy-statement.ts";
import { BOUND_DDL_NODES } from "./ddl/ddl-nodes.ts";

/**
 * What a statement is, as the protocols need to tell: a query (SELECT, VALUES, EXPLAIN), DML
 * (INSERT, UPDATE, DELETE, MERGE), DDL (CREATE, ALTER, DROP, TRUNCATE, SELECT … INTO, …),
 * transaction control (BEGIN, COMMIT, SAVEPOINT, …), SET / RESET / DISCARD, SHOW, COPY, or another
 * utility statement (VACUUM, LOCK, CHECKPOINT, DEALLOCATE, …).
 */
export type StatementKind = "query" | "dml" | "ddl" | "transaction" | "set" | "show" | "copy" | "utility";

export interface StatementInfo {
  /** The parse-tree node name (SelectStmt, TransactionStmt, …). */
  readonly nodeName: string;
  readonly kind: StatementKind;
  readonly returnsRows: boolean;
  readonly paramCount: number;
  readonly changesSettings: boolean;
  /** COPY, bound; null for another statement. */
  readonly copy: CopyStatement | null;
}

/** DDL as the protocols tell it: what the DDL binder binds, and the DDL that runs elsewhere. */
const DDL = new Set([...BOUND_DDL_NODES, "CreateTableAsStmt", "GrantStmt", "GrantRoleStmt", "AlterOwnerStmt"]);

function statementKind(name: string, body: PgNode): StatementKind {
  switch (name) {
    case "SelectStmt":
      // SELECT … INTO creates a table.
      return body["intoClause"] === undefined ? "query" : "ddl";
    case "ExplainStmt":
      return "query";
    case "InsertStmt":
    case "UpdateStmt":
    case "DeleteStmt":
    case "MergeStmt":
      return "dml";
    case "TransactionStmt":
      return "transaction";
    case "VariableSetStmt":
    case "DiscardStmt":
      return "set";
    case "VariableShowStmt":
      return "show";
    case "CopyStmt":
      return "copy";
  }
  return DDL.has(name) || name.startsWith("Create") || name.startsWith("Alter") || name.startsWith("Drop") ? "ddl" : "utility";
}

function returningList(body: PgNode): PgNode[] {
  const rc = body["returningClause"] as PgNode | undefined;
  return (rc?.["exprs"] as PgNode[] | undefined) ?? (body["returningList"] as PgNode[] | undefined) ?? [];
}

function returnsRows(name: string, body: PgNode): boolean {
  switch (name) {
    case "SelectStmt":
      // SELECT … INTO creates a table and returns no rows.
      return body["intoClause"] === undefined;
    case "VariableShowStmt":
    case "ExplainStmt":
    case "FetchStmt":
      return true;
    case "InsertStmt":
    case "UpdateStmt":
    case "DeleteStmt":
    case "MergeStmt":
      return returningList(body).length > 0;
    default:
      return false;
  }
}

/** The highest $n in a statement (walked with an explicit stack: the tree may be deep). */
export function paramCount(tree: StatementTree): number {
  let m = 0;
  someNode(treeOf(tree), (o) => {
    const p = o["ParamRef"] as { number?: unknown } | undefined;
    if (p !== undefined && typeof p.number === "number" && p.number > m) m = p.number;
    return false;
  });
  return m;
}

export function statementInfo(tree: StatementTree): StatementInfo {
  const [name, body] = nodeKind(treeOf(tree));
  return {
    nodeName: name,
    kind: statementKind(name, body),
    returnsRows: returnsRows(name, body),
    paramCount: paramCount(tree),
    changesSettings: name === "VariableSetStmt" || name === "DiscardStmt",
    copy: name === "CopyStmt" ? copyStatement(body) : null,
  };
}
