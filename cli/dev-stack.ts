// The local stack behind `warren dev` / `npm start`:
//
//   warren dev (this process, the supervisor)
//     ├─ child group: storage node   node storage-node/main.ts  (LMDB under DATA/storage)
//     ├─ child group: edge           wrangler dev → workerd     (Worker, Durable Objects, Loader)
//     └─ in process:  tunnel         127.0.0.1:PG_PORT ⇄ ws://127.0.0.1:HTTP_PORT/v2
//
// Start order: storage node and wrangler together (wrangler's start dominates), then the tunnel
// once both answer, then the demo tenant through the admin API, then DATA/ready.json and the one
// `warren ready` line. On SIGINT/SIGTERM/SIGHUP, or when a child dies, everything is stopped:
// ready.json first (so nobody connects to a dying stack), the tunnel, then each child's whole
// process group (SIGTERM, SIGKILL after a bound). DATA/dev.pids lets the next start clean up
// after a supervisor that was itself killed with SIGKILL.
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
import { devReadyTimeoutMs, parentCheckIntervalMs } from "./limits.ts";
import { answersHttp, freePort, isPortFree, waitUntil } from "./ports.ts";
import { groupAlive, killGroup, procCmdline, signalGroup, spawnChild, type Child } from "./processes.ts";
import { stopSignals } from "./signals.ts";
import { startTunnel, type Tunnel } from "./tunnel.ts";

export interface DevOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly httpPort: number;
  readonly pgPort: number;
  /** 0: pick a free port at each start. */
  readonly storagePort: number;
  /** 0: pick a free port at each start. */
  readonly inspectorPort: number;
  /** Echo every child's output to stderr, prefixed with its name. */
  readonly verbose: boolean;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/** The repository root: cli/ sits directly under it. */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const demoTenantName = "demo";

interface PidsFile {
  readonly supervisor: number;
  readonly children: readonly { readonly name: string; readonly pid: number; readonly marker: string }[];
}

interface DemoFile {
  readonly name: string;
  readonly password: string;
  readonly id?: string | number;
}

