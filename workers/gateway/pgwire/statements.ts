// What pgwire needs to know about a query string before handing it to the session: where each
// statement starts and ends (a simple Query runs them one at a time, so the results of the first
// statements reach the client before a later one fails), whether a statement returns a row set
// (RowDescription vs NoData), how many $n parameters it has, and whether it is COPY (served here,
// see copy-in.ts and copy-out.ts). It uses the SQL layer's parser (the real Postgres grammar);
// parse errors surface exactly as the session would report them (42601 with a position).
import { nodeKind, type PgNode } from "../sql/parse/ast.ts";
import { parseSql } from "../sql/parse/parser.ts";
import { copyQueryText, copyStatement, type CopyStatement } from "../sql/bind/copy-statement.ts";

/** A COPY statement, with what pgwire needs to serve it beyond the parse tree. */
export interface CopyCommand {
  statement: CopyStatement;
  /** For COPY (query) TO: the query's own text, and the 1-based character position where it starts in the query string. */
  query: { text: string; position: number } | null;
  /** A byte location in the query string → the 1-based character position an ErrorResponse reports. */
  position(byteLocation: number): number | undefined;
}

export interface StatementInfo {
  /** The statement's own text (without the separating semicolon). */
  sql: string;
  /** Parse-tree node name: "SelectStmt", "InsertStmt", "TransactionStmt", … */
  kind: string;
  returnsRows: boolean;
  /** Highest $n referenced (0 when none). */
  paramCount: number;
  /** COPY in any direction (pgwire serves it, see copy-in.ts / copy-out.ts). */
  copy: CopyCommand | null;
  /** BEGIN / COMMIT / ROLLBACK / SAVEPOINT …: the statement manages the transaction itself. */
  transactionControl: boolean;
  /**
   * For INSERT/UPDATE/DELETE … RETURNING: a read-only `SELECT <returning list> FROM <table> LIMIT 0`
   * with the same columns, so the statement can be described without running it (see README).
   */
  returningProbe: string | null;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export async function splitStatements(sql: string): Promise<StatementInfo[]> {
  const raw = await parseSql(sql);
  // The parser reports byte offsets into the UTF-8 string.
  const bytes = utf8.encode(sql);
  return raw.map((r, i) => {
    // The last statement runs to the end of the string (its length is not always reported in bytes).
    const endByte = i === raw.length - 1 ? bytes.length : r.location + r.length;
    const text = raw.length === 1 ? sql : fromUtf8.decode(bytes.subarray(r.location, endByte));
    // Where the statement's (trimmed) text starts in the query string, in characters.
    const start = (raw.length === 1 ? 0 : fromUtf8.decode(bytes.subarray(0, r.location)).length) + (text.length - text.trimStart().length);
    return describeNode(r.stmt, text.trim().replace(/;\s*$/, ""), bytes, endByte, start);
  });
}

function describeNode(stmt: PgNode, sql: string, bytes: Uint8Array, endByte: number, start: number): StatementInfo {
  const [kind, body] = nodeKind(stmt);
  return {
    sql,
    kind,
    returnsRows: nodeReturnsRows(kind, body),
    paramCount: maxParam(stmt),
    copy: kind === "CopyStmt" ? copyCommand(body, sql, bytes, start) : null,
    transactionControl: kind === "TransactionStmt",
    returningProbe: returningProbe(kind, body, bytes, endByte),
  };
}

function returningList(body: PgNode): PgNode[] {
  const rc = body["returningClause"] as PgNode | undefined;
  return (rc?.["exprs"] as PgNode[] | undefined) ?? (body["returningList"] as PgNode[] | undefined) ?? [];
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** RETURNING is the last clause of INSERT/UPDATE/DELETE, so its text runs from its first item to the statement's end. */
function returningProbe(kind: string, body: PgNode, bytes: Uint8Array, endByte: number): string | null {
  if (kind !== "InsertStmt" && kind !== "UpdateStmt" && kind !== "DeleteStmt") return null;
  const list = returningList(body);
  const first = list[0]?.["ResTarget"] as PgNode | undefined;
  const rel = body["relation"] as PgNode | undefined;
  if (first === undefined || rel === undefined || typeof first["location"] !== "number") return null;
  const text = fromUtf8.decode(bytes.subarray(first["location"] as number, endByte)).trim().replace(/;\s*$/, "").trim();
  const table = (rel["schemaname"] !== undefined ? quoteIdent(rel["schemaname"] as string) + "." : "") + quoteIdent(rel["relname"] as string);
  const aliasNode = rel["alias"] as PgNode | undefined;
  const alias = aliasNode?.["aliasname"] !== undefined ? ` AS ${quoteIdent(aliasNode["aliasname"] as string)}` : "";
  return `SELECT ${text} FROM ${table}${alias} LIMIT 0`;
}

function nodeReturnsRows(kind: string, body: PgNode): boolean {
  switch (kind) {
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

/** The highest ParamRef number anywhere in the tree. */
function maxParam(node: unknown): number {
  let max = 0;
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) {
      for (const x of n) visit(x);
      return;
    }
    if (n === null || typeof n !== "object") return;
    const o = n as Record<string, unknown>;
    const p = o["ParamRef"] as { number?: number } | undefined;
    if (p !== undefined && typeof p.number === "number" && p.number > max) max = p.number;
    for (const k in o) visit(o[k]);
  };
  visit(node);
  return max;
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
