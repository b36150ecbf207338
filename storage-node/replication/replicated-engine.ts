// The one seam between the writer thread and replication. The writer thread's engine is wrapped:
// each write transaction (a group commit, a GC/drop/clear step, the usage counters) runs as usual
// but is rolled back at its end, its puts and removes captured as one log entry; the entry goes to
// the replica on the node's main thread (replicated-node.ts) over a BroadcastChannel, and the writer
// thread blocks (Atomics.wait) until the replica answers: committed — then the entry has been
// applied to LMDB on this node as on every replica, and the writer's reads see it — or refused (not
// the leaseholder any more), which throws as a failed transaction would. The writer code is
// unchanged: it sees an engine whose writeSync is durable on every replica before it returns.
//
// Groups are replicated one at a time (the next group's reads must see the previous one's writes,
// which are in LMDB only once applied); group commit still batches everything that queues behind a
// replication round trip, so throughput stays up while each commit pays one round trip more.
import type { Engine, EngineWriter, RangeOptions, EngineEntry } from "../engine/engine.ts";
import { encodeGroupEntry, recordingWriter, type GroupOp } from "./group-entry.ts";

/** What the writer thread posts on the channel. */
export interface ProposeRequest {
  entry: Uint8Array;
  /** Int32[0]: 0 pending, 1 committed and applied here, 2 refused. */
  flag: SharedArrayBuffer;
}

export const FLAG_PENDING = 0;
export const FLAG_COMMITTED = 1;
export const FLAG_REFUSED = 2;

/** Longest wait for one entry: the replica answers well before (lease, backup timeout); past it the node is stuck. */
const PROPOSE_WAIT_MS = 30_000;

export function replicationChannelName(dataDir: string): string {
  return `warren-replication:${dataDir}`;
}

const ROLLBACK = Symbol("rollback");

export class ReplicatedEngine implements Engine {
  private readonly inner: Engine;
  private readonly channel: BroadcastChannel;
  /**
   * On from the start: the writer core's own writes at load (first-start bookkeeping, aborting the
   * transactions a previous leaseholder left pending) are replicated like any other, so every
   * replica holds the same bytes. Only the leaseholder runs a writer thread.
   */
  capturing = true;

  constructor(inner: Engine, channelName: string) {
    this.inner = inner;
    this.channel = new BroadcastChannel(channelName);
    (this.channel as unknown as { unref?: () => void }).unref?.();
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.inner.get(key);
  }
  range(opts: RangeOptions): Iterable<EngineEntry> {
    return this.inner.range(opts);
  }
  refresh(): void {
    this.inner.refresh();
  }
  close(): Promise<void> {
    this.channel.close();
    return this.inner.close();
  }

  writeSync<T>(fn: (w: EngineWriter) => T): T {
    if (!this.capturing) return this.inner.writeSync(fn);
    const ops: GroupOp[] = [];
    let result!: T;
    try {
      this.inner.writeSync((w) => {
        result = fn(recordingWriter(w, ops));
        throw ROLLBACK; // nothing is written here: the replica applies the entry once committed
      });
    } catch (err) {
      if (err !== ROLLBACK) throw err;
    }
    if (ops.length === 0) return result;
    const flag = new SharedArrayBuffer(4);
    const cell = new Int32Array(flag);
    this.channel.postMessage({ entry: encodeGroupEntry(ops), flag } satisfies ProposeRequest);
    Atomics.wait(cell, 0, FLAG_PENDING, PROPOSE_WAIT_MS);
    const state = Atomics.load(cell, 0);
    if (state !== FLAG_COMMITTED) {
      throw new Error(state === FLAG_REFUSED ? "not the leaseholder: the write was not committed" : "replication did not answer in time");
    }
    this.inner.refresh();
    return result;
  }
}
