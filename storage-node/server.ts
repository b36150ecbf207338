// The storage node's HTTP surface (HTTP/1.1 keep-alive):
//   POST /v1/kv                 body = encoded KvRequest, response = encoded KvResponse (always),
//                               with the usage trailer when the request has `warren-kv-usage: 1`
//   GET  /healthz               200 "ok", no auth
//   GET  /metrics               Prometheus text (system token: per-tenant usage is not public)
//   GET  /v1/admin/stats        JSON per-tenant usage (system token); ?tenant=N for one tenant
//   POST /v1/admin/drop-tenant  {"tenantId": N} (system token)
//   POST /v1/admin/tenant-{fence,import,adopt,purge}  a tenant move's steps (moves/move-admin.ts)
//   GET  /v1/admin/span-versions?tenantId=N[&start=hex&end=hex]  versions stored in a span (system token)
//   GET  /v1/kv/stream          upgrade to a KV stream: pipelined KvRequests on one connection,
//                               token checked once (kv-stream.ts, common/kv-protocol/stream.ts)
// and startStorageNode(), which wires engine, writer thread, clock and service together.
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { encodeResponse, encodeUsageTrailer, KV_USAGE_HEADER, TENANT_SHARD_HEADER } from "../common/kv-protocol/codec.ts";
import type { KvError } from "../common/kv-protocol/messages.ts";
import { compareBytes } from "../common/bytes.ts";
import { assertTenantId, SYSTEM_TENANT_ID, tenantSpan } from "../common/tenant-prefix.ts";
import { LmdbEngine } from "./engine/lmdb-engine.ts";
import { HybridClock, makeTimestamp } from "./hlc.ts";
import { resolveLimits, type StorageLimits } from "./limits.ts";
import { ClearJobs } from "./clearing/clear-jobs.ts";
import { Metrics } from "./metrics.ts";
import { allWithTag, TENANT_COUNTERS_TAG, tenantOfNodeKey } from "./node-keys.ts";
import { emptyKvUsage } from "../common/request-units.ts";
import { HTTP_STATUS, KvService, outcomeBody } from "./service.ts";
import { KvStreams } from "./kv-stream.ts";
import { spanCensus } from "./span-census.ts";
import { WriterClient } from "./writer/writer-client.ts";
import { fenceTenantHere, MOVE_ADMIN_PATHS, moveAdmin } from "./moves/move-admin.ts";

export interface StorageNodeOptions {
  dataDir: string;
  port: number;
  host?: string;
  fleetSecret: string;
  /** Overrides of storage-node/limits.ts (GC window, RU rates, sizes...). */
  limits?: Partial<StorageLimits>;
  /** Benchmarks only: commits are not fsync'd. */
  unsafeNoSync?: boolean;
  /** Log one line per notable event (default: silent). */
  log?: (line: string) => void;
  /** A replicated node's channel to its replica (replication/replicated-node.ts); absent: one node, no replication. */
  replicationChannel?: string;
  /** A writer thread started ahead (WriterClient.standby): its code is loaded already. */
  standbyWriter?: import("node:worker_threads").Worker;
}

export interface StorageNode {
  url: string;
  port: number;
  close(): Promise<void>;
  /** A tenant move's fence, for the replicated node's one-round-trip fence and tail (moves/move-admin.ts). */
  fenceTenant(tenantId: number, toShard?: number): Promise<{ clockAtLeast: bigint } | { refused: string }>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > maxBytes) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let total = 0;
    req.on("data", (c: Buffer) => {
      total += c.length;
      if (total > maxBytes) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
      resolve(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
    });
    req.on("error", reject);
  });
}

function sendKv(res: ServerResponse, status: number, body: Uint8Array, trailer: Uint8Array | null = null, movedToShard?: number): void {
  res.writeHead(status, {
    "content-type": "application/x-warren-kv",
    "content-length": body.byteLength + (trailer?.byteLength ?? 0),
    ...(movedToShard === undefined ? {} : { [TENANT_SHARD_HEADER]: String(movedToShard) }),
  });
  if (trailer === null) {
    res.end(body);
    return;
  }
  // Two chunks, one writev: the response body (often a large scan page) is not copied to append 40 bytes.
  res.cork();
  res.write(body);
  res.end(trailer);
}

