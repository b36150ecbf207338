// The prepared-statement contract between the protocols (pgwire, HTTP) and the engine.
//
//   session.parse(text)            → ParsedStatement[]   (once per text per session: a parse cache)
//   session.prepare(stmt, types)   → PreparedStatement   (bound against the current catalog: $n types
//                                                          and result columns; runs nothing)
//   session.run(stmt, params, sink?) → StatementResult   (executes; parameters are given here)
//
// The protocols see only these readonly shapes, never the parser's tree: pgwire decides
// RowDescription vs NoData, counts $n, recognises COPY and SET from the fields below, and reports
// a prepared statement's ParameterDescription / RowDescription from `paramTypes` / `fields`
// without executing anything.
import type { CopyStatement } from "./bind/copy-statement.ts";
import type { StatementKind } from "./bind/statement-info.ts";
import type { FieldDescription } from "./result.ts";

/** What a statement is, as the protocols need to tell (defined beside the code that tells it). */
export type { StatementKind };

/** A COPY statement, with what the wire protocol needs to serve it (its data travels in CopyData). */
export interface CopyCommand {
  readonly statement: CopyStatement;
  /** For COPY (query) TO: the query's own text, and the 1-based character position where it starts in the query string. */
  readonly query: { readonly text: string; readonly position: number } | null;
  /** A byte location in the query string → the 1-based character position an ErrorResponse reports. */
  position(byteLocation: number): number | undefined;
}

/** One statement of a query string, parsed (not yet bound): what the session hands the protocols. */
export interface ParsedStatement {
  /** The statement's own text, trimmed, without its separating semicolon. */
  readonly text: string;
  readonly kind: StatementKind;
  /** It returns a row set (RowDescription, even with no rows): SELECT, SHOW, EXPLAIN, … RETURNING. */
  readonly returnsRows: boolean;
  /** Highest $n referenced (0 when none). */
  readonly paramCount: number;
  /** SET / RESET / DISCARD: settings the connection reports (ParameterStatus) may have changed. */
  readonly changesSettings: boolean;
  /** For kind "copy": the statement as pgwire serves it; null otherwise. */
  readonly copy: CopyCommand | null;
}

/** A statement bound against the catalog: its parameters' types and its result's columns, known before it runs. */
export interface PreparedStatement extends ParsedStatement {
  /** One type OID per $n: the declared OID where the client gave one, else the one inferred from context, else text (25). */
  readonly paramTypes: readonly number[];
  /** The result's columns; null when the statement returns no row set (the extended protocol's NoData). */
  readonly fields: readonly FieldDescription[] | null;
}

/** Receives a query's rows batch by batch; the next batch is produced only after it resolves (back-pressure). */
export type RowSink = (fields: FieldDescription[], rows: Array<Array<string | null>>) => Promise<void>;
