// A tenant moved between shards under SQL writes, end to end: `warren dev --shards 2 --replicas 1`
// (the edge and gateway in workerd, two replicated storage nodes), a tenant whose rows are inserted
// one statement at a time over HTTP SQL while `warren fleet move` moves it to the other shard.
// Every insert the client saw succeed is there exactly once afterwards (a primary key on the id,
// and the ids counted), the placement names the other shard, and SQL kept working through it;
// the longest insert during the move is printed. (test/fleet/tenant-moves.test.ts measures the
// pause over many moves at the KV level.)
//
// Then the whole stack is killed mid-move (issue 13, "faults lose nothing"; the FleetDirectory
// writes its state only when it changes): `warren fleet move` moves the tenant back while inserts
// go on, and at a random step of the move (its progress lines on stderr) plus 0–100 ms every
// process — `warren dev`, workerd with the FleetDirectory, both storage nodes, the mover — gets
// SIGKILL. `warren dev` starts again on the same data dir, and then:
//   - at most one shard serves the tenant (holds it with no moved marker), before anything is
//     repaired;
//   - the same `warren fleet move` run again completes the move (whatever step it died at: it
//     starts over, finishes an adopted move, or purges the copy a move that died after its switch
//     left on the source);
//   - the tenant is placed on the target, which serves it; the source holds none of it;
//   - every insert acknowledged before the kill is there exactly once, nothing else but inserts
//     whose outcome the client could not know, and the table takes inserts again.
// WARREN_MOVE_RESTART_ROUNDS sets the rounds (default 1: each costs a stack start);
// WARREN_MOVE_RESTART_STEP pins the step (to reproduce one).
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPaths, readJson } from "../../cli/data-dir.ts";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { HttpDirectory } from "../../storage-node/replication/directory-client.ts";
import { replicationLimits } from "../../storage-node/replication/limits.ts";
import { httpSql, HttpSqlError, startStack, type Stack, type TenantConnection } from "../harness/stack.ts";

