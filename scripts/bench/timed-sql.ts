// What the cold-start and density sections time: one `POST /sql` of a tenant that must answer 200,
// and a timer that keeps a failed try's error instead of its time.
import type { TenantConnection } from "../../test/harness/stack.ts";

/** POST /sql `query` as `tenant`; throws unless it answers 200. */
export async function postSqlOk(tenant: Pick<TenantConnection, "http" | "pg">, query: string): Promise<void> {
  const res = await fetch(tenant.http, {
    method: "POST",
    headers: { "content-type": "application/json", "neon-connection-string": tenant.pg },
    body: JSON.stringify({ query, params: [] }),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`POST /sql ${res.status}: ${body.slice(0, 200)}`);
}

/** Runs `op`: its time (ms) goes to `into`, or its error to `errors`. */
export async function timed(op: () => Promise<void>, into: number[], errors: string[]): Promise<void> {
  const s = performance.now();
  try {
    await op();
    into.push(performance.now() - s);
  } catch (e) {
    errors.push(String(e));
  }
}
