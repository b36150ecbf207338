// Crash safety: the node runs as a child process (main.ts, as in production), concurrent clients
// commit multi-key transactions, and the node is killed with SIGKILL at random moments, 20 times.
// After every restart: every acknowledged commit is present, and every transaction visible at all
// is visible whole (no partial commit), and the clock never goes below a committed timestamp.
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { ReadResult } from "../common/kv-protocol/messages.ts";
import { bytes, KvHttpClient, randomTxnId, text, tkey } from "./testing/kv-client.ts";
import { spawnStorageNode } from "./testing/spawn-node.ts";

const SECRET = "crash-test-fleet-secret-0123456";
const T = 11;
const KILLS = 20;
const CLIENTS = 6;
const KEYS_PER_TXN = 5;

const children = new Set<ChildProcess>();
const dir = mkdtempSync(join(tmpdir(), "warren-crash-"));

afterAll(() => {
  for (const c of children) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

/** A node on the shared data dir, tracked so afterAll can kill it whatever happens. */
async function startChild(): Promise<{ child: ChildProcess; url: string }> {
  const started = await spawnStorageNode(dir, SECRET);
  children.add(started.child);
  started.child.on("exit", () => children.delete(started.child));
  return started;
}

const keyOf = (client: number, seq: number, i: number) => tkey(T, `p/${client}/${String(seq).padStart(6, "0")}/${i}`);

async function scanAll(kv: KvHttpClient, prefix: string): Promise<Array<{ key: string; value: string }>> {
  const out: Array<{ key: string; value: string }> = [];
  let start = tkey(T, prefix);
  const end = tkey(T, prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1));
  const r0 = await kv.send({ type: "begin" });
  if (r0.type !== "begin") throw new Error("begin failed");
  for (;;) {
    const r = await kv.send({ type: "read", readTs: r0.readTs, ops: [{ op: "scan", start, end, reverse: false, maxRows: 5000, maxBytes: 1 << 22 }] });
    if (r.type !== "read") throw new Error(`scan failed: ${JSON.stringify(r.type === "error" ? r.error : r.type)}`);
    const page = r.results[0] as Extract<ReadResult, { op: "scan" }>;
    for (const row of page.rows) out.push({ key: text(row.key.subarray(9))!, value: text(row.value)! });
    if (!page.resumeKey) return out;
    start = page.resumeKey;
  }
}

describe("crash safety under SIGKILL", () => {
  it(`keeps every acknowledged commit and shows no partial commit across ${KILLS} kills`, async () => {
    const acked = new Map<string, string>(); // "client/seq" -> value
    const nextSeq = Array.from({ length: CLIENTS }, () => 0);
    let maxAckedTs = 0n;
    let totalAcked = 0;
    let totalUnknown = 0;
    for (let round = 0; round <= KILLS; round++) {
      const { child, url } = await startChild();
      const kv = await KvHttpClient.forTenant(url, SECRET, T);
      try {
        // 1. Verify: every acknowledged transaction present with all its keys; nothing partial.
        const rows = await scanAll(kv, "p/");
        const groups = new Map<string, Map<number, string>>();
        for (const { key, value } of rows) {
          const [, client, seq, i] = key.split("/");
          const id = `${Number(client)}/${Number(seq)}`;
          let g = groups.get(id);
          if (!g) groups.set(id, (g = new Map()));
          g.set(Number(i), value);
        }
        for (const [id, g] of groups) {
          expect(g.size, `transaction ${id} is partially visible`).toBe(KEYS_PER_TXN);
          expect(new Set(g.values()).size, `transaction ${id} mixes values`).toBe(1);
        }
        for (const [id, value] of acked) {
          const g = groups.get(id);
          expect(g, `acknowledged transaction ${id} is missing after restart ${round}`).toBeDefined();
          expect(g!.get(0)).toBe(value);
        }
        // The clock restarts above every acknowledged commit.
        const b = await kv.send({ type: "begin" });
        expect(b.type === "begin" && b.readTs > maxAckedTs).toBe(true);
        if (round === KILLS) break;

        // 2. Load: concurrent clients commit until the kill.
        let killed = false;
        const client = async (c: number) => {
          while (!killed) {
            const seq = nextSeq[c]!++;
            const value = `r${round}-c${c}-s${seq}`;
            const writes = Array.from({ length: KEYS_PER_TXN }, (_, i) => ({ op: "put" as const, key: keyOf(c, seq, i), value: bytes(value) }));
            try {
              let ts: bigint | null = null;
              if (seq % 2 === 0) {
                const res = await kv.send({ type: "batch", reads: [], writes });
                if (res.type === "batch") ts = res.commitTs;
              } else {
                const beginRes = await kv.send({ type: "begin" });
                if (beginRes.type !== "begin") continue;
                const res = await kv.send({ type: "commit", txnId: randomTxnId(), readTs: beginRes.readTs, readSpans: [], writes });
                if (res.type === "commit") ts = res.commitTs;
              }
              if (ts !== null) {
                acked.set(`${c}/${seq}`, value);
                totalAcked++;
                if (ts > maxAckedTs) maxAckedTs = ts;
              }
            } catch {
              totalUnknown++; // connection died with the node: outcome unknown, may or may not be applied
              return;
            }
          }
        };
        const load = Promise.all(Array.from({ length: CLIENTS }, (_, c) => client(c)));
        await new Promise((r) => setTimeout(r, 60 + Math.floor(Math.random() * 340)));
        killed = true;
        child.kill("SIGKILL");
        await load;
        await new Promise<void>((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once("exit", () => r())));
      } finally {
        kv.close();
        if (round === KILLS) child.kill("SIGTERM");
      }
    }
    console.log(`crash test: ${KILLS} SIGKILLs, ${totalAcked} acknowledged commits all present, ${totalUnknown} in flight at a kill`);
    expect(totalAcked).toBeGreaterThan(KILLS * 10);
  }, 240_000);
});
