// Garbage collection on the writer core, on a real LMDB engine: a pass visits only keys that have
// garbage (the GC queue), not every version; it keeps exactly what snapshots at or above the
// threshold can see; it runs in pages with a resume key; the threshold is persisted with the first
// page (a crash mid-pass restarts refusing reads below it); stores written before the queue
// existed are collected by full scans.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { encodeRequest } from "../../common/kv-protocol/codec.ts";
import type { WriteOp } from "../../common/kv-protocol/messages.ts";
import type { Engine, EngineReader, EngineWriter, RangeOptions } from "../engine/engine.ts";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { resolveLimits } from "../limits.ts";
import { encodeVersionValue, userKeyOf, versionKey } from "../mvcc/version-key.ts";
import { GC_QUEUE_TAG, META_MAX_COMMIT_TS, u64, VERSIONS_HIGH, VERSIONS_LOW } from "../node-keys.ts";
import { tkey } from "../testing/kv-client.ts";
import { WriterCore } from "./writer-core.ts";

const T = 5;
const dirs: string[] = [];
const engines: LmdbEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The engine, counting every entry any range hands out (reads inside write transactions too). */
function counting(engine: Engine): Engine & { entries: number } {
  const wrap = <R extends EngineReader>(r: R, c: { entries: number }) => (o: RangeOptions) => {
    const inner = r.range(o);
    return {
      *[Symbol.iterator]() {
        for (const e of inner) {
          c.entries++;
          yield e;
        }
      },
    };
  };
  const c = {
    entries: 0,
    get: (k: Uint8Array) => engine.get(k),
    range: (o: RangeOptions) => wrap(engine, c)(o),
    writeSync<X>(fn: (w: EngineWriter) => X): X {
      return engine.writeSync((w) => fn({ get: (k) => w.get(k), range: wrap(w, c), put: (k, v) => w.put(k, v), remove: (k) => w.remove(k) }));
    },
    refresh: () => engine.refresh(),
    close: () => engine.close(),
  };
  return c;
}

function openEngine(dir?: string): { dir: string; engine: LmdbEngine } {
  const d = dir ?? mkdtempSync(join(tmpdir(), "warren-gc-"));
  if (!dir) dirs.push(d);
  const engine = new LmdbEngine({ path: d, noSync: true });
  engines.push(engine);
  return { dir: d, engine };
}

let jobId = 1;
function commit(core: WriterCore, commitTs: bigint, writes: WriteOp[]): void {
  const msg = core.runGroup([{ kind: "batch", id: jobId++, tenantId: T, commitTs, body: encodeRequest({ type: "batch", reads: [], writes }) }]);
  if (msg.kind !== "done" || !msg.replies[0]!.ok) throw new Error(`commit failed: ${JSON.stringify(msg)}`);
}

/** Every version as "key@ts" (or "key@ts-" for a tombstone). */
function versions(engine: EngineReader): string[] {
  const out: string[] = [];
  for (const e of engine.range({ low: VERSIONS_LOW, high: VERSIONS_HIGH })) {
    const key = new TextDecoder().decode(userKeyOf(e.key).subarray(9));
    const ts = (1n << 64n) - 1n - new DataView(e.key.buffer, e.key.byteOffset + e.key.length - 8, 8).getBigUint64(0);
    out.push(`${key}@${ts}${e.value[0] === 1 ? "-" : ""}`);
  }
  return out;
}

function queueSize(engine: EngineReader): number {
  let n = 0;
  for (const _ of engine.range({ low: new Uint8Array([GC_QUEUE_TAG]), high: new Uint8Array([GC_QUEUE_TAG + 1]) })) n++;
  return n;
}

function gcPass(core: WriterCore, threshold: bigint): { removed: number; steps: number } {
  let cursor: Uint8Array | null = null;
  let removed = 0;
  let steps = 0;
  do {
    const s = core.gcStep(threshold, cursor);
    removed += s.removed;
    cursor = s.cursor;
    steps++;
  } while (cursor !== null && steps < 10_000);
  return { removed, steps };
}

const put = (k: string, v = "v"): WriteOp => ({ op: "put", key: tkey(T, k), value: new TextEncoder().encode(v) });
const del = (k: string): WriteOp => ({ op: "delete", key: tkey(T, k) });

