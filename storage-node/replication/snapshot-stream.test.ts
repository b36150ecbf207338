import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LmdbEngine } from "../engine/lmdb-engine.ts";
import { EngineLog, LOG_META_APPLIED } from "./engine-log.ts";
import { applyGroupEntry } from "./group-entry.ts";
import { u64 } from "../node-keys.ts";
import { FRAME_SLACK_BYTES, SnapshotDecoder, snapshotFrames, type SnapshotEnd } from "./snapshot-stream.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempEngine(): LmdbEngine {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-snap-"));
  dirs.push(dir);
  return new LmdbEngine({ path: dir, noSync: true });
}

const key = (tag: number, i: number) => new Uint8Array([tag, ...u64(BigInt(i))]);

/** A store with node metadata, tenant versions, and a replication log of 3 entries applied through 3. */
function seeded(engine: LmdbEngine, versions: number, valueBytes: number): void {
  const log = new EngineLog(engine);
  log.setEpoch(2);
  log.append([1, 2, 3].map((seq) => ({ seq, epoch: 2, payload: new Uint8Array([seq]) })));
  engine.writeSync((w) => {
    w.put(new Uint8Array([0x01, 0x63]), u64(77n));
    for (let i = 0; i < versions; i++) w.put(key(0x74, i), new Uint8Array(valueBytes).fill(i & 255));
    w.put(LOG_META_APPLIED, u64(3n));
  });
}

function decodeAll(frames: Uint8Array[], chunkBytesMax: number, pieceBytes = 1000): { chunks: Uint8Array[]; end: SnapshotEnd } {
  const all = Buffer.concat(frames);
  const d = new SnapshotDecoder(chunkBytesMax);
  const chunks: Uint8Array[] = [];
  let end: SnapshotEnd | undefined;
  for (let at = 0; at < all.length; at += pieceBytes) {
    d.push(all.subarray(at, at + pieceBytes));
    for (let f = d.next(); f; f = d.next()) {
      if (f.kind === "chunk") chunks.push(f.payload);
      else end = f.end;
    }
  }
  if (!end) throw new Error("no end frame");
  return { chunks, end };
}

describe("snapshot stream", () => {
  it("carries every key outside the log's tags, in bounded chunks, at the applied entry", () => {
    const source = tempEngine();
    seeded(source, 300, 100);
    const reader = source.readSnapshot();
    const frames = [...snapshotFrames(reader, 4096)];
    reader.done();
    const { chunks, end } = decodeAll(frames, 4096, 777);
    expect(end).toMatchObject({ seq: 3, epoch: 2, keys: 301 });
    expect(chunks.length).toBeGreaterThan(5);
    // Each chunk's keys and values stay within the bound (group-entry framing adds 9 bytes per put).
    for (const c of chunks) expect(c.length).toBeLessThanOrEqual(4096 + 9 * 301);

    const target = tempEngine();
    target.writeSync((w) => {
      for (const c of chunks) applyGroupEntry(w, c);
    });
    const copied = [...target.range({ low: new Uint8Array([0x00]), high: new Uint8Array([0xff]) })];
    const expected = [...source.range({ low: new Uint8Array([0x00]), high: new Uint8Array([0xff]) })].filter((e) => e.key[0] !== 0x20 && e.key[0] !== 0x21);
    expect(copied).toEqual(expected);
  });

  it("reads one state while writes go on", () => {
    const source = tempEngine();
    seeded(source, 50, 10);
    const reader = source.readSnapshot();
    const frames = snapshotFrames(reader, 64);
    const first = frames.next().value!;
    source.writeSync((w) => {
      for (let i = 0; i < 50; i++) w.put(key(0x74, i), new Uint8Array([9, 9]));
      w.put(key(0x74, 1_000), new Uint8Array([1]));
    });
    const { chunks, end } = decodeAll([first, ...frames], 64);
    reader.done();
    expect(end.keys).toBe(51);
    const target = tempEngine();
    target.writeSync((w) => chunks.forEach((c) => applyGroupEntry(w, c)));
    expect(target.get(key(0x74, 1_000))).toBeUndefined();
    expect([...target.get(key(0x74, 7))!]).toEqual(new Array(10).fill(7));
  });

  it("a single entry larger than the chunk bound travels alone", () => {
    const source = tempEngine();
    seeded(source, 3, 10_000);
    const reader = source.readSnapshot();
    const { chunks, end } = decodeAll([...snapshotFrames(reader, 1_000)], 1_000);
    reader.done();
    expect(end.keys).toBe(4);
    expect(chunks.length).toBe(4); // the clock key alone (the next entry would pass the bound), then one per version
  });

  it("refuses a stream that is altered, cut short, reordered or oversized", () => {
    const source = tempEngine();
    seeded(source, 100, 50);
    const reader = source.readSnapshot();
    const frames = [...snapshotFrames(reader, 1_000)];
    reader.done();
    expect(frames.length).toBeGreaterThan(3);
    // A flipped byte in a chunk's payload: its checksum.
    const flipped = frames.map((f) => f.slice());
    flipped[1]![20]! ^= 1;
    expect(() => decodeAll(flipped, 1_000)).toThrow(/checksum/);
    // A chunk dropped (each frame is intact): the totals in the end frame.
    expect(() => decodeAll([frames[0]!, ...frames.slice(2)], 1_000)).toThrow(/do not match the end frame/);
    // Two chunks swapped: the hash over the chunks.
    expect(() => decodeAll([frames[1]!, frames[0]!, ...frames.slice(2)], 1_000)).toThrow(/do not match the end frame/);
    // Cut short: no end frame.
    expect(() => decodeAll(frames.slice(0, -1), 1_000)).toThrow(/no end frame/);
    // A length past the bound (chunk bound + slack) is refused before anything is buffered for it.
    const huge = new Uint8Array(9);
    huge[0] = 1;
    new DataView(huge.buffer).setUint32(1, 1_000 + FRAME_SLACK_BYTES + 1, false);
    const d = new SnapshotDecoder(1_000);
    d.push(huge);
    expect(() => d.next()).toThrow(/exceeds/);
    // At the bound exactly: waits for the payload.
    new DataView(huge.buffer).setUint32(1, 1_000 + FRAME_SLACK_BYTES, false);
    const e = new SnapshotDecoder(1_000);
    e.push(huge);
    expect(e.next()).toBeUndefined();
  });
});