const restartRounds = Number(process.env.WARREN_MOVE_RESTART_ROUNDS ?? 1);
const fleetEnv = { WARREN_SHARDS: "2", WARREN_REPLICAS: "1" };
/** Where the mover can be when everything dies (its progress lines name them). */
const restartSteps = ["export", "import", "catch-up", "fence", "adopt", "switch", "purge"] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("SQL through a tenant move (warren dev --shards 2, warren fleet move)", () => {
  let stack: Stack;
  let tenant: TenantConnection;
  // Ours, not the harness's: the restart below starts `warren dev` again on it.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-sql-move-"));

  beforeAll(async () => {
    stack = await startStack({ dataDir, env: fleetEnv, timeoutMs: 180_000 });
    tenant = await stack.createTenant("mover");
  }, 240_000);
  afterAll(async () => {
    await stack?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
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
    // Inserts after the move too (on a loaded machine the first one may take a while).
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && latencies.filter((l) => l.startedMs > moveEndedMs).length < 3; ) {
      await new Promise((r) => setTimeout(r, 200));
    }
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

  /** Each storage node's answer for the tenant (GET /v1/tenant-digest on its replication port). */
  async function tenantOnNodes(): Promise<Array<{ node: string; shard: number; keys: number; served: boolean }>> {
    const fleet = readJson<{ host: string; nodes: Array<{ id: string; shardId: number; replPort: number }> }>(path.join(dataPaths(dataDir).storage, "fleet", "fleet.json"))!;
    const secret = fs.readFileSync(dataPaths(dataDir).fleetSecret, "utf8").trim();
    const token = await mintTenantToken(secret, { tenantId: SYSTEM_TENANT_ID, expiresAtMs: Date.now() + 60_000 });
    return Promise.all(
      fleet.nodes.map(async (n) => {
        const res = await fetch(`http://${fleet.host}:${n.replPort}/v1/tenant-digest?tenant=${tenant.id}`, { headers: { authorization: `Bearer ${token}` } });
        if (!res.ok) throw new Error(`${n.id}: ${res.status} ${await res.text()}`);
        const d = (await res.json()) as { keys: number; served: boolean };
        return { node: n.id, shard: n.shardId, keys: d.keys, served: d.served };
      }),
    );
  }

  /** SIGKILL to `warren dev` and to every process group it started (a machine that loses power). */
  function killEverything(s: Stack): void {
    const pids = readJson<{ children: Array<{ pid: number }> }>(dataPaths(s.dataDir).pids);
    process.kill(s.pid, "SIGKILL");
    for (const c of pids?.children ?? []) {
      try {
        process.kill(-c.pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }

  /** The same tenant's connection on a restarted stack (new ports, same name and password). */
  const on = (s: Stack, t: TenantConnection): TenantConnection => {
    const pg = new URL(t.pg);
    pg.port = String(s.ports.pg);
    const http = new URL(t.http);
    http.port = String(s.ports.http);
    return { ...t, pg: pg.toString(), http: http.toString() };
  };

  it(`the whole stack killed with SIGKILL mid-move (${restartRounds} round(s)): one shard serves, the move run again completes, nothing acknowledged lost`, async () => {
    for (let round = 0; round < restartRounds; round++) {
      const secret = fs.readFileSync(dataPaths(dataDir).fleetSecret, "utf8").trim();
      let directory = new HttpDirectory(stack.http, secret, replicationLimits.leaseMs);
      const from = (await directory.call({ op: "placeTenant", tenantId: Number(tenant.id) })).config!.shardId;
      const to = from === 1 ? 2 : 1;
      const aim = (process.env.WARREN_MOVE_RESTART_STEP as (typeof restartSteps)[number] | undefined) ?? restartSteps[Math.floor(Math.random() * restartSteps.length)]!;
      const delayMs = Math.floor(Math.random() * 100);
      const before = Number(((await httpSql(tenant, "select coalesce(max(id), 0)::int as n from t")).rows[0] as { n: number }).n);

      const acked: number[] = [];
      const unknown = new Set<number>();
      let writing = true;
      const writer = (async () => {
        for (let id = before + 1; writing; id++) {
          try {
            await httpSql(tenant, "insert into t values ($1, $2)", [id, `row ${id}`]);
            acked.push(id);
          } catch {
            unknown.add(id); // the stack is going away: whatever this one did, the client cannot know
          }
        }
      })();
      await sleep(500);

      // The mover as an operator runs it; its progress lines tell when to pull the plug.
      const mover = spawn(process.execPath, [path.resolve(import.meta.dirname, "..", "..", "cli", "warren.mjs"), "fleet", "move", "mover", "--to", String(to)], {
        env: { ...process.env, WARREN_DATA_DIR: dataDir },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let moverOut = "";
      const moverExited = new Promise<number | null>((r) => mover.once("exit", (code) => r(code)));
      const reached = await new Promise<boolean>((resolve) => {
        mover.stderr!.on("data", (c: Buffer) => {
          moverOut += c.toString();
          if (moverOut.includes(`mover: ${aim}\n`)) resolve(true);
        });
        mover.stdout!.on("data", (c: Buffer) => (moverOut += c.toString()));
        void moverExited.then(() => resolve(false));
      });
      await sleep(delayMs);
      mover.kill("SIGKILL");
      killEverything(stack);
      writing = false;
      await writer;
      await moverExited;
      const steps = [...moverOut.matchAll(/^mover: (\S+)$/gm)].map((m) => m[1]).join(">");

      const first = stack;
      const restartedAtMs = performance.now();
      stack = await startStack({ dataDir, env: fleetEnv, timeoutMs: 180_000 });
      await first.stop(); // its ports are free again; what it left is the new start's to clean up
      tenant = on(stack, tenant);
      const restartMs = performance.now() - restartedAtMs;
      directory = new HttpDirectory(stack.http, secret, replicationLimits.leaseMs);
      const restarted = stack;
      const placedAfterCrash = (await directory.call({ op: "placeTenant", tenantId: Number(tenant.id) }).catch((err: unknown) => {
        throw new Error(`the restarted stack does not answer: ${String(err)}\n${restarted.output().slice(-4000)}`);
      })).config!.shardId;
      const nodes = await tenantOnNodes();
      // Never two shards serving the tenant, before anything is repaired.
      expect(nodes.filter((n) => n.served).length, `shards serving tenant ${tenant.id} after the restart: ${JSON.stringify(nodes)}`).toBeLessThanOrEqual(1);

      // The operator's one repair, whatever step the move died at: the same command again.
      const r = await stack.warren(["fleet", "move", "mover", "--to", String(to)]);
      expect(r.code, `the move run again: ${r.stderr}`).toBe(0);
      const again = r.stdout.trim();
      const placed = (await directory.call({ op: "placeTenant", tenantId: Number(tenant.id) })).config!.shardId;
      expect(placed).toBe(to);
      const after = await tenantOnNodes();
      expect(after.filter((n) => n.served).map((n) => n.shard)).toEqual([to]);
      expect(after.filter((n) => n.shard === from).map((n) => n.keys), "the source's copy").toEqual([0]);

      const ids = ((await httpSql(tenant, "select id from t where id > $1 order by id", [before])).rows as Array<{ id: number }>).map((r) => Number(r.id));
      expect(acked.filter((id) => !ids.includes(id)), "acknowledged inserts missing").toEqual([]);
      expect(ids.filter((id) => !acked.includes(id) && !unknown.has(id)), "rows nobody was told of").toEqual([]);
      expect(new Set(ids).size).toBe(ids.length);
      await httpSql(tenant, "insert into t values ($1, 'after the restart')", [Math.max(before, ...ids, ...unknown) + 1]);
      console.log(
        `sql move restart round ${round}: killed everything at ${reached ? `${aim} + ${delayMs} ms` : `the mover's exit (${aim} not reached)`} (steps ${steps}); ` +
          `stack back in ${restartMs.toFixed(0)} ms; placed on ${placedAfterCrash} after the crash, nodes ${JSON.stringify(nodes)}; run again: ${again}; ` +
          `${acked.length} inserts acknowledged, ${unknown.size} unknown, ${ids.length} present`,
      );
    }
  }, 60_000 + restartRounds * 300_000);
});
