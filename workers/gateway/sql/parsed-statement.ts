// A query string → its statements (prepared.ts's ParsedStatement), each holding its parse tree for
// the session. Where each statement starts and ends (a simple Query runs them one at a time, so
// the results of the first reach the client before a later one fails), what kind it is, whether
// it returns a row set, how many $n it has, and, for COPY, what the wire protocol needs to serve it.
//
// The parse tree stays inside the SQL layer: the protocols see the readonly fields of
// ParsedStatement only, and hand the object back to the session to prepare or run it. A tree the
// session's parse cache keeps is frozen (parse-cache.ts), because it is shared between executions.
import { copyQueryText, copyStatement } from "./bind/copy-statement.ts";
import { nodeKind, type PgNode, type StatementTree, statementTree } from "./parse/ast.ts";
import type { RawStatement } from "./parse/parser.ts";
import type { CopyCommand, ParsedStatement, StatementKind } from "./prepared.ts";

export class Parsed implements ParsedStatement {
  readonly text: string;
  readonly kind: StatementKind;
  readonly returnsRows: boolean;
  readonly paramCount: number;
  readonly changesSettings: boolean;
  readonly copy: CopyCommand | null;
  /** The parse-tree node name (SelectStmt, TransactionStmt, …), for the session. */
  readonly nodeName: string;
  /** The statement's parse tree (frozen once the parse cache keeps it), for bind/ only. */
  readonly tree: StatementTree;

  constructor(node: PgNode, text: string, copy: CopyCommand | null) {
    const [name, body] = nodeKind(node);
    this.tree = statementTree(node);
    this.nodeName = name;
    this.text = text;
    this.kind = statementKind(name, body);
    this.returnsRows = nodeReturnsRows(name, body);
    this.paramCount = maxParam(node);
    this.changesSettings = name === "VariableSetStmt" || name === "DiscardStmt";
    this.copy = copy;
    Object.freeze(this);
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The statements of `sql` as the parser returned them, each with its text and (for COPY) its command. */
export function toParsedStatements(sql: string, raw: readonly RawStatement[]): Parsed[] {
  // The parser reports byte offsets into the UTF-8 string.
  const bytes = utf8.encode(sql);
  return raw.map((r, i) => {
    // The last statement runs to the end of the string (its length is not always reported in bytes).
    const endByte = i === raw.length - 1 ? bytes.length : r.location + r.length;
    const text = raw.length === 1 ? sql : fromUtf8.decode(bytes.subarray(r.location, endByte));
    // Where the statement's (trimmed) text starts in the query string, in characters.
    const start = (raw.length === 1 ? 0 : fromUtf8.decode(bytes.subarray(0, r.location)).length) + (text.length - text.trimStart().length);
    const own = text.trim().replace(/;\s*$/, "");
    const [name, body] = nodeKind(r.stmt);
    const copy = name === "CopyStmt" ? copyCommand(body, own, bytes, start) : null;
    return new Parsed(r.stmt, own, copy);
  });
}

const DDL = new Set([
  "CreateStmt",
  "IndexStmt",
  "DropStmt",
  "AlterTableStmt",
  "ViewStmt",
  "CreateSeqStmt",
  "AlterSeqStmt",
  "CreateSchemaStmt",
  "TruncateStmt",
  "RenameStmt",
  "CommentStmt",
  "CreateTableAsStmt",
  "GrantStmt",
  "GrantRoleStmt",
  "AlterOwnerStmt",
]);

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

function nodeReturnsRows(name: string, body: PgNode): boolean {
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
export function maxParam(root: unknown): number {
  let m = 0;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === null || typeof n !== "object") continue;
    if (Array.isArray(n)) {
      for (const x of n) stack.push(x);
      continue;
    }
    const o = n as PgNode;
    const p = o["ParamRef"] as { number?: unknown } | undefined;
    if (p !== undefined && typeof p.number === "number" && p.number > m) m = p.number;
    for (const v of Object.values(o)) stack.push(v);
  }
  return m;
}

function copyCommand(body: PgNode, sql: string, bytes: Uint8Array, start: number): CopyCommand {
  const statement = copyStatement(body);
  const q = statement.query !== null ? copyQueryText(sql) : null;
  return {
    statement,
    query: q === null ? null : { text: q.text, position: start + q.offset + 1 },
    // Parser locations are byte offsets into the whole query string; positions count characters.
    position: (loc) => (loc >= 0 && loc <= bytes.length ? fromUtf8.decode(bytes.subarray(0, loc)).length + 1 : undefined),
  };
}
