// The per-query section of `npm run bench`: where the milliseconds of a point select go.
//
// A point select (`select v from kv where id = $1`, primary key) is timed over each client path —
// HTTP POST /sql (keep-alive fetch, Neon's format), WebSocket (/v2, @neondatabase/serverless) and
// the tunnel (pg) — next to cheaper requests on the same path that stop at earlier hops, and next
// to the same storage operation called directly. The hops are then the differences:
//
//   edge + gateway        `select 1` on the same path: client → edge (route cache, tenant lookup)
//                         → gateway isolate (parse, plan) → back, touching no table;
//   storage path          point select − `select 1`: the gateway's KV capability, the edge's
//                         TenantKV, the transport to the storage node, the node, the engine;
//     storage node        one single-key read sent by a Node client straight to the stack's storage
//                         node over HTTP (keep-alive): the node's HTTP server + the engine;
//     engine (floor)      the same single-key read on raw LMDB in this process;
//     KV capability +     storage path − storage node: what the Workers side adds around the node
//     transport           (RPC gateway → edge, the edge's fetch to the node, encode/decode);
//   tunnel only: Sync round trip (an empty query): client → tunnel → edge → gateway → back; and the
//   same path once more with a tunnel that skips wrangler dev's proxy (local development only).
//
// Each figure is p50/p99 of sequential requests after a warm-up; the machine is shared, so read
// ratios between rows, not absolutes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { neonConfig, Client as NeonClient } from "@neondatabase/serverless";
import { open } from "lmdb";
import pg from "pg";
import ws from "ws";
import { dataPaths } from "../../cli/data-dir.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { KvHttpClient, tkey } from "../../storage-node/testing/kv-client.ts";
import type { Stack, TenantConnection } from "../../test/harness/stack.ts";
import { formatMs, summarize, type LatencySummary } from "../../test/isolation/noisy-neighbour.ts";
import type { SectionReport } from "./report.ts";
import { parseServerTiming } from "../../workers/edge/server-timing.ts";
import { workerdDirectUrl } from "./workerd-direct.ts";
import { startTunnel } from "../../cli/tunnel.ts";

export interface PerQueryOptions {
  /** Measured requests per figure (after `warmup` unmeasured ones). */
  readonly iterations: number;
  readonly warmup: number;
}

export interface PathFigures {
  readonly path: "HTTP" | "HTTP past wrangler's proxy" | "WebSocket" | "tunnel" | "tunnel past wrangler's proxy";
  readonly pointSelect: LatencySummary;
  /** KV requests the storage node received per point select (its metrics, this tenant). */
  readonly kvRequestsPerPointSelect: number;
  /** The same per `select 1`. */
  readonly kvRequestsPerSelect1: number;
  readonly select1: LatencySummary;
  /** Tunnel only: an empty query (Sync → ReadyForQuery through edge and gateway). */
  readonly emptyQuery?: LatencySummary;
  /** HTTP only: GET / (answered by the edge itself: local proxy + edge, no tenant, no gateway). */
  readonly edgeOnly?: LatencySummary;
  /**
   * HTTP only: the point select's Server-Timing parts, p50 of each (ms; workers/edge/server-timing.ts):
   * auth (route cache or router), gateway (the edge's call into the gateway), of which quota (the
   * gateway's wait for Request Units) and exec (the session's work, storage included).
   */
  readonly serverTiming?: Record<string, number>;
}

export interface PerQueryResult {
  readonly paths: PathFigures[];
  readonly storageNode: LatencySummary;
  readonly engine: LatencySummary;
  /** The same point select and `select 1` on PostgreSQL 15 (pg, loopback TCP), when one was given. */
  readonly postgres?: { readonly pointSelect: LatencySummary; readonly select1: LatencySummary };
}

const ROWS = 1_000;

async function timeLoop(n: number, warmup: number, op: (i: number) => Promise<unknown>): Promise<LatencySummary> {
  const samples: number[] = [];
  const errors: string[] = [];
  for (let i = 0; i < warmup + n; i++) {
    const s = performance.now();
    try {
      await op(i);
      if (i >= warmup) samples.push(performance.now() - s);
    } catch (e) {
      if (i >= warmup) errors.push(String(e));
    }
  }
  return summarize(samples, errors);
}

