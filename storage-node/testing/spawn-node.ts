// Starts storage-node/main.ts as a child process (as the local stack and the container do) and
// waits for its ready line. Used by the fairness and crash tests and the benchmark (which may start another
// checkout's main.ts, `opts.main`, to compare two versions side by side on the same machine).
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));

export function spawnStorageNode(
  dataDir: string,
  secret: string,
  limits?: Record<string, number>,
  opts: { main?: string; nodeArgs?: string[] } = {},
): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, WARREN_FLEET_SECRET: secret };
    if (limits) env.WARREN_STORAGE_LIMITS = JSON.stringify(limits);
    const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), opts.main ?? MAIN, "--data-dir", dataDir, "--port", "0"], { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`storage node did not start: ${err}`));
    }, 20_000);
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /storage node listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]! });
      }
    });
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`storage node exited with ${code} before ready: ${err}`));
    });
  });
}
