// COPY's parse tree (CopyStmt) as a small typed value, so that nothing outside bind/ reads the
// parser's JSON: which direction, which relation or query, which columns, where the data goes
// (the client's stdin/stdout, a server file, a server program) and the options as written.
//
// The options are kept as written (name, argument, location): what they mean and which
// combinations are valid is COPY's own business (pgwire/copy-options.ts), checked in the same
// order Postgres checks them, after the relation and the column list.
//
// Server files and programs are refused here, before anything else, exactly as Postgres refuses
// them to a role without pg_read_server_files / pg_write_server_files / pg_execute_server_program:
// a gateway isolate has no file system and runs no program, and no Warren role has those rights.
import { PgError } from "../../../../common/errors.ts";
import { nodeKind, stringList, type PgNode } from "../parse/ast.ts";

/** An option's argument: a word or string, a number (as Postgres's defGetString spells it), `*`, a column list, or none. */
export type CopyOptionArg =
  | { kind: "string"; value: string }
  | { kind: "star" }
  | { kind: "list"; items: string[] }
  | { kind: "none" };

export interface CopyOption {
  /** Lower-case option name as the grammar produces it (old syntax is translated: CSV → format). */
  name: string;
  arg: CopyOptionArg;
  /** Byte offset of the option in the query string (the parser's location), -1 when unknown. */
  location: number;
}

export type CopyEndpoint = { kind: "stdio" } | { kind: "file"; path: string } | { kind: "program"; command: string };

export interface CopyStatement {
  direction: "from" | "to";
  /** The table of `COPY table …`; null for `COPY (query) TO`. */
  relation: { schema: string | undefined; name: string } | null;
  /** For `COPY (query) TO`: the inner statement's kind (SelectStmt, InsertStmt, …) and whether it has RETURNING. */
  query: { kind: string; returning: boolean } | null;
  /** Columns named after the table, or null for all of them. */
  columns: string[] | null;
  options: CopyOption[];
  endpoint: CopyEndpoint;
  /** `COPY … FROM … WHERE cond` (Postgres 12+). */
  hasWhere: boolean;
}

/** The CopyStmt node's body → CopyStatement. */
export function copyStatement(body: PgNode): CopyStatement {
  const rel = body["relation"] as PgNode | undefined;
  const queryNode = body["query"] as PgNode | undefined;
  let query: CopyStatement["query"] = null;
  if (queryNode !== undefined) {
    const [kind, q] = nodeKind(queryNode);
    const rc = q["returningClause"] as PgNode | undefined;
    const returning = ((rc?.["exprs"] as PgNode[] | undefined) ?? (q["returningList"] as PgNode[] | undefined) ?? []).length > 0;
    query = { kind, returning };
  }
  const filename = body["filename"] as string | undefined;
  const endpoint: CopyEndpoint =
    body["is_program"] === true ? { kind: "program", command: filename ?? "" } : filename !== undefined ? { kind: "file", path: filename } : { kind: "stdio" };
  return {
    direction: body["is_from"] === true ? "from" : "to",
    relation: rel === undefined ? null : { schema: rel["schemaname"] as string | undefined, name: rel["relname"] as string },
    query,
    columns: body["attlist"] === undefined ? null : stringList(body["attlist"] as PgNode[]),
    options: ((body["options"] as PgNode[] | undefined) ?? []).map(copyOption),
    endpoint,
    hasWhere: body["whereClause"] !== undefined,
  };
}

function copyOption(n: PgNode): CopyOption {
  const d = n["DefElem"] as PgNode;
  const argNode = d["arg"] as PgNode | undefined;
  let arg: CopyOptionArg = { kind: "none" };
  if (argNode !== undefined) {
    const [k, v] = nodeKind(argNode);
    if (k === "String") arg = { kind: "string", value: (v["sval"] as string | undefined) ?? "" };
    else if (k === "Integer") arg = { kind: "string", value: String((v["ival"] as number | undefined) ?? 0) };
    else if (k === "Float") arg = { kind: "string", value: String(v["fval"] ?? "") };
    else if (k === "Boolean") arg = { kind: "string", value: v["boolval"] === true ? "true" : "false" };
    else if (k === "A_Star") arg = { kind: "star" };
    else if (k === "List") arg = { kind: "list", items: stringList(v["items"] as PgNode[] | undefined) };
    else arg = { kind: "string", value: JSON.stringify(v) };
  }
  return { name: d["defname"] as string, arg, location: typeof d["location"] === "number" ? (d["location"] as number) : -1 };
}

const SERVER_SIDE_HINT = "Anyone can COPY to stdout or from stdin. psql's \\copy command also works for anyone.";

