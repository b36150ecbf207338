// A statement the statement runner (../statement.ts) executes, bound to what the runner needs to
// know of it: which kind it is, and its parts as opaque handles that the binder's entry points
// below take back. The runner reads no tree; the binder binds each part against the catalog of
// the moment when the runner asks.
import { nodeKind, type PgNode, type StatementTree, statementTree, treeOf } from "../parse/ast.ts";
import type { Binder } from "./binder.ts";
import type { Rel } from "./bound.ts";
import { refuseCopyOutsideWire } from "./copy-statement.ts";
import { bindDelete, bindInsert, bindUpdate, type BoundDelete, type BoundInsert, type BoundUpdate } from "./dml.ts";
import { bindWith, bindQuery } from "./select.ts";
import { type OnCommit, onCommitOf } from "./ddl/create-table.ts";
import { BOUND_DDL_NODES } from "./ddl/ddl-nodes.ts";
import { type RelationName, relationName } from "./ddl/names.ts";

export type DmlVerb = "insert" | "update" | "delete";

/** CREATE TABLE … AS / SELECT … INTO: the new table and the query that fills it. */
export interface CreateTableAs {
  /** CREATE MATERIALIZED VIEW (refused, 0A000). */
  readonly materialized: boolean;
  readonly relation: RelationName;
  /** CREATE TABLE t (a, b) AS …: names for the query's columns. */
  readonly columnNames: readonly string[];
  readonly query: StatementTree;
  readonly ifNotExists: boolean;
  readonly onCommit: OnCommit;
}

export type RunnableStatement =
  /** A query; `lock`: FOR UPDATE / NO KEY UPDATE ("exclusive") or FOR SHARE / KEY SHARE ("shared"). */
  | { readonly kind: "select"; readonly query: StatementTree; readonly lock: "exclusive" | "shared" | null }
  /** SELECT … INTO t (command tag SELECT) or CREATE TABLE … AS (tag CREATE TABLE AS). */
  | { readonly kind: "create-table-as"; readonly createAs: CreateTableAs; readonly tag: "SELECT" | "CREATE TABLE AS" }
  | { readonly kind: "dml"; readonly verb: DmlVerb; readonly statement: StatementTree }
  | { readonly kind: "explain"; readonly analyze: boolean; readonly target: ExplainTarget }
  /** DDL: bound by ddl-statement.ts when it runs (some of it needs the catalog). */
  | { readonly kind: "ddl"; readonly statement: StatementTree; readonly nodeName: string }
  | { readonly kind: "vacuum"; readonly analyze: boolean }
  /** COPY outside the wire protocol's COPY flow (refused by bindCopyOutsideWire). */
  | { readonly kind: "copy"; readonly statement: StatementTree }
  | { readonly kind: "unsupported"; readonly name: string };

export type ExplainTarget =
  | { readonly kind: "query"; readonly query: StatementTree }
  | { readonly kind: "dml"; readonly verb: DmlVerb; readonly statement: StatementTree }
  | { readonly kind: "unsupported"; readonly name: string };

const DML_VERBS: Record<string, DmlVerb> = { InsertStmt: "insert", UpdateStmt: "update", DeleteStmt: "delete" };

function createTableAs(objtype: unknown, into: PgNode, query: PgNode, ifNotExists: boolean): CreateTableAs {
  return {
    materialized: objtype !== "OBJECT_TABLE",
    relation: relationName(into["rel"] as PgNode),
    columnNames: ((into["colNames"] as PgNode[] | undefined) ?? []).map((c) => (c["String"] as PgNode)["sval"] as string),
    query: statementTree(query),
    ifNotExists,
    onCommit: onCommitOf(into["onCommit"] as string | undefined),
  };
}

