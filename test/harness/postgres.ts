// A throwaway PostgreSQL 15 server: the compatibility and speed reference that sqllogictest runs,
// the bank test's sanity run and bench:sql compare Warren against, on the same machine.
//
//   startPostgres() ─ mkdtemp ── initdb (as the `postgres` user when we are root: initdb refuses
//                     root) ── postgres -p <free port> -k <temp dir> in its own process group
//                     ── wait until it answers a query ── {url, port, stop()}
//
// The server listens on 127.0.0.1 only (trust auth; it is a scratch server that dies with the
// run) and on a unix socket inside the temp dir, never on a fixed port: another PostgreSQL may
// already listen on this machine. fsync and the other durability settings keep their defaults,
// so benchmark figures compare against a normally durable PostgreSQL. stop() always removes the
// temp dir; a process that exits or is interrupted without calling stop() kills the server's
// process group and removes the dir from exit and signal handlers.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

/** Where Debian's postgresql-15 package puts the server binaries (.ci/run installs it). */
export const postgresBinDirDefault = "/usr/lib/postgresql/15/bin";

// Bounds, with the reason for each value.
/** initdb on a busy 2-core machine takes 2–5 s; 60 s means something is wrong, not slow. */
const initdbTimeoutMs = 60_000;
/** Startup is about a second; crash recovery never happens on a fresh data dir. */
const startTimeoutMs = 30_000;
/** A fast shutdown finishes in well under a second; after this we kill the process group. */
const stopTimeoutMs = 10_000;
/** A free port can be taken by someone else between our probe and postgres's bind: retry. */
const portAttemptsMax = 5;
/** Keep the tail of the server log for error messages, not the whole log. */
const logTailBytesMax = 8_192;

export interface PostgresServer {
  /** postgresql://postgres@127.0.0.1:PORT/postgres — superuser, trust auth, TCP. */
  url: string;
  host: string;
  port: number;
  /** Directory holding the unix socket (`.s.PGSQL.PORT`). */
  socketDir: string;
  dataDir: string;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  /** Creates an empty database (a fresh oracle for one test) and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown, then removes the temp dir. Idempotent; never throws. */
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Directory of initdb/postgres; default $WARREN_PG_BIN or postgresBinDirDefault. */
  binDir?: string;
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
}

export function postgresBinDir(): string {
  return process.env.WARREN_PG_BIN ?? postgresBinDirDefault;
}

/** True when the PostgreSQL 15 server binaries are installed (tests skip with a reason if not). */
export function postgresAvailable(binDir = postgresBinDir()): boolean {
  return existsSync(join(binDir, "postgres")) && existsSync(join(binDir, "initdb"));
}

interface Live {
  child: ChildProcess;
  dir: string;
}
const live = new Set<Live>();
let exitHooksInstalled = false;

