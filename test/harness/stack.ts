// The local Warren stack for end-to-end tests: runs the real `warren dev` (storage node process,
// `wrangler dev` with the edge Worker and Durable Objects, the tunnel) on free ports with a temp
// data dir, and stops it so that no process and no port is left behind.
//
//   const stack = await startStack();            // resolves once DATA/ready.json exists
//   stack.demo.pg     postgresql://warren.demo:PW@127.0.0.1:PORT/defaultdb?sslmode=disable (tunnel)
//   stack.demo.http   http://127.0.0.1:PORT/sql (send demo.pg as the Neon-Connection-String header)
//   await httpSql(stack.demo, "select 1")         // POST /sql, Neon's request/response shape
//   const acme = await stack.createTenant("acme") // same shape as demo, through the admin API
//   await stack.warren(["tenant", "list"])        // the CLI itself, pointed at this stack
//   await stack.stop()                            // in afterAll/finally; idempotent
//
// - Without `dataDir`, a temp dir is created and removed by stop(). With `dataDir`, the caller owns
//   it (that is how a test restarts a stack on the same data: stop, then start with the same dir).
// - stop() sends SIGTERM to `warren dev`, which stops its children's process groups; if it does not
//   exit in time, the harness kills it and every child group recorded in DATA/dev.pids. It then
//   checks that the HTTP, Postgres and storage ports are free again, and throws if not.
// - If the test process exits without stop(), an exit handler kills whatever is still running.
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { AdminClient } from "../../cli/admin-client.ts";
import { parseTunnelUrl, tenantConnection } from "../../cli/connection-urls.ts";
import { dataPaths, readJson, type ReadyInfo, type TenantConnection } from "../../cli/data-dir.ts";
import { freePort, isPortFree } from "../../cli/ports.ts";
import { groupAlive, signalGroup, stopGroup } from "../../cli/processes.ts";

export type { TenantConnection };

export interface StartStackOptions {
  /** Reuse this data dir (the caller creates and removes it). Default: a fresh temp dir. */
  dataDir?: string;
  /** How long to wait for ready.json. Default 90 s (the stack's own bound is 60 s). */
  timeoutMs?: number;
  /** Extra environment for `warren dev`. */
  env?: Record<string, string>;
}

