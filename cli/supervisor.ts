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
import { parentCheckIntervalMs } from "./limits.ts";
import { groupAlive, killGroup, procCmdline, signalGroup, spawnChild, type Child, type ChildSpec, type ExitStatus } from "./processes.ts";
import { stopSignals } from "./signals.ts";

/** DATA/dev.pids: who runs, so that a crash can be cleaned up. */
interface PidsFile {
  readonly supervisor: number;
  /** `marker` is a substring of the child's command line, checked before signalling a stale pid. */
  readonly children: readonly { readonly name: string; readonly pid: number; readonly marker: string }[];
}

export class Supervisor {
  private readonly pidsFile: string;
  private readonly children: { child: Child; marker: string }[] = [];
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

  /** Starts a child in its own process group and records it in the pids file. */
  spawn(spec: ChildSpec, marker: string): Child {
    const child = spawnChild(spec);
    this.children.push({ child, marker });
    const file: PidsFile = {
      supervisor: process.pid,
      children: this.children.map(({ child: c, marker: m }) => ({ name: c.name, pid: c.pid, marker: m })),
    };
    writeFileAtomic(this.pidsFile, JSON.stringify(file) + "\n", 0o600);
    return child;
  }

  /** Settles when any child exits (all of them are meant to run until we stop them). */
  firstExit(): Promise<{ child: Child; status: ExitStatus }> {
    return Promise.race(this.children.map(({ child }) => child.exited.then((status) => ({ child, status }))));
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
