// Runs one of the standalone benchmark scripts (`npm run bench:storage`, `bench:fast-path`,
// `bench:tenants`, `bench:fleet`) as a child process for `npm run bench`: they start their own
// stacks and nodes and stop them in their own `finally`, so running them as processes keeps their
// code the single source of their figures, and a section that crashes or hangs cannot take the rest
// of the report with it.
//
// The child gets its own process group; on timeout the whole group is killed (SIGTERM, then
// SIGKILL), so no stack, storage node or PostgreSQL it started outlives it. Output is echoed
// line by line with a prefix and kept for the report.
import { spawn } from "node:child_process";
import path from "node:path";

export interface ChildResult {
  readonly code: number | null;
  readonly output: string;
  readonly ms: number;
  readonly timedOut: boolean;
}

const repoRoot = path.resolve(import.meta.dirname, "..", "..");

/** A `SIGTERM` grace before `SIGKILL` when a child outlives its time. */
const KILL_GRACE_MS = 15_000;

export function runBenchScript(
  script: string,
  args: readonly string[],
  opts: { timeoutMs: number; env?: Record<string, string>; log: (line: string) => void; prefix: string },
): Promise<ChildResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.resolve(repoRoot, script), ...args], {
      cwd: repoRoot,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...opts.env },
    });
    let output = "";
    let pending = "";
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const l of lines) if (l.trim() !== "") opts.log(`  ${opts.prefix}| ${l}`);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    let timedOut = false;
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      opts.log(`  ${opts.prefix}| (no result after ${Math.round(opts.timeoutMs / 1000)} s: stopping it)`);
      signalGroup("SIGTERM");
      setTimeout(() => signalGroup("SIGKILL"), KILL_GRACE_MS).unref();
    }, opts.timeoutMs);
    // If `npm run bench` itself is stopped, take the child's group with it.
    const onExit = () => signalGroup("SIGKILL");
    process.once("exit", onExit);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      process.off("exit", onExit);
      if (pending.trim() !== "") opts.log(`  ${opts.prefix}| ${pending}`);
      resolve({ code, output, ms: Date.now() - started, timedOut });
    });
  });
}

/** The last lines of a child's output, for a report section that could not parse its figures. */
export function tail(output: string, lines = 6): string {
  return output.trim().split("\n").slice(-lines).join("\n");
}
