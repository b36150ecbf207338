// A small client for Warren's HTTP API with interactive transactions: no dependencies, only
// `fetch`, so the same file runs in a browser, a Worker, Deno or Node ≥ 18.
//
//   const db = warrenHttp({ url: "https://…/sql", connectionString: "postgresql://user.acme:pw@host/db" });
//   await db.query("select $1::int + 1 as n", [41]);                  // one statement, autocommit
//   await db.transaction(async (tx) => {                              // BEGIN … COMMIT over HTTP,
//     const { rows } = await tx.query("select balance from accounts where id = $1", [1]);
//     await tx.query("update accounts set balance = $1 where id = $2", [rows[0].balance - 10, 1]);
//   });                                                               // retried on 40001
//
// The protocol (workers/gateway/http/README.md): a request whose statement leaves a transaction
// open (BEGIN) gets a `Warren-Transaction` response header, a sealed handle; each later request
// of the transaction sends the latest handle back in the same header and gets the next one;
// COMMIT or ROLLBACK ends it (no handle in that response). The server keeps nothing between
// requests. Errors are Postgres errors (HTTP 400, `code` = SQLSTATE) and come back as
// WarrenHttpError; a response to a request inside a transaction may carry a handle even when it
// is an error (the transaction is then aborted and must be rolled back, as in Postgres).

export const TXN_HANDLE_HEADER = "Warren-Transaction";

export interface WarrenHttpOptions {
  /** The /sql endpoint, e.g. "https://warren.example.com/sql". */
  url: string;
  /** postgresql://USER[.TENANT]:PASSWORD@HOST/DATABASE, sent as Neon-Connection-String. */
  connectionString: string;
  /** A fetch to use (default: the global one). */
  fetch?: typeof fetch;
}

export interface QueryResult<Row = Record<string, unknown>> {
  command: string;
  rowCount: number | null;
  rows: Row[];
  fields: Array<{ name: string; dataTypeID: number }>;
}

/** A Postgres error from the server (or a transport failure, code "08006"). */
export class WarrenHttpError extends Error {
  readonly code: string;
  readonly detail?: string;
  readonly hint?: string;
  readonly httpStatus: number;
  /** The Warren-Transaction handle of the error response (undefined: the response had none). */
  handle?: string | null;

  constructor(message: string, code: string, httpStatus: number, extra: { detail?: string; hint?: string } = {}) {
    super(message);
    this.name = "WarrenHttpError";
    this.code = code;
    this.httpStatus = httpStatus;
    if (extra.detail !== undefined) this.detail = extra.detail;
    if (extra.hint !== undefined) this.hint = extra.hint;
  }
}

export interface TransactionOptions {
  /** Tries in all when the transaction fails with 40001 (serialization failure). Default 10. */
  attemptsMax?: number;
  /** Statement that opens it. Default "BEGIN". */
  begin?: string;
}

/** One open transaction: its statements go out one request at a time, in order. */
export class HttpTransaction {
  private readonly send: Sender;
  private current: string | null;
  private ended = false;

  constructor(send: Sender, handle: string) {
    this.send = send;
    this.current = handle;
  }

  /** The latest handle (what the next request sends); null once the transaction ended. */
  get handle(): string | null {
    return this.current;
  }

  async query<Row = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<QueryResult<Row>> {
    if (this.ended || this.current === null) throw new WarrenHttpError("this transaction already ended", "25P01", 0);
    let r: { body: unknown; handle: string | null };
    try {
      r = await this.send(sql, params, this.current);
    } catch (err) {
      // An error inside a transaction comes with the handle of the now aborted transaction (what
      // ROLLBACK must carry), or with none when the request ended it.
      if (err instanceof WarrenHttpError && err.handle !== undefined) this.current = err.handle;
      if (this.current === null) this.ended = true;
      throw err;
    }
    this.current = r.handle;
    // COMMIT, ROLLBACK or END sent through query() end it as well.
    if (r.handle === null) this.ended = true;
    return r.body as QueryResult<Row>;
  }

  async commit(): Promise<void> {
    await this.query("COMMIT");
  }

  async rollback(): Promise<void> {
    if (this.ended) return;
    await this.query("ROLLBACK");
  }
}

type Sender = (sql: string, params: unknown[], handle: string | null) => Promise<{ body: unknown; handle: string | null }>;

export interface WarrenHttp {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<QueryResult<Row>>;
  /** Opens a transaction and returns it; the caller commits or rolls back. */
  begin(statement?: string): Promise<HttpTransaction>;
  /** Runs `fn` in a transaction and commits it; on 40001 it rolls back and runs `fn` again. */
  transaction<T>(fn: (tx: HttpTransaction) => Promise<T>, options?: TransactionOptions): Promise<T>;
}

function paramText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "boolean") return v ? "t" : "f";
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

export function warrenHttp(options: WarrenHttpOptions): WarrenHttp {
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  const send: Sender = async (sql, params, handle) => {
    const headers: Record<string, string> = { "Neon-Connection-String": options.connectionString, "Content-Type": "application/json" };
    if (handle !== null) headers[TXN_HANDLE_HEADER] = handle;
    let res: Response;
    try {
      res = await doFetch(options.url, { method: "POST", headers, body: JSON.stringify({ query: sql, params: params.map(paramText) }) });
    } catch (err) {
      throw new WarrenHttpError(`could not reach ${options.url}: ${err instanceof Error ? err.message : String(err)}`, "08006", 0);
    }
    const next = res.headers.get(TXN_HANDLE_HEADER);
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      throw new WarrenHttpError(`HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`, "08P01", res.status);
    }
    if (!res.ok) {
      const e = new WarrenHttpError(String(body["message"] ?? `HTTP ${res.status}`), String(body["code"] ?? "XX000"), res.status, {
        ...(typeof body["detail"] === "string" ? { detail: body["detail"] } : {}),
        ...(typeof body["hint"] === "string" ? { hint: body["hint"] } : {}),
      });
      e.handle = handle === null ? undefined : next;
      throw e;
    }
    return { body, handle: next };
  };

  const begin = async (statement = "BEGIN"): Promise<HttpTransaction> => {
    const { handle } = await send(statement, [], null);
    if (handle === null) throw new WarrenHttpError(`"${statement}" did not open a transaction (no ${TXN_HANDLE_HEADER} in the response)`, "25000", 200);
    return new HttpTransaction(send, handle);
  };

  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      const { body, handle } = await send(sql, params, null);
      if (handle !== null) {
        // A BEGIN through query() would leave a transaction nobody continues: end it.
        await send("ROLLBACK", [], handle).catch(() => {});
        throw new WarrenHttpError("query() runs single statements; use begin() or transaction() for transactions", "25000", 200);
      }
      return body as unknown as QueryResult<Row>;
    },
    begin,
    async transaction<T>(fn: (tx: HttpTransaction) => Promise<T>, opts: TransactionOptions = {}): Promise<T> {
      const attemptsMax = opts.attemptsMax ?? 10;
      for (let attempt = 1; ; attempt++) {
        const tx = await begin(opts.begin);
        try {
          const out = await fn(tx);
          await tx.commit();
          return out;
        } catch (err) {
          await tx.rollback().catch(() => {});
          if (!(err instanceof WarrenHttpError) || err.code !== "40001" || attempt >= attemptsMax) throw err;
          // Random back-off so that two clients that conflicted do not meet again at once.
          await new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));
        }
      }
    },
  };
}