describe("MVCC garbage collection on the writer", () => {
  it("visits only keys with garbage, however many keys have none", () => {
    const { engine } = openEngine();
    const eng = counting(engine);
    const core = new WriterCore(eng, resolveLimits({}));
    for (let b = 0; b < 3; b++) commit(core, BigInt(10 + b), Array.from({ length: 1000 }, (_, i) => put(`cold/${b}/${String(i).padStart(4, "0")}`)));
    commit(core, 100n, [put("hot/a", "1"), put("hot/b", "1"), put("gone", "x")]);
    commit(core, 200n, [put("hot/a", "2"), put("hot/b", "2")]);
    commit(core, 300n, [put("hot/a", "3"), del("gone")]);
    expect(queueSize(engine)).toBe(4); // a@200, b@200, a@300, gone@300
    eng.entries = 0;
    const { removed } = gcPass(core, 1000n);
    // gone: value and tombstone; hot/a: two old versions; hot/b: one.
    expect(removed).toBe(5);
    // Four queue entries, the versions of three keys and the commit-record range: nowhere near 3,000.
    expect(eng.entries).toBeLessThan(30);
    const left = versions(engine);
    expect(left.filter((v) => v.startsWith("hot/") || v.startsWith("gone"))).toEqual(["hot/a@300", "hot/b@200"]);
    expect(left.filter((v) => v.startsWith("cold/"))).toHaveLength(3000);
    expect(queueSize(engine)).toBe(0);
  });

  it("keeps what snapshots at or above the threshold see, and queues the rest for later passes", () => {
    const { engine } = openEngine();
    const core = new WriterCore(engine, resolveLimits({}));
    commit(core, 100n, [put("k", "1")]);
    commit(core, 200n, [put("k", "2")]);
    commit(core, 300n, [put("k", "3")]);
    commit(core, 400n, [del("k")]);
    gcPass(core, 250n);
    // A snapshot at 250 sees 200; 100 is invisible to all. 300 and 400 are above the threshold.
    expect(versions(engine)).toEqual(["k@400-", "k@300", "k@200"]);
    expect(queueSize(engine)).toBe(2);
    gcPass(core, 350n);
    expect(versions(engine)).toEqual(["k@400-", "k@300"]);
    gcPass(core, 400n);
    // The newest version at or below 400 is a tombstone: the key is gone for every snapshot.
    expect(versions(engine)).toEqual([]);
    expect(queueSize(engine)).toBe(0);
  });

  it("runs in bounded pages with a resume key, persisting the threshold with the first page", () => {
    const { dir, engine } = openEngine();
    const core = new WriterCore(engine, resolveLimits({ gcBatchEntriesMax: 10 }));
    for (let round = 0; round < 3; round++) {
      commit(core, BigInt(100 + round), Array.from({ length: 40 }, (_, i) => put(`p/${String(i).padStart(2, "0")}`, String(round))));
    }
    const first = core.gcStep(500n, null);
    expect(first.cursor).not.toBeNull();
    // A node restarting now (as after a crash mid-pass) refuses reads below 500.
    const restarted = new WriterCore(engine, resolveLimits({}));
    const ready = restarted.readyMessage();
    expect(ready.kind === "ready" && ready.gcThresholdTs).toBe(500n);
    let steps = 1;
    let removed = first.removed;
    for (let cursor = first.cursor; cursor !== null; steps++) {
      const s = core.gcStep(500n, cursor);
      removed += s.removed;
      cursor = s.cursor;
    }
    expect(steps).toBeGreaterThan(3);
    expect(removed).toBe(80);
    expect(versions(engine)).toHaveLength(40);
    expect(versions(engine).every((v) => v.endsWith("@102"))).toBe(true);
    void dir;
  });

  it("collects a store written before the GC queue existed with full scans, then stops scanning", async () => {
    const { dir, engine } = openEngine();
    // An older node's store: versions and the max commit ts, no queue and no queue marker.
    engine.writeSync((w) => {
      for (let i = 0; i < 50; i++) {
        const key = tkey(T, `old/${String(i).padStart(2, "0")}`);
        w.put(versionKey(key, 10n), encodeVersionValue(new Uint8Array([1])));
        w.put(versionKey(key, 20n), encodeVersionValue(new Uint8Array([2])));
      }
      w.put(META_MAX_COMMIT_TS, u64(20n));
    });
    engine.refresh();
    const core = new WriterCore(engine, resolveLimits({}));
    // Garbage whose shadowing version is above this threshold is not collectable yet, and a pass
    // below the queue start does not end the full scans.
    gcPass(core, 15n);
    expect(versions(engine)).toHaveLength(100);
    commit(core, 30n, [put("new/k", "1")]);
    commit(core, 40n, [put("new/k", "2")]);
    expect(gcPass(core, 50n).removed).toBe(51);
    expect(versions(engine)).toHaveLength(51);
    // Full scans are over: a later pass reads the queue only.
    const eng = counting(engine);
    const again = new WriterCore(eng, resolveLimits({}));
    for (let i = 0; i < 5; i++) commit(again, BigInt(60 + i), [put("new/k", String(i))]);
    eng.entries = 0;
    expect(gcPass(again, 100n).removed).toBe(5);
    expect(eng.entries).toBeLessThan(20);
    await engine.close();
    engines.splice(engines.indexOf(engine), 1);
    // Reopened, the marker says the queue covers everything: no full scan.
    const reopened = openEngine(dir).engine;
    const eng2 = counting(reopened);
    const core2 = new WriterCore(eng2, resolveLimits({}));
    eng2.entries = 0;
    gcPass(core2, 200n);
    expect(eng2.entries).toBeLessThan(5);
  });
});
