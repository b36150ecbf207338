// `node storage-node/replication/log-node.ts --id N --shard S --port P --data-dir D --directory EDGE_URL --peers id=url,…`
// (fleet secret from WARREN_FLEET_SECRET): one replica of a replicated log as a process, over
// HTTP, with its log and applied entries in LMDB. It is the replication layer on its own, run the
// way the storage node will run it (real processes, real fsync, the real FleetDirectory in
// workerd): the fleet tests kill, stop and cut these processes. Its state machine stores each
// committed payload under its sequence number (tag 0x22), atomically with the apply point.
//
//   POST /v1/replication   a replication message (wire.ts)                        → 204
//   POST /v1/propose       body = payload bytes → 200 {"seq"} once committed and acknowledged,
//                          421 {"error","outcomeUnknown","primary","epoch"} when not the leaseholder
//   GET  /v1/state         {"id","epoch","primary","replicas","leaseholder","committed","applied","lastSeq"}
//   GET  /v1/applied?from=N&limit=M   {"entries":[{"seq","payload"}]} (payload as UTF-8 text)
// Every route needs the system token (tenant 1, signed with the fleet secret).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { readU64, u64 } from "../node-keys.ts";
import { monotonicClock } from "./clock.ts";
import { HttpDirectory } from "./directory-client.ts";
import { EngineLog, LOG_META_APPLIED } from "./engine-log.ts";
import { replicationLimits } from "./limits.ts";
import { NotLeaseholder, Replica } from "./replica.ts";
import { json, readBody, requireSystemToken, systemTokenSource } from "./peer-http.ts";
import { decodeMessage, encodeMessage } from "./wire.ts";

const APPLIED_TAG = 0x22;
/** How often the replica's periodic work runs: a fifth of the heartbeat interval. */
const TICK_MS = 20;
/** A message to a peer that has not been delivered within this is given up (the protocol resends). */
const SEND_TIMEOUT_MS = 1_000;
/** Bodies are payloads of a test workload or replication messages: 4 MiB bounds both. */
const BODY_BYTES_MAX = 4 * 1024 * 1024;
const APPLIED_LIST_MAX = 10_000;

const { values } = parseArgs({
  options: {
    id: { type: "string" },
    shard: { type: "string" },
    port: { type: "string" },
    host: { type: "string" },
    "data-dir": { type: "string" },
    directory: { type: "string" },
    peers: { type: "string" },
  },
  strict: true,
});
const secret = process.env.WARREN_FLEET_SECRET ?? "";
if (!values.id || !values.shard || !values.port || !values["data-dir"] || !values.directory || secret.length < 16) {
  process.stderr.write("usage: log-node --id N --shard S --port P --data-dir D --directory EDGE_URL [--peers id=url,…] (WARREN_FLEET_SECRET set)\n");
  process.exit(2);
}
const id = values.id;
const shardId = Number(values.shard);
const peers = new Map<string, string>();
for (const item of (values.peers ?? "").split(",").filter(Boolean)) {
  const [peer, url] = item.split("=");
  if (!peer || !url) throw new Error(`bad --peers item ${item}`);
  peers.set(peer, url.replace(/\/+$/, ""));
}

const engine = new LmdbEngine({ path: values["data-dir"] });
const log = new EngineLog(engine);
const appliedRaw = engine.get(LOG_META_APPLIED);
const token = systemTokenSource(secret);

function appliedKey(seq: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = APPLIED_TAG;
  k.set(u64(BigInt(seq)), 1);
  return k;
}

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
      .catch(() => {}); // lost: the protocol sends again (heartbeats, acks)
  },
  apply: (entries) => {
    engine.writeSync((w) => {
      for (const e of entries) if (e.payload !== null) w.put(appliedKey(e.seq), e.payload);
      w.put(LOG_META_APPLIED, u64(BigInt(entries[entries.length - 1]!.seq)));
    });
  },
  onEvent: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
});
const ticker = setInterval(() => replica.tick(), TICK_MS);

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
  if (req.method === "POST" && url.pathname === "/v1/propose") {
    const body = await readBody(req, BODY_BYTES_MAX);
    try {
      const seq = await replica.propose(new Uint8Array(body));
      return json(res, 200, { seq });
    } catch (err) {
      if (!(err instanceof NotLeaseholder)) throw err;
      return json(res, 421, { error: err.message, outcomeUnknown: err.outcomeUnknown, primary: err.config?.primary ?? null, epoch: err.config?.epoch ?? null });
    }
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
    });
  }
  if (req.method === "GET" && url.pathname === "/v1/applied") {
    const from = Math.max(1, Number(url.searchParams.get("from") ?? "1") || 1);
    const limit = Math.min(APPLIED_LIST_MAX, Number(url.searchParams.get("limit") ?? String(APPLIED_LIST_MAX)) || APPLIED_LIST_MAX);
    const entries: Array<{ seq: number; payload: string }> = [];
    for (const { key, value } of engine.range({ low: appliedKey(from), high: new Uint8Array([APPLIED_TAG + 1]), limit })) {
      entries.push({ seq: Number(readU64(key, 1)), payload: Buffer.from(value).toString("utf8") });
    }
    return json(res, 200, { entries });
  }
  json(res, 404, { error: `no route ${req.method} ${url.pathname}` });
}

const server = createServer((req, res) => {
  route(req, res).catch((err: unknown) => {
    process.stderr.write(`log-node ${id}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    if (!res.headersSent) json(res, 500, { error: String(err) });
    else res.destroy();
  });
});
server.listen(Number(values.port), values.host ?? "127.0.0.1", () => {
  process.stdout.write(`log node ${id} listening on ${values.port}\n`);
});

for (const sig of ["SIGTERM", "SIGINT"] as const) {
  process.on(sig, () => {
    clearInterval(ticker);
    replica.stop();
    server.close();
    server.closeAllConnections();
    void engine.close().then(() => process.exit(0));
  });
}
