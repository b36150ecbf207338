// BankDb over the two databases the bank workload runs against.
import pg from "pg";
import type { BankDb, Statement } from "./bank.ts";
import type { NeonHttpClient } from "./neon-http.ts";
import { SqlError } from "./target.ts";

const textTypes = { getTypeParser: () => (v: string) => v };

function asSqlError(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown };
  if (typeof e?.code === "string" && /^[0-9A-Z]{5}$/.test(e.code)) return new SqlError(e.code, String(e.message ?? ""));
  return err;
}

/** PostgreSQL: one connection per BankDb; a transfer is BEGIN ISOLATION LEVEL SERIALIZABLE … COMMIT. */
export async function postgresBankDb(url: string): Promise<BankDb> {
  const client = new pg.Client({ connectionString: url, types: textTypes });
  client.on("error", () => {});
  await client.connect();
  const run = async (s: Statement): Promise<Array<Array<string | null>>> => {
    const r = await client.query({ text: s.sql, values: s.params ?? [], rowMode: "array" });
    return r.rows as Array<Array<string | null>>;
  };
  return {
    async query(sql, params) {
      try {
        return await run({ sql, params });
      } catch (err) {
        throw asSqlError(err);
      }
    },
    async transaction(statements) {
      try {
        await client.query("BEGIN ISOLATION LEVEL SERIALIZABLE");
        for (const s of statements) await run(s);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw asSqlError(err);
      }
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}

/** Warren over HTTP: every transfer is one Neon batch, which Warren runs as one serializable transaction. */
export function warrenBankDb(http: NeonHttpClient): BankDb {
  return {
    async query(sql, params) {
      return (await http.query(sql, params ?? [])).rows;
    },
    async transaction(statements) {
      await http.transaction(statements.map((s) => ({ query: s.sql, params: s.params ?? [] })), "Serializable");
    },
    async close() {},
  };
}
