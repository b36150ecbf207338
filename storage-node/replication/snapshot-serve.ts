// The sending end of a snapshot (GET /v1/snapshot on the replication port): the state of one LMDB
// read transaction as frames (snapshot-stream.ts), written as fast as the receiver takes them and
// no faster (the socket's backpressure: at most one frame is buffered beyond what the kernel holds),
// while the node goes on applying and serving writes. At most snapshotSendsMax at once: each pins
// the pages of its state (the file grows with the writes made meanwhile) and a socket.
import type { ServerResponse } from "node:http";
import type { EngineReader } from "../engine/engine.ts";
import { appliedPosition } from "./engine-log.ts";
import { snapshotFrames } from "./snapshot-stream.ts";

export interface SnapshotSource {
  readSnapshot(): EngineReader & { done(): void };
}

export class SnapshotSender {
  private active = 0;
  private sentCount = 0;
  /** The entry of each snapshot being sent, or sent within holdAfterMs: the log keeps what follows (sendingAt). */
  private readonly holds = new Map<object, { seq: number; untilMs: number }>();
  private readonly holdAfterMs: number;
  private readonly source: SnapshotSource;
  private readonly chunkBytesMax: number;
  private readonly sendsMax: number;

  /** holdAfterMs: how long after a transfer the log still keeps the entries after its snapshot (the receiver acks and catches up). */
  constructor(source: SnapshotSource, chunkBytesMax: number, sendsMax: number, holdAfterMs: number) {
    this.holdAfterMs = holdAfterMs;
    this.source = source;
    this.chunkBytesMax = chunkBytesMax;
    this.sendsMax = sendsMax;
  }

  get state(): { sending: number; sent: number } {
    return { sending: this.active, sent: this.sentCount };
  }

  /** The lowest entry a snapshot being sent or just sent is at (replica.ts SnapshotInstaller.sendingAt). */
  sendingAt(nowMs = Date.now()): number | undefined {
    let low: number | undefined;
    for (const [key, h] of this.holds) {
      if (h.untilMs < nowMs) this.holds.delete(key);
      else low = Math.min(low ?? Infinity, h.seq);
    }
    return low;
  }

  /** Streams a snapshot to `res`; 503 (try again later) when snapshotSendsMax are already running. */
  async serve(res: ServerResponse): Promise<void> {
    if (this.active >= this.sendsMax) {
      res.writeHead(503, { "content-type": "application/json", "retry-after": "1" }).end(JSON.stringify({ error: `already sending ${this.active} snapshots` }));
      return;
    }
    this.active++;
    const reader = this.source.readSnapshot();
    const hold = { seq: appliedPosition(reader).seq, untilMs: Infinity };
    this.holds.set(hold, hold);
    let gone = false;
    const closed = new Promise<void>((resolve) => res.once("close", () => ((gone = true), resolve())));
    try {
      res.writeHead(200, { "content-type": "application/octet-stream" });
      for (const frame of snapshotFrames(reader, this.chunkBytesMax)) {
        if (gone) return;
        if (!res.write(frame)) await Promise.race([new Promise((r) => res.once("drain", r)), closed]);
      }
      if (gone) return;
      await new Promise<void>((resolve) => res.end(resolve));
      this.sentCount++;
    } finally {
      reader.done();
      this.active--;
      hold.untilMs = Date.now() + this.holdAfterMs;
    }
  }
}
