// `node storage-node/replication/replicated-node.ts --id N --shard S --port KV_PORT --repl-port P
//    --data-dir D --directory EDGE_URL --peers id=url,…` (fleet secret from WARREN_FLEET_SECRET;
// limit overrides from WARREN_STORAGE_LIMITS as in main.ts): one replica of a shard of storage
// nodes. Its LMDB holds the replication log (replica.ts, engine-log.ts) and the tenant data that
// committed entries carry (group-entry.ts).
//
// Roles, crash-only:
//   * every replica runs the protocol on --repl-port (POST /v1/replication, GET /v1/state,
//     GET /v1/digest: a hash of its state at its apply point, digest.ts; GET /v1/snapshot: its
//     state as a snapshot stream for a replica to rebuild from, snapshot-serve.ts) and
//     applies committed entries to its LMDB, atomically with its apply point;
//   * a replica whose next entries the primary's log no longer holds (it was away too long, or its
//     disk was lost after the log was truncated) pulls a snapshot from the primary and installs it
//     (snapshot-install.ts); an install cut short makes the process exit (code 75) and the next
//     start wipes what it had installed, so it starts over;
//   * the leaseholder, once it has applied the no-op that opened its tenure (everything
//     committed before is applied), starts the storage node's KV service on --port
//     (server.ts, unchanged) with its writer thread replicating each write transaction
//     (replicated-engine.ts). Its caches (clock above every commit, cleared spans, dropped tenants,
//     byte counters) are loaded from LMDB then, so they reflect every committed entry;
//   * the moment it is not the leaseholder any more (lease lapsed on its own clock, a newer epoch,
//     a proposal refused) the process exits (code 75) rather than keep caches that may be ahead of
//     or behind the log: its supervisor starts it again as a backup, which catches up from the log.
//     Followers do not listen on --port at all: a client finds the leaseholder through the
//     directory (GET /v1/state names the primary; the edge's placement cache does this).
// The lease ends on the node's own clock before it ends on the directory's (replica.ts), and the
// watchdog below checks it every TICK_MS, so a cut-off leaseholder stops serving reads and writes
// before another node can be named primary (as long as its event loop is not stalled for longer
// than leaseSafetyMarginMs: the margin is the bound).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import type { Worker } from "node:worker_threads";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { WriterClient } from "../writer/writer-client.ts";
import { resolveLimits, type StorageLimits } from "../limits.ts";
import { readU64, tenantMovedKey, u64 } from "../node-keys.ts";
import { startStorageNode, type StorageNode } from "../server.ts";
import { monotonicClock } from "./clock.ts";
import { HttpDirectory } from "./directory-client.ts";
import { EngineLog, LOG_META_APPLIED } from "./engine-log.ts";
import { digestOf, type DigestScope } from "./digest.ts";
import { applyGroupEntry } from "./group-entry.ts";
import { replicationLimits, resolveReplicationLimits } from "./limits.ts";
import { FLAG_COMMITTED, FLAG_REFUSED, replicationChannelName, type ProposeRequest } from "./replicated-engine.ts";
import { Replica } from "./replica.ts";
import { json, readBody, requireSystemToken, systemTokenSource } from "./peer-http.ts";
import { decodeMessage, encodeMessage } from "./wire.ts";
import { openSnapshot } from "./snapshot-client.ts";
import { clearInterruptedInstall, installSnapshot, type InstallProgress } from "./snapshot-install.ts";
import { SnapshotSender } from "./snapshot-serve.ts";
import { exportTenant, MoveTooLarge, TailGone, tenantStateDigest, tenantTail } from "../moves/move-source.ts";

/** How often the replica's periodic work and the leaseholder watchdog run: a fifth of the heartbeat interval. */
const TICK_MS = 20;
/** A message to a peer not delivered within this is given up (the protocol sends again). */
const SEND_TIMEOUT_MS = 1_000;
/** Replication messages carry group entries: a group is bounded by the writer (512 jobs of at most a KV body each). */
const BODY_BYTES_MAX = 64 * 1024 * 1024;
/** Exit code of a node that stopped being the leaseholder: its supervisor starts it again. */
export const EXIT_DEPOSED = 75;

