// CommandComplete tags exactly as Postgres writes them: `INSERT 0 n` (the 0 is the obsolete OID
// of a single inserted row), `SELECT n`, `UPDATE n`, `DELETE n`, `COPY n`, `MERGE n`, `FETCH n`,
// `MOVE n`; every other command reports its name alone (`CREATE TABLE`, `BEGIN`, `SET`, …).
import type { StatementResult } from "../sql/result.ts";

const COUNTED = new Set(["SELECT", "UPDATE", "DELETE", "COPY", "MERGE", "FETCH", "MOVE"]);

export function commandTag(command: string, rowCount: number | null): string {
  const verb = command.toUpperCase();
  if (verb === "INSERT") return `INSERT 0 ${rowCount ?? 0}`;
  if (COUNTED.has(verb)) return `${verb} ${rowCount ?? 0}`;
  return verb;
}

export function tagOf(r: StatementResult): string {
  return commandTag(r.command, r.rowCount);
}

/**
 * Whether a RowDescription precedes the rows: for statements that return a row set (known from the
 * parse tree: SELECT, VALUES, SHOW, EXPLAIN, … RETURNING), even with no columns or no rows.
 */
export function returnsRows(r: StatementResult, statementReturnsRows: boolean): boolean {
  return r.fields.length > 0 || statementReturnsRows;
}