/** Synchronous last-resort cleanup: only sync calls work inside 'exit' handlers. */
function killAllSync(): void {
  for (const l of live) {
    if (l.child.pid !== undefined && l.child.exitCode === null && l.child.signalCode === null) {
      try {
        process.kill(-l.child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    rmSync(l.dir, { recursive: true, force: true });
  }
  live.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on("exit", killAllSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = (): void => {
      killAllSync();
      // If we are the only listener, we replaced Node's default "terminate on signal": exit the
      // conventional way (128 + signal number) through process.exit, so that other 'exit'
      // handlers (the stack harness's, for one) still run, which re-raising the signal would skip.
      if (process.listenerCount(signal) === 1) process.exit(128 + (constants.signals[signal] ?? 0));
    };
    process.on(signal, onSignal);
  }
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Runs a command as the postgres user when we are root (initdb and postgres refuse root). */
function asPostgresUser(cmd: string, args: string[]): { cmd: string; args: string[] } {
  if (typeof process.getuid === "function" && process.getuid() === 0) {
    return { cmd: "runuser", args: ["-u", "postgres", "--", cmd, ...args] };
  }
  return { cmd, args };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binDir = options.binDir ?? postgresBinDir();
  if (!postgresAvailable(binDir)) {
    throw new Error(
      `PostgreSQL 15 server binaries not found in ${binDir}: install postgresql-15 (Debian) or set WARREN_PG_BIN`,
    );
  }
  installExitHooks();
  const dir = mkdtempSync(join(tmpdir(), "warren-pg-"));
  const dataDir = join(dir, "data");
  let started: Live | undefined;
  try {
    if (typeof process.getuid === "function" && process.getuid() === 0) {
      const chown = spawnSync("chown", ["-R", "postgres:", dir], { encoding: "utf8" });
      if (chown.status !== 0) throw new Error(`chown postgres ${dir} failed: ${chown.stderr}`);
    }
    // C collation: byte order, deterministic across machines, and what Warren's key encoding
    // orders strings by; UTF8 so clients can send any text.
    const init = asPostgresUser(join(binDir, "initdb"), [
      "-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
    ]);
    const initRun = spawnSync(init.cmd, init.args, { encoding: "utf8", timeout: initdbTimeoutMs });
    if (initRun.status !== 0) {
      throw new Error(`initdb failed (status ${initRun.status}): ${initRun.stderr || initRun.error?.message}`);
    }

    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const settings: Record<string, string> = {
        listen_addresses: "127.0.0.1",
        unix_socket_directories: dir,
        logging_collector: "off",
        ...options.settings,
      };
      const args = ["-D", dataDir, "-p", String(port)];
      for (const [k, v] of Object.entries(settings)) args.push("-c", `${k}=${v}`);
      const run = asPostgresUser(join(binDir, "postgres"), args);
      // detached: its own process group, so stop() and the exit hook can kill runuser, the
      // postmaster and every backend at once, and a Ctrl-C to our group is handled by us.
      const child = spawn(run.cmd, run.args, { detached: true, stdio: ["ignore", "ignore", "pipe"] });
      let logTail = "";
      child.stderr?.setEncoding("utf8");
      child.stderr?.on("data", (s: string) => {
        logTail = (logTail + s).slice(-logTailBytesMax);
      });
      const entry: Live = { child, dir };
      live.add(entry);
      started = entry;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

      const ready = await waitReady(port, child, startTimeoutMs);
      if (ready) {
        return makeServer(entry, dataDir, port, exited);
      }
      await killAndWait(entry, exited);
      live.delete(entry);
      started = undefined;
      const portTaken = /could not bind|Address already in use/i.test(logTail);
      if (!portTaken || attempt >= portAttemptsMax) {
        throw new Error(`PostgreSQL did not start on port ${port}:\n${logTail}`);
      }
    }
  } catch (err) {
    if (started) live.delete(started);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

async function waitReady(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const client = new pg.Client({
      host: "127.0.0.1", port, user: "postgres", database: "postgres", connectionTimeoutMillis: 2_000,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.query("SELECT 1");
      await client.end();
      return true;
    } catch {
      await client.end().catch(() => {});
      await sleep(100);
    }
  }
  return false;
}

async function killAndWait(entry: Live, exited: Promise<void>): Promise<void> {
  const pid = entry.child.pid;
  if (pid === undefined || entry.child.exitCode !== null || entry.child.signalCode !== null) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // already gone
  }
  await exited;
}

function makeServer(entry: Live, dataDir: string, port: number, exited: Promise<void>): PostgresServer {
  const host = "127.0.0.1";
  let stopping: Promise<void> | undefined;
  const urlFor = (database: string): string =>
    `postgresql://postgres@${host}:${port}/${encodeURIComponent(database)}`;
  return {
    url: urlFor("postgres"),
    host,
    port,
    socketDir: entry.dir,
    dataDir,
    urlFor,
    async createDatabase(name: string): Promise<string> {
      const c = new pg.Client({ connectionString: urlFor("postgres") });
      await c.connect();
      try {
        await c.query(`create database ${JSON.stringify(name)}`);
      } finally {
        await c.end();
      }
      return urlFor(name);
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        try {
          const postmasterPid = readPostmasterPid(dataDir);
          const alive = entry.child.exitCode === null && entry.child.signalCode === null;
          if (alive) {
            // SIGINT = "fast shutdown": abort sessions, checkpoint, exit. runuser forwards
            // signals too, but the postmaster's own pid is the direct route.
            try {
              process.kill(postmasterPid ?? entry.child.pid!, "SIGINT");
            } catch {
              // gone already
            }
            const timedOut = await Promise.race([exited.then(() => false), sleep(stopTimeoutMs).then(() => true)]);
            if (timedOut) await killAndWait(entry, exited);
          }
          // Backends exit right after the postmaster; make sure none keeps files open.
          if (entry.child.pid !== undefined) {
            try {
              process.kill(-entry.child.pid, "SIGKILL");
            } catch {
              // the group is empty: the normal case
            }
          }
        } finally {
          live.delete(entry);
          rmSync(entry.dir, { recursive: true, force: true });
        }
      })().catch(() => {});
      return stopping;
    },
  };
}

function readPostmasterPid(dataDir: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0] ?? "", 10);
    return Number.isFinite(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
