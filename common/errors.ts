// The one error type every layer throws toward a client. It keeps the fields Postgres sends in an
// ErrorResponse (the postgres.js habit), so the wire protocol, the HTTP API and the CLI can show
// the same code, message, detail and hint.
import { SqlState, type SqlStateCode, type SqlStateName } from "./sqlstate.ts";

export interface PgErrorFields {
  detail?: string;
  hint?: string;
  /** 1-based character position in the statement text, as in Postgres's ErrorResponse 'P'. */
  position?: number;
  table?: string;
  column?: string;
  constraint?: string;
  /**
   * Where the error happened, as Postgres's ErrorResponse 'W' (CONTEXT): e.g. `COPY t, line 3,
   * column b: "x"`. Several lines when contexts nest (innermost first).
   */
  where?: string;
}

export class PgError extends Error {
  readonly code: SqlStateCode;
  readonly condition: SqlStateName;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly position: number | undefined;
  readonly table: string | undefined;
  readonly column: string | undefined;
  readonly constraint: string | undefined;
  readonly where: string | undefined;

  constructor(condition: SqlStateName, message: string, fields: PgErrorFields = {}) {
    super(message);
    this.name = "PgError";
    this.condition = condition;
    this.code = SqlState[condition];
    this.detail = fields.detail;
    this.hint = fields.hint;
    this.position = fields.position;
    this.table = fields.table;
    this.column = fields.column;
    this.constraint = fields.constraint;
    this.where = fields.where;
  }

  /** The same error with other fields replaced (a PgError is immutable once thrown). */
  with(fields: PgErrorFields): PgError {
    return new PgError(this.condition, this.message, { ...this.fields(), ...fields });
  }

  private fields(): PgErrorFields {
    const { detail, hint, position, table, column, constraint, where } = this;
    return { detail, hint, position, table, column, constraint, where };
  }

  /** A plain object for JSON responses (HTTP API, admin API, CLI). */
  toJSON(): { code: string; message: string } & PgErrorFields {
    const out: { code: string; message: string } & PgErrorFields = { code: this.code, message: this.message };
    if (this.detail !== undefined) out.detail = this.detail;
    if (this.hint !== undefined) out.hint = this.hint;
    if (this.position !== undefined) out.position = this.position;
    if (this.table !== undefined) out.table = this.table;
    if (this.column !== undefined) out.column = this.column;
    if (this.constraint !== undefined) out.constraint = this.constraint;
    if (this.where !== undefined) out.where = this.where;
    return out;
  }
}

/** Wraps anything thrown into a PgError; unknown errors become XX000 (internal_error). */
export function toPgError(err: unknown): PgError {
  if (err instanceof PgError) return err;
  // The JavaScript stack ran out (a statement nested past what a pass was measured to handle):
  // the statement is too complex, as Postgres says past max_stack_depth, not an internal fault.
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new PgError("statement_too_complex", "stack depth limit exceeded", { hint: "the statement nests too deeply; simplify it or split it" });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new PgError("internal_error", `internal error: ${message}`);
}
