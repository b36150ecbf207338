// Warm-up of a gateway isolate that serves no tenant yet (the edge's warm pool,
// workers/edge/gateway-host.ts). A new isolate's first request pays for more than module
// evaluation: V8 compiles each function the first time it runs (lazily), and the first query walks
// parse → bind → plan → exec → KV client → encoding through code that has never run. So the warm-up
// instantiates the parser's WebAssembly and then runs a few typical statements end to end over an
// in-memory KV, off the request path; the tenant's first query then finds that code compiled.
//
// It touches no tenant: the session uses its own MemoryKv, and the tenant id is the system
// tenant's, which no gateway ever serves (user tenants start at 2; the system virtual cluster is
// served by the edge), so the shared catalog entry it leaves (forgotten at the end) can never be
// mistaken for a real tenant's even while a tenant's first request runs beside the warm-up.
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import type { WarmStep } from "./edge-contract.ts";
import { forgetSharedCatalog } from "./catalog/catalog-store.ts";
import { MemoryKv, memoryCapability } from "./kv/memory-kv.ts";
import { clearParseCache, warmParser } from "./sql/parse/parser.ts";
import { createSession } from "./sql/session.ts";

/** Statements of the kinds a tenant's first request usually is: a bare select, DDL, point writes and reads, a scan. */
const WARM_UP_STATEMENTS = [
  "select 1",
  "create table warm (id int primary key, v text)",
  "insert into warm values (1, 'a'), (2, 'b')",
  "select v from warm where id = 1",
  "update warm set v = 'c' where id = 2",
  "select id, v from warm order by id limit 10",
  "select count(*) from warm",
] as const;

/**
 * One part of the warm-up (edge-contract.ts WARM_STEPS), or all of them. `start` does nothing here:
 * the request that asks for it has already created the isolate and evaluated its modules.
 */
export async function warmUp(step?: WarmStep): Promise<void> {
  if (step === "start") return;
  if (step === undefined || step === "parser") await warmParser();
  if (step === undefined || step === "statements") await warmStatements();
}

async function warmStatements(): Promise<void> {
  await warmParser();
  const session = createSession({ kv: memoryCapability(new MemoryKv()), tenantId: SYSTEM_TENANT_ID });
  try {
    for (const sql of WARM_UP_STATEMENTS) await session.execute(sql);
  } finally {
    session.close();
    forgetSharedCatalog(SYSTEM_TENANT_ID);
    clearParseCache();
  }
}
