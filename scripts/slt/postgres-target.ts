// The reference target: real PostgreSQL 15, one fresh database per script.
import pg from "pg";
import { startPostgres, type PostgresServer } from "../../test/harness/postgres.ts";
import { SqlError, type QueryOutput, type SqlSession, type SqlTarget } from "./target.ts";

/** A runaway query (a cross join gone wrong) must not stall a whole corpus run. */
const statementTimeoutMs = 60_000;

// Every value stays in PostgreSQL's text format, exactly as the server sent it: the runner
// renders values itself, the same way for every target.
const textTypes = { getTypeParser: () => (v: string) => v };

let databaseSeq = 0;

export interface PostgresTargetOptions {
  /** Use this server (superuser URL) instead of starting a throwaway one. */
  url?: string;
}

export async function createPostgresTarget(options: PostgresTargetOptions = {}): Promise<SqlTarget & { url: string }> {
  let server: PostgresServer | undefined;
  let adminUrl = options.url;
  if (adminUrl === undefined) {
    server = await startPostgres();
    adminUrl = server.url;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const baseUrl = new URL(adminUrl);
  // Scripts run concurrently but share this one admin connection: queue its queries (pg
  // deprecates overlapping queries on one client).
  let adminQueue: Promise<unknown> = Promise.resolve();
  const adminQuery = (sql: string): Promise<unknown> => {
    const run = adminQueue.then(() => admin.query(sql));
    adminQueue = run.catch(() => {});
    return run;
  };

  return {
    name: "postgres",
    engine: "postgresql",
    url: adminUrl,
    async openSession(label: string): Promise<SqlSession> {
      const db = `slt_${process.pid}_${++databaseSeq}_${label.replace(/[^a-z0-9]+/gi, "_").toLowerCase()}`.slice(0, 63);
      await adminQuery(`CREATE DATABASE "${db}"`);
      const url = new URL(baseUrl);
      url.pathname = `/${db}`;
      const client = new pg.Client({ connectionString: url.toString(), types: textTypes });
      client.on("error", () => {}); // surfaced by the failing query instead
      await client.connect();
      await client.query(`SET statement_timeout = ${statementTimeoutMs}`);
      return {
        async execute(sql: string): Promise<QueryOutput> {
          try {
            const r = await client.query({ text: sql, rowMode: "array" });
            // A multi-statement text returns an array of results; the last one is the answer.
            const last = Array.isArray(r) ? r[r.length - 1] : r;
            return { columns: last?.fields?.length ?? 0, rows: (last?.rows ?? []) as QueryOutput["rows"] };
          } catch (err) {
            const e = err as { code?: string; message?: string };
            if (typeof e.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) throw new SqlError(e.code, e.message ?? "");
            throw err;
          }
        },
        async close(): Promise<void> {
          await client.end().catch(() => {});
          await adminQuery(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => {});
        },
      };
    },
    async close(): Promise<void> {
      await admin.end().catch(() => {});
      await server?.stop();
    },
  };
}
