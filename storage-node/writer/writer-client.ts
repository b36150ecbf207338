// The HTTP thread's handle on the writer thread. It assigns commit timestamps (from the node's one
// clock) in posting order and tracks which commits are in flight, which gives the read side its
// snapshot rule:
//
//   a read timestamp is either a fresh clock reading when no commit is in flight, or just below
//   the oldest in-flight commit's timestamp.
//
// So every commit at or below a handed-out read timestamp is already durable and visible, and
// every commit still in flight (or still queued) lands above it: reads at that timestamp are a
// stable snapshot that no later commit can change.
import { Worker } from "node:worker_threads";
import type { Engine } from "../engine/engine.ts";
import type { HybridClock } from "../hlc.ts";
import type { ClearKey, ClearNews, MoveStep, TenantBytesUpdate, WriterConfig, WriterJob, WriterMessage, WriterReply } from "./protocol.ts";

type Ready = Extract<WriterMessage, { kind: "ready" }>;

interface Waiter {
  resolve: (r: WriterReply) => void;
  reject: (e: Error) => void;
  ts: bigint | null;
  /** A clear job: background work that may run for seconds; a shutdown does not wait for it. */
  background: boolean;
}

type NewJob =
  | { kind: "commit" | "batch"; tenantId: number; body: Uint8Array }
  | { kind: "txnWrite" | "abortTxn"; tenantId: number; body: Uint8Array }
  | { kind: "gc"; thresholdTs: bigint }
  | { kind: "drop"; tenantId: number }
  | { kind: "clear"; key: ClearKey }
  | { kind: "counters"; entries: Array<[number, Uint8Array]> }
  | { kind: "move"; step: MoveStep }
  | { kind: "purge"; tenantId: number };


export class WriterClient {
  private readonly worker: Worker;
  private readonly clock: HybridClock;
  private readonly engine: Engine;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private queued: Array<{ job: NewJob; id: number }> = [];
  private flushScheduled = false;
  /** Commit timestamps posted and not yet answered, ascending (answers come back in order). */
  private inFlightTs: bigint[] = [];
  private inFlightHead = 0;
  private visibleWaiters: Array<{ ts: bigint; resolve: () => void }> = [];
  private closed = false;
  onBytes: (update: TenantBytesUpdate) => void = () => {};
  /** Clear records added, finished or forgotten; runs before any reply of the same message settles. */
  onClears: (news: ClearNews) => void = () => {};
  onFatal: (err: Error) => void = () => {};

  private constructor(worker: Worker, clock: HybridClock, engine: Engine) {
    this.worker = worker;
    this.clock = clock;
    this.engine = engine;
  }

  /**
   * A writer thread started ahead of need, with its code loaded but no store opened: `start` with
   * it skips the thread's start and module loading, which took 1–4 s on a loaded 2-core machine
   * (an empty worker thread alone 0.8–1.2 s there), the bulk of a new leaseholder's KV service start.
   */
  static standby(): Worker {
    return new Worker(new URL("./writer-worker.ts", import.meta.url), { workerData: { standby: true } });
  }