const { values } = parseArgs({
  options: {
    id: { type: "string" },
    shard: { type: "string" },
    port: { type: "string" },
    "repl-port": { type: "string" },
    host: { type: "string" },
    "data-dir": { type: "string" },
    directory: { type: "string" },
    peers: { type: "string" },
  },
  strict: true,
});
const secret = process.env.WARREN_FLEET_SECRET ?? "";
if (!values.id || !values.shard || !values.port || !values["repl-port"] || !values["data-dir"] || !values.directory || secret.length < 16) {
  process.stderr.write("usage: replicated-node --id N --shard S --port KV --repl-port P --data-dir D --directory EDGE_URL [--peers id=url,…] (WARREN_FLEET_SECRET set)\n");
  process.exit(2);
}
let limits: Partial<StorageLimits> = {};
if (process.env.WARREN_STORAGE_LIMITS) {
  limits = JSON.parse(process.env.WARREN_STORAGE_LIMITS) as Partial<StorageLimits>;
  resolveLimits(limits);
}
const replLimits = resolveReplicationLimits(process.env.WARREN_REPLICATION_LIMITS ? (JSON.parse(process.env.WARREN_REPLICATION_LIMITS) as Record<string, unknown>) : {});
const id = values.id;
const shardId = Number(values.shard);
const dataDir = values["data-dir"];
const host = values.host ?? "127.0.0.1";
const kvPort = Number(values.port);
const peers = new Map<string, string>();
for (const item of (values.peers ?? "").split(",").filter(Boolean)) {
  const [peer, url] = item.split("=");
  if (!peer || !url) throw new Error(`bad --peers item ${item}`);
  peers.set(peer, url.replace(/\/+$/, ""));
}
const note = (line: string) => process.stderr.write(`${new Date().toISOString()} ${id}: ${line}\n`);

const engine = new LmdbEngine({ path: dataDir });
const wipedInterruptedInstall = clearInterruptedInstall(engine);
if (wipedInterruptedInstall) note("a snapshot install was cut short: its partial state is wiped; starting with an empty store");
const log = new EngineLog(engine);
const appliedRaw = engine.get(LOG_META_APPLIED);
const token = systemTokenSource(secret);
const sender = new SnapshotSender(engine, replLimits.snapshotChunkBytesMax, replLimits.snapshotSendsMax, replLimits.snapshotIdleTimeoutMs);
const installing: InstallProgress & { from: string | null; installed: number } = { from: null, chunks: 0, keys: 0, bytes: 0, installed: 0 };

const replica = new Replica({
  id,
  shardId,
  clock: monotonicClock,
  log,
  appliedSeq: appliedRaw === undefined ? 0 : Number(readU64(appliedRaw)),
  directory: new HttpDirectory(values.directory, secret, replicationLimits.leaseMs),
  send: (to, message) => {
    const url = peers.get(to);
    if (!url) return;
    void token()
      .then((t) =>
        fetch(`${url}/v1/replication`, {
          method: "POST",
          headers: { authorization: `Bearer ${t}`, "content-type": "application/json" },
          body: encodeMessage(message),
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        }),
      )
      .then((res) => res.body?.cancel())
      .catch(() => {}); // lost: the protocol sends again
  },
  // Committed entries, in order, on every replica: their writes and the apply point in one transaction.
  apply: (entries) => {
    engine.writeSync((w) => {
      for (const e of entries) if (e.payload !== null) applyGroupEntry(w, e.payload);
      w.put(LOG_META_APPLIED, u64(BigInt(entries[entries.length - 1]!.seq)));
    });
  },
  limits: replLimits,
  snapshots: {
    sendingAt: () => sender.sendingAt(),
    install: async (from) => {
      // A node still running the KV service (it just learned of a newer epoch; the ticker would
      // stop it within TICK_MS) must not clear the store under it: it restarts as a backup first.
      if (kv !== undefined || kvStarting) deposed("a snapshot is needed");
      const url = peers.get(from);
      if (!url) throw new Error(`no address for ${from}`);
      // Opening may fail (503: the sender is busy) before anything here changed: the replica asks again.
      const body = await openSnapshot(`${url}/v1/snapshot`, await token(), replLimits.snapshotIdleTimeoutMs);
      Object.assign(installing, { from, chunks: 0, keys: 0, bytes: 0 });
      try {
        const end = await installSnapshot(engine, body, replLimits.snapshotChunkBytesMax, () => log.epoch(), installing);
        log.reload();
        installing.from = null;
        installing.installed++;
        note(`snapshot from ${from} at entry ${end.seq} (epoch ${end.epoch}) installed: ${end.keys} keys, ${installing.chunks} chunks, ${end.bytes} bytes`);
        return { seq: end.seq };
      } catch (err) {
        // Crash-only: the store holds part of a snapshot; the next start wipes it (snapshot-install.ts).
        note(`snapshot install from ${from} failed after ${installing.chunks} chunks: ${err instanceof Error ? err.message : String(err)}; exiting to start over`);
        process.exit(EXIT_DEPOSED);
      }
    },
  },
  onEvent: note,
});

