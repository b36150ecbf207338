// Each SQL-layer limit at its edge (sql/limits.ts): the last value accepted and the first refused.
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../kv/memory-kv.ts";
import { sqlLimits } from "./limits.ts";
import { Session } from "./session.ts";

function session(): Session {
  return new Session({ kv: memoryCapability(new MemoryKv()), tenantId: 11 });
}

describe("SQL limits", () => {
  it("returns at most resultRowsMax rows at once (54000 past it; streaming has no such bound)", async () => {
    const s = session();
    const n = sqlLimits.resultRowsMax;
    expect((await s.execute(`SELECT count(*) FROM (SELECT generate_series(1, ${n})) g`))[0]!.rows).toEqual([[String(n)]]);
    const at = await s.execute(`SELECT * FROM generate_series(1, ${n})`);
    expect(at[0]!.rows.length).toBe(n);
    await expect(s.execute(`SELECT * FROM generate_series(1, ${n + 1})`)).rejects.toMatchObject({ code: "54000" });
    let streamed = 0;
    await s.executeStreaming(`SELECT * FROM generate_series(1, ${n + 1})`, [], async (_f, rows) => {
      streamed += rows.length;
    });
    expect(streamed).toBe(n + 1);
  }, 120_000);

  it("bounds the bytes of a result returned at once", async () => {
    const s = session();
    const rows = 1024;
    const width = Math.floor(sqlLimits.resultBytesMax / rows);
    await expect(s.execute(`SELECT repeat('x', ${width}) FROM generate_series(1, ${rows})`)).resolves.toHaveLength(1);
    await expect(s.execute(`SELECT repeat('x', ${width + 1}) FROM generate_series(1, ${rows})`)).rejects.toMatchObject({ code: "54000" });
  }, 60_000);

  it("stops a recursive CTE after recursiveIterationsMax iterations", async () => {
    const s = session();
    const max = sqlLimits.recursiveIterationsMax;
    const ok = await s.execute(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${max}) SELECT max(i) FROM n`);
    expect(ok[0]!.rows).toEqual([[String(max)]]);
    await expect(s.execute(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i <= ${max}) SELECT max(i) FROM n`)).rejects.toMatchObject({ code: "54000" });
  }, 120_000);

  it("refuses expressions nested deeper than nestingDepthMax (54001)", async () => {
    const s = session();
    const nest = (d: number): string => `SELECT ${"abs(".repeat(d)}1${")".repeat(d)}`;
    // The query itself is one level, each abs( … ) one more, the constant inside the last.
    await expect(s.execute(nest(sqlLimits.nestingDepthMax - 2))).resolves.toHaveLength(1);
    await expect(s.execute(nest(sqlLimits.nestingDepthMax - 1))).rejects.toMatchObject({ code: "54001" });
  });
});
