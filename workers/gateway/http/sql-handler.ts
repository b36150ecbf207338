// POST /sql: runs one query, or a batch as one transaction, in a fresh session of this tenant.
// Each HTTP request is its own session (stateless, as Neon's HTTP API is). A single query that
// leaves a transaction open (BEGIN) sends its state back for the edge to seal into a handle, and a
// request carrying one continues that transaction (interactive-txn.ts, README.md).
//
// Order of checks: size → JSON → shape → headers, all before a session exists, so bad input never
// executes anything.
//
// A client that goes away mid-request (request.signal aborts: workerd's enable_request_signal, and
// the edge forwards its own request's signal) cancels the running statement (session.cancel()), so
// the statement stops at its next check point and a batch's transaction is rolled back.
import { PgError, toPgError } from "../../../common/errors.ts";
import type { SqlSession, StatementResult } from "../sql/result.ts";
import { parseJsonBody, readBodyLimited } from "./body.ts";
import { limits } from "./limits.ts";
import { formatError, formatResult, type NeonResult } from "./neon-format.ts";
import { parseSqlRequest, type SqlQuery, type SqlRequest } from "./sql-request.ts";
import { type InteractiveTxn } from "./interactive-txn.ts";
import { TXN_HEADERS } from "../edge-contract.ts";

export type SessionFactory = () => SqlSession | Promise<SqlSession>;

/** How a request is admitted and charged against the tenant's Request-Unit quota (KV usage is charged by the session's KV client). */
export interface QuotaGate {
  /** Resolves with the function that ends the admission (called once the request's work is done). */
  admit(): Promise<() => void>;
  chargeEgress(bytes: number): void;
  countHttpRequest(): void;
}

const NO_QUOTA: QuotaGate = { admit: async () => () => {}, chargeEgress: () => {}, countHttpRequest: () => {} };

const encoder = new TextEncoder();

/** Makes the request's part in an interactive transaction (interactive-txn.ts); absent: none (tests). */
export type TxnFactory = () => Promise<InteractiveTxn>;

export async function handleSql(request: Request, newSession: SessionFactory, quota: QuotaGate = NO_QUOTA, txnFor?: TxnFactory): Promise<Response> {
  let parsed: SqlRequest;
  let txn: InteractiveTxn | null = null;
  try {
    if (request.method !== "POST") {
      return json({ severity: "ERROR", code: "08P01", message: "use POST /sql" }, 405, { allow: "POST" });
    }
    const bytes = await readBodyLimited(request, limits.sqlRequestBytesMax, "request body");
    parsed = parseSqlRequest(parseJsonBody(bytes, "request body"), request.headers);
    txn = (await txnFor?.()) ?? null;
    if (txn?.continues && parsed.kind === "batch") {
      throw new PgError("protocol_violation", "a batch ({\"queries\": [...]}) cannot continue an interactive transaction", {
        hint: "Send the transaction's statements one request at a time, or several in one query string.",
      });
    }
  } catch (err) {
    return json(formatError(err), 400);
  }
  // Headers that carry the transaction's state back to the edge (which seals them), on success and on error alike.
  const txnHeaders: Record<string, string> = {};
  let admitted: (() => void) | null = null;
  try {
    quota.countHttpRequest();
    const admitStartMs = Date.now();
    admitted = await quota.admit();
    // Server-Timing: the gateway's own part of the request (the edge adds its parts around it).
    const quotaMs = Date.now() - admitStartMs;
    const execStartMs = Date.now();
    if (request.signal?.aborted) throw new PgError("query_canceled", "canceling statement due to user request: the client went away");
    const session = await newSession();
    const onAbort = () => session.cancel();
    request.signal?.addEventListener("abort", onAbort);
    let body: NeonResult | { results: NeonResult[] } | undefined;
    let failure: unknown = undefined;
    try {
      await txn?.resume(session);
      body = parsed.kind === "single" ? await runSingle(session, parsed) : await runBatch(session, parsed);
    } catch (err) {
      failure = err;
    } finally {
      request.signal?.removeEventListener("abort", onAbort);
    }
    try {
      // A transaction left open goes back to the client (sealed by the edge); the session keeps nothing.
      const committed = failure === undefined && body !== undefined && "command" in body && body.command === "COMMIT";
      const carried = parsed.kind === "single" && txn !== null ? await txn.finish(session, committed) : null;
      if (carried?.state != null) txnHeaders[TXN_HEADERS.state] = carried.state;
      if (failure === undefined && carried?.overflow) failure = carried.overflow;
    } finally {
      // Each request is its own session: its temporary tables (and a transaction not carried) end with it.
      session.close();
    }
    if (failure !== undefined) throw failure;
    // Encoded once: the bytes measured against the limit are the bytes sent.
    const bytes = encoder.encode(JSON.stringify(body));
    const size = bytes.byteLength;
    if (size > limits.responseBytesMax) {
      throw new PgError("program_limit_exceeded", `response is ${size} bytes; the limit is ${limits.responseBytesMax}`, {
        hint: "Select fewer rows or columns (LIMIT / pagination).",
      });
    }
    quota.chargeEgress(size);
    const timing = `quota;dur=${quotaMs}, exec;dur=${Date.now() - execStartMs}`;
    return new Response(bytes, { status: 200, headers: { "content-type": "application/json", "server-timing": timing, ...txnHeaders } });
  } catch (err) {
    const e = toPgError(err);
    if (e.condition === "internal_error") console.error("gateway /sql internal error", err);
    return json(formatError(e), 400, txnHeaders);
  } finally {
    // The request's statements are over (their KV work and egress charged): its reservation ends.
    admitted?.();
  }
}

