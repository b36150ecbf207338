// A 3-replica shard of log nodes (storage-node/replication/log-node.ts) as real processes, each
// link between two nodes and each node's way to the FleetDirectory through its own fault proxy, so
// a test can cut one node off from everyone while its clients still reach it. The FleetDirectory is
// the real Durable Object in the stack's workerd (`warren dev`, test/harness/stack.ts).
//
//   node i ──proxy[i→j]──▶ node j        node i ──dirProxy[i]──▶ edge /fleet/v1/op
//   test clients ──────────▶ node i (directly)
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { freePort } from "../../cli/ports.ts";
import { HttpDirectory } from "../../storage-node/replication/directory-client.ts";
import { replicationLimits } from "../../storage-node/replication/limits.ts";
import { startFaultProxy, type CutMode, type FaultProxy } from "../harness/fault-proxy.ts";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const logNodeMain = path.join(repoRoot, "storage-node", "replication", "log-node.ts");

export interface NodeState {
  id: string;
  epoch: number;
  primary: string | null;
  replicas: string[];
  learners: string[];
  leaseholder: boolean;
  committed: number;
  applied: number;
  lastSeq: number;
}

export interface LogShard {
  readonly ids: string[];
  readonly shardId: number;
  /** Proposes at node `id`: {seq} once acknowledged, or the refusal. */
  propose(id: string, payload: string): Promise<{ ok: true; seq: number } | { ok: false; status: number; outcomeUnknown: boolean }>;
  state(id: string): Promise<NodeState | undefined>;
  /** Node `id`'s replication port's base URL (directly, not through a proxy). */
  replUrl(id: string): string;
  /** GET `p` on node `id` with the system token: the JSON answer, or undefined if it does not answer 200. */
  get(id: string, p: string): Promise<unknown>;
  applied(id: string): Promise<Array<{ seq: number; payload: string }>>;
  /** The node that says it holds the lease (undefined: none answers so). */
  leaseholder(): Promise<string | undefined>;
  kill(id: string): void;
  restart(id: string): Promise<void>;
  stopProcess(id: string, stopped: boolean): void;
  /** Waits for the node's process to be gone (after kill), then deletes its data dir (its disk is lost). */
  wipe(id: string): Promise<void>;
  /** Cuts node `id` off from the other nodes and the directory (its clients still reach it). */
  cut(id: string, mode: CutMode): void;
  heal(id: string): void;
  alive(id: string): boolean;
  close(): Promise<void>;
}

export interface LogShardOptions {
  edgeUrl: string;
  fleetSecret: string;
  shardId: number;
  ids?: string[];
  /** The node program (default log-node.ts; the replicated storage node is replication/replicated-node.ts). */
  main?: string;
  /** Extra arguments per node; `--port` is the replication port either way. */
  args?: (id: string) => string[];
  /** A node that exits with this code is started again at once (a deposed leaseholder: replicated-node.ts). */
  restartOnExitCode?: number;
  /** Extra environment for every node (e.g. WARREN_REPLICATION_LIMITS). */
  env?: Record<string, string>;
}

