// Errors as PL/pgSQL sees them: matching an error to the conditions of an EXCEPTION WHEN clause,
// and the errors RAISE makes (which may carry a SQLSTATE of the user's own, like 'AB001').
import { PgError, type PgErrorFields } from "../../../../common/errors.ts";
import { SqlState, type SqlStateName } from "../../../../common/sqlstate.ts";

const NAMES = new Map<string, SqlStateName>(Object.keys(SqlState).map((n) => [n, n as SqlStateName]));
const BY_CODE = new Map<string, SqlStateName>(Object.entries(SqlState).map(([n, c]) => [c, n as SqlStateName]));

/** A five-character SQLSTATE: digits and upper-case letters. */
export function isSqlState(s: string): boolean {
  return /^[0-9A-Z]{5}$/.test(s);
}

/** The SQLSTATE of a condition name or code as written in WHEN / RAISE; 42704 for an unknown name. */
export function conditionCode(condition: string): string {
  if (isSqlState(condition)) return condition;
  const name = NAMES.get(condition.toLowerCase());
  if (name === undefined) throw new PgError("undefined_object", `unrecognized exception condition "${condition}"`);
  return SqlState[name];
}

/**
 * Does an error match one WHEN condition? OTHERS matches everything but a cancel and an assertion
 * failure (as in PostgreSQL, so a function cannot swallow a statement timeout); a class code
 * (ending in 000, e.g. integrity_constraint_violation) matches every code of its class.
 */
export function conditionMatches(condition: string, err: PgError): boolean {
  if (condition === "others") return err.code !== SqlState.query_canceled && err.code !== SqlState.assert_failure;
  const code = conditionCode(condition);
  if (code === err.code) return true;
  return code.endsWith("000") && code.slice(0, 2) === err.code.slice(0, 2);
}

/**
 * An error with a given SQLSTATE. PgError takes only condition names so that a raw code cannot slip
 * in by mistake; RAISE … USING ERRCODE = 'AB001' is the one place a user names a code PostgreSQL
 * does not define, so the code is set on the error object itself here.
 */
export function errorWithCode(code: string, message: string, fields: PgErrorFields): PgError {
  const name = BY_CODE.get(code);
  if (name !== undefined) return new PgError(name, message, fields);
  const err = new PgError("raise_exception", message, fields);
  Object.defineProperty(err, "code", { value: code });
  return err;
}
