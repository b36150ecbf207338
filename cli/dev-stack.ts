// The local stack behind `warren dev` / `npm start`:
//
//   warren dev (this process, the supervisor)
//     ├─ child group: storage node   node storage-node/main.ts  (LMDB under DATA/storage)
//     ├─ child group: edge           wrangler dev → workerd     (Worker, Durable Objects, Loader)
//     └─ in process:  tunnel         127.0.0.1:PG_PORT ⇄ ws://127.0.0.1:HTTP_PORT/v2
//
// Start order: storage node and wrangler together (wrangler's start dominates), then the tunnel
// once both answer, then the demo tenant through the admin API, then DATA/ready.json and the one
// `warren ready` line. A storage node that dies is started again (supervisor.ts RestartPolicy);
// on a stop request, or when the edge dies or the storage node crash-loops, everything is stopped: ready.json
// first (so nobody connects to a dying stack), the tunnel, then each child's whole process group.
// supervisor.ts holds the mechanism (process groups, signals, DATA/dev.pids, crash cleanup).
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { AdminClient, AdminError } from "./admin-client.ts";
import { CliError } from "./command.ts";
import { tenantConnection, tunnelUrl } from "./connection-urls.ts";
import {
  dataPaths,
  loadOrCreateSecret,
  newSecret,
  readJson,
  writeFileAtomic,
  type DataPaths,
  type ReadyInfo,
  type TenantConnection,
} from "./data-dir.ts";
import { devReadyTimeoutMs } from "./limits.ts";
import { answersHttp, freePort, isPortFree, waitUntil } from "./ports.ts";
import type { Child, ExitStatus } from "./processes.ts";
import { cleanUpAfterCrash, Supervisor } from "./supervisor.ts";
import { startTunnel, type Tunnel } from "./tunnel.ts";
import { fleetBounds, fleetNodeArgs, planFleet, startFleetShards, storageNodesVar, type FleetPlan } from "./dev-fleet.ts";

export interface DevOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly httpPort: number;
  readonly pgPort: number;
  /** 0: pick a free port at each start. */
  readonly storagePort: number;
  /** 0: pick a free port at each start. */
  readonly inspectorPort: number;
  /** Give up if the stack is not answering by then (limits.ts devReadyTimeoutMs unless overridden). */
  readonly readyTimeoutMs?: number;
  /** Echo every child's output to stderr, prefixed with its name. */
  readonly verbose: boolean;
  /** A replicated fleet of this many shards (dev-fleet.ts); 0 or absent: today's single storage node. */
  readonly shards?: number;
  /** Replicas per shard with `shards` (default 3). */
  readonly replicas?: number;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The repository root: cli/ sits directly under it. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const demoTenantName = "demo";

interface DemoFile {
  readonly name: string;
  readonly password: string;
  readonly id?: string | number;
}

/** Everything the children need to know, fixed before any of them starts. */
interface StackConfig {
  readonly paths: DataPaths;
  readonly host: string;
  readonly httpPort: number;
  readonly pgPort: number;
  readonly storagePort: number;
  readonly inspectorPort: number;
  readonly fleetSecret: string;
  readonly adminToken: string;
  readonly txnHandleSecret: string;
  readonly tunnelSecret: string;
  readonly httpBase: string;
  /** `--shards N`: the fleet's nodes (dev-fleet.ts); undefined: one storage node on storagePort. */
  readonly fleet: FleetPlan | undefined;
}