export interface Stack {
  /** The edge's base URL. */
  readonly http: string;
  /** The tunnel's address: postgresql://127.0.0.1:PORT (no credentials). */
  readonly pg: string;
  readonly admin: { readonly url: string; readonly token: string };
  readonly demo: TenantConnection;
  readonly dataDir: string;
  /** Process id of `warren dev` (also its process group id). */
  readonly pid: number;
  readonly ports: { readonly http: number; readonly pg: number; readonly storage: number };
  /** The `warren ready …` line `warren dev` printed. */
  readonly readyLine: string;
  /** Milliseconds from spawning `warren dev` to ready.json. */
  readonly readyMs: number;
  /** Creates a tenant through the admin API. */
  createTenant(name: string, password?: string): Promise<TenantConnection>;
  /** Runs `warren ARGS` (the real CLI, as a process) with WARREN_DATA_DIR set to this stack's. */
  warren(args: readonly string[]): Promise<CliResult>;
  /** Everything `warren dev` printed so far (stdout and stderr). */
  output(): string;
  /** Resolves with `warren dev`'s exit code once it exits (on its own, or after stop()). */
  exitCode(): Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Process id of the storage node `warren dev` runs for this stack (from DATA/dev.pids). After a
 * kill, `warren dev` starts a new one and this changes: a crash test polls it to see the restart.
 */
export function storageNodePid(stack: Pick<Stack, "dataDir">): number {
  const pids = readJson<{ children: { name: string; pid: number; marker: string }[] }>(dataPaths(stack.dataDir).pids);
  const entry = pids?.children.find((c) => c.marker.includes("storage-node"));
  if (!entry) throw new Error("no storage node in dev.pids");
  return entry.pid;
}

/**
 * Kills the stack's storage node with SIGKILL and waits until `warren dev` has started a new one
 * and `servedAgain` (a query through the whole stack) succeeds. Returns the milliseconds that took.
 */
export async function killStorageNode(stack: Pick<Stack, "dataDir">, servedAgain: () => Promise<unknown>): Promise<number> {
  const pid = storageNodePid(stack);
  const killedAt = performance.now();
  process.kill(pid, "SIGKILL");
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    if (storageNodePid(stack) === pid) continue;
    try {
      await servedAgain();
      return performance.now() - killedAt;
    } catch {
      // 57P01 while the node starts: asked again
    }
  }
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const warrenBin = path.join(repoRoot, "cli", "warren.mjs");
/** `warren dev` stops its children within ~7 s (SIGTERM grace + SIGKILL wait); allow twice that. */
const devStopTimeoutMs = 15_000;
/** After stop, sockets in TIME_WAIT do not block a new listener; anything else gets this long. */
const portsFreeTimeoutMs = 5_000;

/** Running `warren dev` processes and their data dirs, for the exit handler below. */
const running = new Map<ChildProcess, { dataDir: string; owned: boolean }>();
process.once("exit", () => {
  // Only synchronous work is possible here: SIGKILL `warren dev` and the child groups it recorded
  // (it cannot stop them itself once killed). If this process dies by SIGKILL instead, `warren dev`
  // notices that its parent is gone and stops everything on its own.
  for (const [child, { dataDir, owned }] of running) {
    if (child.pid === undefined) continue;
    signalGroup(child.pid, "SIGKILL");
    try {
      for (const pid of childGroupsOf(child.pid, dataDir)) signalGroup(pid, "SIGKILL");
    } catch {
      // no readable pids file: nothing was started
    }
    if (owned) fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

/**
 * What wrangler's log says about workerd's life. A crash of the runtime drops every connection and
 * Durable Object at once, and the tests then fail with "Connection terminated unexpectedly", far
 * from the cause: so a stack whose workerd crashed fails its stop() naming the crash. An RPC stub
 * left to the garbage collector is what crashed it before (workers/gateway/kv/kv-channel.ts): its
 * warning is reported on stderr, as the place to look if a crash comes back.
 */
function checkRuntimeHealth(edgeLog: string): void {
  let text: string;
  try {
    text = fs.readFileSync(edgeLog, "utf8");
  } catch {
    return; // a stack that never got as far as starting wrangler
  }
  const crashes = text.match(/The Workers runtime crashed unexpectedly/g)?.length ?? 0;
  const undisposed = text.match(/An RPC (stub|result) was not disposed properly/g)?.length ?? 0;
  if (undisposed > 0) process.stderr.write(`warning: workerd logged ${undisposed} RPC stub(s)/result(s) not disposed (${edgeLog}); one collected at the wrong moment crashes the runtime\n`);
  if (crashes > 0) throw new Error(`the Workers runtime (workerd) crashed ${crashes} time(s) during this stack's life; every connection was dropped (see ${edgeLog}, and dmesg for the trap)`);
}

export async function startStack(options: StartStackOptions = {}): Promise<Stack> {
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "warren-stack-"));
  const paths = dataPaths(dataDir);
  const ports = await distinctFreePorts(4);
  const [httpPort, pgPort, storagePort, inspectorPort] = ports as [number, number, number, number];
  const startedMs = Date.now();
  const child = spawn(process.execPath, [warrenBin, "dev"], {
    cwd: repoRoot,
    detached: true, // its own process group, so stop() can signal it and nothing else
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      WARREN_DATA_DIR: dataDir,
      WARREN_HTTP_PORT: String(httpPort),
      WARREN_PG_PORT: String(pgPort),
      WARREN_STORAGE_PORT: String(storagePort),
      WARREN_INSPECTOR_PORT: String(inspectorPort),
      ...options.env,
    },
  });
  running.set(child, { dataDir, owned: ownsDataDir });
  let output = "";
  child.stdout!.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (output += c.toString()));
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      exitCode = code ?? (signal ? -1 : null);
      running.delete(child);
      resolve();
    }),
  );

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    try {
      if (exitCode === undefined && child.pid !== undefined) {
        signalGroup(child.pid, "SIGTERM");
        const done = await Promise.race([exited.then(() => true), sleep(devStopTimeoutMs).then(() => false)]);
        if (!done) {
          signalGroup(child.pid, "SIGKILL");
          await exited;
        }
      }
      // Whatever `warren dev` could not stop (or never got to stop, if it was killed).
      for (const pid of child.pid === undefined ? [] : childGroupsOf(child.pid, dataDir)) {
        if (groupAlive(pid)) await stopGroup(pid, 1_000, 2_000);
      }
      const busy = await portsStillBusy([httpPort, pgPort, storagePort]);
      if (busy.length > 0) throw new Error(`ports still in use after stopping warren dev: ${busy.join(", ")}\n${output}`);
      // (Unless a later `warren dev` on the same data dir now owns it, as in a crash-restart test.)
      const owner = readJson<{ supervisor: number }>(paths.pids)?.supervisor;
      const ours = owner === undefined || owner === child.pid;
      if (ours && fs.existsSync(paths.ready)) throw new Error(`warren dev left ${paths.ready} behind`);
      checkRuntimeHealth(path.join(paths.logs, "edge.log"));
    } finally {
      // WARREN_KEEP_FLEET_LOGS=1 keeps the data dir (its logs/ hold every storage node's output).
      if (ownsDataDir && process.env.WARREN_KEEP_FLEET_LOGS) process.stderr.write(`stack data and logs kept in ${dataDir}\n`);
      else if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    }
  };

  // WARREN_READY_TIMEOUT_MS (warren dev's own bound, inherited through the env) lengthens this one too.
  const readyEnvMs = Number(process.env.WARREN_READY_TIMEOUT_MS);
  const timeoutMs = options.timeoutMs ?? (readyEnvMs > 0 ? readyEnvMs + 30_000 : 90_000);
  let ready: ReadyInfo | undefined;
  try {
    for (;;) {
      if (exitCode !== undefined) throw new Error(`warren dev exited (code ${exitCode}) before it was ready:\n${output}`);
      if (Date.now() - startedMs > timeoutMs) throw new Error(`warren dev not ready after ${timeoutMs} ms:\n${output}`);
      // A ready.json from before this start is a crashed stack's (killed with SIGKILL, it could not
      // remove it): its ports are not this stack's. `warren dev` replaces it once it is ready.
      if (fs.existsSync(paths.ready) && fs.statSync(paths.ready).mtimeMs >= startedMs) {
        ready = readJson<ReadyInfo>(paths.ready);
        if (ready !== undefined) break;
      }
      await sleep(50);
    }
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  const readyMs = Date.now() - startedMs;
  // ready.json is written just before the line is printed; wait for the line too.
  while (!/^warren ready.*$/m.test(output) && exitCode === undefined) await sleep(10);
  const readyLine = /^warren ready.*$/m.exec(output)?.[0] ?? "";

  const info = ready;
  const client = new AdminClient(info.admin.url, info.admin.token);
  const tunnel = parseTunnelUrl(info.pg) ?? { host: "127.0.0.1", port: pgPort };
  return {
    http: info.http,
    pg: info.pg,
    admin: info.admin,
    demo: info.demo,
    dataDir,
    pid: child.pid!,
    ports: { http: httpPort, pg: pgPort, storage: storagePort },
    readyLine,
    readyMs,
    async createTenant(name, password) {
      const created = await client.createTenant(name, password);
      const secret = created.password ?? password;
      if (secret === undefined) throw new Error(`admin API returned no password for ${name}`);
      return tenantConnection(created, secret, tunnel, info.http);
    },
    warren: (args) => runWarren(args, { WARREN_DATA_DIR: dataDir }),
    output: () => output,
    exitCode: () => exited.then(() => exitCode ?? null),
    stop,
  };
}

