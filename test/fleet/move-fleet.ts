// Two shards of replicated storage nodes for the tenant-move tests and bench (tenant-moves.test.ts,
// scripts/bench-moves.ts): `warren dev`'s FleetDirectory (the real Durable Object in workerd), two
// shards of storage-node/replication/replicated-node.ts processes over LMDB (log-shard.ts), and
// the workload both tests check a move against:
//
// - `send`: a client the way the edge's TenantKV sends (workers/edge/storage-forward.ts with
//   shard-routes.ts: the tenant's placement cached with its version, a tenant_moved refusal read
//   again and retried), run here in Node against the real directory;
// - `writer`: each write is one transaction that reads the tenant's counter and writes counter + 1
//   and a row `w/<counter + 1>` holding the write's id, so a write applied twice leaves two rows
//   with one id or a counter past the rows, and a lost one leaves an acknowledged id missing;
// - `verifyWrites`: on the tenant's shard, the rows are exactly 1..counter, every acknowledged id
//   is at the position it was acknowledged at, no id appears twice, nothing no writer wrote.
import fs from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { dataPaths } from "../../cli/data-dir.ts";
import { freePort } from "../../cli/ports.ts";
import { decodeResponse, encodeRequest } from "../../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse, ReadResult } from "../../common/kv-protocol/messages.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import type { MoveDeps } from "../../storage-node/moves/tenant-move.ts";
import { HttpDirectory } from "../../storage-node/replication/directory-client.ts";
import { replicationLimits } from "../../storage-node/replication/limits.ts";
import { bytes, randomTxnId, text, tkey } from "../../storage-node/testing/kv-client.ts";
import { ShardRoutes } from "../../workers/edge/shard-routes.ts";
import { forwardWithRetries } from "../../workers/edge/storage-forward.ts";
import { startStack, type Stack } from "../harness/stack.ts";
import { type LogShard, startLogShard, until } from "./log-shard.ts";

const nodeMain = path.resolve(import.meta.dirname, "..", "..", "storage-node", "replication", "replicated-node.ts");

export const show = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x instanceof Uint8Array ? Buffer.from(x).toString("hex") : x));
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
export const counterKey = (t: number) => tkey(t, "counter");
const rowKey = (t: number, n: number) => tkey(t, `w/${String(n).padStart(8, "0")}`);

export type Send = (tenantId: number, req: KvRequest) => Promise<KvResponse>;

export interface Write {
  id: string;
  /** The counter value the write set (its row's position). */
  n: number;
  startedMs: number;
  endedMs: number;
}

/** What one tenant's writer was told: acknowledged writes, and ids whose outcome it could not know. */
export interface WriterLog {
  acked: Write[];
  unknown: string[];
}

