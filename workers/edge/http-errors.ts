// PgError → HTTP response for the edge's own endpoints (admin API, routing failures before a
// request reaches a gateway). The body is the PgError's JSON (code, message, detail, hint) plus
// Postgres's severity, the same shape the gateway's /sql errors have.
import { PgError, toPgError } from "../../common/errors.ts";
import type { SqlStateName } from "../../common/sqlstate.ts";

const STATUS: Partial<Record<SqlStateName, number>> = {
  invalid_name: 400,
  invalid_parameter_value: 400,
  protocol_violation: 400,
  invalid_text_representation: 400,
  invalid_datetime_format: 400,
  invalid_catalog_name: 404,
  duplicate_database: 409,
  object_not_in_prerequisite_state: 409,
  program_limit_exceeded: 413,
  invalid_authorization_specification: 401,
  invalid_password: 401,
  insufficient_privilege: 403,
  cannot_connect_now: 503,
  connection_failure: 503,
  system_error: 503,
  too_many_connections: 429,
  configuration_limit_exceeded: 429,
};

export function statusFor(err: PgError): number {
  return STATUS[err.condition] ?? 500;
}

export function errorResponse(err: unknown, status?: number): Response {
  const e = toPgError(err);
  if (e.condition === "internal_error") console.error("edge internal error", err);
  return Response.json({ severity: "ERROR", ...e.toJSON() }, { status: status ?? statusFor(e) });
}