function sendKvError(res: ServerResponse, error: KvError): void {
  sendKv(res, HTTP_STATUS[error.code], encodeResponse({ type: "error", error }));
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function jsonError(res: ServerResponse, e: KvError): void {
  sendJson(res, HTTP_STATUS[e.code], { error: { code: e.code, message: e.message } });
}

export async function startStorageNode(opts: StorageNodeOptions): Promise<StorageNode> {
  if (!opts.fleetSecret || opts.fleetSecret.length < 16) {
    throw new Error("storage node needs a fleet secret of at least 16 characters (WARREN_FLEET_SECRET)");
  }
  const limits = resolveLimits(opts.limits);
  const log = opts.log ?? (() => {});
  mkdirSync(opts.dataDir, { recursive: true });
  const engine = new LmdbEngine({ path: opts.dataDir, noSync: opts.unsafeNoSync ?? false });
  const clock = new HybridClock();
  let writer: WriterClient;
  let ready;
  try {
    ({ client: writer, ready } = await WriterClient.start(
      { dataDir: opts.dataDir, limits, noSync: opts.unsafeNoSync ?? false, replicationChannel: opts.replicationChannel },
      clock,
      engine,
      opts.standbyWriter,
    ));
  } catch (err) {
    await engine.close();
    throw err;
  }
  // Never hand out a timestamp at or below anything already committed (or collected).
  clock.observe(ready.maxCommitTs);
  clock.observe(ready.gcThresholdTs);
  // A new leaseholder of a replicated shard: read timestamps its predecessor handed out (up to the
  // moment it died, before this start) are valid here, so the clock starts at now, not at the
  // highest commit (with nodes on several machines this needs the clocks' maximum offset too).
  if (opts.replicationChannel) clock.next();
  const metrics = new Metrics();
  const counterKeys = allWithTag(TENANT_COUNTERS_TAG);
  metrics.load([...engine.range({ low: counterKeys.low, high: counterKeys.high })].map((e) => [tenantOfNodeKey(e.key), e.value]));
  metrics.setBytes(ready.bytes);
  writer.onBytes = (u) => metrics.setBytes(u);
  writer.onFatal = (err) => log(`storage node writer failed: ${err.message}`);
  const service = new KvService({
    engine,
    writer,
    clock,
    limits,
    metrics,
    fleetSecret: opts.fleetSecret,
    gcThresholdTs: ready.gcThresholdTs,
    droppedTenants: ready.droppedTenants,
    movedTenants: ready.movedTenants,
  });
  // Cleared spans (DROP TABLE / TRUNCATE / DROP INDEX): this thread's index and the deletion jobs.
  const clears = new ClearJobs(service.cleared, (key) => writer.submit({ kind: "clear", key }), log);
  writer.onClears = (news) => clears.apply(news);
  clears.load(ready.clears);

  let requestsActive = 0;
  let draining = false;

  async function adminStats(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const err = await service.authenticateSystem(req.headers.authorization);
    if (err) return jsonError(res, err);
    const body = metrics.json();
    // ?tenant=N: that tenant only (the control plane's per-tenant usage reads).
    const only = new URL(req.url ?? "/", "http://node").searchParams.get("tenant");
    const tenants = only === null ? body.tenants : body.tenants.filter((t) => String(t.tenantId) === only);
    sendJson(res, 200, {
      ...body,
      tenants: tenants.map((t) => ({ ...t, openTransactions: service.openTransactions(t.tenantId), dropped: service.dropped.has(t.tenantId) })),
      node: {
        ...body.node,
        executing: service.executing,
        writerInFlight: writer.inFlight,
        gcThresholdTs: service.gcThresholdTs.toString(),
        clearsPending: clears.pending(),
        clearRecords: service.cleared.size,
        clearRemovedVersions: clears.removedVersions,
      },
    });
  }

  async function adminDrop(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const err = await service.authenticateSystem(req.headers.authorization);
    if (err) return jsonError(res, err);
    let tenantId: number;
    try {
      const text = new TextDecoder().decode(await readBody(req, limits.adminBodyBytesMax));
      const parsed = JSON.parse(text) as { tenantId?: unknown };
      tenantId = parsed.tenantId as number;
      assertTenantId(tenantId);
    } catch (e) {
      return jsonError(res, { code: "malformed_request", message: `body must be {"tenantId": <positive integer>}: ${e instanceof Error ? e.message : String(e)}` });
    }
    if (tenantId === SYSTEM_TENANT_ID) {
      return jsonError(res, { code: "malformed_request", message: "the system tenant (1) cannot be dropped" });
    }
    // Refuse the tenant's requests from now on, then remove its span on the writer thread.
    service.dropped.add(tenantId);
    const reply = await writer.submit({ kind: "drop", tenantId });
    log(`dropped tenant ${tenantId}: ${reply.removed ?? 0} versions removed`);
    sendJson(res, 200, { tenantId, dropped: true, removedVersions: reply.removed ?? 0 });
  }

  async function adminSpanVersions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const err = await service.authenticateSystem(req.headers.authorization);
    if (err) return jsonError(res, err);
    const q = new URL(req.url ?? "/", "http://node").searchParams;
    const hex = (name: string, fallback: Uint8Array): Uint8Array => {
      const v = q.get(name);
      if (v === null) return fallback;
      if (!/^(?:[0-9a-f]{2})*$/i.test(v) || v.length / 2 > limits.keyBytesMax) throw new RangeError(`${name} must be hex of at most ${limits.keyBytesMax} bytes`);
      return new Uint8Array(Buffer.from(v, "hex"));
    };
    let tenantId: number;
    let start: Uint8Array;
    let end: Uint8Array;
    try {
      tenantId = Number(q.get("tenantId"));
      assertTenantId(tenantId);
      const t = tenantSpan(tenantId);
      start = hex("start", t.start);
      end = hex("end", t.end);
      if (compareBytes(start, t.start) < 0 || compareBytes(end, t.end) > 0 || compareBytes(start, end) > 0) {
        throw new RangeError(`the span must lie inside tenant ${tenantId}'s keyspace, start <= end`);
      }
    } catch (e) {
      return jsonError(res, { code: "malformed_request", message: `span-versions needs ?tenantId=N[&start=hex&end=hex]: ${e instanceof Error ? e.message : String(e)}` });
    }
    engine.refresh();
    sendJson(res, 200, { tenantId, ...spanCensus(engine, start, end, limits.adminCensusVersionsMax) });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? "/").split("?")[0];
    if (path === "/v1/kv") {
      if (req.method !== "POST") return sendKvError(res, { code: "malformed_request", message: "use POST /v1/kv" });
      if (draining) return sendKvError(res, { code: "overloaded", message: "storage node is shutting down; retry on another node", retryAfterMs: 1000 });
      let body: Uint8Array;
      try {
        body = await readBody(req, limits.requestBytesMax);
      } catch (e) {
        if (e instanceof BodyTooLarge) {
          res.setHeader("connection", "close");
          return sendKvError(res, {
            code: "limit_exceeded",
            message: `request body exceeds ${limits.requestBytesMax} bytes (requestBytesMax): split the batch`,
          });
        }
        throw e;
      }
      const out = await service.handle(req.headers.authorization, body);
      const trailer = req.headers[KV_USAGE_HEADER] === "1" ? encodeUsageTrailer(out.usage ?? emptyKvUsage()) : null;
      return sendKv(res, out.status, outcomeBody(out), trailer, out.movedToShard);
    }
    if (path === "/healthz" && req.method === "GET") {
      res.writeHead(draining ? 503 : 200, { "content-type": "text/plain" });
      res.end(draining ? "draining" : "ok");
      return;
    }
    if (path === "/metrics" && req.method === "GET") {
      // Per-tenant request and byte counts tell who uses the fleet and how much: system credential only
      // (a Prometheus scrape job sends it as a bearer token).
      const err = await service.authenticateSystem(req.headers.authorization);
      if (err) return jsonError(res, err);
      const text = metrics.prometheus({
        warren_storage_executing_requests: service.executing,
        warren_storage_writer_in_flight: writer.inFlight,
        warren_storage_clears_pending: clears.pending(),
        warren_storage_clear_records: service.cleared.size,
        warren_storage_clear_removed_versions: clears.removedVersions,
        warren_storage_kv_streams_open: streams.connections,
        warren_storage_kv_streams_opened_total: streams.opened,
        warren_storage_kv_stream_requests_total: streams.requestsTotal,
      });
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      res.end(text);
      return;
    }
    if (path === "/v1/admin/stats" && req.method === "GET") return adminStats(req, res);
    if (path === "/v1/admin/drop-tenant" && req.method === "POST") return adminDrop(req, res);
    if (path === "/v1/admin/span-versions" && req.method === "GET") return adminSpanVersions(req, res);
    if ((MOVE_ADMIN_PATHS as readonly string[]).includes(path ?? "")) return moveAdmin({ service, writer, clock, limits, log, readBody, sendJson, jsonError }, path!, req, res);
    sendJson(res, 404, { error: { code: "not_found", message: `no route ${req.method} ${path}` } });
  }

  const server = createServer({ keepAliveTimeout: 60_000, requestTimeout: 60_000 }, (req, res) => {
    requestsActive++;
    res.on("close", () => requestsActive--);
    route(req, res).catch((err: unknown) => {
      log(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) {
        sendKvError(res, { code: "internal", message: `internal storage error: ${err instanceof Error ? err.message : String(err)}` });
      } else {
        res.destroy();
      }
    });
  });
  server.headersTimeout = 30_000;
  const streams = new KvStreams({ service, limits, draining: () => draining, log });
  server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
    streams.upgrade(req, socket, head).catch((err: unknown) => {
      log(`internal error opening a KV stream: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      socket.destroy();
    });
  });

  // Garbage collection: every interval, move the threshold to now - window and collect below it.
  let gcRunning = false;
  const gcTimer = setInterval(() => {
    // A clear job that failed (an I/O error) is started again here.
    clears.resume();
    if (gcRunning) return;
    const threshold = makeTimestamp(Date.now() - limits.gcWindowMs);
    if (threshold <= service.gcThresholdTs) return;
    // Raise the read-side threshold first, so no read starts below what the writer is removing.
    service.gcThresholdTs = threshold;
    gcRunning = true;
    writer
      .submit({ kind: "gc", thresholdTs: threshold })
      .then((r) => {
        metrics.gcRemoved += r.removed ?? 0;
      })
      .catch((e: unknown) => log(`gc failed: ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        gcRunning = false;
      });
  }, limits.gcIntervalMs);
  gcTimer.unref();

  // Usage counters to LMDB: every interval, and once more on close (see metrics.ts).
  async function persistCounters(): Promise<void> {
    const entries = metrics.takeDirty();
    if (entries.length === 0) return;
    try {
      await writer.submit({ kind: "counters", entries });
    } catch (e) {
      metrics.markDirty(entries.map(([id]) => id));
      log(`persisting usage counters failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const countersTimer = setInterval(() => void persistCounters(), limits.countersPersistIntervalMs);
  countersTimer.unref();

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = opts.host ?? "127.0.0.1";
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  async function close(): Promise<void> {
    if (closing) return closing;
    closing = (async () => {
      draining = true;
      clearInterval(gcTimer);
      clearInterval(countersTimer);
      service.stop();
      server.close();
      // Drain: let requests already running finish (bounded), then stop the writer and engine.
      const deadline = Date.now() + limits.drainMsMax;
      while ((requestsActive > 0 || streams.requestsActive > 0 || writer.inFlight > 0) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      server.closeAllConnections();
      streams.closeAll();
      await persistCounters();
      await writer.close();
      await engine.close();
    })();
    return closing;
  }

  return { url: `http://${urlHost}:${addr.port}`, port: addr.port, close, fenceTenant: (tenantId, toShard) => fenceTenantHere({ service, writer, clock, log }, tenantId, toShard) };
}
