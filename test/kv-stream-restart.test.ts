// Postgres sessions on KV streams (workers/edge/tenant-kv.ts) through a storage node death: four
// `pg` clients through the tunnel each read their own rows and insert their own rows, so every
// session's KV batches are interleaved on its stream; the storage node is killed with SIGKILL
// mid-run and `warren dev` starts it again. Every answer must be the row that was asked for (no
// session ever gets another request's reply), every error a clear SQLSTATE (57P01, 08006; a
// session may end with them), every acknowledged insert present afterwards, and the sessions
// served again on new streams after the restart.
import fs from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPaths, readJson } from "../cli/data-dir.ts";
import { mintTenantToken } from "../common/tenant-token.ts";
import { startStack, type Stack } from "./harness/stack.ts";

const CLIENTS = 4;
const ROWS_PER_CLIENT = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function storagePid(stack: Stack): number {
  const pids = readJson<{ children: { pid: number; marker: string }[] }>(dataPaths(stack.dataDir).pids);
  const entry = pids?.children.find((c) => c.marker.includes("storage-node"));
  if (!entry) throw new Error("no storage node in dev.pids");
  return entry.pid;
}

async function streamCounters(stack: Stack): Promise<{ opened: number; requests: number }> {
  const secret = fs.readFileSync(dataPaths(stack.dataDir).fleetSecret, "utf8").trim();
  const token = await mintTenantToken(secret, { tenantId: 1, expiresAtMs: Date.now() + 60_000 });
  const text = await (await fetch(`http://127.0.0.1:${stack.ports.storage}/metrics`, { headers: { authorization: `Bearer ${token}` } })).text();
  const one = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1] ?? NaN);
  return { opened: one("warren_storage_kv_streams_opened_total"), requests: one("warren_storage_kv_stream_requests_total") };
}

describe("KV streams through a storage node killed with SIGKILL", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it("answers each request with its own reply, fails the rest with a clear SQLSTATE, and reconnects", async () => {
    const tenant = await stack.createTenant("streams");
    const admin = new pg.Client({ connectionString: tenant.pg });
    await admin.connect();
    await admin.query("create table kv (id int primary key, v text)");
    await admin.query(`insert into kv select g, 'v' || g from generate_series(0, ${CLIENTS * ROWS_PER_CLIENT - 1}) g`);
    await admin.query("create table w (id int primary key, client int)");

    let stop = false;
    let killedAt = Number.POSITIVE_INFINITY;
    const wrong: string[] = [];
    const unexpected: string[] = [];
    const clearErrors: string[] = [];
    const acknowledged: Array<[number, number]> = [];
    const servedAfterRestart = new Array<number>(CLIENTS).fill(0);

    const client = async (n: number): Promise<void> => {
      let c: pg.Client | null = null;
      let i = 0;
      while (!stop) {
        if (c === null) {
          c = new pg.Client({ connectionString: tenant.pg });
          c.on("error", () => undefined);
          try {
            await c.connect();
          } catch {
            c = null;
            await sleep(100);
            continue;
          }
        }
        i++;
        const id = n * ROWS_PER_CLIENT + (i % ROWS_PER_CLIENT);
        try {
          if (i % 4 === 0) {
            const wid = n * 1_000_000 + i;
            await c.query("insert into w values ($1, $2)", [wid, n]);
            acknowledged.push([wid, n]);
          } else {
            const r = await c.query<{ v: string }>("select v from kv where id = $1", [id]);
            if (r.rows.length !== 1 || r.rows[0]!.v !== `v${id}`) wrong.push(`client ${n} asked for ${id}, got ${JSON.stringify(r.rows)}`);
          }
          if (performance.now() > killedAt) servedAfterRestart[n]!++;
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === "57P01" || code === "08006") clearErrors.push(`${code} ${(err as Error).message}`);
          else if (code === undefined && /Connection terminated|not queryable|ECONNRESET/.test((err as Error).message)) clearErrors.push((err as Error).message);
          else unexpected.push(`${code} ${(err as Error).message}`);
          // A session may end with the error; the next iteration opens a new one.
          await c.end().catch(() => undefined);
          c = null;
        }
      }
      await c?.end().catch(() => undefined);
    };

    const clients = Array.from({ length: CLIENTS }, (_, n) => client(n));
    await sleep(1_500);
    const before = await streamCounters(stack);
    expect(before.requests).toBeGreaterThan(0); // the sessions' batches went over KV streams
    const pid = storagePid(stack);
    process.kill(pid, "SIGKILL");
    killedAt = performance.now();
    while (storagePid(stack) === pid) await sleep(50);
    // Served again for a while after the restart.
    const deadline = performance.now() + 20_000;
    while (servedAfterRestart.some((x) => x < 20) && performance.now() < deadline) await sleep(100);
    stop = true;
    await Promise.all(clients);

    expect(wrong).toEqual([]);
    expect(unexpected).toEqual([]);
    for (const x of servedAfterRestart) expect(x).toBeGreaterThanOrEqual(20);
    // The restarted node serves the sessions on new streams.
    const after = await streamCounters(stack);
    expect(after.opened).toBeGreaterThanOrEqual(1);
    expect(after.requests).toBeGreaterThan(0);
    // Every acknowledged insert is there, under its own client.
    const rows = await admin.query<{ id: number; client: number }>("select id, client from w").catch(async () => {
      await admin.end().catch(() => undefined);
      const again = new pg.Client({ connectionString: tenant.pg });
      await again.connect();
      try {
        return await again.query<{ id: number; client: number }>("select id, client from w");
      } finally {
        await again.end();
      }
    });
    const stored = new Map(rows.rows.map((r) => [Number(r.id), Number(r.client)]));
    for (const [id, n] of acknowledged) expect(stored.get(id)).toBe(n);
    expect(acknowledged.length).toBeGreaterThan(0);
    console.log(`kv-stream-restart: ${acknowledged.length} inserts acknowledged, ${clearErrors.length} clear errors (${[...new Set(clearErrors.map((e) => e.slice(0, 60)))].join("; ")})`);
    await admin.end().catch(() => undefined);
  }, 120_000);
});
