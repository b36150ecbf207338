// Runs one aggressor of noisy-neighbour.ts in a worker thread of its own, so that its client-side
// work (200 fetch loops, 500 WebSocket clients, 1,000 sockets) does not share an event loop with
// the victim's probes: a victim's latency must measure the stack, not the test process's own
// event loop lagging behind the aggressor's callbacks (a real neighbour is another machine).
import { Worker } from "node:worker_threads";
import type { AggressorEnv, AggressorOutcome } from "./noisy-neighbour.ts";

/** What the thread needs to find and run the aggressor (plain data: functions cannot cross). */
export interface AggressorJob {
  readonly name: string;
  readonly statementTimeoutMs: number;
  readonly env: AggressorEnv;
  readonly windowMs: number;
}

export function runAggressorInThread(job: AggressorJob): Promise<AggressorOutcome> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL("./aggressor-thread-main.ts", import.meta.url), { workerData: job });
    let settled = false;
    w.once("message", (m: { ok: true; outcome: AggressorOutcome } | { ok: false; error: string }) => {
      settled = true;
      if (m.ok) resolve(m.outcome);
      else reject(new Error(`aggressor ${job.name}: ${m.error}`));
    });
    w.once("error", (err) => {
      settled = true;
      reject(err);
    });
    w.once("exit", (code) => {
      if (!settled) reject(new Error(`aggressor thread for ${job.name} exited with code ${code} before answering`));
    });
  });
}
