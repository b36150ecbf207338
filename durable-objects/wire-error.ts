// PgErrors cross Durable Object RPC as plain objects: an RPC exception reaches the caller as a bare
// Error (its class and extra fields are lost), so the objects return errors as values instead.
import { PgError } from "../common/errors.ts";
import type { SqlStateName } from "../common/sqlstate.ts";

export interface WireError {
  condition: SqlStateName;
  message: string;
  detail?: string;
  hint?: string;
}

export function toWireError(err: PgError): WireError {
  const out: WireError = { condition: err.condition, message: err.message };
  if (err.detail !== undefined) out.detail = err.detail;
  if (err.hint !== undefined) out.hint = err.hint;
  return out;
}

export function fromWireError(w: WireError): PgError {
  const fields: { detail?: string; hint?: string } = {};
  if (w.detail !== undefined) fields.detail = w.detail;
  if (w.hint !== undefined) fields.hint = w.hint;
  return new PgError(w.condition, w.message, fields);
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };

export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

export function fail<T>(condition: SqlStateName, message: string, fields: { detail?: string; hint?: string } = {}): Result<T> {
  return { ok: false, error: { condition, message, ...fields } };
}

/** Unwraps a Result, throwing its error as a PgError. */
export function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw fromWireError(r.error);
}
