// Installing a snapshot pulled from a peer (snapshot-stream.ts) into this replica's LMDB, so that
// a crash at any moment leaves either the old state untouched... or a store that the next start
// wipes before it does anything else. Restartable, not resumable: a transfer cut short (either end
// killed, the link cut, a frame corrupted) starts over from an empty store. Resuming from the last
// key installed would need the sender to hold the same read snapshot across connections; a fresh
// snapshot taken after a restart is a different state, and mixing the two would install neither.
//
//   1. one transaction: the install marker (0x21 'i') — from here on the store is "being replaced"
//   2. bounded transactions: remove every key except the marker and the highest epoch accepted
//      (a replica must never forget an epoch it promised not to go below: engine-log.ts)
//   3. one transaction per chunk: its puts
//   4. after the end frame checked out (totals over every chunk): one transaction writes the log's
//      base and apply point at the snapshot's entry and removes the marker
//
// At start (clearInterruptedInstall), a store that holds the marker is cleared the same way and
// the marker removed: the replica comes up with an empty log, as after a lost disk, and the primary
// sends it a snapshot again.
import type { Engine } from "../engine/engine.ts";
import { LOG_META_EPOCH, LOG_META_TAG, writeSnapshotBase } from "./engine-log.ts";
import { applyGroupEntry } from "./group-entry.ts";
import { SnapshotDecoder, type SnapshotEnd } from "./snapshot-stream.ts";

export const INSTALL_MARKER = new Uint8Array([LOG_META_TAG, 0x69]);
/** Keys removed in one transaction while a store is cleared: bounds the time the event loop is held. */
export const CLEAR_KEYS_PER_TXN = 4_096;

const STORE_LOW = new Uint8Array([0x00]);
const STORE_HIGH = new Uint8Array([0xff]);

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
const kept = (key: Uint8Array) => equal(key, INSTALL_MARKER) || equal(key, LOG_META_EPOCH);

/** Removes every key but the marker and the highest epoch, CLEAR_KEYS_PER_TXN at a time. */
function clearStore(engine: Engine): void {
  let low = STORE_LOW;
  for (;;) {
    engine.refresh();
    const keys: Uint8Array[] = [];
    let last: Uint8Array | undefined;
    for (const { key } of engine.range({ low, high: STORE_HIGH, limit: CLEAR_KEYS_PER_TXN })) {
      last = key;
      if (!kept(key)) keys.push(key);
    }
    if (last === undefined) return;
    if (keys.length > 0) engine.writeSync((w) => keys.forEach((k) => w.remove(k)));
    const next = new Uint8Array(last.length + 1);
    next.set(last);
    low = next; // just after the last key seen (kept keys are skipped, not seen again)
  }
}

/** At start: finishes the wipe of a store whose install was cut short. True if there was one. */
export function clearInterruptedInstall(engine: Engine): boolean {
  engine.refresh();
  if (engine.get(INSTALL_MARKER) === undefined) return false;
  clearStore(engine);
  engine.writeSync((w) => w.remove(INSTALL_MARKER));
  engine.refresh();
  return true;
}

export interface InstallProgress {
  chunks: number;
  keys: number;
  bytes: number;
}

/**
 * Replaces the whole store (but the highest epoch) with the snapshot read from `body`. Resolves
 * with the end frame once the new state is durable; throws on anything wrong, leaving the marker
 * so that the next start wipes what was installed (the caller exits: replicated-node.ts).
 * `highestEpoch()` is the replica's epoch at the end (it may have risen meanwhile).
 */
export async function installSnapshot(
  engine: Engine,
  body: AsyncIterable<Uint8Array>,
  chunkBytesMax: number,
  highestEpoch: () => number,
  progress: InstallProgress = { chunks: 0, keys: 0, bytes: 0 },
): Promise<SnapshotEnd> {
  engine.writeSync((w) => w.put(INSTALL_MARKER, new Uint8Array([1])));
  clearStore(engine);
  const decoder = new SnapshotDecoder(chunkBytesMax);
  for await (const piece of body) {
    decoder.push(piece);
    for (let f = decoder.next(); f !== undefined; f = decoder.next()) {
      if (f.kind === "chunk") {
        const payload = f.payload;
        progress.keys += engine.writeSync((w) => applyGroupEntry(w, payload));
        progress.chunks++;
        progress.bytes += payload.length;
        // One chunk per turn of the event loop: a piece of the stream may hold dozens of chunks,
        // each an fsync, and the node must still answer its peers and /v1/state meanwhile.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const end = f.end;
      if (end.keys !== progress.keys) throw new Error(`snapshot stream: ${progress.keys} keys installed, the end frame says ${end.keys}`);
      engine.writeSync((w) => {
        writeSnapshotBase(w, end.seq, end.epoch, highestEpoch());
        w.remove(INSTALL_MARKER);
      });
      engine.refresh();
      return end;
    }
  }
  throw new Error(`snapshot stream ended without its end frame after ${progress.chunks} chunks`);
}

