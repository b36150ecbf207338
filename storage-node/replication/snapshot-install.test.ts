import fs from "node:fs";
import { createServer } from "node:http";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { tenantPrefix } from "../../common/tenant-prefix.ts";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { versionKey } from "../mvcc/version-key.ts";
import { u64 } from "../node-keys.ts";
import { digestOf } from "./digest.ts";
import { EngineLog, LOG_META_APPLIED } from "./engine-log.ts";
import { clearInterruptedInstall, INSTALL_MARKER, installSnapshot } from "./snapshot-install.ts";
import { snapshotFrames } from "./snapshot-stream.ts";
import { SnapshotSender } from "./snapshot-serve.ts";

const dirs: string[] = [];
const engines: LmdbEngine[] = [];
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempEngine(): LmdbEngine {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-install-"));
  dirs.push(dir);
  const e = new LmdbEngine({ path: dir, noSync: true });
  engines.push(e);
  return e;
}

const tenantKey = (tenant: number, name: string) => {
  const p = tenantPrefix(tenant);
  const k = new Uint8Array(p.length + name.length);
  k.set(p);
  k.set(new TextEncoder().encode(name), p.length);
  return k;
};

/** A source store: two tenants' versions, node metadata, a log at epoch 3 applied through 4. */
function source(): LmdbEngine {
  const e = tempEngine();
  const log = new EngineLog(e);
  log.setEpoch(3);
  log.append([1, 2, 3, 4].map((seq) => ({ seq, epoch: 3, payload: null })));
  e.writeSync((w) => {
    w.put(new Uint8Array([0x01, 0x63]), u64(99n));
    for (let i = 0; i < 400; i++) w.put(versionKey(tenantKey(1 + (i % 2), `k${i}`), BigInt(10 + i)), new Uint8Array(64).fill(i & 255));
    w.put(LOG_META_APPLIED, u64(4n));
  });
  return e;
}

async function* stream(frames: Iterable<Uint8Array>, cutAfter = Infinity): AsyncGenerator<Uint8Array> {
  let n = 0;
  for (const f of frames) {
    if (n++ >= cutAfter) throw new Error("connection reset");
    yield f;
  }
}

/** A target store with its own state: a log at epoch 5 (higher than the source's), some data. */
function target(): LmdbEngine {
  const e = tempEngine();
  const log = new EngineLog(e);
  log.setEpoch(5);
  log.append([{ seq: 1, epoch: 5, payload: null }]);
  e.writeSync((w) => w.put(tenantKey(7, "stale"), new Uint8Array([1])));
  return e;
}

describe("installing a snapshot", () => {
  it("replaces the whole store but the highest epoch; the log's base and apply point are the snapshot's entry", async () => {
    const src = source();
    const dst = target();
    const reader = src.readSnapshot();
    const end = await installSnapshot(dst, stream(snapshotFrames(reader, 2048)), 2048, () => 5);
    reader.done();
    expect(end).toMatchObject({ seq: 4, epoch: 3, keys: 401 });
    for (const scope of [{ kind: "store" }, { kind: "versions" }, { kind: "tenant", tenantId: 2 }] as const) {
      expect(digestOf(dst, scope), scope.kind).toEqual(digestOf(src, scope));
    }
    expect(digestOf(dst, { kind: "tenant", tenantId: 2 }).keys).toBe(200);
    expect(digestOf(dst, { kind: "tenant", tenantId: 7 }).keys).toBe(0);
    const log = new EngineLog(dst);
    expect([log.firstSeq(), log.lastSeq(), log.epochAt(4), log.epoch()]).toEqual([5, 4, 3, 5]);
    expect(dst.get(INSTALL_MARKER)).toBeUndefined();
  });

  it("cut short or corrupted: the marker stays, and the next start wipes the partial state but keeps the epoch", async () => {
    const src = source();
    const reader = src.readSnapshot();
    const frames = [...snapshotFrames(reader, 2048)];
    reader.done();
    const cut = target();
    await expect(installSnapshot(cut, stream(frames, 5), 2048, () => 5)).rejects.toThrow(/reset/);
    const corrupt = target();
    const bad = frames.map((f, i) => (i === frames.length - 1 ? f : f.slice()));
    bad[3]![30]! ^= 0x80;
    await expect(installSnapshot(corrupt, stream(bad), 2048, () => 5)).rejects.toThrow(/checksum/);
    for (const e of [cut, corrupt]) {
      expect(e.get(INSTALL_MARKER)).toBeDefined();
      expect(clearInterruptedInstall(e)).toBe(true);
      expect([...e.range({ low: new Uint8Array([0x00]), high: new Uint8Array([0xff]) })].length).toBe(1); // the epoch alone
      const log = new EngineLog(e);
      expect([log.lastSeq(), log.epoch()]).toEqual([0, 5]);
      expect(clearInterruptedInstall(e)).toBe(false);
    }
  });

  it("a sender serves snapshotSendsMax streams at once and answers 503 to one more", async () => {
    // 24 MiB: more than loopback socket buffers and the client's stream buffer hold, so a stream
    // that is not read stays open.
    const src = source();
    src.writeSync((w) => {
      for (let i = 0; i < 768; i++) w.put(versionKey(tenantKey(3, `big${i}`), 5n), new Uint8Array(32 * 1024).fill(7));
    });
    const sender = new SnapshotSender(src, 65536, 2, 60_000);
    const server = createServer((_req, res) => void sender.serve(res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
    try {
      // Two readers that do not read: their streams stay open (backpressure) until cancelled.
      const held = [await fetch(url), await fetch(url)];
      expect(held.map((r) => r.status)).toEqual([200, 200]);
      expect(sender.state.sending).toBe(2);
      expect(sender.sendingAt()).toBe(4); // the log keeps what follows the snapshots' entry
      expect(sender.sendingAt(Date.now() + 3_600_000)).toBe(4); // while they run, whatever the time
      const third = await fetch(url);
      expect(third.status).toBe(503);
      await third.text();
      for (const r of held) await r.body!.cancel();
      await new Promise((r) => setTimeout(r, 100));
      const dst = target();
      const fourth = await fetch(url);
      expect(fourth.status).toBe(200);
      const end = await installSnapshot(dst, fourth.body as unknown as AsyncIterable<Uint8Array>, 65536, () => 5);
      expect(end.keys).toBe(401 + 768);
      expect(digestOf(dst, { kind: "store" })).toEqual(digestOf(src, { kind: "store" }));
      expect(sender.state).toEqual({ sending: 0, sent: 1 });
      expect(sender.sendingAt()).toBe(4); // just sent: still held for holdAfterMs
      expect(sender.sendingAt(Date.now() + 60_001)).toBeUndefined();
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