let kv: StorageNode | undefined;
let kvStarting = false;
// The KV service's writer thread, started now with its code loaded and no store opened, so a
// promotion does not wait for a thread and its modules (1–4 s measured on the loaded 2-core machine:
// most of a new leaseholder's KV service start). One that dies is simply not used.
let standbyWriter: Worker | undefined = WriterClient.standby();
standbyWriter.once("exit", () => (standbyWriter = undefined));
standbyWriter.once("error", (err) => note(`standby writer thread failed: ${err.message}`));
function deposed(why: string): never {
  note(`leaves the leaseholder role (${why}); exiting to restart as a backup`);
  process.exit(EXIT_DEPOSED);
}

/** The leaseholder has applied the no-op of its tenure: every entry committed before is applied. */
function caughtUp(): boolean {
  return replica.tenureApplied;
}

const ticker = setInterval(() => {
  replica.tick();
  const leaseholder = replica.isLeaseholder();
  if ((kv !== undefined || kvStarting) && !leaseholder) deposed("lease lapsed or a newer epoch");
  if (kv === undefined && !kvStarting && leaseholder && caughtUp()) {
    kvStarting = true;
    note(`leaseholder of epoch ${replica.epoch} at applied ${replica.applied}: starting the KV service on ${kvPort}`);
    const startedMs = performance.now();
    const standby = standbyWriter;
    standbyWriter = undefined;
    startStorageNode({ dataDir, port: kvPort, host, fleetSecret: secret, limits, log: note, replicationChannel: replicationChannelName(dataDir), standbyWriter: standby }).then(
      (node) => {
        kv = node;
        kvStarting = false;
        note(`KV service listening on ${node.url} after ${(performance.now() - startedMs).toFixed(0)} ms (writer thread ${standby ? "on standby" : "started cold"})`);
      },
      (err: unknown) => {
        note(`KV service failed to start: ${err instanceof Error ? err.message : String(err)}`);
        process.exit(1);
      },
    );
  }
}, TICK_MS);

