// One POST /sql carrying an optional Warren-Transaction handle, for tests of HTTP transactions
// (protocol: workers/gateway/http/README.md). Never throws on a Postgres error: the status, the
// JSON body and the handle that came back are the answer.
import type { TenantConnection } from "./stack.ts";

export const TXN_HANDLE_HEADER = "warren-transaction";

export interface HttpTxnAnswer {
  status: number;
  body: { code?: string; message?: string; rows?: unknown[]; command?: string };
  handle: string | null;
}

export async function postSql(t: Pick<TenantConnection, "http" | "pg">, query: string, handle: string | null = null, params: unknown[] = []): Promise<HttpTxnAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json", "neon-connection-string": t.pg };
  if (handle !== null) headers[TXN_HANDLE_HEADER] = handle;
  const res = await fetch(t.http, { method: "POST", headers, body: JSON.stringify({ query, params }) });
  return { status: res.status, body: (await res.json()) as HttpTxnAnswer["body"], handle: res.headers.get(TXN_HANDLE_HEADER) };
}
