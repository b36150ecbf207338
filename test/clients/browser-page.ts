// The script of the page the browser test loads (bundled for the browser with esbuild by
// browser.test.ts): the Neon driver and Warren's HTTP client, run from a page on another origin.
// Each check returns plain data for the test to assert on; errors come back as {code, message}.
import { neon, neonConfig, Pool } from "@neondatabase/serverless";
import { warrenHttp } from "../../client/warren-http.ts";

export interface PageConfig {
  /** The edge's base URL, e.g. http://127.0.0.1:8787 */
  http: string;
  /** postgresql://warren.TENANT:PW@127.0.0.1:PORT/defaultdb (no sslmode) */
  connectionString: string;
}

type Outcome<T> = { ok: true; value: T } | { ok: false; code: string | undefined; message: string };

async function outcome<T>(f: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { ok: false, code: e.code, message: String(e.message ?? err) };
  }
}

function configure(c: PageConfig): void {
  const host = new URL(c.http).host;
  neonConfig.fetchEndpoint = () => `${c.http}/sql`;
  neonConfig.wsProxy = () => `${host}/v2`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.forceDisablePgSSL = true;
  neonConfig.pipelineConnect = "password";
  neonConfig.disableWarningInBrowsers = true;
}

/** neon() over HTTP: a query with parameters and a batch transaction. */
async function neonHttp(c: PageConfig): Promise<Outcome<unknown>> {
  configure(c);
  return outcome(async () => {
    const sql = neon(c.connectionString, { disableWarningInBrowsers: true });
    const one = await sql.query("select $1::int + 1 as n, 'from ' || $2 as who", [41, "a page"]);
    const batch = await sql.transaction([sql`insert into notes values (1, 'http')`, sql`select count(*)::int as n from notes`]);
    return { one, batch };
  });
}

/** A Pool interactive transaction over the WebSocket: BEGIN … COMMIT, and a ROLLBACK. */
async function poolTransaction(c: PageConfig): Promise<Outcome<unknown>> {
  configure(c);
  return outcome(async () => {
    const pool = new Pool({ connectionString: c.connectionString });
    try {
      const client = await pool.connect();
      try {
        await client.query("begin");
        await client.query("insert into notes values (2, 'ws')");
        const inside = await client.query("select count(*)::int as n from notes");
        await client.query("commit");
        await client.query("begin");
        await client.query("insert into notes values (3, 'rolled back')");
        await client.query("rollback");
        const after = await client.query("select id, body from notes order by id");
        return { inside: inside.rows, after: after.rows };
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });
}

/** An interactive transaction over plain HTTP through Warren's client helper (Warren-Transaction). */
async function helperTransaction(c: PageConfig): Promise<Outcome<unknown>> {
  return outcome(async () => {
    const db = warrenHttp({ url: `${c.http}/sql`, connectionString: c.connectionString });
    const seen = await db.transaction(async (tx) => {
      await tx.query("insert into notes values ($1, $2)", [4, "http transaction"]);
      const handle = tx.handle;
      const rows = (await tx.query("select body from notes where id = $1", [4])).rows;
      return { rows, handleShape: /^wtx1\.[0-9]+\.[A-Za-z0-9_-]+$/.test(handle ?? "") };
    });
    const tx = await db.begin();
    await tx.query("insert into notes values (5, 'never')");
    await tx.rollback();
    const all = (await db.query("select id from notes order by id")).rows;
    return { seen, all };
  });
}

/** A WebSocket connection alone (used for the refused origin). */
async function poolConnect(c: PageConfig): Promise<Outcome<unknown>> {
  configure(c);
  return outcome(async () => {
    const pool = new Pool({ connectionString: c.connectionString });
    try {
      return (await pool.query("select 1 as one")).rows;
    } finally {
      await pool.end().catch(() => {});
    }
  });
}

(globalThis as unknown as { warrenChecks: unknown }).warrenChecks = { neonHttp, poolTransaction, helperTransaction, poolConnect };
