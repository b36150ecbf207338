// Runs a client tool (drizzle-kit, prisma, psql…) as a child process for a test: stdout and stderr
// collected together, killed after a bound so a hung tool fails its test instead of the run.
import { spawn } from "node:child_process";

export interface ToolRun {
  code: number | null;
  /** stdout and stderr, interleaved as they arrived. */
  out: string;
}

/** `stdin`: written to the tool's standard input, which is then closed (none without it). */
export function runTool(cmd: string, args: readonly string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; stdin?: string } = {}): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"] });
    if (opts.stdin !== undefined) {
      child.stdin!.on("error", () => {}); // a tool may stop reading (psql once its connection is gone)
      child.stdin!.end(opts.stdin);
    }
    let out = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}
