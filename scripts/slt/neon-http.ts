// A small client for Warren's HTTP SQL endpoint, which speaks Neon's HTTP API:
//   POST {http}/sql   Neon-Connection-String: postgresql://user:pass@host/db
//                     Neon-Raw-Text-Output: true   (values stay in PostgreSQL text format)
//                     Neon-Array-Mode: true        (rows as arrays)
//   body {"query", "params"} → {command, rowCount, fields, rows}
//   body {"queries": [...]}  → {results: [...]}, all in one transaction
//   errors: HTTP 400 {message, code, …}; anything else is a server failure.
// Used by the sqllogictest Warren target, the bank test and bench:sql. It is written against the
// protocol (what @neondatabase/serverless sends) so that the timing and errors are our own to
// control: a per-request timeout, and a clean split between SQL errors and transport failures.
import { SqlError } from "./target.ts";

export interface NeonField {
  name: string;
  dataTypeID: number;
}

export interface NeonResult {
  command: string;
  rowCount: number | null;
  fields: NeonField[];
  rows: Array<Array<string | null>>;
}

export interface NeonQuery {
  query: string;
  params?: Array<string | number | null>;
}

export interface NeonHttpOptions {
  /** Base URL of the stack's HTTP endpoint (the request goes to `${http}/sql`). */
  http: string;
  connectionString: string;
  /** One request must not hang a run; default 60 s. */
  timeoutMs?: number;
}

export class NeonHttpClient {
  readonly url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;

  constructor(o: NeonHttpOptions) {
    this.url = `${o.http.replace(/\/+$/, "")}/sql`;
    this.#timeoutMs = o.timeoutMs ?? 60_000;
    this.#headers = {
      "content-type": "application/json",
      "Neon-Connection-String": o.connectionString,
      "Neon-Raw-Text-Output": "true",
      "Neon-Array-Mode": "true",
    };
  }

  async query(query: string, params: NeonQuery["params"] = []): Promise<NeonResult> {
    return (await this.#post({ query, params }, {})) as NeonResult;
  }

  /** Runs the queries as one transaction (Neon's batch). Serializable unless told otherwise. */
  async transaction(queries: NeonQuery[], isolationLevel?: string): Promise<NeonResult[]> {
    const headers: Record<string, string> = isolationLevel ? { "Neon-Batch-Isolation-Level": isolationLevel } : {};
    const body = await this.#post({ queries: queries.map((q) => ({ query: q.query, params: q.params ?? [] })) }, headers);
    const results = (body as { results?: unknown }).results;
    if (!Array.isArray(results)) throw new Error(`batch response without results: ${JSON.stringify(body).slice(0, 200)}`);
    return results as NeonResult[];
  }

  async #post(body: unknown, extraHeaders: Record<string, string>): Promise<unknown> {
    const res = await fetch(this.url, {
      method: "POST",
      headers: { ...this.#headers, ...extraHeaders },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${res.status} from ${this.url}, not JSON: ${text.slice(0, 300)}`);
    }
    if (res.ok) return json;
    const e = json as { code?: unknown; message?: unknown };
    if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) {
      throw new SqlError(e.code, typeof e.message === "string" ? e.message : text);
    }
    throw new Error(`HTTP ${res.status} from ${this.url}: ${text.slice(0, 300)}`);
  }
}