async function postSql(tenant: TenantConnection, query: string, params: unknown[] = [], timing?: Record<string, number[]>, url = tenant.http): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "neon-connection-string": tenant.pg },
    body: JSON.stringify({ query, params }),
  });
  const body = await res.text();
  if (!res.ok) throw new Error(`POST /sql ${res.status}: ${body.slice(0, 200)}`);
  if (timing !== undefined) for (const [k, v] of Object.entries(parseServerTiming(res.headers.get("server-timing")))) (timing[k] ??= []).push(v);
  return body;
}

const medians = (t: Record<string, number[]>): Record<string, number> => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, summarize(v).p50]));

const key = (i: number) => (i * 7919) % ROWS;

/** The storage node's count of KV requests from one tenant (GET /metrics with the system token). */
async function kvRequestCount(stack: Stack, secret: string, tenantId: number): Promise<number> {
  const token = await mintTenantToken(secret, { tenantId: 1, expiresAtMs: Date.now() + 60_000 });
  const res = await fetch(`http://127.0.0.1:${stack.ports.storage}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (!res.ok) throw new Error(`storage /metrics ${res.status}: ${text.slice(0, 200)}`);
  const m = text.match(new RegExp(`^warren_storage_requests_total\\{tenant="${tenantId}"\\} (\\d+)$`, "m"));
  return m ? Number(m[1]) : 0;
}

/** Runs timeLoop and the KV requests per iteration it caused (warm-up included in both counts). */
async function counted(
  stack: Stack, secret: string, tenantId: number, n: number, warmup: number, op: (i: number) => Promise<unknown>,
): Promise<{ lat: LatencySummary; kvPer: number }> {
  const before = await kvRequestCount(stack, secret, tenantId);
  const lat = await timeLoop(n, warmup, op);
  const after = await kvRequestCount(stack, secret, tenantId);
  return { lat, kvPer: (after - before) / (n + warmup) };
}

export async function runPerQuery(stack: Stack, opts: PerQueryOptions, log: (line: string) => void, postgresUrl?: string): Promise<PerQueryResult> {
  const { iterations: n, warmup } = opts;
  const tenant = await stack.createTenant(`pq-${Date.now().toString(36)}`);
  await postSql(tenant, "create table kv (id int primary key, v text)");
  await postSql(tenant, `insert into kv select g, repeat('v', 100) from generate_series(0, ${ROWS - 1}) g`);
  const point = "select v from kv where id = $1";
  const paths: PathFigures[] = [];
  const tenantId = Number(tenant.id);
  const secret = fs.readFileSync(dataPaths(stack.dataDir).fleetSecret, "utf8").trim();
  const both = async (path: PathFigures["path"], pointOp: (i: number) => Promise<unknown>, select1Op: () => Promise<unknown>) => {
    const p = await counted(stack, secret, tenantId, n, warmup, pointOp);
    const s1 = await counted(stack, secret, tenantId, n, warmup, select1Op);
    return { path, pointSelect: p.lat, select1: s1.lat, kvRequestsPerPointSelect: p.kvPer, kvRequestsPerSelect1: s1.kvPer };
  };

  // HTTP POST /sql: through wrangler dev's proxy (the stack's public port, what clients use), then
  // the same requests straight to the edge Worker's workerd (workerd-direct.ts): the difference is
  // the proxy, a hop that exists only in local development.
  const direct = await workerdDirectUrl(stack);
  for (const [name, base] of [["HTTP", new URL(tenant.http).origin], ["HTTP past wrangler's proxy", direct]] as const) {
    if (base === null) {
      log("  (the edge Worker's own workerd port was not found: no figures past wrangler's proxy)");
      continue;
    }
    const url = `${base}/sql`;
    const timing: Record<string, number[]> = {};
    const figures = await both(name, (i) => postSql(tenant, point, [key(i)], i >= warmup ? timing : undefined, url), () => postSql(tenant, "select 1", [], undefined, url));
    const edgeOnly = await timeLoop(n, warmup, async () => {
      const res = await fetch(`${base}/`);
      await res.text();
      if (!res.ok) throw new Error(`GET / ${res.status}`);
    });
    paths.push({ ...figures, edgeOnly, serverTiming: medians(timing) });
  }
  // WebSocket (/v2)
  {
    neonConfig.webSocketConstructor = ws;
    const u = new URL(stack.http);
    neonConfig.wsProxy = () => `${u.host}/v2`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.forceDisablePgSSL = true;
    neonConfig.pipelineConnect = "password";
    const c = new NeonClient({ connectionString: tenant.pg.replace("?sslmode=disable", "") });
    c.on("error", () => undefined);
    await c.connect();
    try {
      paths.push(await both("WebSocket", (i) => c.query(point, [key(i)]), () => c.query("select 1")));
    } finally {
      await c.end().catch(() => undefined);
    }
  }
  // tunnel (pg): the stack's own tunnel, which carries each connection to the public port (through
  // wrangler dev's proxy), then a second tunnel in this process carrying them straight to the edge
  // Worker's workerd: the difference is the proxy on the tunnel's path (local development only).
  const tunnels: Array<[PathFigures["path"], string]> = [["tunnel", tenant.pg]];
  const directTunnel = direct === null ? null : await startTunnel({ host: "127.0.0.1", port: 0, url: `${direct.replace(/^http/, "ws")}/v2` });
  if (directTunnel !== null) {
    const u = new URL(tenant.pg);
    u.hostname = "127.0.0.1";
    u.port = String(directTunnel.port);
    tunnels.push(["tunnel past wrangler's proxy", u.toString()]);
  }
  try {
    for (const [name, url] of tunnels) {
      const c = new pg.Client({ connectionString: url });
      c.on("error", () => undefined);
      await c.connect();
      try {
        const figures = await both(name, (i) => c.query(point, [key(i)]), () => c.query("select 1"));
        const emptyQuery = await timeLoop(n, warmup, () => c.query(""));
        paths.push({ ...figures, emptyQuery });
      } finally {
        await c.end().catch(() => undefined);
      }
    }
  } finally {
    await directTunnel?.close();
  }
  for (const p of paths) {
    log(
      `  ${p.path}: point select p50 ${formatMs(p.pointSelect.p50)} p99 ${formatMs(p.pointSelect.p99)} (${p.kvRequestsPerPointSelect.toFixed(2)} KV requests); ` +
        `select 1 p50 ${formatMs(p.select1.p50)} (${p.kvRequestsPerSelect1.toFixed(2)} KV requests)` +
        (p.emptyQuery ? `; empty query p50 ${formatMs(p.emptyQuery.p50)}` : "") +
        (p.edgeOnly ? `; GET / (edge only) p50 ${formatMs(p.edgeOnly.p50)}` : "") +
        (p.serverTiming ? `; Server-Timing p50 ${Object.entries(p.serverTiming).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(", ")} ms` : ""),
    );
  }

  // The same single-key read straight to the stack's storage node, and on raw LMDB.
  const kv = await KvHttpClient.forTenant(`http://127.0.0.1:${stack.ports.storage}`, secret, tenantId);
  let storageNode: LatencySummary;
  try {
    storageNode = await timeLoop(n, warmup, async (i) => {
      const r = await kv.send({ type: "read", readTs: null, ops: [{ op: "get", key: tkey(tenantId, `bench/${key(i)}`) }] });
      if (r.status !== 200) throw new Error(`storage node answered ${r.status}`);
    });
  } finally {
    kv.close();
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-bench-lmdb-"));
  let engine: LatencySummary;
  try {
    const db = open({ path: dir, encoding: "binary" });
    const value = new Uint8Array(100).fill(118);
    await db.transaction(() => {
      for (let i = 0; i < ROWS; i++) db.put(Buffer.from(tkey(tenantId, `bench/${i}`)), value);
    });
    engine = await timeLoop(n, warmup, async (i) => {
      if (db.getBinary(Buffer.from(tkey(tenantId, `bench/${key(i)}`))) === undefined) throw new Error("missing key");
    });
    await db.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  log(`  storage node direct (HTTP, 1 key) p50 ${fmtUs(storageNode.p50)} p99 ${fmtUs(storageNode.p99)}; raw LMDB get p50 ${fmtUs(engine.p50)}`);

  // PostgreSQL 15 on the same machine: the same table, the same client loop.
  let postgres: PerQueryResult["postgres"];
  if (postgresUrl !== undefined) {
    const c = new pg.Client({ connectionString: postgresUrl });
    await c.connect();
    try {
      await c.query("create table kv (id int primary key, v text)");
      await c.query(`insert into kv select g, repeat('v', 100) from generate_series(0, ${ROWS - 1}) g`);
      postgres = { pointSelect: await timeLoop(n, warmup, (i) => c.query(point, [key(i)])), select1: await timeLoop(n, warmup, () => c.query("select 1")) };
    } finally {
      await c.end().catch(() => undefined);
    }
    log(`  PostgreSQL 15 (pg, loopback): point select p50 ${fmtUs(postgres.pointSelect.p50)} p99 ${fmtUs(postgres.pointSelect.p99)}; select 1 p50 ${fmtUs(postgres.select1.p50)}`);
  }

  return { paths, storageNode, engine, ...(postgres !== undefined ? { postgres } : {}) };
}

function fmtUs(ms: number): string {
  return Number.isFinite(ms) ? (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : formatMs(ms)) : "–";
}

/** The p50 split by hop for one path (ms); negative differences (noise) print as 0. */
export function hopSplit(r: PerQueryResult, p: PathFigures): Array<{ hop: string; ms: number }> {
  const storagePath = Math.max(0, p.pointSelect.p50 - p.select1.p50);
  const nodeHttp = Math.max(0, r.storageNode.p50 - r.engine.p50);
  return [
    ...(p.emptyQuery
      ? [
          { hop: "client ↔ tunnel ↔ edge ↔ gateway (empty query)", ms: p.emptyQuery.p50 },
          { hop: "parse + plan + execute `select 1`", ms: Math.max(0, p.select1.p50 - p.emptyQuery.p50) },
        ]
      : p.edgeOnly
        ? [
            { hop: "client ↔ edge (GET /: local proxy + edge, no tenant)", ms: p.edgeOnly.p50 },
            { hop: "edge → gateway, `select 1` (route cache, queue, session)", ms: Math.max(0, p.select1.p50 - p.edgeOnly.p50) },
          ]
        : [{ hop: "client ↔ edge ↔ gateway, `select 1`", ms: p.select1.p50 }]),
    { hop: "KV capability + TenantKV + transport", ms: Math.max(0, storagePath - r.storageNode.p50) },
    { hop: "storage node HTTP server (+ Node client)", ms: Math.min(storagePath, nodeHttp) },
    { hop: "engine (raw LMDB get)", ms: Math.min(storagePath, r.engine.p50) },
  ];
}

/** wrangler dev's proxy (public port vs the edge's own workerd) and the Server-Timing split of HTTP. */
function proxyLines(r: PerQueryResult): string[] {
  const pub = r.paths.find((p) => p.path === "HTTP");
  const direct = r.paths.find((p) => p.path === "HTTP past wrangler's proxy");
  const out: string[] = [];
  if (pub !== undefined && direct !== undefined) {
    out.push(
      `wrangler dev's proxy (local development only): the HTTP point select p50 is ${fmtUs(pub.pointSelect.p50)} through it and ${fmtUs(direct.pointSelect.p50)} ` +
        `sent straight to the edge Worker's workerd (${(pub.pointSelect.p50 / direct.pointSelect.p50).toFixed(2)}×); GET / ${fmtUs(pub.edgeOnly?.p50 ?? NaN)} vs ${fmtUs(direct.edgeOnly?.p50 ?? NaN)}.`,
      "",
    );
  }
  const withTiming = r.paths.filter((p) => p.serverTiming !== undefined && Object.keys(p.serverTiming).length > 0);
  if (withTiming.length > 0) {
    const parts = [...new Set(withTiming.flatMap((p) => Object.keys(p.serverTiming!)))];
    out.push(
      "The HTTP point select's own account (Server-Timing, p50 of each part, ms; workerd's clock moves only at I/O): auth = route cache or router, " +
        "gateway = the edge's call into the tenant's gateway, of which quota = waiting for Request Units and exec = the session's work including storage.",
      "",
      `| path | ${parts.join(" | ")} |`,
      `|---|${parts.map(() => "---|").join("")}`,
      ...withTiming.map((p) => `| ${p.path} | ${parts.map((k) => (p.serverTiming![k] ?? NaN).toFixed(1)).join(" | ")} |`),
      "",
    );
  }
  return out;
}

export function perQueryReport(r: PerQueryResult): SectionReport {
  const cell = (s: LatencySummary) => `${fmtUs(s.p50)} / ${fmtUs(s.p99)}${s.errors > 0 ? ` (${s.errors} errors)` : ""}`;
  const md = [
    "## Per-query latency",
    "",
    `A point select by primary key on a ${ROWS}-row table, sequential requests of one client, over each path; ` +
      "`select 1` on the same path stops before storage, so the difference is the storage path. Beside them, the floor: the same " +
      "single-key read sent straight to the stack's storage node (Node HTTP client, keep-alive) and on raw LMDB in-process.",
    "",
    "| path | point select p50 / p99 | `select 1` p50 / p99 | empty query (tunnel) or GET / (HTTP) p50 / p99 | storage path (p50 difference) | KV requests per point select / per `select 1` |",
    "|---|---|---|---|---|---|",
    ...r.paths.map(
      (p) =>
        `| ${p.path} | ${cell(p.pointSelect)} | ${cell(p.select1)} | ${p.emptyQuery ? cell(p.emptyQuery) : p.edgeOnly ? cell(p.edgeOnly) : "–"} | ${fmtUs(Math.max(0, p.pointSelect.p50 - p.select1.p50))} | ${p.kvRequestsPerPointSelect.toFixed(2)} / ${p.kvRequestsPerSelect1.toFixed(2)} |`,
    ),
    `| floor: storage node direct (1-key read over HTTP) | ${cell(r.storageNode)} | | | | 1 |`,
    `| floor: raw LMDB get | ${cell(r.engine)} | | | | |`,
    ...(r.postgres !== undefined ? [`| PostgreSQL 15 (pg, loopback TCP) | ${cell(r.postgres.pointSelect)} | ${cell(r.postgres.select1)} | | | |`] : []),
    ...(r.postgres !== undefined
      ? ["", `Point select p50, Warren / PostgreSQL: ${r.paths.map((p) => `${p.path} ${(p.pointSelect.p50 / r.postgres!.pointSelect.p50).toFixed(1)}×`).join(", ")}.`]
      : []),
    "",
    "Split of the point select's p50 by hop (differences of the rows above):",
    "",
    "| hop | " + r.paths.map((p) => p.path).join(" | ") + " |",
    "|---|" + r.paths.map(() => "---|").join(""),
    ...(() => {
      const splits = r.paths.map((p) => hopSplit(r, p));
      const hops = [...new Set(splits.flatMap((s) => s.map((h) => h.hop)))];
      return hops.map((h) => `| ${h} | ${splits.map((s) => { const x = s.find((y) => y.hop === h); return x ? fmtUs(x.ms) : "–"; }).join(" | ")} |`);
    })(),
    "",
    ...proxyLines(r),
    "![point select p50 by hop](charts/per-query.svg)",
  ].join("\n");
  const splits = r.paths.map((p) => hopSplit(r, p));
  return {
    name: "per-query",
    markdown: md,
    charts: [
      {
        file: "per-query.svg",
        chart: {
          title: "Point select p50 by path, against the floor",
          unit: "ms",
          series: ["point select p50", "select 1 p50", "storage path p50"],
          groups: [
            ...r.paths.map((p, i) => ({ label: p.path, values: [p.pointSelect.p50, p.select1.p50, splits[i]!.slice(-3).reduce((a, h) => a + h.ms, 0)] })),
            { label: "storage node direct", values: [r.storageNode.p50, NaN, r.storageNode.p50] },
            { label: "raw LMDB get", values: [r.engine.p50, NaN, r.engine.p50] },
          ],
        },
      },
    ],
  };
}