export interface MoveFleet {
  stack: Stack;
  secret: string;
  directory: HttpDirectory;
  shards: LogShard[];
  kvUrls: Map<string, string>;
  /** The mover's dependencies (directory, node addresses, secret). */
  moveDeps: MoveDeps;
  tokenOf(tenantId: number): Promise<string>;
  /** A new edge client (its own route cache). */
  edgeClient(): Send;
  /** The node of `shard` that holds the lease with its KV service up. */
  leaseholderServing(shard: LogShard): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function startMoveFleet(replicas: number, label: string): Promise<MoveFleet> {
  const t0 = performance.now();
  const stack = await startStack();
  const t1 = performance.now();
  const secret = fs.readFileSync(dataPaths(stack.dataDir).fleetSecret, "utf8").trim();
  const directory = new HttpDirectory(stack.http, secret, replicationLimits.leaseMs);
  const shards: LogShard[] = [];
  const kvUrls = new Map<string, string>();
  const tokens = new Map<number, string>();
  const fleet: MoveFleet = {
    stack,
    secret,
    directory,
    shards,
    kvUrls,
    moveDeps: {
      directory: (op) => directory.call(op),
      nodes: {
        get: (id) => {
          const kvUrl = kvUrls.get(id);
          const shard = shards.find((s) => s.ids.includes(id));
          return kvUrl && shard ? { kvUrl, replUrl: shard.replUrl(id) } : undefined;
        },
      },
      fleetSecret: secret,
      shards: [1, 2],
    },
    async tokenOf(tenantId) {
      let t = tokens.get(tenantId);
      if (t === undefined) tokens.set(tenantId, (t = await mintTenantToken(secret, { tenantId, expiresAtMs: Date.now() + 10 * 60_000 })));
      return t;
    },
    edgeClient() {
      const routes = new ShardRoutes((op) => directory.call(op), kvUrls);
      return async (tenantId, req) => {
        const body = new Uint8Array(encodeRequest(req));
        const answer = await forwardWithRetries(body, {
          route: (failed, moved) => routes.route(tenantId, "/v1/kv", failed, moved),
          movedFrom: (route, everyMs) => routes.movedFrom(route, "/v1/kv", everyMs),
          post: async (url, signal) => fetch(url, { method: "POST", signal, body, headers: { authorization: `Bearer ${await fleet.tokenOf(tenantId)}` } }),
          tokenRefused: () => tokens.delete(tenantId),
        });
        return decodeResponse(answer);
      };
    },
    async leaseholderServing(shard) {
      for (const id of shard.ids) {
        if (!shard.alive(id)) continue;
        const s = (await shard.state(id)) as { leaseholder: boolean; kvUrl: string | null } | undefined;
        if (s?.leaseholder && s.kvUrl) return id;
      }
      return undefined;
    },
    async close() {
      for (const shard of shards) await shard.close();
      await stack.stop();
    },
  };
  try {
    for (const shardId of [1, 2]) {
      const ids = Array.from({ length: replicas }, (_, i) => `s${shardId}r${i + 1}`);
      const ports = new Map<string, number>();
      for (const id of ids) {
        ports.set(id, await freePort());
        kvUrls.set(id, `http://127.0.0.1:${ports.get(id)}`);
      }
      shards.push(await startLogShard({ edgeUrl: stack.http, fleetSecret: secret, shardId, ids, main: nodeMain, args: (id) => ["--port", String(ports.get(id))], restartOnExitCode: 75 }));
    }
    const t2 = performance.now();
    for (const shard of shards) await until(`a leaseholder serving KV on shard ${shard.shardId}`, () => fleet.leaseholderServing(shard), 60_000);
    console.log(`${label}: stack ready in ${(t1 - t0).toFixed(0)} ms, shards started in ${(t2 - t1).toFixed(0)} ms, leaseholders serving after ${(performance.now() - t2).toFixed(0)} ms more`);
  } catch (err) {
    await fleet.close().catch(() => {});
    throw err;
  }
  return fleet;
}

/** Places tenants `first … first + n − 1` (the directory picks the shard) and gives each a seed row and a counter at 0. */
export async function placeAndSeed(fleet: MoveFleet, send: Send, first: number, n: number): Promise<Map<number, number>> {
  const placedOn = new Map<number, number>();
  for (let t = first; t < first + n; t++) {
    const a = await fleet.directory.call({ op: "placeTenant", tenantId: t });
    expect(a.ok).toBe(true);
    placedOn.set(t, a.config!.shardId);
  }
  for (let t = first; t < first + n; t++) {
    // Two puts: sent again if the node was away (a leaseholder that lapsed under load, or one a
    // previous test killed), since writing them twice is writing them once.
    const seed: KvRequest = { type: "batch", reads: [], writes: [{ op: "put", key: tkey(t, "seed"), value: bytes(`tenant ${t}`) }, { op: "put", key: counterKey(t), value: bytes("0") }] };
    let r = await send(t, seed);
    for (let i = 0; i < 5 && r.type === "error" && (r.error.code === "outcome_unknown" || r.error.code === "unavailable"); i++) {
      await sleep(1_000);
      r = await send(t, seed);
    }
    expect(r.type, show(r)).toBe("batch");
  }
  return placedOn;
}

/** Writes to tenant `t` until `running()` answers false; records what it was told in `log`. */
export async function writer(send: Send, t: number, log: WriterLog, running: () => boolean): Promise<void> {
  for (let i = 0; running(); i++) {
    const id = `${t}-${i}`;
    const startedMs = performance.now();
    const r = await send(t, { type: "read", readTs: null, ops: [{ op: "get", key: counterKey(t) }] });
    if (r.type !== "read") {
      await sleep(20);
      continue;
    }
    const n = Number(text((r.results[0] as Extract<ReadResult, { op: "get" }>).value)) + 1;
    const c = await send(t, {
      type: "commit",
      txnId: randomTxnId(),
      readTs: r.readTs,
      readSpans: [{ start: counterKey(t), end: tkey(t, "counter\0") }],
      writes: [
        { op: "put", key: counterKey(t), value: bytes(String(n)) },
        { op: "put", key: rowKey(t, n), value: bytes(id) },
      ],
    });
    if (c.type === "commit") log.acked.push({ id, n, startedMs, endedMs: performance.now() });
    else if (c.type === "error" && (c.error.code === "outcome_unknown" || c.error.code === "internal")) log.unknown.push(id);
    else if (c.type === "error" && c.error.code !== "conflict" && c.error.code !== "unavailable" && c.error.code !== "transaction_expired") {
      throw new Error(`tenant ${t}: commit answered ${show(c.error)}`);
    }
    await sleep(5);
  }
}

/** Reads tenant `t` through `send` (on whatever shard serves it) and checks it against its writer's log. */
export async function verifyWrites(send: Send, t: number, log: WriterLog): Promise<{ counter: number }> {
  const r = await send(t, { type: "read", readTs: null, ops: [{ op: "get", key: counterKey(t) }, { op: "get", key: tkey(t, "seed") }, { op: "scan", start: rowKey(t, 0), end: tkey(t, "w0"), reverse: false, maxRows: 100_000, maxBytes: 0 }] });
  if (r.type !== "read") throw new Error(`tenant ${t}: ${show(r)}`);
  const counter = Number(text((r.results[0] as Extract<ReadResult, { op: "get" }>).value));
  expect(text((r.results[1] as Extract<ReadResult, { op: "get" }>).value)).toBe(`tenant ${t}`);
  const scan = r.results[2] as Extract<ReadResult, { op: "scan" }>;
  expect(scan.resumeKey).toBeNull();
  const rows = scan.rows.map((row) => ({ n: Number(Buffer.from(row.key.subarray(tkey(t, "w/").length)).toString()), id: text(row.value)! }));
  // Rows 1..counter, each a distinct write id that was acknowledged or whose outcome was unknown.
  expect(rows.map((x) => x.n), `tenant ${t}: rows 1..counter`).toEqual(Array.from({ length: counter }, (_, i) => i + 1));
  expect(new Set(rows.map((x) => x.id)).size, `tenant ${t}: a write applied twice`).toBe(rows.length);
  const known = new Set([...log.acked.map((w) => w.id), ...log.unknown]);
  expect(rows.filter((x) => !known.has(x.id)), `tenant ${t}: rows no writer wrote`).toEqual([]);
  const at = new Map(rows.map((x) => [x.id, x.n]));
  const lost = log.acked.filter((w) => at.get(w.id) !== w.n);
  expect(lost.slice(0, 3), `tenant ${t}: acknowledged writes missing or out of place`).toEqual([]);
  return { counter };
}

/** A read of tenant `t` sent straight to node `nodeId`'s KV service (no routing): its HTTP status and KV answer. */
export async function readAt(fleet: MoveFleet, nodeId: string, t: number): Promise<{ status: number; answer: KvResponse }> {
  const res = await fetch(`${fleet.kvUrls.get(nodeId)}/v1/kv`, {
    method: "POST",
    body: new Uint8Array(encodeRequest({ type: "read", readTs: null, ops: [{ op: "get", key: counterKey(t) }] })),
    headers: { authorization: `Bearer ${await fleet.tokenOf(t)}` },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, answer: decodeResponse(new Uint8Array(await res.arrayBuffer())) };
}
