// A tenant moved between shards under SQL writes, end to end: `warren dev --shards 2 --replicas 1`
// (the edge and gateway in workerd, two replicated storage nodes), a tenant whose rows are inserted
// one statement at a time over HTTP SQL while `warren fleet move` moves it to the other shard.
// Every insert the client saw succeed is there exactly once afterwards (a primary key on the id,
// and the ids counted), the placement names the other shard, and SQL kept working through it;
// the longest insert during the move is printed. (test/fleet/tenant-moves.test.ts measures the
// pause over many moves at the KV level.)
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPaths } from "../../cli/data-dir.ts";
import { HttpDirectory } from "../../storage-node/replication/directory-client.ts";
import { replicationLimits } from "../../storage-node/replication/limits.ts";
import { httpSql, HttpSqlError, startStack, type Stack, type TenantConnection } from "../harness/stack.ts";

describe("SQL through a tenant move (warren dev --shards 2, warren fleet move)", () => {
  let stack: Stack;
  let tenant: TenantConnection;

  beforeAll(async () => {
    stack = await startStack({ env: { WARREN_SHARDS: "2", WARREN_REPLICAS: "1" }, timeoutMs: 180_000 });
    tenant = await stack.createTenant("mover");
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);

  it("keeps every acknowledged insert exactly once while the tenant moves to the other shard", async () => {
    await httpSql(tenant, "create table t (id int primary key, v text)");
    const secret = fs.readFileSync(dataPaths(stack.dataDir).fleetSecret, "utf8").trim();
    const directory = new HttpDirectory(stack.http, secret, replicationLimits.leaseMs);
    const before = await directory.call({ op: "placeTenant", tenantId: Number(tenant.id) });
    const from = before.config!.shardId;
    const to = from === 1 ? 2 : 1;

    const acked: number[] = [];
    const failed: Array<{ id: number; code: string | undefined }> = [];
    const latencies: Array<{ startedMs: number; ms: number }> = [];
    let writing = true;
    const writer = (async () => {
      for (let id = 1; writing; id++) {
        const startedMs = performance.now();
        try {
          await httpSql(tenant, "insert into t values ($1, $2)", [id, `row ${id}`]);
          acked.push(id);
          latencies.push({ startedMs, ms: performance.now() - startedMs });
        } catch (err) {
          if (!(err instanceof HttpSqlError)) throw err;
          failed.push({ id, code: err.code });
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 1_500));
    const moveStartedMs = performance.now();
    const moved = await stack.warren(["fleet", "move", "mover", "--to", String(to)]);
    const moveEndedMs = performance.now();
    expect(moved.code, moved.stderr).toBe(0);
    expect(moved.stdout).toMatch(new RegExp(`moved from shard ${from} to shard ${to}`));
    await new Promise((r) => setTimeout(r, 1_500));
    writing = false;
    await writer;

    const after = await directory.call({ op: "placeTenant", tenantId: Number(tenant.id) });
    expect(after.config!.shardId).toBe(to);
    const rows = await httpSql(tenant, "select id from t order by id");
    const ids = (rows.rows as Array<{ id: number }>).map((r) => Number(r.id));
    // Every acknowledged insert is there; nothing else but inserts whose outcome the client could not know.
    expect(acked.filter((id) => !ids.includes(id))).toEqual([]);
    const unknown = new Set(failed.filter((f) => f.code === "08006").map((f) => f.id));
    expect(ids.filter((id) => !acked.includes(id) && !unknown.has(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    const during = latencies.filter((l) => l.startedMs + l.ms >= moveStartedMs && l.startedMs <= moveEndedMs).map((l) => l.ms);
    const afterMove = acked.filter((id) => latencies[acked.indexOf(id)]!.startedMs > moveEndedMs).length;
    console.log(
      `sql move: ${acked.length} inserts acknowledged (${afterMove} after the move), ${failed.length} failed (${failed.map((f) => f.code).join(",")}); ` +
        `longest insert during the move ${Math.max(0, ...during).toFixed(0)} ms; move: ${moved.stdout.trim()}`,
    );
    expect(afterMove).toBeGreaterThan(0);
    // Failures may only be the retryable kinds (nothing applied, or the client told it cannot know).
    expect(failed.filter((f) => !["57P01", "08006", "40001"].includes(f.code ?? ""))).toEqual([]);
  }, 240_000);
});
