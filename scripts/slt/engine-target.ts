// Warren's SQL engine in this process: a Session over a fresh in-memory KV per script, no stack,
// no HTTP. The same engine code the gateway runs (parse, bind, plan, exec, txn, catalog), without
// the transport around it, so the whole corpus runs in minutes instead of the stack's ~35 (about
// 45 ms of a record's time over HTTP is the stack, not the engine). The stack target
// (warren-target.ts) stays the end-to-end check; this one is for finding engine bugs quickly.
import { PgError } from "../../common/errors.ts";
import { MemoryKv, memoryCapability } from "../../workers/gateway/kv/memory-kv.ts";
import { Session } from "../../workers/gateway/sql/session.ts";
import { SqlError, type QueryOutput, type SqlSession, type SqlTarget } from "./target.ts";

let tenantSeq = 0;

export function createEngineTarget(): SqlTarget {
  return {
    name: "engine",
    // Warren aims at PostgreSQL compatibility: it takes the records meant for PostgreSQL.
    engine: "postgresql",
    async openSession(): Promise<SqlSession> {
      const session = new Session({ kv: memoryCapability(new MemoryKv()), tenantId: ++tenantSeq });
      return {
        async execute(sql: string): Promise<QueryOutput> {
          try {
            const results = await session.execute(sql);
            // A multi-statement text: the last result is the answer, as with the other targets.
            const last = results[results.length - 1];
            return { columns: last?.fields.length ?? 0, rows: last?.rows ?? [] };
          } catch (err) {
            if (err instanceof PgError) throw new SqlError(err.code, err.message);
            throw err;
          }
        },
        async close(): Promise<void> {
          await session.close();
        },
      };
    },
    async close(): Promise<void> {},
  };
}
