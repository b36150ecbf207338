// The mechanism behind `warren dev`: start child process groups, record them, notice when one
// dies or when we are asked to stop, and stop them all. What to start is dev-stack.ts's business.
//
// Stop requests are SIGINT, SIGTERM and SIGHUP, and the parent going away (we are reparented
// when npm or a shell dies by SIGKILL without passing a signal on). A second request kills every
// group at once. The pids file lets the next start clean up after a supervisor that was itself
// killed with SIGKILL; an exit handler kills the groups if this process dies by an exception.
import fs from "node:fs";
import process from "node:process";
import { CliError } from "./command.ts";
import { readJson, writeFileAtomic } from "./data-dir.ts";
import { childRestartDelayMs, childRestartsMax, childRestartWindowMs, parentCheckIntervalMs } from "./limits.ts";
import { groupAlive, killGroup, procCmdline, signalGroup, spawnChild, type Child, type ChildSpec, type ExitStatus } from "./processes.ts";
import { stopSignals } from "./signals.ts";

/** DATA/dev.pids: who runs, so that a crash can be cleaned up. */
interface PidsFile {
  readonly supervisor: number;
  /** `marker` is a substring of the child's command line, checked before signalling a stale pid. */
  readonly children: readonly { readonly name: string; readonly pid: number; readonly marker: string }[];
}

/** How a child that dies on its own is treated: the stack stops (default), or it is started again. */
export interface RestartPolicy {
  /** Told each time the child is started again (for the stack's log). */
  readonly onRestart?: (child: Child, status: ExitStatus, restarts: number) => void;
}

interface Entry {
  child: Child;
  readonly marker: string;
  readonly spec: ChildSpec;
  readonly restart: RestartPolicy | undefined;
  /** Start times of recent restarts, to tell a crash loop from a rare death. */
  readonly restartsAtMs: number[];
}

export class Supervisor {
  private readonly pidsFile: string;
  private readonly children: Entry[] = [];
  private stopping = false;
  private readonly restartTimers = new Set<NodeJS.Timeout>();
  private fatalExit!: (e: { child: Child; status: ExitStatus }) => void;
  /** Settles when a child exits that is not restarted (it has no policy, or it crash-loops). */
  private readonly fatal = new Promise<{ child: Child; status: ExitStatus }>((resolve) => (this.fatalExit = resolve));
  private readonly abort = new AbortController();
  private stopReason: NodeJS.Signals | undefined;
  private readonly parentWatch: NodeJS.Timeout;
  private readonly onSignal = (signal: NodeJS.Signals) => this.requestStop(signal);
  private readonly onExit = () => {
    for (const { child } of this.children) if (!child.hasExited() || groupAlive(child.pid)) signalGroup(child.pid, "SIGKILL");
  };

  constructor(pidsFile: string) {
    this.pidsFile = pidsFile;
    for (const s of stopSignals) process.on(s, this.onSignal);
    process.on("exit", this.onExit);
    const parentPid = process.ppid;
    this.parentWatch = setInterval(() => {
      if (process.ppid === parentPid) return;
      clearInterval(this.parentWatch);
      this.requestStop("SIGHUP");
    }, parentCheckIntervalMs);
    this.parentWatch.unref();
  }

  /** Aborts on the first stop request. */
  get stopSignal(): AbortSignal {
    return this.abort.signal;
  }

  /** The signal that asked us to stop, if one did. */
  get stoppedBy(): NodeJS.Signals | undefined {
    return this.stopReason;
  }

  /**
   * Starts a child in its own process group and records it in the pids file. With a restart
   * policy, a child that dies on its own is started again after childRestartDelayMs, unless it
   * died childRestartsMax times within childRestartWindowMs (a crash loop, which stops the stack
   * like a child without a policy: restarting forever would only hide the cause).
   */
  spawn(spec: ChildSpec, marker: string, restart?: RestartPolicy): Child {
    const entry: Entry = { child: spawnChild(spec), marker, spec, restart, restartsAtMs: [] };
    this.children.push(entry);
    this.writePids();
    this.watch(entry);
    return entry.child;
  }

  /** The running instance of the child first started under `name` (it changes at each restart). */
  current(name: string): Child | undefined {
    return this.children.find((e) => e.spec.name === name)?.child;
  }