  static start(config: WriterConfig, clock: HybridClock, engine: Engine, standby?: Worker): Promise<{ client: WriterClient; ready: Ready }> {
    const worker = standby ?? new Worker(new URL("./writer-worker.ts", import.meta.url), { workerData: config });
    if (standby) standby.postMessage({ kind: "start", config });
    const client = new WriterClient(worker, clock, engine);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on("message", (msg: WriterMessage) => {
        if (msg.kind === "ready") {
          started = true;
          resolve({ client, ready: msg });
        } else {
          client.onMessage(msg);
        }
      });
      worker.on("error", (err) => {
        if (!started) reject(err);
        else client.fail(err);
      });
      worker.on("exit", (code) => {
        if (!started) reject(new Error(`writer thread exited with code ${code} before it was ready`));
        else if (!client.closed) client.fail(new Error(`writer thread exited with code ${code}`));
      });
    });
  }

  private fail(err: Error): void {
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
    this.onFatal(err);
  }

  /** A read timestamp at which every commit is settled (see the file comment). */
  readTimestamp(): bigint {
    if (this.inFlightHead < this.inFlightTs.length) return this.inFlightTs[this.inFlightHead]! - 1n;
    return this.clock.next();
  }

  /** Resolves once every commit at or below ts is answered (and so visible). */
  waitVisible(ts: bigint): Promise<void> | null {
    if (this.inFlightHead >= this.inFlightTs.length || this.inFlightTs[this.inFlightHead]! > ts) return null;
    return new Promise((resolve) => this.visibleWaiters.push({ ts, resolve }));
  }

  submit(job: NewJob): Promise<WriterReply> {
    if (this.closed) return Promise.reject(new Error("storage node is shutting down"));
    const id = this.nextId++;
    const p = new Promise<WriterReply>((resolve, reject) => this.waiters.set(id, { resolve, reject, ts: null, background: job.kind === "clear" }));
    if (job.kind === "clear") this.backgroundJobs++;
    this.queued.push({ job, id });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Requests parsed in the same event-loop turn travel (and commit) together.
      setImmediate(() => this.flush());
    }
    return p;
  }

  private flush(): void {
    this.flushScheduled = false;
    const queued = this.queued;
    this.queued = [];
    for (const { job, id } of queued) {
      let msg: WriterJob;
      if (job.kind === "commit" || job.kind === "batch") {
        const commitTs = this.clock.next();
        this.inFlightTs.push(commitTs);
        this.waiters.get(id)!.ts = commitTs;
        msg = { kind: job.kind, id, tenantId: job.tenantId, commitTs, body: job.body };
      } else if (job.kind === "txnWrite" || job.kind === "abortTxn") {
        // No versions are written: no commit timestamp, so snapshots never wait for these.
        msg = { kind: job.kind, id, tenantId: job.tenantId, commitTs: 0n, body: job.body };
      } else if (job.kind === "gc") {
        msg = { kind: "gc", id, thresholdTs: job.thresholdTs };
      } else if (job.kind === "drop") {
        msg = { kind: "drop", id, tenantId: job.tenantId };
      } else if (job.kind === "clear") {
        msg = { kind: "clear", id, key: job.key };
      } else if (job.kind === "counters") {
        msg = { kind: "counters", id, entries: job.entries };
      } else if (job.kind === "move") {
        msg = { kind: "move", id, step: job.step };
      } else if (job.kind === "purge") {
        msg = { kind: "purge", id, tenantId: job.tenantId };
      } else {
        throw new Error(`invariant: unknown writer job ${(job as { kind: string }).kind}`);
      }
      this.worker.postMessage(msg);
    }
  }

  private settle(id: number, settleFn: (w: Waiter) => void): void {
    const w = this.waiters.get(id);
    if (!w) return;
    this.waiters.delete(id);
    if (w.background) this.backgroundJobs--;
    if (w.ts !== null) {
      // Answers arrive in posting order, so the answered commit is the oldest in flight.
      this.inFlightHead++;
      if (this.inFlightHead > 1024 && this.inFlightHead * 2 > this.inFlightTs.length) {
        this.inFlightTs = this.inFlightTs.slice(this.inFlightHead);
        this.inFlightHead = 0;
      }
    }
    settleFn(w);
  }

  private onMessage(msg: WriterMessage): void {
    if (msg.kind === "ready") return;
    // The writer committed: make this thread's reads see it before anyone learns of the commit.
    this.engine.refresh();
    if (msg.bytes.length > 0) this.onBytes(msg.bytes);
    // A commit that cleared a span is answered only after this thread's index has its record, so
    // reads below its timestamp are refused from before anyone can learn of the commit (and the
    // writer deletes nothing of the span until this thread posts the clear job).
    if (msg.clears !== undefined) this.onClears(msg.clears);
    if (msg.kind === "done") {
      for (const r of msg.replies) this.settle(r.id, (w) => w.resolve(r));
    } else {
      const err = new Error(`storage write failed: ${msg.message}`);
      for (const id of msg.ids) this.settle(id, (w) => w.reject(err));
    }
    if (this.visibleWaiters.length > 0) {
      const oldest = this.inFlightHead < this.inFlightTs.length ? this.inFlightTs[this.inFlightHead]! : null;
      const still: typeof this.visibleWaiters = [];
      for (const v of this.visibleWaiters) {
        if (oldest === null || oldest > v.ts) v.resolve();
        else still.push(v);
      }
      this.visibleWaiters = still;
    }
  }

  private backgroundJobs = 0;

  /** Jobs posted and not answered, clear jobs excepted (they resume after a restart anyway). */
  get inFlight(): number {
    return this.waiters.size - this.backgroundJobs;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.worker.terminate();
  }
}
