// Fairness between tenants: tenant A floods the node (many connections, write batches back to
// back) while tenant B runs a steady light load. B's p99 latency with the flood stays within 2x of
// its p99 measured without it in the same run, and A is rate limited.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { ChildProcess } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { mintTenantToken } from "../common/tenant-token.ts";
import { bytes, KvHttpClient, tkey } from "./testing/kv-client.ts";
import { spawnStorageNode } from "./testing/spawn-node.ts";

const SECRET = "fairness-fleet-secret-0123456";
const A = 30;
const B = 31;
/** A tenant's share for this test: 2000 RU/s, 1 s burst; A's 20-put batches cost ~25 RU each. */
const LIMITS = { tenantRuPerSecond: 2000, tenantBurstRu: 2000 };
const WINDOWS = 4;
const WINDOW_MS = 2500;
/** Enough parked requests that A's queued reservations exceed the 1 s wait bound: some are refused. */
const FLOOD_CONNECTIONS = 128;
const B_INTERVAL_MS = 10;
/**
 * Below this, a p99 is timer and scheduler noise on a shared 2-core machine (one fsync here is
 * ~3.5 ms), so the 2x bound is applied to max(baseline p99, floor).
 */
const P99_FLOOR_MS = 4;

const dir = mkdtempSync(join(tmpdir(), "warren-fair-"));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

function p99(samples: number[]): number {
  const s = [...samples].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))]!;
}

/** B's steady load: one request every 10 ms, alternating a point read and a one-key write. */
async function runB(kv: KvHttpClient, ms: number): Promise<number[]> {
  const lat: number[] = [];
  const end = performance.now() + ms;
  let i = 0;
  while (performance.now() < end) {
    const t0 = performance.now();
    const key = tkey(B, `steady/${i % 100}`);
    const res =
      i % 2 === 0
        ? await kv.send({ type: "read", readTs: null, ops: [{ op: "get", key }] })
        : await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key, value: bytes(`v${i}`) }] });
    const dt = performance.now() - t0;
    if (res.type === "error") throw new Error(`tenant B got ${res.error.code}: ${res.error.message}`);
    lat.push(dt);
    i++;
    const wait = B_INTERVAL_MS - dt;
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return lat;
}

describe("fairness between tenants", () => {
  it("keeps B's p99 within 2x while A floods, and rate limits A", async () => {
    const started = await spawnStorageNode(dir, SECRET, LIMITS);
    child = started.child;
    const b = await KvHttpClient.forTenant(started.url, SECRET, B);
    await runB(b, 1000); // warm up connections and JIT

    const flood = new Worker(new URL("./testing/flood-worker.ts", import.meta.url), {
      workerData: {
        url: started.url,
        token: await mintTenantToken(SECRET, { tenantId: A, expiresAtMs: Date.now() + 600_000 }),
        tenantId: A,
        concurrency: FLOOD_CONNECTIONS,
        putsPerBatch: 20,
      },
    });
    const floodDone = new Promise<Record<string, number>>((resolve, reject) => {
      flood.once("message", resolve);
      flood.once("error", reject);
    });
    flood.postMessage("pause");
    const floodStartedMs = performance.now();
    // Alternate windows without and with the flood, so drift in the shared machine's load (other
    // processes, disk) lands on both sides of the comparison.
    const baseline: number[] = [];
    const flooded: number[] = [];
    for (let w = 0; w < WINDOWS; w++) {
      baseline.push(...(await runB(b, WINDOW_MS)));
      flood.postMessage("resume");
      await new Promise((r) => setTimeout(r, 700)); // A's burst is spent and its queue fills
      flooded.push(...(await runB(b, WINDOW_MS)));
      flood.postMessage("pause");
      await new Promise((r) => setTimeout(r, 1200)); // parked requests drain before the next baseline
    }
    flood.postMessage("stop");
    const counts = await floodDone;
    const floodSeconds = (performance.now() - floodStartedMs) / 1000;
    await flood.terminate();

    const sys = await KvHttpClient.forTenant(started.url, SECRET, 1);
    const stats = (await sys.json("/v1/admin/stats")).json as { tenants: Array<{ tenantId: number; rateLimited: number; requestUnits: number }> };
    sys.close();
    b.close();
    const statA = stats.tenants.find((t) => t.tenantId === A)!;
    const baseP99 = p99(baseline);
    const floodP99 = p99(flooded);
    const bound = 2 * Math.max(baseP99, P99_FLOOR_MS);
    console.log(
      `fairness: B p99 baseline ${baseP99.toFixed(2)} ms (${baseline.length} samples), with flood ${floodP99.toFixed(2)} ms (${flooded.length} samples), bound ${bound.toFixed(2)} ms; ` +
        `A outcomes ${JSON.stringify(counts)}, A rate_limited ${statA.rateLimited}, A RU ${Math.round(statA.requestUnits)} over ${floodSeconds.toFixed(1)} s`,
    );
    expect(counts.rate_limited ?? 0).toBeGreaterThan(0);
    expect(statA.rateLimited).toBeGreaterThan(0);
    // A got work done, at most at its rate (2000 RU/s over the time it ran, plus its burst).
    expect(counts.batch ?? 0).toBeGreaterThan(0);
    expect(statA.requestUnits).toBeLessThanOrEqual(LIMITS.tenantRuPerSecond * floodSeconds + LIMITS.tenantBurstRu);
    expect(floodP99).toBeLessThanOrEqual(bound);
  }, 120_000);
});