// The writer thread's write transactions, one at a time (replicated-engine.ts).
const channel = new BroadcastChannel(replicationChannelName(dataDir));
channel.onmessage = (ev: MessageEvent) => {
  const { entry, flag } = ev.data as ProposeRequest;
  const cell = new Int32Array(flag);
  replica.propose(entry).then(
    () => {
      Atomics.store(cell, 0, FLAG_COMMITTED);
      Atomics.notify(cell, 0);
    },
    (err: unknown) => {
      Atomics.store(cell, 0, FLAG_REFUSED);
      Atomics.notify(cell, 0);
      deposed(`a write was refused: ${err instanceof Error ? err.message : String(err)}`);
    },
  );
};

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!(await requireSystemToken(req, res, secret))) return;
  const url = new URL(req.url ?? "/", "http://node");
  if (req.method === "POST" && url.pathname === "/v1/replication") {
    let message;
    try {
      message = decodeMessage((await readBody(req, BODY_BYTES_MAX)).toString("utf8"));
    } catch (err) {
      return json(res, 400, { error: err instanceof Error ? err.message : String(err) });
    }
    replica.onMessage(message);
    res.writeHead(204).end();
    return;
  }
  if (req.method === "GET" && url.pathname === "/v1/state") {
    const c = replica.currentConfig;
    return json(res, 200, {
      id,
      epoch: replica.epoch,
      primary: c?.primary ?? null,
      replicas: c?.replicas ?? [],
      learners: c?.learners ?? [],
      leaseholder: replica.isLeaseholder(),
      committed: replica.committed,
      applied: replica.applied,
      lastSeq: log.lastSeq(),
      firstSeq: log.firstSeq(),
      snapshot: { installingFrom: installing.from, chunks: installing.chunks, keys: installing.keys, installed: installing.installed, wipedAtStart: wipedInterruptedInstall, ...sender.state },
      kvUrl: kv?.url ?? null,
      pid: process.pid,
    });
  }
  if (req.method === "GET" && url.pathname === "/v1/digest") {
    // ?scope=store|versions (default)|tenant&tenant=N: digest.ts. One synchronous pass: the state at `applied`.
    const scopeName = url.searchParams.get("scope") ?? "versions";
    let scope: DigestScope;
    if (scopeName === "tenant") {
      const tenantId = Number(url.searchParams.get("tenant"));
      if (!Number.isSafeInteger(tenantId) || tenantId < 1) return json(res, 400, { error: "scope=tenant needs tenant=N (a positive integer)" });
      scope = { kind: "tenant", tenantId };
    } else if (scopeName === "store" || scopeName === "versions") scope = { kind: scopeName };
    else return json(res, 400, { error: `unknown digest scope ${scopeName}` });
    engine.refresh();
    const d = digestOf(engine, scope);
    return json(res, 200, { applied: replica.applied, scope: scopeName, keys: d.keys, versions: d.keys, digest: d.sha256 });
  }
  if (req.method === "GET" && url.pathname === "/v1/snapshot") return sender.serve(res);
  const fence = req.method === "POST" && url.pathname === "/v1/tenant-fence";
  if (fence || (req.method === "GET" && (url.pathname === "/v1/tenant-export" || url.pathname === "/v1/tenant-tail" || url.pathname === "/v1/tenant-digest"))) {
    // A tenant move's reads (moves/move-source.ts): each one synchronous pass at the apply point.
    const tenantId = Number(url.searchParams.get("tenant"));
    if (!Number.isSafeInteger(tenantId) || tenantId < 2) return json(res, 400, { error: "tenant=N (an integer ≥ 2) is required" });
    const resolved = resolveLimits(limits);
    try {
      let body: Uint8Array;
      if (url.pathname === "/v1/tenant-digest") {
        engine.refresh();
        const d = tenantStateDigest(engine, tenantId);
        // served: this node holds the tenant and no moved marker says it does not serve it.
        return json(res, 200, { applied: replica.applied, ...d, served: d.keys > 0 && engine.get(tenantMovedKey(tenantId)) === undefined });
      }
      if (url.pathname === "/v1/tenant-export") body = exportTenant(engine, tenantId, resolved.moveChunkBytesMax, resolved.moveExportBytesMax);
      else {
        const after = Number(url.searchParams.get("after"));
        if (!Number.isSafeInteger(after) || after < 0) return json(res, 400, { error: "after=S (a log position) is required" });
        let extra = {};
        if (fence) {
          if (kv === undefined) return json(res, 409, { error: `${id} does not serve KV (not the leaseholder); fence at the leaseholder` });
          const toShard = Number(url.searchParams.get("toShard") ?? NaN);
          const fenceStartedMs = performance.now();
          const fenced = await kv.fenceTenant(tenantId, Number.isSafeInteger(toShard) && toShard >= 1 ? toShard : undefined);
          if ("refused" in fenced) return json(res, 409, { error: fenced.refused });
          // fenceMs: the fence's writer job (queued behind the commits posted before it) made durable on the shard.
          extra = { clockAtLeast: fenced.clockAtLeast.toString(), fenceMs: Math.round(performance.now() - fenceStartedMs) };
        }
        body = tenantTail(engine, log, tenantId, after, resolved.moveChunkBytesMax, resolved.moveExportBytesMax, extra, url.searchParams.get("digestOf") === "touched");
      }
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(body.length) });
      res.end(body);
      return;
    } catch (err) {
      if (err instanceof TailGone) return json(res, 410, { error: err.message });
      if (err instanceof MoveTooLarge) return json(res, 413, { error: err.message });
      throw err;
    }
  }
  json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
}

const server = createServer((req, res) => {
  route(req, res).catch((err: unknown) => {
    note(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (!res.headersSent) json(res, 500, { error: String(err) });
    else res.destroy();
  });
});
server.listen(Number(values["repl-port"]), host, () => {
  process.stdout.write(`replicated node ${id} listening on ${values["repl-port"]}\n`);
});

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    clearInterval(ticker);
    replica.stop();
    channel.close();
    server.close();
    server.closeAllConnections();
    void (kv?.close() ?? Promise.resolve()).then(() => engine.close()).then(() => process.exit(0));
  });
}
