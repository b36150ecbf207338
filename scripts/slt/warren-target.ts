// The target under test: Warren through the real local stack. Each script gets a fresh tenant
// (virtual cluster) from the admin API, and every record is one HTTP POST /sql.
import type { QueryOutput, SqlSession, SqlTarget } from "./target.ts";
import {
  acquireWarrenStack, createTenant, dropTenant, scratchTenantName, tenantClient, type WarrenStack,
} from "./warren-stack.ts";

/** A statement that takes longer than this on the local stack is a hang, not a slow query. */
const requestTimeoutMs = 60_000;

export async function createWarrenTarget(stack?: WarrenStack): Promise<SqlTarget> {
  const owned = stack === undefined;
  const s = stack ?? (await acquireWarrenStack());
  return {
    name: "warren",
    // Warren aims at PostgreSQL compatibility: it takes the records meant for PostgreSQL.
    engine: "postgresql",
    async openSession(label: string): Promise<SqlSession> {
      const tenant = await createTenant(s, scratchTenantName(`slt-${label}`));
      const client = tenantClient(s, tenant, requestTimeoutMs);
      return {
        async execute(sql: string): Promise<QueryOutput> {
          const r = await client.query(sql);
          return { columns: r.fields?.length ?? 0, rows: r.rows ?? [] };
        },
        async close(): Promise<void> {
          await dropTenant(s, tenant.name);
        },
      };
    },
    async close(): Promise<void> {
      if (owned) await s.stop();
    },
  };
}
