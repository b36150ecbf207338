// The request side of Neon's HTTP API, exactly as @neondatabase/serverless sends it:
//
//   POST /sql   body {"query": "...", "params": [...]}                 one query
//               body {"queries": [{"query", "params"}, ...]}          a batch: one transaction
//   headers     Neon-Array-Mode: true          rows as arrays (else objects keyed by column name)
//               Neon-Raw-Text-Output: true     values as Postgres text (else JSON-typed)
//               Neon-Batch-Isolation-Level     Serializable | RepeatableRead | ReadCommitted | ReadUncommitted
//               Neon-Batch-Read-Only: true     the batch runs READ ONLY
//               Neon-Batch-Deferrable: true    accepted (SERIALIZABLE READ ONLY DEFERRABLE)
//
// The driver sends parameters already converted to text (pg's prepareValue) or null; numbers and
// booleans are accepted too and converted as Postgres would print them. Anything else is refused
// before any statement runs.
import { PgError } from "../../../common/errors.ts";
import { limits } from "./limits.ts";

export interface SqlQuery {
  query: string;
  params: Array<string | null>;
}

export type IsolationLevel = "Serializable" | "RepeatableRead" | "ReadCommitted" | "ReadUncommitted";

export interface SqlRequestOptions {
  arrayMode: boolean;
  rawTextOutput: boolean;
  isolationLevel: IsolationLevel | null;
  readOnly: boolean;
  deferrable: boolean;
}

export type SqlRequest =
  | { kind: "single"; query: SqlQuery; options: SqlRequestOptions }
  | { kind: "batch"; queries: SqlQuery[]; options: SqlRequestOptions };

const ISOLATION_LEVELS: readonly IsolationLevel[] = ["Serializable", "RepeatableRead", "ReadCommitted", "ReadUncommitted"];

function booleanHeader(headers: Headers, name: string): boolean {
  const v = headers.get(name);
  if (v === null) return false;
  const t = v.trim().toLowerCase();
  if (t === "true") return true;
  if (t === "false") return false;
  throw new PgError("protocol_violation", `header ${name} must be "true" or "false", not ${JSON.stringify(v)}`);
}

export function parseOptions(headers: Headers): SqlRequestOptions {
  const level = headers.get("neon-batch-isolation-level");
  if (level !== null && !ISOLATION_LEVELS.includes(level as IsolationLevel)) {
    throw new PgError("protocol_violation", `header Neon-Batch-Isolation-Level must be one of ${ISOLATION_LEVELS.join(", ")}`);
  }
  return {
    arrayMode: booleanHeader(headers, "neon-array-mode"),
    rawTextOutput: booleanHeader(headers, "neon-raw-text-output"),
    isolationLevel: level as IsolationLevel | null,
    readOnly: booleanHeader(headers, "neon-batch-read-only"),
    deferrable: booleanHeader(headers, "neon-batch-deferrable"),
  };
}

function parseParam(value: unknown, at: string): string | null {
  if (value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return value > 0 ? "Infinity" : value < 0 ? "-Infinity" : "NaN";
    return String(value);
  }
  if (typeof value === "boolean") return value ? "t" : "f";
  throw new PgError("invalid_text_representation", `${at} must be a string, number, boolean or null, not ${describe(value)}`, {
    hint: "Send parameters in Postgres text form (the Neon driver converts dates, arrays and JSON to text itself).",
  });
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  return v === null ? "null" : `a value of type ${typeof v}`;
}

function parseQuery(value: unknown, at: string): SqlQuery {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new PgError("protocol_violation", `${at} must be an object {"query": string, "params": array}`);
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (key !== "query" && key !== "params") throw new PgError("protocol_violation", `${at} has an unknown field "${key}"`);
  }
  if (typeof obj["query"] !== "string") throw new PgError("protocol_violation", `${at}.query must be a string`);
  const rawParams = obj["params"] ?? [];
  if (!Array.isArray(rawParams)) throw new PgError("protocol_violation", `${at}.params must be an array`);
  if (rawParams.length > limits.paramsMax) {
    throw new PgError("program_limit_exceeded", `${at} has ${rawParams.length} parameters; the limit is ${limits.paramsMax}`);
  }
  return { query: obj["query"], params: rawParams.map((p, i) => parseParam(p, `${at}.params[${i}]`)) };
}

/** Validates a parsed JSON body; throws PgError (08P01, 22P02, 54000) without side effects. */
export function parseSqlRequest(body: unknown, headers: Headers): SqlRequest {
  const options = parseOptions(headers);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new PgError("protocol_violation", 'request body must be a JSON object: {"query", "params"} or {"queries": [...]}');
  }
  const obj = body as Record<string, unknown>;
  if ("queries" in obj) {
    for (const key of Object.keys(obj)) {
      if (key !== "queries") throw new PgError("protocol_violation", `a batch request has an unknown field "${key}"`);
    }
    const list = obj["queries"];
    if (!Array.isArray(list)) throw new PgError("protocol_violation", '"queries" must be an array');
    if (list.length > limits.batchQueriesMax) {
      throw new PgError("program_limit_exceeded", `a batch has ${list.length} queries; the limit is ${limits.batchQueriesMax}`);
    }
    return { kind: "batch", queries: list.map((q, i) => parseQuery(q, `queries[${i}]`)), options };
  }
  return { kind: "single", query: parseQuery(obj, "request"), options };
}