/** Runs the stack until a stop request (exit 0) or a failure (exit 1, or a thrown CliError). */
export async function runDevStack(options: DevOptions): Promise<number> {
  const startedAtMs = Date.now();
  const readyTimeoutMs = options.readyTimeoutMs ?? devReadyTimeoutMs;
  const config = await prepare(options);
  const { paths } = config;
  const supervisor = new Supervisor(paths.pids);
  const echo = (name: string) => (options.verbose ? (line: string) => options.err(`[${name}] ${line}\n`) : undefined);
  let tunnel: Tunnel | undefined;

  const shutdown = async (): Promise<void> => {
    fs.rmSync(paths.ready, { force: true }); // first, so nobody connects to a stack going down
    await tunnel?.close();
    const stuck = await supervisor.stopAll();
    if (stuck.length > 0) options.err(`warren dev: could not stop ${stuck.join(", ")} (process group still alive)\n`);
  };
  const describeExit = (c: Child, status: ExitStatus) =>
    `${c.name} exited unexpectedly (${status.signal ? `signal ${status.signal}` : `exit code ${status.code}`}); ` +
    `logs in ${paths.logs}; last output:\n${c.tail().map((l) => `  | ${l}`).join("\n")}\n`;

  try {
    const childEnv = nodeChildEnv();
    const fleetMain = path.join(repoRoot, "storage-node", "replication", "replicated-node.ts");
    for (const node of config.fleet?.nodes ?? []) {
      supervisor.spawn(
        {
          name: `storage node ${node.id}`,
          command: process.execPath,
          args: fleetNodeArgs(fleetMain, config.fleet!, node, config.host, config.httpBase),
          env: { ...childEnv, WARREN_FLEET_SECRET: config.fleetSecret },
          cwd: repoRoot,
          logFile: path.join(paths.logs, `storage-${node.id}.log`),
          onLine: echo(node.id),
        },
        "storage-node/replication/replicated-node.ts",
        // Killed, or deposed (exit 75: it lost its lease): started again, it rejoins as a backup.
        { onRestart: (c, status) => options.err(`warren dev: storage node ${node.id} exited (${status.signal ? `signal ${status.signal}` : `exit code ${status.code}`}); started again (pid ${c.pid})\n`) },
      );
    }
    if (config.fleet === undefined) supervisor.spawn(
      {
        name: "the storage node",
        command: process.execPath,
        args: storageNodeArgs(config),
        env: { ...childEnv, WARREN_FLEET_SECRET: config.fleetSecret },
        cwd: repoRoot,
        logFile: path.join(paths.logs, "storage.log"),
        onLine: echo("storage"),
      },
      "storage-node/main.ts",
      {
        // A storage node that dies is started again on the same port and data dir; meanwhile the
        // edge waits for it (and answers 57P01 / 08006 when it does not come back in time).
        onRestart: (c, status) =>
          options.err(`warren dev: the storage node exited (${status.signal ? `signal ${status.signal}` : `exit code ${status.code}`}); started again (pid ${c.pid})\n`),
      },
    );
    supervisor.spawn(
      {
        name: "the edge (wrangler dev)",
        command: process.execPath,
        args: wranglerArgs(config),
        env: wranglerEnv(config, childEnv),
        cwd: repoRoot,
        logFile: path.join(paths.logs, "edge.log"),
        onLine: echo("edge"),
      },
      "wrangler",
    );

    const startup = (async () => {
      await waitForChildren(config, startedAtMs + readyTimeoutMs, supervisor.stopSignal);
      const tunnelLog = fs.createWriteStream(path.join(paths.logs, "tunnel.log"), { flags: "w" });
      tunnel = await startTunnel({
        host: config.host,
        port: config.pgPort,
        url: `ws://${config.host}:${config.httpPort}/v2`,
        clientAddressSecret: config.tunnelSecret,
        log: (line) => {
          tunnelLog.write(line + "\n");
          echo("tunnel")?.(line);
        },
      });
      return ensureDemoTenant(config, new AdminClient(config.httpBase, config.adminToken));
    })();
    startup.catch(() => {}); // a rejection after losing the race below is expected
    const outcome = await Promise.race([
      startup.then((demo) => ({ kind: "ready" as const, demo })),
      supervisor.firstExit().then((e) => ({ kind: "exit" as const, ...e })),
      supervisor.stopRequested().then(() => ({ kind: "stop" as const })),
    ]).catch((err: unknown) => ({ kind: "error" as const, err }));

    if (outcome.kind !== "ready") {
      // What the children said before we stopped them explains most failures to start.
      const tails = supervisor.tails(8);
      await shutdown();
      if (outcome.kind === "stop") return 0;
      if (outcome.kind === "exit") {
        options.err(`warren dev: ${describeExit(outcome.child, outcome.status)}`);
        return 1;
      }
      if (outcome.err instanceof CliError) throw outcome.err;
      throw new CliError(
        `the stack did not start: ${(outcome.err as Error).message} (ready timeout ${readyTimeoutMs} ms)\n${tails.join("\n")}`,
        `logs are in ${paths.logs}; on a slow machine raise --ready-timeout-ms / WARREN_READY_TIMEOUT_MS`,
      );
    }

    const ready: ReadyInfo = {
      http: config.httpBase,
      pg: tunnelUrl({ host: config.host, port: config.pgPort }),
      admin: { url: config.httpBase, token: config.adminToken },
      demo: outcome.demo,
    };
    writeFileAtomic(paths.ready, JSON.stringify(ready, null, 2) + "\n", 0o600);
    const seconds = ((Date.now() - startedAtMs) / 1000).toFixed(1);
    options.out(`warren ready in ${seconds}s: ${config.httpBase} ${outcome.demo.pg} (Ctrl-C to stop)\n`);

    const ended = await Promise.race([
      supervisor.firstExit().then((e) => ({ kind: "exit" as const, ...e })),
      supervisor.stopRequested().then(() => ({ kind: "stop" as const })),
    ]);
    if (ended.kind === "exit") options.err(`warren dev: ${describeExit(ended.child, ended.status)}warren dev: stopping the rest\n`);
    await shutdown();
    options.err(`warren dev: stopped${supervisor.stoppedBy ? ` (${supervisor.stoppedBy})` : ""}\n`);
    return ended.kind === "exit" ? 1 : 0;
  } catch (err) {
    await shutdown();
    throw err;
  }
}

