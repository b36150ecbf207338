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

export interface ToolBytes {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/**
 * The same for a tool whose output is compared as bytes (an encoding other than UTF-8, COPY data):
 * stdout and stderr apart and undecoded, `stdin` written and closed.
 */
export function runToolBytes(cmd: string, args: readonly string[], opts: { stdin?: Buffer; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ToolBytes> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => stdout.push(c));
    child.stderr.on("data", (c: Buffer) => stderr.push(c));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr) });
    });
    child.stdin.on("error", () => {}); // the tool may stop reading after an error
    child.stdin.end(opts.stdin ?? Buffer.alloc(0));
  });
}
