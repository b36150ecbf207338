// A statement that reads no table, names nothing in the catalog and writes nothing sends no storage
// request outside a transaction (SELECT 1 was a round trip: the catalog check rode on a read).
// Anything that looks at the catalog still has its cached catalog checked against storage.
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import type { TenantKvCapability } from "../kv/capability.ts";
import { createSession } from "./session.ts";

function counted(mem: MemoryKv): { cap: TenantKvCapability; count: () => number } {
  const inner = memoryCapability(mem);
  let n = 0;
  return { cap: { batch: (r) => (n++, inner.batch(r)) }, count: () => n };
}

async function requestsFor(s: ReturnType<typeof createSession>, count: () => number, sql: string): Promise<number> {
  const before = count();
  await s.execute(sql);
  return count() - before;
}

describe("statements that need no storage", () => {
  it("sends nothing for SELECT 1, expressions, settings and set-returning calls", async () => {
    const { cap, count } = counted(new MemoryKv());
    const s = createSession({ kv: cap, tenantId: 7 });
    await s.execute("CREATE TABLE t (a INT PRIMARY KEY)");
    await s.execute("SELECT * FROM t"); // the catalog is cached from here on
    for (const sql of ["SELECT 1", "SELECT now() IS NOT NULL, 'a' || 1, current_setting('TimeZone')", "SELECT generate_series(1, 3)", "SELECT 1; SELECT 2"]) {
      expect(await requestsFor(s, count, sql), sql).toBe(0);
    }
  });

  it("still checks the cached catalog when the statement names a relation, a regclass or a sequence", async () => {
    const mem = new MemoryKv();
    const a = counted(mem);
    const b = counted(mem);
    const s1 = createSession({ kv: a.cap, tenantId: 7 });
    const s2 = createSession({ kv: b.cap, tenantId: 7 });
    await s1.execute("CREATE TABLE t (a INT PRIMARY KEY)");
    await s2.execute("SELECT * FROM t");
    expect(await requestsFor(s2, b.count, "SELECT 't'::regclass::oid > 0")).toBe(1);
    // Another session drops and recreates the table: a stale cached catalog must not answer.
    await s1.execute("DROP TABLE t");
    await s1.execute("CREATE TABLE t (b TEXT PRIMARY KEY)");
    const r = await s2.execute("SELECT attname FROM pg_attribute WHERE attrelid = 't'::regclass AND attnum > 0");
    expect(r[0]!.rows).toEqual([["b"]]);
  });
});