/** Data dir, stale processes, ports and secrets: everything checked before a child starts. */
async function prepare(options: DevOptions): Promise<StackConfig> {
  const paths = dataPaths(options.dataDir);
  for (const dir of [paths.root, paths.storage, paths.wrangler, paths.logs]) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  await cleanUpAfterCrash(paths.pids, paths.root);
  fs.rmSync(paths.ready, { force: true }); // left by a crashed run: it describes nothing that runs
  const { host } = options;
  await assertPortFree(options.httpPort, host, "--http-port / WARREN_HTTP_PORT");
  await assertPortFree(options.pgPort, host, "--pg-port / WARREN_PG_PORT");
  if (options.storagePort) await assertPortFree(options.storagePort, host, "--storage-port / WARREN_STORAGE_PORT");
  const shards = options.shards ?? 0;
  const replicas = options.replicas ?? 3;
  if (shards < 0 || shards > fleetBounds.shardsMax) throw new CliError(`--shards must be 0..${fleetBounds.shardsMax}`, "0 runs one storage node");
  if (replicas < fleetBounds.replicasMin || replicas > fleetBounds.replicasMax) throw new CliError(`--replicas must be ${fleetBounds.replicasMin}..${fleetBounds.replicasMax}`, "a shard has 1 to 5 replicas");
  return {
    fleet: shards > 0 ? await planFleet(host, paths.storage, shards, replicas) : undefined,
    paths,
    host,
    httpPort: options.httpPort,
    pgPort: options.pgPort,
    storagePort: options.storagePort || (await freePort(host)),
    inspectorPort: options.inspectorPort || (await freePort(host)),
    fleetSecret: loadOrCreateSecret(paths.fleetSecret),
    adminToken: loadOrCreateSecret(paths.adminToken),
    // Kept in the data dir, so an open HTTP transaction's handle still opens after a restart.
    txnHandleSecret: loadOrCreateSecret(paths.txnHandleSecret),
    tunnelSecret: loadOrCreateSecret(paths.tunnelSecret),
    httpBase: `http://${host}:${options.httpPort}`,
  };
}

/** The environment of Node children: the Node 22 this CLI runs on first on PATH. */
function nodeChildEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // wrangler.toml's build step and wrangler itself need this Node (22), not the machine's older one.
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
    NO_COLOR: "1",
  };
}

function storageNodeArgs(c: StackConfig): string[] {
  const main = path.join(repoRoot, "storage-node", "main.ts");
  return [main, "--data-dir", c.paths.storage, "--port", String(c.storagePort), "--host", c.host];
}

/**
 * Edge vars that tune limits (workers/edge/tenant-limits.ts, GATEWAY_ISOLATES_MAX): when set in
 * `warren dev`'s environment they are passed on to the Worker, so a test can reach a limit's edge
 * with a handful of requests. Nothing else from the environment reaches the Worker.
 */
export const EDGE_TUNING_VARS = [
  "EDGE_SQL_REQUESTS_PER_TENANT",
  "EDGE_SQL_QUEUE_PER_TENANT",
  "EDGE_SQL_QUEUE_WAIT_MS",
  "EDGE_SQL_REFUSAL_HOLD_MS",
  "EDGE_SQL_REFUSALS_HELD",
  "EDGE_SQL_REFUSALS_PER_SECOND",
  "EDGE_PG_SESSIONS_PER_TENANT",
  "EDGE_LOGINS_PER_TENANT",
  "EDGE_LOGIN_QUEUE_PER_TENANT",
  "EDGE_LOGIN_QUEUE_WAIT_MS",
  "EDGE_PRESTARTUP_TOTAL",
  "EDGE_PRESTARTUP_PER_TENANT",
  "EDGE_PRESTARTUP_TIMEOUT_MS",
  "GATEWAY_ISOLATES_MAX",
  "GATEWAY_WARM_POOL",
  "STATEMENT_TIMEOUT_MS",
  "TENANT_IDLE_SUSPEND_MS",
  "STORAGE_TRANSPORT",
  // Fault injection for tests only (workers/edge/env.ts).
  "FAULT_QUOTA_GRANT_DELAY_MS",
] as const;

