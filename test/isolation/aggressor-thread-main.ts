// The worker thread of aggressor-thread.ts: runs the named aggressor for the window and posts its
// outcome back, then exits (its sockets are closed by the aggressor itself).
import { parentPort, workerData } from "node:worker_threads";
import type { AggressorJob } from "./aggressor-thread.ts";
import { aggressors, runAggressor } from "./noisy-neighbour.ts";

const job = workerData as AggressorJob;
try {
  const a = aggressors(job.statementTimeoutMs).find((x) => x.name === job.name);
  if (a === undefined) throw new Error(`no aggressor named ${JSON.stringify(job.name)}`);
  const outcome = await runAggressor(a, job.env, job.windowMs);
  parentPort!.postMessage({ ok: true, outcome });
} catch (err) {
  parentPort!.postMessage({ ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) });
}
process.exit(0);