/** The statement result the HTTP API reports for one query: the last statement's (as the simple query protocol ends with it). */
function lastResult(results: StatementResult[]): StatementResult {
  const last = results[results.length - 1];
  if (!last) return { command: "", rowCount: null, fields: [], rows: [] }; // an empty query string
  return last;
}

/**
 * One query string through the session's prepared-statement path: execute() parses the text once
 * per session (its parse cache) and runs each statement (sql/prepared.ts); a batch repeating a
 * statement text parses it once.
 */
async function runOne(session: SqlSession, q: SqlQuery): Promise<StatementResult> {
  return lastResult(await session.execute(q.query, q.params));
}

async function runSingle(session: SqlSession, req: Extract<SqlRequest, { kind: "single" }>): Promise<NeonResult> {
  return formatResult(await runOne(session, req.query), req.options);
}

function beginStatement(req: Extract<SqlRequest, { kind: "batch" }>): string {
  const o = req.options;
  const parts = ["BEGIN"];
  if (o.isolationLevel !== null) {
    // Every level runs as SERIALIZABLE in Warren (as in CockroachDB); naming it keeps Postgres's semantics explicit.
    const level = { Serializable: "SERIALIZABLE", RepeatableRead: "REPEATABLE READ", ReadCommitted: "READ COMMITTED", ReadUncommitted: "READ UNCOMMITTED" }[o.isolationLevel];
    parts.push(`ISOLATION LEVEL ${level}`);
  }
  if (o.readOnly) parts.push("READ ONLY");
  if (o.deferrable) parts.push("DEFERRABLE");
  return parts.join(" ");
}

async function runBatch(session: SqlSession, req: Extract<SqlRequest, { kind: "batch" }>): Promise<{ results: NeonResult[] }> {
  await session.execute(beginStatement(req));
  const results: NeonResult[] = [];
  try {
    for (const q of req.queries) results.push(formatResult(await runOne(session, q), req.options));
    await session.execute("COMMIT");
  } catch (err) {
    try {
      await session.execute("ROLLBACK");
    } catch {
      // The session is discarded with this request; the original error is the one to report.
    }
    throw err;
  }
  return { results };
}

function json(body: unknown, status: number, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
}
