// CPU accounting of concurrent statements in one isolate (workerd: one thread for all of them).
// Each statement's cpuMs feeds the tenant's Request Units (333.33 RU per CPU-second), so it must
// count the time that statement itself held the thread — not the other statements' work that ran
// while it was between its own slices. The thread can do at most one thing at a time, so the sum
// of the statements' CPU can never exceed the wall time in which they ran.
import { describe, expect, it } from "vitest";
import { MemoryKv, memoryCapability } from "../../kv/memory-kv.ts";
import { Session } from "../session.ts";

function session(tenantId: number): Session {
  return new Session({ kv: memoryCapability(new MemoryKv()), tenantId, statementTimeoutMsDefault: 120_000 });
}

describe("CPU accounting under concurrency", () => {
  it("8 concurrent statements are charged at most the wall time they ran in, and each about its own share", async () => {
    const sql = "SELECT count(*) FROM generate_series(1, 300000)";
    const sessions = Array.from({ length: 8 }, (_, i) => session(60 + i));
    for (const s of sessions) await s.execute("SELECT 1");
    // Alone first: one statement's own CPU, the yardstick for its share below (after a warm-up
    // run: the first one also compiles the code it runs, and took twice as long here).
    await sessions[0]!.execute(sql);
    const solos: number[] = [];
    for (let i = 0; i < 3; i++) {
      await sessions[0]!.execute(sql);
      solos.push(sessions[0]!.lastStatementStats!.cpuMs);
    }
    const soloCpu = solos.sort((x, y) => x - y)[1]!;
    const t0 = Date.now();
    await Promise.all(sessions.map((s) => s.execute(sql)));
    const wallMs = Date.now() - t0;
    const stats = sessions.map((s) => s.lastStatementStats!);
    const cpuSum = stats.reduce((a, st) => a + st.cpuMs, 0);
    console.log(
      `8 concurrent: wall ${wallMs.toFixed(0)} ms, CPU charged ${cpuSum.toFixed(0)} ms (each ${stats.map((st) => st.cpuMs.toFixed(0)).join(", ")}; ` +
        `alone ${soloCpu.toFixed(0)} ms); slices: yields ${stats.map((st) => st.yields).join(", ")}, longest ${Math.max(...stats.map((st) => st.maxSliceMs)).toFixed(1)} ms`,
    );
    // The thread did one thing at a time: what the statements were charged fits in the wall time.
    expect(cpuSum).toBeLessThanOrEqual(wallMs);
    // And they were charged for their work: eight times one statement's, give or take what a
    // shared machine does to a wall-clock measure (preemption inflates both figures).
    expect(cpuSum).toBeGreaterThan((8 * soloCpu) / 2);
    for (const st of stats) expect(st.cpuMs).toBeGreaterThan(0);
  }, 120_000);
});