/** Runs the stack until a stop signal (exit 0) or a failure (exit 1). */
export async function runDevStack(options: DevOptions): Promise<number> {
  const startedAtMs = Date.now();
  const paths = dataPaths(options.dataDir);
  for (const dir of [paths.root, paths.storage, paths.wrangler, paths.logs]) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  await cleanUpAfterCrash(paths);

  const { host } = options;
  await assertPortFree(options.httpPort, host, "--http-port / WARREN_HTTP_PORT");
  await assertPortFree(options.pgPort, host, "--pg-port / WARREN_PG_PORT");
  const storagePort = options.storagePort || (await freePort(host));
  if (options.storagePort) await assertPortFree(storagePort, host, "--storage-port / WARREN_STORAGE_PORT");
  const inspectorPort = options.inspectorPort || (await freePort(host));

  const fleetSecret = loadOrCreateSecret(paths.fleetSecret);
  const adminToken = loadOrCreateSecret(paths.adminToken);
  const httpBase = `http://${host}:${options.httpPort}`;

  const children: Child[] = [];
  let tunnel: Tunnel | undefined;
  const stopping = new AbortController();
  let stopSignal: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal !== undefined) {
      // A second Ctrl-C: do not wait for graceful shutdown.
      for (const c of children) signalGroup(c.pid, "SIGKILL");
      return;
    }
    stopSignal = signal;
    stopping.abort(new Error(`stopped by ${signal}`));
  };
  for (const s of stopSignals) process.on(s, onSignal);
  // Last resort if this process dies by an exception: never leave a child group running.
  const onExit = () => {
    for (const c of children) if (!c.hasExited() || groupAlive(c.pid)) signalGroup(c.pid, "SIGKILL");
  };
  process.on("exit", onExit);
  // If whoever started us goes away without signalling (npm killed with SIGKILL, a closed terminal
  // that sent nothing), we are reparented: treat that as a stop request, never run on unowned.
  const parentPid = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid === parentPid) return;
    clearInterval(parentWatch);
    onSignal("SIGHUP");
  }, parentCheckIntervalMs);
  parentWatch.unref();

  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    // wrangler.toml's build step and wrangler itself need the Node this CLI runs on (22), not the
    // machine's older one.
    PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`,
    NO_COLOR: "1",
  };
  const echo = (name: string) => (options.verbose ? (line: string) => options.err(`[${name}] ${line}\n`) : undefined);
  const markers = new Map<Child, string>();
  const spawn = (name: string, logName: string, marker: string, args: string[], env: NodeJS.ProcessEnv) => {
    const child = spawnChild({
      name,
      command: process.execPath,
      args,
      env,
      cwd: repoRoot,
      logFile: path.join(paths.logs, logName),
      onLine: echo(logName.replace(/\.log$/, "")),
    });
    children.push(child);
    markers.set(child, marker);
    writePids(paths, children.map((c) => ({ name: c.name, pid: c.pid, marker: markers.get(c) ?? "" })));
    return child;
  };

  let shutDown = false;
  const shutdown = async (): Promise<void> => {
    if (shutDown) return;
    shutDown = true;
    fs.rmSync(paths.ready, { force: true });
    await tunnel?.close();
    const stuck = (await Promise.all(children.map(async (c) => ((await c.stop()) ? undefined : c.name)))).filter(
      (n) => n !== undefined,
    );
    if (stuck.length > 0) options.err(`warren dev: could not stop ${stuck.join(", ")} (process group still alive)\n`);
    else fs.rmSync(paths.pids, { force: true });
    for (const s of stopSignals) process.off(s, onSignal);
    process.off("exit", onExit);
    clearInterval(parentWatch);
  };

  /** Resolves with the first child that exits; never while all run. */
  const firstExit = () => Promise.race(children.map((c) => c.exited.then((status) => ({ child: c, status }))));
  const describeExit = (c: Child, status: { code: number | null; signal: string | null }) =>
    `${c.name} exited unexpectedly (${status.signal ? `signal ${status.signal}` : `exit code ${status.code}`}); ` +
    `logs in ${paths.logs}; last output:\n${c.tail().map((l) => `  | ${l}`).join("\n")}\n`;

  try {
    spawn("the storage node", "storage.log", "storage-node/main.ts", [
      path.join(repoRoot, "storage-node", "main.ts"),
      "--data-dir",
      paths.storage,
      "--port",
      String(storagePort),
      "--host",
      host,
    ], { ...childEnv, WARREN_FLEET_SECRET: fleetSecret });
    spawn("the edge (wrangler dev)", "edge.log", "wrangler", [
      wranglerBin(),
      "dev",
      "--config",
      path.join(repoRoot, "wrangler.toml"),
      "--ip",
      host,
      "--port",
      String(options.httpPort),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      paths.wrangler,
      "--show-interactive-dev-session=false",
      "--var",
      `STORAGE_URL:http://${host}:${storagePort}`,
      "--var",
      `FLEET_SECRET:${fleetSecret}`,
      "--var",
      `ADMIN_TOKEN:${adminToken}`,
    ], {
      ...childEnv,
      // Offline and quiet (TOOLCHAIN.md): no cf.json fetch, no metrics, no error reports.
      CLOUDFLARE_CF_FETCH_ENABLED: "false",
      WRANGLER_SEND_METRICS: "false",
      WRANGLER_SEND_ERROR_REPORTS: "false",
      WRANGLER_HIDE_BANNER: "true",
      // ~/.config/.wrangler is shared by every wrangler on the machine; its dev registry would let
      // another project's `wrangler dev` bind to ours. Keep ours inside the data dir.
      WRANGLER_REGISTRY_PATH: path.join(paths.wrangler, "registry"),
      WRANGLER_LOG_PATH: paths.logs,
    });

    const deadlineMs = startedAtMs + devReadyTimeoutMs;
    const startup = (async () => {
      await Promise.all([
        waitUntil("the storage node", () => answersHttp(`http://${host}:${storagePort}/healthz`, (s) => s === 200), deadlineMs, stopping.signal),
        waitUntil("the edge (wrangler dev)", () => answersHttp(`${httpBase}/`), deadlineMs, stopping.signal, 100),
      ]);
      const tunnelLog = fs.createWriteStream(path.join(paths.logs, "tunnel.log"), { flags: "w" });
      tunnel = await startTunnel({
        host,
        port: options.pgPort,
        url: `ws://${host}:${options.httpPort}/v2`,
        log: (line) => {
          tunnelLog.write(line + "\n");
          echo("tunnel")?.(line);
        },
      });
      const client = new AdminClient(httpBase, adminToken);
      const demo = await ensureDemoTenant(paths, client, { host, port: options.pgPort }, httpBase);
      return demo;
    })();
    const outcome = await Promise.race([
      startup.then((demo) => ({ kind: "ready" as const, demo })),
      firstExit().then((e) => ({ kind: "exit" as const, ...e })),
      new Promise<{ kind: "signal" }>((resolve) => stopping.signal.addEventListener("abort", () => resolve({ kind: "signal" }))),
    ]).catch((err: unknown) => ({ kind: "error" as const, err }));
    startup.catch(() => {}); // its rejection after a race loss is expected

    if (outcome.kind !== "ready") {
      // What the children said before we stopped them explains most failures to start.
      const tails = children.map((c) => `${c.name}, last output:\n${c.tail().slice(-8).map((l) => `  | ${l}`).join("\n")}`);
      await shutdown();
      if (outcome.kind === "signal") return 0;
      if (outcome.kind === "exit") {
        options.err(`warren dev: ${describeExit(outcome.child, outcome.status)}`);
        return 1;
      }
      const err = outcome.err;
      if (err instanceof CliError) throw err;
      throw new CliError(`the stack did not start: ${(err as Error).message}\n${tails.join("\n")}`, `logs are in ${paths.logs}`);
    }

    const ready: ReadyInfo = {
      http: httpBase,
      pg: tunnelUrl({ host, port: options.pgPort }),
      admin: { url: httpBase, token: adminToken },
      demo: outcome.demo,
    };
    writeFileAtomic(paths.ready, JSON.stringify(ready, null, 2) + "\n", 0o600);
    const seconds = ((Date.now() - startedAtMs) / 1000).toFixed(1);
    options.out(`warren ready in ${seconds}s: ${httpBase} ${outcome.demo.pg} (Ctrl-C to stop)\n`);

    const ended = await Promise.race([
      firstExit().then((e) => ({ kind: "exit" as const, ...e })),
      new Promise<{ kind: "signal" }>((resolve) => {
        if (stopping.signal.aborted) resolve({ kind: "signal" });
        stopping.signal.addEventListener("abort", () => resolve({ kind: "signal" }));
      }),
    ]);
    if (ended.kind === "exit") options.err(`warren dev: ${describeExit(ended.child, ended.status)}warren dev: stopping the rest\n`);
    await shutdown();
    options.err(`warren dev: stopped${stopSignal ? ` (${stopSignal})` : ""}\n`);
    return ended.kind === "exit" ? 1 : 0;
  } catch (err) {
    await shutdown();
    throw err;
  }
}