/** COPY to or from a server file or program: Postgres's error for a role without the server-file roles (Warren has no such role). */
export function refuseServerSideCopy(copy: CopyStatement): void {
  const e = copy.endpoint;
  if (e.kind === "program") {
    throw new PgError("insufficient_privilege", "must be superuser or have privileges of the pg_execute_server_program role to COPY to or from an external program", { hint: SERVER_SIDE_HINT });
  }
  if (e.kind === "file") {
    throw new PgError(
      "insufficient_privilege",
      copy.direction === "from"
        ? "must be superuser or have privileges of the pg_read_server_files role to COPY from a file"
        : "must be superuser or have privileges of the pg_write_server_files role to COPY to a file",
      { hint: SERVER_SIDE_HINT },
    );
  }
}

/**
 * COPY as a statement of the session. The Postgres wire protocol serves COPY itself (its data
 * travels in CopyData messages beside the statement), so a COPY reaches the session only from an
 * interface with no channel for that data: HTTP POST /sql, like Neon's, which runs each query as
 * an extended-protocol statement whose client cannot carry a copy stream. Server files and
 * programs get Postgres's privilege error first, as on every interface.
 */
export function refuseCopyOutsideWire(body: PgNode): never {
  const copy = copyStatement(body);
  refuseServerSideCopy(copy);
  const what = copy.direction === "from" ? "COPY … FROM STDIN" : "COPY … TO STDOUT";
  throw new PgError("feature_not_supported", `${what} needs the Postgres wire protocol: this interface has no COPY data stream`, {
    hint: "Run COPY through a Postgres driver or psql (warren tunnel, or the WebSocket endpoint /v2); over HTTP, use SELECT or INSERT … VALUES with parameters.",
  });
}

/**
 * The text of the query in `COPY (query) TO …`: what lies between the first parenthesis after
 * COPY and its match, skipping strings, quoted identifiers, dollar quotes and comments (the parse
 * tree has no location for the start of a SELECT), and where it starts (a character offset into
 * `statement`). Null when the statement has no such query.
 */
export function copyQueryText(statement: string): { text: string; offset: number } | null {
  let i = 0;
  const n = statement.length;
  let depth = 0;
  let start = -1;
  while (i < n) {
    const c = statement[i]!;
    const next = statement[i + 1];
    if (c === "-" && next === "-") {
      while (i < n && statement[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && next === "*") {
      i = skipBlockComment(statement, i);
      continue;
    }
    if (c === "'" ) {
      // E'…' strings take backslash escapes; standard strings only doubled quotes.
      const escapes = i > 0 && (statement[i - 1] === "E" || statement[i - 1] === "e") && !isIdentChar(statement[i - 2]);
      i = skipQuoted(statement, i, "'", escapes);
      continue;
    }
    if (c === '"') {
      i = skipQuoted(statement, i, '"', false);
      continue;
    }
    if (c === "$" && !isIdentChar(statement[i - 1])) {
      const m = /^\$([A-Za-z_][A-Za-z_0-9]*)?\$/.exec(statement.slice(i));
      if (m !== null) {
        const end = statement.indexOf(m[0], i + m[0].length);
        i = end < 0 ? n : end + m[0].length;
        continue;
      }
    }
    if (c === "(") {
      if (depth === 0) start = i + 1;
      depth++;
    } else if (c === ")") {
      depth--;
      if (depth === 0 && start >= 0) return { text: statement.slice(start, i), offset: start };
    } else if (depth === 0 && /[^\sA-Za-z]/.test(c)) {
      // Anything but the COPY keyword before the parenthesis: this is COPY table …
      return null;
    } else if (depth === 0 && /[A-Za-z]/.test(c)) {
      const word = /^[A-Za-z]+/.exec(statement.slice(i))![0];
      if (word.toLowerCase() !== "copy") return null;
      i += word.length;
      continue;
    }
    i++;
  }
  return null;
}

function isIdentChar(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(c);
}

function skipQuoted(s: string, at: number, quote: string, backslashEscapes: boolean): number {
  let i = at + 1;
  while (i < s.length) {
    const c = s[i]!;
    if (backslashEscapes && c === "\\") {
      i += 2;
      continue;
    }
    if (c === quote) {
      if (s[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return s.length;
}

/** Block comments nest in SQL. */
function skipBlockComment(s: string, at: number): number {
  let depth = 0;
  let i = at;
  while (i < s.length) {
    if (s[i] === "/" && s[i + 1] === "*") {
      depth++;
      i += 2;
    } else if (s[i] === "*" && s[i + 1] === "/") {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return s.length;
}