export async function startLogShard(opts: LogShardOptions): Promise<LogShard> {
  const ids = opts.ids ?? ["n1", "n2", "n3"];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "warren-log-shard-"));
  const ports = new Map<string, number>();
  for (const id of ids) ports.set(id, await freePort());
  const links = new Map<string, FaultProxy>(); // "from>to"
  const dirProxies = new Map<string, FaultProxy>();
  const edgePort = Number(new URL(opts.edgeUrl).port);
  for (const from of ids) {
    dirProxies.set(from, await startFaultProxy({ port: edgePort }));
    for (const to of ids) if (from !== to) links.set(`${from}>${to}`, await startFaultProxy({ port: ports.get(to)! }));
  }
  const directory = new HttpDirectory(opts.edgeUrl, opts.fleetSecret, replicationLimits.leaseMs);
  const created = await directory.call({ op: "createShard", shardId: opts.shardId, replicas: ids });
  if (!created.ok) throw new Error(`createShard: ${created.reason}`);

  const procs = new Map<string, ChildProcess>();
  let closing = false;
  const spawnNode = (id: string): ChildProcess => {
    const peers = ids.filter((p) => p !== id).map((p) => `${p}=http://127.0.0.1:${links.get(`${id}>${p}`)!.port}`);
    const logFile = fs.createWriteStream(path.join(root, `${id}.log`), { flags: "a" });
    const child = spawn(
      process.execPath,
      [opts.main ?? logNodeMain, "--id", id, "--shard", String(opts.shardId), ...(opts.main ? ["--repl-port"] : ["--port"]), String(ports.get(id)),
        "--data-dir", path.join(root, id), "--directory", `http://127.0.0.1:${dirProxies.get(id)!.port}`, "--peers", peers.join(","),
        ...(opts.args?.(id) ?? [])],
      { cwd: repoRoot, env: { ...process.env, ...opts.env, WARREN_FLEET_SECRET: opts.fleetSecret }, stdio: ["ignore", "pipe", "pipe"] },
    );
    child.stdout!.pipe(logFile);
    child.stderr!.pipe(logFile);
    procs.set(id, child);
    if (opts.restartOnExitCode !== undefined) {
      child.once("exit", (code) => {
        if (code === opts.restartOnExitCode && !closing && procs.get(id) === child) spawnNode(id);
      });
    }
    return child;
  };
  const exited = (c: ChildProcess) => c.exitCode !== null || c.signalCode !== null;
  const waitListening = async (id: string) => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if ((await state(id)) !== undefined) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`log node ${id} did not start; see ${root}/${id}.log`);
  };

  let tokenValue: { v: string; exp: number } | undefined;
  const token = async () => {
    if (!tokenValue || tokenValue.exp - 60_000 < Date.now()) {
      const exp = Date.now() + 10 * 60_000;
      tokenValue = { v: await mintTenantToken(opts.fleetSecret, { tenantId: SYSTEM_TENANT_ID, expiresAtMs: exp }), exp };
    }
    return tokenValue.v;
  };
  const call = async (id: string, method: string, p: string, body?: string, timeoutMs = 5_000) =>
    fetch(`http://127.0.0.1:${ports.get(id)}${p}`, { method, body, headers: { authorization: `Bearer ${await token()}` }, signal: AbortSignal.timeout(timeoutMs) });
  const state = async (id: string): Promise<NodeState | undefined> => {
    try {
      // 5 s, not 1: under CPU load every message of the shard also goes through this process's
      // fault proxies, and a 1 s probe read a node holding the lease as "no leaseholder" for a
      // whole minute (node logs: the lease held, the test timed out waiting for one).
      const res = await call(id, "GET", "/v1/state", undefined, 5_000);
      return res.ok ? ((await res.json()) as NodeState) : undefined;
    } catch {
      return undefined;
    }
  };

  const alive = (id: string): boolean => {
    const c = procs.get(id);
    return c !== undefined && !exited(c);
  };
  for (const id of ids) spawnNode(id);
  for (const id of ids) await waitListening(id);

  return {
    ids,
    shardId: opts.shardId,
    async propose(id, payload) {
      const res = await call(id, "POST", "/v1/propose", payload, 10_000);
      const body = (await res.json()) as { seq?: number; outcomeUnknown?: boolean };
      return res.status === 200 ? { ok: true, seq: body.seq! } : { ok: false, status: res.status, outcomeUnknown: body.outcomeUnknown ?? true };
    },
    state,
    replUrl: (id) => `http://127.0.0.1:${ports.get(id)}`,
    async get(id, p) {
      try {
        const res = await call(id, "GET", p, undefined, 5_000);
        return res.ok ? await res.json() : undefined;
      } catch {
        return undefined;
      }
    },
    async applied(id) {
      const res = await call(id, "GET", "/v1/applied?from=1&limit=10000");
      return ((await res.json()) as { entries: Array<{ seq: number; payload: string }> }).entries;
    },
    async leaseholder() {
      const states = await Promise.all(ids.map((id) => (alive(id) ? state(id) : Promise.resolve(undefined))));
      return states.find((s) => s?.leaseholder)?.id;
    },
    kill(id) {
      procs.get(id)?.kill("SIGKILL");
    },
    async restart(id) {
      const old = procs.get(id);
      if (old && !exited(old)) await new Promise((r) => old.once("exit", r));
      spawnNode(id);
      await waitListening(id);
    },
    async wipe(id) {
      const c = procs.get(id);
      if (c && !exited(c)) await new Promise((r) => c.once("exit", r));
      fs.rmSync(path.join(root, id), { recursive: true, force: true });
    },
    stopProcess(id, stopped) {
      procs.get(id)?.kill(stopped ? "SIGSTOP" : "SIGCONT");
    },
    cut(id, mode) {
      for (const [key, proxy] of links) if (key.startsWith(`${id}>`) || key.endsWith(`>${id}`)) proxy.cut(mode);
      dirProxies.get(id)!.cut(mode);
    },
    heal(id) {
      for (const [key, proxy] of links) if (key.startsWith(`${id}>`) || key.endsWith(`>${id}`)) proxy.heal();
      dirProxies.get(id)!.heal();
    },
    alive,
    async close() {
      closing = true;
      for (const c of procs.values()) {
        if (!exited(c)) {
          c.kill("SIGCONT");
          c.kill("SIGKILL");
          await new Promise((r) => c.once("exit", r));
        }
      }
      for (const p of [...links.values(), ...dirProxies.values()]) await p.close();
      // WARREN_KEEP_FLEET_LOGS=1 keeps the nodes' data and logs for a look after a failure.
      if (process.env.WARREN_KEEP_FLEET_LOGS) process.stderr.write(`log shard data and logs kept in ${root}\n`);
      else fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Polls `probe` every `everyMs` until it answers (not undefined); throws after `timeoutMs`. */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