function wranglerBin(): string {
  const require = createRequire(path.join(repoRoot, "package.json"));
  return path.join(path.dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
}

async function assertPortFree(port: number, host: string, flag: string): Promise<void> {
  if (!(await isPortFree(port, host))) {
    throw new CliError(`${host}:${port} is already in use`, `is another \`warren dev\` running? Choose another port with ${flag}`);
  }
}

function writePids(paths: DataPaths, children: PidsFile["children"]): void {
  const file: PidsFile = { supervisor: process.pid, children };
  writeFileAtomic(paths.pids, JSON.stringify(file) + "\n", 0o600);
}

/**
 * If a previous supervisor died without stopping its children (SIGKILL, power loss of the
 * terminal), stop the process groups it recorded — only those whose leader still runs the
 * command we started, so a reused pid is never signalled.
 */
async function cleanUpAfterCrash(paths: DataPaths): Promise<void> {
  let pids: PidsFile | undefined;
  try {
    pids = readJson<PidsFile>(paths.pids);
  } catch {
    pids = undefined;
  }
  if (pids === undefined) return;
  const cmd = procCmdline(pids.supervisor);
  if (pids.supervisor !== process.pid && cmd !== undefined && /warren|main\.ts/.test(cmd)) {
    throw new CliError(
      `another warren dev (pid ${pids.supervisor}) is using ${paths.root}`,
      "stop it first, or use another data dir with --data-dir / WARREN_DATA_DIR",
    );
  }
  for (const c of pids.children) {
    const childCmd = procCmdline(c.pid);
    if (childCmd !== undefined && childCmd.includes(c.marker) && !(await killGroup(c.pid))) {
      throw new CliError(`${c.name} (pid ${c.pid}) left by an earlier warren dev does not stop`, `kill it by hand: kill -9 -${c.pid}`);
    }
  }
  fs.rmSync(paths.pids, { force: true });
  fs.rmSync(paths.ready, { force: true });
}

/**
 * The demo tenant: created on first start with a password generated and saved (DATA/demo.json)
 * before the admin call, so a crash between the two cannot lose the credentials.
 */
async function ensureDemoTenant(
  paths: DataPaths,
  client: AdminClient,
  tunnel: { host: string; port: number },
  httpBase: string,
): Promise<TenantConnection> {
  let demo = readJson<DemoFile>(paths.demo);
  if (demo !== undefined) {
    const existing = await adminCall(() => client.getTenant(demo!.name));
    if (existing !== undefined) return tenantConnection(existing, demo.password, tunnel, httpBase);
  } else {
    demo = { name: demoTenantName, password: newSecret(18) };
    writeFileAtomic(paths.demo, JSON.stringify(demo) + "\n", 0o600);
  }
  let created;
  try {
    created = await adminCall(() => client.createTenant(demo!.name, demo!.password));
  } catch (err) {
    if (err instanceof CliError && /HTTP 409|42710/.test(err.message)) {
      throw new CliError(
        `tenant "${demo.name}" exists but its password is not the one in ${paths.demo}`,
        `restore ${paths.demo}, or start over by deleting ${paths.root}`,
      );
    }
    throw err;
  }
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
