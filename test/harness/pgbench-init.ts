// `pgbench -i -s SCALE` against a local stack with the gateway isolate's heap sampled, split at the
// step pgbench announces: "load" is drop, create, the COPY of SCALE × 100,000 accounts rows in one
// transaction and vacuum; "primary keys" is the ALTER TABLE … ADD PRIMARY KEY statements (the
// largest over pgbench_accounts). Used by test/pgwire-pgbench.test.ts and `npm run bench`'s pgbench
// section (issue 10, acceptance 1).
import { spawn } from "node:child_process";
import { sampleGatewayHeap, type GatewayHeapReport } from "./gateway-heap.ts";
import type { Stack } from "./stack.ts";

export interface PgbenchInitRun {
  readonly code: number | null;
  /** pgbench's stdout and stderr. */
  readonly out: string;
  readonly ms: number;
  /** Peaks of the "load" and "primary keys" phases (a phase pgbench never reached is absent). */
  readonly heap: readonly GatewayHeapReport[];
}

/** Runs pgbench -i on `url` (a tenant of `stack`) and kills it after `timeoutMs`. */
export async function pgbenchInit(stack: Pick<Stack, "pid" | "dataDir">, url: string, scale: number, timeoutMs: number, extraArgs: readonly string[] = []): Promise<PgbenchInitRun> {
  const heap = await sampleGatewayHeap(stack);
  heap.phase("load");
  const t0 = Date.now();
  const { code, out } = await new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    // The load is one long COPY statement: ask for the longest statement_timeout the server allows.
    const child = spawn("pgbench", ["-i", "-s", String(scale), ...extraArgs, url], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PGCONNECT_TIMEOUT: "20", PGOPTIONS: "-c statement_timeout=0" },
    });
    let text = "";
    const onData = (c: Buffer) => {
      const before = text.length;
      text += c.toString();
      if (text.indexOf("creating primary keys...", Math.max(0, before - 30)) >= 0 && !text.slice(0, before).includes("creating primary keys...")) heap.phase("primary keys");
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (c) => {
      clearTimeout(timer);
      resolve({ code: c, out: text });
    });
  });
  const ms = Date.now() - t0;
  const phases = await heap.stop();
  return { code, out, ms, heap: phases.filter((p) => p.phase !== "") };
}