  private watch(entry: Entry): void {
    const child = entry.child;
    void child.exited.then((status) => {
      if (this.stopping || entry.child !== child) return;
      const nowMs = Date.now();
      while (entry.restartsAtMs.length > 0 && entry.restartsAtMs[0]! < nowMs - childRestartWindowMs) entry.restartsAtMs.shift();
      if (entry.restart === undefined || entry.restartsAtMs.length >= childRestartsMax) {
        this.fatalExit({ child, status });
        return;
      }
      entry.restartsAtMs.push(nowMs);
      // Whatever the dead leader left in its group (none for the storage node) goes with it.
      signalGroup(child.pid, "SIGKILL");
      const timer = setTimeout(() => {
        this.restartTimers.delete(timer);
        if (this.stopping) return;
        try {
          entry.child = spawnChild({ ...entry.spec, appendLog: true });
        } catch {
          this.fatalExit({ child, status });
          return;
        }
        this.writePids();
        entry.restart?.onRestart?.(entry.child, status, entry.restartsAtMs.length);
        this.watch(entry);
      }, childRestartDelayMs);
      this.restartTimers.add(timer);
    });
  }

  private writePids(): void {
    const file: PidsFile = {
      supervisor: process.pid,
      children: this.children.map(({ child: c, marker: m }) => ({ name: c.name, pid: c.pid, marker: m })),
    };
    writeFileAtomic(this.pidsFile, JSON.stringify(file) + "\n", 0o600);
  }

  /**
   * Settles when a child exits for good: one without a restart policy, or one that crash-loops
   * (all of them are meant to run until we stop them).
   */
  firstExit(): Promise<{ child: Child; status: ExitStatus }> {
    return this.fatal;
  }

  /** Settles on the first stop request. */
  stopRequested(): Promise<void> {
    return new Promise((resolve) => {
      if (this.abort.signal.aborted) resolve();
      else this.abort.signal.addEventListener("abort", () => resolve(), { once: true });
    });
  }

  /** Every child's last lines, for a report of why the stack did not start. */
  tails(lines: number): string[] {
    return this.children.map(({ child }) => `${child.name}, last output:\n${child.tail().slice(-lines).map((l) => `  | ${l}`).join("\n")}`);
  }

  /**
   * Stops every child group (SIGTERM, then SIGKILL after the grace bound) and removes the
   * handlers. Returns the names of children whose group would not go away.
   */
  async stopAll(): Promise<string[]> {
    this.stopping = true;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    const results = await Promise.all(this.children.map(async ({ child }) => ((await child.stop()) ? undefined : child.name)));
    const stuck = results.filter((n): n is string => n !== undefined);
    if (stuck.length === 0) fs.rmSync(this.pidsFile, { force: true });
    for (const s of stopSignals) process.off(s, this.onSignal);
    process.off("exit", this.onExit);
    clearInterval(this.parentWatch);
    return stuck;
  }

  private requestStop(signal: NodeJS.Signals): void {
    if (this.stopReason !== undefined) {
      // A second Ctrl-C: do not wait for a graceful shutdown.
      for (const { child } of this.children) signalGroup(child.pid, "SIGKILL");
      return;
    }
    this.stopReason = signal;
    this.abort.abort(new Error(`stopped by ${signal}`));
  }
}

/**
 * Before starting: if the pids file names a supervisor that still runs, refuse (two stacks on one
 * data dir would corrupt each other). If it names one that died, kill the child groups it left —
 * only those whose leader still runs the command we started, so a reused pid is never signalled.
 */
export async function cleanUpAfterCrash(pidsFile: string, dataDir: string): Promise<void> {
  let pids: PidsFile | undefined;
  try {
    pids = readJson<PidsFile>(pidsFile);
  } catch {
    pids = undefined; // unreadable: nothing we can act on
  }
  if (pids === undefined) return;
  const cmd = procCmdline(pids.supervisor);
  if (pids.supervisor !== process.pid && cmd !== undefined && /warren|main\.ts/.test(cmd)) {
    throw new CliError(
      `another warren dev (pid ${pids.supervisor}) is using ${dataDir}`,
      "stop it first, or use another data dir with --data-dir / WARREN_DATA_DIR",
    );
  }
  for (const c of pids.children) {
    const childCmd = procCmdline(c.pid);
    if (childCmd !== undefined && childCmd.includes(c.marker) && !(await killGroup(c.pid))) {
      throw new CliError(`${c.name} (pid ${c.pid}) left by an earlier warren dev does not stop`, `kill it by hand: kill -9 -${c.pid}`);
    }
  }
  fs.rmSync(pidsFile, { force: true });
}
