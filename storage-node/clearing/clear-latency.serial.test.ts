// Serial (it measures latency): while the node deletes a big cleared span of tenant A in the
// background, tenant B's small commits keep a bounded latency. The clear runs in steps of
// clearChunkKeysMax versions with a pause between them, and every commit queued during a step
// runs before the next one, so a commit waits at most about one step. For contrast the same run
// measures B while A commits one 100,000-key batch, the stall one big write transaction causes
// (what a single deleteRange of the whole span would cost, times the span's size).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WriteOp } from "../../common/kv-protocol/messages.ts";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { spawnStorageNode } from "../testing/spawn-node.ts";
import { bytes, KvHttpClient, tkey } from "../testing/kv-client.ts";

const SECRET = "clear-latency-fleet-secret-0123";
const A = 40;
const B = 41;
const KEYS = 400_000;

let dir: string;
let child: ChildProcess;
let a: KvHttpClient;
let b: KvHttpClient;
let sys: KvHttpClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warren-clear-lat-"));
  const node = await spawnStorageNode(dir, SECRET, { tenantRuPerSecond: 10_000_000, tenantBurstRu: 10_000_000 });
  child = node.child;
  a = await KvHttpClient.forTenant(node.url, SECRET, A);
  b = await KvHttpClient.forTenant(node.url, SECRET, B);
  sys = await KvHttpClient.forTenant(node.url, SECRET, SYSTEM_TENANT_ID);
  for (let at = 0; at < KEYS; at += 100_000) {
    const writes: WriteOp[] = Array.from({ length: 100_000 }, (_, i) => ({ op: "put", key: tkey(A, `big/${String(at + i).padStart(7, "0")}`), value: bytes(`row ${at + i} with some padding`) }));
    const r = await a.send({ type: "batch", reads: [], writes });
    if (r.type !== "batch") throw new Error(`load failed: ${JSON.stringify(r)}`);
  }
}, 300_000);

afterAll(async () => {
  for (const c of [a, b, sys]) c?.close();
  child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** B's single-put commits, back to back, until `stop` resolves; returns their latencies in ms. */
async function commitsUntil(stop: Promise<unknown>): Promise<number[]> {
  let done = false;
  void stop.then(() => (done = true));
  const out: number[] = [];
  for (let i = 0; !done; i++) {
    const t0 = performance.now();
    const r = await b.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(B, `k/${i % 100}`), value: bytes(`v${i}`) }] });
    out.push(performance.now() - t0);
    if (r.type !== "batch") throw new Error(`B's commit failed: ${JSON.stringify(r)}`);
  }
  return out;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))]!;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a big clear and another tenant's commits", () => {
  it(`B's commit latency while ${KEYS} versions of A are deleted stays close to its latency without it`, async () => {
    const quiet = await commitsUntil(sleep(2500));
    const t0 = performance.now();
    const cleared = (async () => {
      const r = await a.send({ type: "batch", reads: [], writes: [{ op: "clearRange", start: tkey(A, "big/"), end: tkey(A, "big0") }] });
      if (r.type !== "batch") throw new Error(`clear failed: ${JSON.stringify(r)}`);
      for (;;) {
        const stats = (await sys.json("/v1/admin/stats")).json;
        if (stats.node.clearsPending === 0) return;
        await sleep(50);
      }
    })();
    const during = await commitsUntil(cleared);
    const clearMs = performance.now() - t0;
    // Quiet again, so the baseline spans the same stretch of machine load.
    quiet.push(...(await commitsUntil(sleep(2500))));
    // Contrast: one 100,000-key write transaction of A.
    const bigWrite = a.send({ type: "batch", reads: [], writes: Array.from({ length: 100_000 }, (_, i): WriteOp => ({ op: "put", key: tkey(A, `w/${i}`), value: bytes("x") })) });
    const stalled = await commitsUntil(bigWrite);
    const line = (name: string, xs: number[]) => `${name}: n=${xs.length} p50=${pct(xs, 50).toFixed(1)} p99=${pct(xs, 99).toFixed(1)} max=${Math.max(...xs).toFixed(1)} ms`;
    console.log(`clear of ${KEYS} versions took ${clearMs.toFixed(0)} ms`);
    console.log(line("B, quiet", quiet));
    console.log(line("B, during the clear", during));
    console.log(line("B, during one 100k-key commit of A", stalled));
    expect((await sys.json(`/v1/admin/span-versions?tenantId=${A}&start=${Buffer.from(tkey(A, "big/")).toString("hex")}&end=${Buffer.from(tkey(A, "big0")).toString("hex")}`)).json.versions).toBe(0);
    expect(during.length).toBeGreaterThan(10);
    // Bounded: B's median and p99 during the clear within 2x / 3x its quiet ones (plus slack for a
    // loaded 2-core machine: about one step), and no commit of B waits anywhere near a big write
    // transaction's stall.
    expect(pct(during, 50)).toBeLessThan(2 * pct(quiet, 50) + 20);
    expect(pct(during, 99)).toBeLessThan(3 * pct(quiet, 99) + 50);
    expect(Math.max(...during)).toBeLessThan(Math.max(250, Math.max(...stalled) / 2));
  }, 300_000);
});
