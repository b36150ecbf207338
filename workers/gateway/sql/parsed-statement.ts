// A query string → its statements (prepared.ts's ParsedStatement), each holding its parse tree for
// the session. Where each statement starts and ends (a simple Query runs them one at a time, so
// the results of the first reach the client before a later one fails), what kind it is, whether
// it returns a row set, how many $n it has, and, for COPY, what the wire protocol needs to serve it.
//
// The parse tree stays inside the SQL layer: the protocols see the readonly fields of
// ParsedStatement only, and hand the object back to the session to prepare or run it. A tree the
// session's parse cache keeps is frozen (parse-cache.ts), because it is shared between executions.
import { copyQueryText, type CopyStatement } from "./bind/copy-statement.ts";
import { type StatementInfo, statementInfo } from "./bind/statement-info.ts";
import { statementTree, type StatementTree } from "./parse/ast.ts";
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

  constructor(tree: StatementTree, info: StatementInfo, text: string, copy: CopyCommand | null) {
    this.tree = tree;
    this.nodeName = info.nodeName;
    this.text = text;
    this.kind = info.kind;
    this.returnsRows = info.returnsRows;
    this.paramCount = info.paramCount;
    this.changesSettings = info.changesSettings;
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
    const tree = statementTree(r.stmt);
    const info = statementInfo(tree);
    const copy = info.copy === null ? null : copyCommand(info.copy, own, bytes, start);
    return new Parsed(tree, info, own, copy);
  });
}

function copyCommand(statement: CopyStatement, sql: string, bytes: Uint8Array, start: number): CopyCommand {
  const q = statement.query !== null ? copyQueryText(sql) : null;
  return {
    statement,
    query: q === null ? null : { text: q.text, position: start + q.offset + 1 },
    // Parser locations are byte offsets into the whole query string; positions count characters.
    position: (loc) => (loc >= 0 && loc <= bytes.length ? fromUtf8.decode(bytes.subarray(0, loc)).length + 1 : undefined),
  };
}
