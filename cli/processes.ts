// Child processes of `warren dev`. Each child starts in its own process group (detached), so that
// stopping it reaches every process it spawned: `wrangler dev` runs workerd as its own child, and
// signalling wrangler alone would orphan workerd with its ports still bound. A terminal's Ctrl-C
// reaches only the supervisor, which then stops the groups in order.
import { spawn } from "node:child_process";
import fs from "node:fs";
import { childKillWaitMs, childLogTailLines, childStopGraceMs } from "./limits.ts";

export interface ChildSpec {
  /** Short name used in messages: "storage node", "edge (wrangler dev)". */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** stdout and stderr go here (truncated at start, unless appendLog: a restart keeps the dead one's output). */
  readonly logFile: string;
  readonly appendLog?: boolean;
  /** Also called with every output line, e.g. to echo it with --verbose. */
  readonly onLine?: (line: string) => void;
}

export interface ExitStatus {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Child {
  readonly name: string;
  readonly pid: number;
  /** Settles when the group leader exits (other members may outlive it; see stop()). */
  readonly exited: Promise<ExitStatus>;
  hasExited(): boolean;
  /** The last lines the child printed, for error reports. */
  tail(): string[];
  /** SIGTERM the whole group, SIGKILL after the grace period; resolves true once the group is gone. */
  stop(): Promise<boolean>;
}

export function spawnChild(spec: ChildSpec): Child {
  const log = fs.createWriteStream(spec.logFile, { flags: spec.appendLog ? "a" : "w" });
  const proc = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: spec.env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (proc.pid === undefined) {
    // spawn() reports ENOENT and friends asynchronously; pid is undefined exactly then.
    throw new Error(`could not start ${spec.name} (${spec.command})`);
  }
  const pid = proc.pid;
  const tail: string[] = [];
  let partial = "";
  const onData = (chunk: Buffer) => {
    log.write(chunk);
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      tail.push(line);
      if (tail.length > childLogTailLines) tail.shift();
      spec.onLine?.(line);
    }
  };
  proc.stdout.on("data", onData);
  proc.stderr.on("data", onData);
  let exitedFlag = false;
  const exited = new Promise<ExitStatus>((resolve) => {
    proc.once("error", (err) => {
      tail.push(`failed to start: ${err.message}`);
      exitedFlag = true;
      resolve({ code: null, signal: null });
    });
    proc.once("exit", (code, signal) => {
      exitedFlag = true;
      resolve({ code, signal });
    });
  });
  exited.then(() => log.end());
  return {
    name: spec.name,
    pid,
    exited,
    hasExited: () => exitedFlag,
    tail: () => (partial ? [...tail, partial] : [...tail]),
    stop: () => stopGroup(pid),
  };
}

/**
 * Stops process group `pgid`: SIGTERM, wait up to `graceMs`, then SIGKILL and wait up to
 * `killWaitMs`. Resolves true when no live (non-zombie) member remains.
 */
export async function stopGroup(pgid: number, graceMs = childStopGraceMs, killWaitMs = childKillWaitMs): Promise<boolean> {
  if (!signalGroup(pgid, "SIGTERM")) return true;
  if (await waitGroupGone(pgid, graceMs)) return true;
  signalGroup(pgid, "SIGKILL");
  return waitGroupGone(pgid, killWaitMs);
}

/** SIGKILLs group `pgid` at once and waits up to `waitMs` for it to vanish; true once gone. */
export async function killGroup(pgid: number, waitMs = childKillWaitMs): Promise<boolean> {
  if (!signalGroup(pgid, "SIGKILL")) return true;
  return waitGroupGone(pgid, waitMs);
}

/** Sends `signal` to every process in the group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw err;
  }
}

async function waitGroupGone(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!groupAlive(pgid)) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Whether any live member of process group `pgid` remains. On Linux this reads /proc and ignores
 * zombies: here PID 1 may not reap orphans, and a zombie holds no port or file. Elsewhere it falls
 * back to kill(-pgid, 0), which counts zombies as alive.
 */
export function groupAlive(pgid: number): boolean {
  let entries: string[];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch {
      return false;
    }
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat && stat.pgrp === pgid && stat.state !== "Z" && stat.state !== "X") return true;
  }
  return false;
}

/** State and process group of `pid` from /proc/PID/stat, or undefined if it is gone. */
export function procStat(pid: number): { state: string; pgrp: number } | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", pgrp: Number(fields[2]) };
}

/** The command line of `pid`, or undefined if it is gone (Linux only). */
export function procCmdline(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    return undefined;
  }
}