function wranglerArgs(c: StackConfig): string[] {
  const tuning = EDGE_TUNING_VARS.filter((name) => process.env[name] !== undefined && process.env[name] !== "").flatMap((name) => ["--var", `${name}:${process.env[name]}`]);
  return [
    wranglerBin(),
    "dev",
    ...["--config", path.join(repoRoot, "wrangler.toml")],
    ...["--ip", c.host, "--port", String(c.httpPort)],
    ...["--inspector-port", String(c.inspectorPort)],
    ...["--persist-to", c.paths.wrangler],
    "--show-interactive-dev-session=false",
    ...["--var", `STORAGE_URL:http://${c.host}:${c.storagePort}`],
    ...(c.fleet ? ["--var", `STORAGE_NODES:${storageNodesVar(c.fleet, c.host)}`] : []),
    // Secrets through a 0600 file, not the command line (where `ps` would show them to anyone).
    ...["--env-file", writeSecretsEnv(c)],
    ...tuning,
  ];
}

/** DATA/wrangler/secrets.env: the edge's secrets in dotenv form, readable by this user only. */
function writeSecretsEnv(c: StackConfig): string {
  const file = path.join(c.paths.wrangler, "secrets.env");
  fs.mkdirSync(c.paths.wrangler, { recursive: true });
  // Both are base64url (data-dir.ts newSecret), so they need no quoting in dotenv syntax.
  writeFileAtomic(file, `FLEET_SECRET=${c.fleetSecret}\nADMIN_TOKEN=${c.adminToken}\nTXN_HANDLE_SECRET=${c.txnHandleSecret}\nTUNNEL_SECRET=${c.tunnelSecret}\n`, 0o600);
  return file;
}

function wranglerEnv(c: StackConfig, base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...base,
    // Offline and quiet (TOOLCHAIN.md): no cf.json fetch, no metrics, no error reports.
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_SEND_ERROR_REPORTS: "false",
    WRANGLER_HIDE_BANNER: "true",
    // ~/.config/.wrangler is shared by every wrangler on the machine; its dev registry would let
    // another project's `wrangler dev` bind to ours. Keep ours inside the data dir.
    WRANGLER_REGISTRY_PATH: path.join(c.paths.wrangler, "registry"),
    WRANGLER_LOG_PATH: c.paths.logs,
  };
}

function wranglerBin(): string {
  const require = createRequire(path.join(repoRoot, "package.json"));
  return path.join(path.dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
}

/** Both children answer: the storage node's /healthz with 200, the edge with any HTTP response. */
async function waitForChildren(c: StackConfig, deadlineMs: number, signal: AbortSignal): Promise<void> {
  if (c.fleet) {
    await waitUntil("the edge (wrangler dev)", () => answersHttp(`${c.httpBase}/`), deadlineMs, signal, 100);
    await startFleetShards(c.fleet, c.host, c.httpBase, c.fleetSecret, deadlineMs, signal);
    return;
  }
  await Promise.all([
    waitUntil("the storage node", () => answersHttp(`http://${c.host}:${c.storagePort}/healthz`, (s) => s === 200), deadlineMs, signal),
    waitUntil("the edge (wrangler dev)", () => answersHttp(`${c.httpBase}/`), deadlineMs, signal, 100),
  ]);
}

async function assertPortFree(port: number, host: string, flag: string): Promise<void> {
  if (!(await isPortFree(port, host))) {
    throw new CliError(`${host}:${port} is already in use`, `is another \`warren dev\` running? Choose another port with ${flag}`);
  }
}

/**
 * The demo tenant: created on first start with a password generated and saved (DATA/demo.json)
 * before the admin call, so a crash between the two cannot lose the credentials.
 */
async function ensureDemoTenant(c: StackConfig, client: AdminClient): Promise<TenantConnection> {
  const { paths, httpBase } = c;
  const tunnel = { host: c.host, port: c.pgPort };
  let demo = readJson<DemoFile>(paths.demo);
  if (demo !== undefined) {
    const existing = await adminCall(() => client.getTenant(demo!.name));
    if (existing !== undefined) return tenantConnection(existing, demo.password, tunnel, httpBase);
  } else {
    demo = { name: demoTenantName, password: newSecret(18) };
    writeFileAtomic(paths.demo, JSON.stringify(demo) + "\n", 0o600);
  }
  const name = demo.name;
  const created = await adminCall(() =>
    client.createTenant(name, demo.password).catch((err: unknown) => {
      if (err instanceof AdminError && err.status === 409) {
        throw new CliError(
          `tenant "${name}" exists but its password is not the one in ${paths.demo}`,
          `restore ${paths.demo}, or start over by deleting ${paths.root}`,
        );
      }
      throw err;
    }),
  );
  const password = created.password ?? demo.password;
  writeFileAtomic(paths.demo, JSON.stringify({ name: created.name, id: created.id, password }) + "\n", 0o600);
  return tenantConnection(created, password, tunnel, httpBase);
}

async function adminCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AdminError) {
      throw new CliError(
        `admin API: ${err.message}${err.code ? ` (SQLSTATE ${err.code})` : ""} (HTTP ${err.status})`,
        "see the edge's log in DATA/logs/edge.log",
      );
    }
    throw err;
  }
}
