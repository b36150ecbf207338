// A flooding tenant, run on its own thread by the fairness test: `concurrency` loops sending
// write batches back to back, counting outcomes. The test pauses and resumes it between windows.
import { parentPort, workerData } from "node:worker_threads";
import { bytes, KvHttpClient, tkey } from "./kv-client.ts";

const { url, token, tenantId, concurrency, putsPerBatch } = workerData as {
  url: string;
  token: string;
  tenantId: number;
  concurrency: number;
  putsPerBatch: number;
};
const kv = new KvHttpClient(url, token, concurrency);
const counts: Record<string, number> = {};
let stop = false;
let paused = false;
let resume: Array<() => void> = [];
parentPort!.on("message", (m: string) => {
  if (m === "stop") stop = true;
  if (m === "pause") paused = true;
  if (m === "resume" || m === "stop") {
    paused = false;
    for (const r of resume) r();
    resume = [];
  }
});
const value = bytes("x".repeat(200));
let n = 0;
async function loop(): Promise<void> {
  while (!stop) {
    if (paused) await new Promise<void>((r) => resume.push(r));
    if (stop) break;
    const writes = Array.from({ length: putsPerBatch }, () => ({ op: "put" as const, key: tkey(tenantId, `flood/${n++ % 5000}`), value }));
    try {
      const res = await kv.send({ type: "batch", reads: [], writes });
      const k = res.type === "error" ? res.error.code : res.type;
      counts[k] = (counts[k] ?? 0) + 1;
    } catch {
      counts.network = (counts.network ?? 0) + 1;
    }
  }
}
await Promise.all(Array.from({ length: concurrency }, loop));
kv.close();
parentPort!.postMessage(counts);