export function bindRunnable(tree: StatementTree): RunnableStatement {
  const n = treeOf(tree);
  const [kind, stmt] = nodeKind(n);
  if (BOUND_DDL_NODES.has(kind)) return { kind: "ddl", statement: tree, nodeName: kind };
  const verb = DML_VERBS[kind];
  if (verb !== undefined) return { kind: "dml", verb, statement: tree };
  switch (kind) {
    case "SelectStmt": {
      // SELECT … INTO t is CREATE TABLE t AS SELECT … (Postgres turns one into the other too).
      if (stmt["intoClause"] !== undefined) {
        const { intoClause, ...select } = stmt;
        return { kind: "create-table-as", createAs: createTableAs("OBJECT_TABLE", intoClause as PgNode, { SelectStmt: select }, false), tag: "SELECT" };
      }
      const clauses = stmt["lockingClause"] as Array<{ LockingClause?: { strength?: string } }> | undefined;
      const lock = clauses === undefined || clauses.length === 0 ? null : clauses.some((c) => c.LockingClause?.strength === "LCS_FORUPDATE" || c.LockingClause?.strength === "LCS_FORNOKEYUPDATE") ? "exclusive" : "shared";
      return { kind: "select", query: tree, lock };
    }
    case "ExplainStmt": {
      const opts = ((stmt["options"] as PgNode[] | undefined) ?? []).map((o) => (o["DefElem"] as PgNode)["defname"] as string);
      const query = stmt["query"] as PgNode;
      const qk = nodeKind(query)[0];
      const qverb = DML_VERBS[qk];
      const target: ExplainTarget = qverb !== undefined ? { kind: "dml", verb: qverb, statement: statementTree(query) } : qk === "SelectStmt" ? { kind: "query", query: statementTree(query) } : { kind: "unsupported", name: qk.replace(/Stmt$/, "") };
      return { kind: "explain", analyze: opts.includes("analyze"), target };
    }
    case "VacuumStmt":
      return { kind: "vacuum", analyze: stmt["is_vacuumcmd"] === false };
    case "CreateTableAsStmt":
      return { kind: "create-table-as", createAs: createTableAs(stmt["objtype"], stmt["into"] as PgNode, stmt["query"] as PgNode, stmt["if_not_exists"] === true), tag: "CREATE TABLE AS" };
    case "CopyStmt":
      return { kind: "copy", statement: tree };
    default:
      return { kind: "unsupported", name: kind.replace(/Stmt$/, "") };
  }
}

/** A query statement (or sub-statement) bound. */
export function bindQueryTree(b: Binder, query: StatementTree): Rel {
  return bindQuery(b, treeOf(query), null);
}

/**
 * An INSERT / UPDATE / DELETE bound; `withQueries`: its WITH queries are bound first, so that it
 * sees them (read-only WITH queries only).
 */
export function bindDml(b: Binder, verb: "insert", statement: StatementTree, withQueries: boolean): BoundInsert;
export function bindDml(b: Binder, verb: "update", statement: StatementTree, withQueries: boolean): BoundUpdate;
export function bindDml(b: Binder, verb: "delete", statement: StatementTree, withQueries: boolean): BoundDelete;
export function bindDml(b: Binder, verb: DmlVerb, statement: StatementTree, withQueries: boolean): BoundInsert | BoundUpdate | BoundDelete;
export function bindDml(b: Binder, verb: DmlVerb, statement: StatementTree, withQueries: boolean): BoundInsert | BoundUpdate | BoundDelete {
  const stmt = nodeKind(treeOf(statement))[1];
  if (withQueries && stmt["withClause"] !== undefined) bindWith(b, stmt["withClause"] as PgNode, null);
  return verb === "insert" ? bindInsert(b, stmt) : verb === "update" ? bindUpdate(b, stmt) : bindDelete(b, stmt);
}

/** COPY outside the wire protocol's COPY flow: always an error (what to do instead). */
export function bindCopyOutsideWire(statement: StatementTree): never {
  return refuseCopyOutsideWire(nodeKind(treeOf(statement))[1]);
}

/** SHOW's parameter name (for describing it). */
export function showName(tree: StatementTree): string | null {
  const [kind, stmt] = nodeKind(treeOf(tree));
  return kind === "VariableShowStmt" ? String(stmt["name"]) : null;
}

export { paramCount } from "./statement-info.ts";