/** Runs the `warren` CLI as a process (Node 22, like npm scripts would). */
export function runWarren(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [warrenBin, ...args], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/** The body Neon's HTTP API (and the edge's POST /sql) returns for one statement. */
export interface HttpSqlResult {
  readonly command: string;
  readonly rowCount: number | null;
  readonly rows: Record<string, unknown>[] | unknown[][];
  readonly fields: { name: string; dataTypeID: number }[];
  readonly [field: string]: unknown;
}

/** An error answer of POST /sql, keeping the SQLSTATE. */
export class HttpSqlError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly body: unknown;
  constructor(status: number, message: string, code: string | undefined, body: unknown) {
    super(message);
    this.name = "HttpSqlError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** POST /sql as Neon's driver sends it: the tenant travels in the Neon-Connection-String header. */
export async function httpSql(
  tenant: Pick<TenantConnection, "http" | "pg">,
  query: string,
  params: readonly unknown[] = [],
): Promise<HttpSqlResult> {
  const res = await fetch(tenant.http, {
    method: "POST",
    headers: { "content-type": "application/json", "neon-connection-string": tenant.pg },
    body: JSON.stringify({ query, params }),
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpSqlError(res.status, `POST /sql answered non-JSON (HTTP ${res.status}): ${text.slice(0, 300)}`, undefined, text);
  }
  if (!res.ok) {
    const b = body as { message?: string; code?: string };
    throw new HttpSqlError(res.status, b.message ?? text.slice(0, 300), b.code, body);
  }
  return body as HttpSqlResult;
}

/**
 * The child process groups that the `warren dev` with pid `supervisor` recorded in DATA/dev.pids.
 * Empty when the file now belongs to another `warren dev` (a later start on the same data dir).
 */
function childGroupsOf(supervisor: number, dataDir: string): number[] {
  const pids = readJson<{ supervisor: number; children: { pid: number }[] }>(dataPaths(dataDir).pids);
  return pids?.supervisor === supervisor ? pids.children.map((c) => c.pid) : [];
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function portsStillBusy(ports: readonly number[]): Promise<number[]> {
  const deadline = Date.now() + portsFreeTimeoutMs;
  for (;;) {
    const busy: number[] = [];
    for (const p of ports) if (!(await isPortFree(p))) busy.push(p);
    if (busy.length === 0 || Date.now() >= deadline) return busy;
    await sleep(100);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
