// The writer: the only code that writes to the engine. It runs on its own thread (writer-worker.ts)
// and processes jobs in groups: every commit and batch queued while the previous group was being
// fsync'd is applied in ONE engine transaction (group commit), each job checked and applied
// separately (mvcc/apply.ts) so a refused job writes nothing. Garbage collection, tenant drops and
// the deletion of cleared spans (clearing/) run as separate, bounded transactions between groups.
import { decodeRequest, encodeResponse } from "../../common/kv-protocol/codec.ts";
import type { KvResponse } from "../../common/kv-protocol/messages.ts";
import { tenantOfKey, tenantSpan } from "../../common/tenant-prefix.ts";
import { ClearedSpans, type ClearRecord } from "../clearing/cleared-spans.ts";
import { clearStep } from "../clearing/clear-step.ts";
import type { Engine, EngineWriter } from "../engine/engine.ts";
import { wallMsOf } from "../hlc.ts";
import type { StorageLimits } from "../limits.ts";
import { applyBatch, applyCommit, TenantBytesTable, type ApplyResult } from "../mvcc/apply.ts";
import { decodeVersionValue, escapedBound, userKeyOf, versionBounds, versionTs } from "../mvcc/version-key.ts";
import {
  allWithTag,
  CLEAR_RECORD_TAG,
  clearRecordKey,
  decodeClearRecord,
  gcQueueUpTo,
  gcQueueUserKey,
  clearRecordValue,
  META_GC_QUEUE_SINCE,
  META_GC_THRESHOLD,
  META_MAX_COMMIT_TS,
  readU64,
  TENANT_DROPPED_TAG,
  TENANT_MOVED_TAG,
  TENANT_STATS_TAG,
  tenantCountersKey,
  tenantDroppedKey,
  tenantStatsKey,
  txnRecordKey,
  txnRecordsBelow,
  u64,
  VERSIONS_HIGH,
  VERSIONS_LOW,
} from "../node-keys.ts";
import { abortedRecordsBefore, abortTxn, collectIntents, pendingTxns, removeCollected, txnStatus, writeIntents } from "../txn/intents.ts";
import { txnStatusKey } from "../node-keys.ts";
import { adoptTenant, checkTenantDigest, fenceTenant, importTenantOps, MoveRefused, movedMarker, purgeTenantStep, tenantHasState } from "../moves/move-steps.ts";
import type { ClearKey, ClearNews, MoveStep, TenantBytesUpdate, WriterJob, WriterMessage, WriterReply } from "./protocol.ts";

type DataJob = Extract<WriterJob, { kind: "commit" | "batch" | "txnWrite" | "abortTxn" }>;

function keyIdOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

/** Test hooks: a throw from one aborts that step's LMDB transaction, as a crash there would. */
export interface WriterFaults {
  /** Inside a clear step's write transaction, after its removals, before it commits. */
  beforeClearCommit?: (rec: ClearRecord, removed: number) => void;
}

export class WriterCore {
  private readonly engine: Engine;
  private readonly limits: StorageLimits;
  private readonly bytes = new TenantBytesTable();
  private maxCommitTs = 0n;
  private gcThresholdTs = 0n;
  /** Non-zero while GC passes must scan every version (see META_GC_QUEUE_SINCE). */
  private gcQueueSince = 0n;
  private readonly dropped = new Set<number>();
  /**
   * Tenants this node does not serve (moved away, or arriving): their jobs are refused, and GC,
   * clears and record expiry leave their keys alone, so the state a move copies (and checks by
   * digest) changes only by the move's own steps until the target adopts it.
   */
  private readonly moved = new Set<number>();
  private readonly nowMs: () => number;
  /** Spans cleared and not yet forgotten: refuses writes into them, checks commits' read spans. */
  readonly cleared = new ClearedSpans();
  private news: ClearNews = { added: [], done: [], expired: [] };
  private readonly faults: WriterFaults;

  constructor(engine: Engine, limits: StorageLimits, nowMs: () => number = Date.now, faults: WriterFaults = {}) {
    this.engine = engine;
    this.limits = limits;
    this.nowMs = nowMs;
    this.faults = faults;
    const c = engine.get(META_MAX_COMMIT_TS);
    if (c) this.maxCommitTs = readU64(c);
    const g = engine.get(META_GC_THRESHOLD);
    if (g) this.gcThresholdTs = readU64(g);
    const q = engine.get(META_GC_QUEUE_SINCE);
    if (q) {
      this.gcQueueSince = readU64(q);
    } else {
      // First start with the GC queue: every commit from now on is queued. Versions written before
      // (a store from an older node) are collected by full scans until one completes above this.
      let any = false;
      for (const _ of engine.range({ low: VERSIONS_LOW, high: VERSIONS_HIGH, limit: 1 })) any = true;
      this.gcQueueSince = any ? (this.maxCommitTs > 0n ? this.maxCommitTs : 1n) : 0n;
      const since = this.gcQueueSince;
      engine.writeSync((w) => w.put(META_GC_QUEUE_SINCE, u64(since)));
    }
    const stats = allWithTag(TENANT_STATS_TAG);
    for (const e of engine.range({ low: stats.low, high: stats.high })) {
      const view = new DataView(e.value.buffer, e.value.byteOffset, e.value.byteLength);
      const t = this.bytes.entry(Number(readU64(e.key, 1)));
      t.liveBytes = view.getFloat64(0, false);
      t.mvccBytes = view.getFloat64(8, false);
    }
    const dropped = allWithTag(TENANT_DROPPED_TAG);
    for (const e of engine.range({ low: dropped.low, high: dropped.high })) this.dropped.add(Number(readU64(e.key, 1)));
    const moved = allWithTag(TENANT_MOVED_TAG);
    for (const e of engine.range({ low: moved.low, high: moved.high })) this.moved.add(Number(readU64(e.key, 1)));
    const clears = allWithTag(CLEAR_RECORD_TAG);
    for (const e of engine.range({ low: clears.low, high: clears.high })) this.cleared.add(decodeClearRecord(e.key, e.value));
    // Locks live in the HTTP thread's memory and died with the last process: every transaction
    // still pending on disk lost them, so it is aborted now (its gateway learns it at its next
    // request or commit: transaction_aborted, 40001) and its intents are removed.
    const pending = pendingTxns(engine);
    if (pending.length > 0) {
      engine.writeSync((w) => {
        for (const p of pending) this.abortedAtStart += abortTxn(w, p.tenantId, p.txnId, this.nowMs());
      });
    }
  }

  /** Intents removed at start (transactions left pending by the previous process). */
  abortedAtStart = 0;

  readyMessage(): Extract<WriterMessage, { kind: "ready" }> {
    return {
      kind: "ready",
      maxCommitTs: this.maxCommitTs,
      gcThresholdTs: this.gcThresholdTs,
      droppedTenants: [...this.dropped],
      movedTenants: [...this.moved],
      bytes: [...this.bytes.byTenant].map(([t, b]) => [t, b.liveBytes, b.mvccBytes]),
      clears: this.cleared.all(),
    };
  }

  /** Clear records added, finished or forgotten since the last call (for the HTTP thread's index). */
  takeClearNews(): ClearNews | undefined {
    const n = this.news;
    if (n.added.length === 0 && n.done.length === 0 && n.expired.length === 0) return undefined;
    this.news = { added: [], done: [], expired: [] };
    return n;
  }

  private takeDirtyBytes(): TenantBytesUpdate {
    const out: TenantBytesUpdate = [];
    for (const t of this.bytes.dirty) {
      const b = this.bytes.entry(t);
      out.push([t, b.liveBytes, b.mvccBytes]);
    }
    this.bytes.dirty.clear();
    return out;
  }

  private persistDirtyBytes(w: EngineWriter): void {
    for (const t of this.bytes.dirty) {
      const b = this.bytes.entry(t);
      const v = new Uint8Array(16);
      const view = new DataView(v.buffer);
      view.setFloat64(0, b.liveBytes, false);
      view.setFloat64(8, b.mvccBytes, false);
      w.put(tenantStatsKey(t), v);
    }
  }

  /** Re-reads counters from disk after a failed transaction left the in-memory copy ahead of it. */
  private reloadBytes(tenants: Iterable<number>): void {
    for (const t of tenants) {
      const v = this.engine.get(tenantStatsKey(t));
      const e = this.bytes.entry(t);
      if (v) {
        const view = new DataView(v.buffer, v.byteOffset, v.byteLength);
        e.liveBytes = view.getFloat64(0, false);
        e.mvccBytes = view.getFloat64(8, false);
      } else {
        e.liveBytes = 0;
        e.mvccBytes = 0;
      }
    }
  }

  /** Applies a group of commits/batches in one durable transaction. */
  runGroup(jobs: DataJob[]): WriterMessage {
    const clearsAdded: ClearRecord[] = [];
    try {
      const replies = this.engine.writeSync((w) => {
        const out: WriterReply[] = [];
        let maxTs = this.maxCommitTs;
        for (const job of jobs) {
          out.push(this.runJob(w, job, clearsAdded));
          if (job.commitTs > maxTs) maxTs = job.commitTs;
        }
        if (maxTs > this.maxCommitTs) w.put(META_MAX_COMMIT_TS, u64(maxTs));
        this.persistDirtyBytes(w);
        this.maxCommitTs = maxTs;
        return out;
      });
      this.news.added.push(...clearsAdded);
      return { kind: "done", replies, bytes: this.takeDirtyBytes(), clears: this.takeClearNews() };
    } catch (err) {
      // The group's records were never stored: forget them (later jobs of the group saw them, but
      // those jobs were not stored either).
      for (const r of clearsAdded) this.cleared.remove(r);
      const dirty = [...this.bytes.dirty];
      this.bytes.dirty.clear();
      this.reloadBytes(dirty);
      return {
        kind: "failed",
        ids: jobs.map((j) => j.id),
        message: err instanceof Error ? err.message : String(err),
        bytes: dirty.map((t) => [t, this.bytes.entry(t).liveBytes, this.bytes.entry(t).mvccBytes]),
      };
    }
  }

  private runJob(w: EngineWriter, job: DataJob, clearsAdded: ClearRecord[]): WriterReply {
    const req = decodeRequest(job.body);
    const ctx = { w, limits: this.limits, bytes: this.bytes, cleared: this.cleared, clearsAdded };
    const reply = (res: KvResponse, ok: boolean, r?: ApplyResult): WriterReply => ({
      id: job.id,
      response: encodeResponse(res),
      ok,
      readBytes: r?.usage.readBytes ?? 0,
      writeBytes: r?.usage.writeBytes ?? 0,
    });
    if (this.dropped.has(job.tenantId)) {
      return reply({ type: "error", error: { code: "tenant_dropped", message: `tenant ${job.tenantId} has been dropped` } }, false);
    }
    // The barrier of a move: a job posted after the fence is refused, unapplied (the edge sends it to the new shard).
    if (this.moved.has(job.tenantId)) return reply({ type: "error", error: movedError(job.tenantId) }, false);
    if (job.kind === "txnWrite") {
      if (req.type !== "txnWrite") throw new Error(`invariant: txnWrite job carries a ${req.type} request`);
      const error = writeIntents(w, job.tenantId, req, this.nowMs());
      return error === null ? reply({ type: "ack" }, true) : reply({ type: "error", error }, false);
    }
    if (job.kind === "abortTxn") {
      if (req.type !== "abort") throw new Error(`invariant: abortTxn job carries a ${req.type} request`);
      abortTxn(w, job.tenantId, req.txnId, this.nowMs());
      return reply({ type: "abort" }, true);
    }
    if (req.type === "batch") {
      const r = applyBatch(ctx, job.tenantId, req, job.commitTs);
      return r.ok
        ? reply({ type: "batch", commitTs: job.commitTs, results: r.results }, true, r)
        : reply({ type: "error", error: r.error }, false, r);
    }
    if (req.type !== "commit") throw new Error(`invariant: writer got a ${req.type} request`);
    // Idempotency: a commit retried with the same (readTs, txnId) gets the first outcome back.
    const recordKey = txnRecordKey(req.readTs, job.tenantId, req.txnId);
    const recorded = w.get(recordKey);
    if (recorded) return { id: job.id, response: recorded.slice(), ok: true, readBytes: 0, writeBytes: 0 };
    if (wallMsOf(req.readTs) + this.limits.txnDurationMsMax < this.nowMs()) {
      return reply(
        {
          type: "error",
          error: {
            code: "transaction_expired",
            message: `transaction is older than ${this.limits.txnDurationMsMax} ms (txnDurationMsMax); retry it from the start`,
          },
        },
        false,
      );
    }
    // A transaction with intents: refused if it was aborted (its intents are gone), else its
    // intents become versions at commitTs with the commit's own writes, atomically.
    const status = txnStatus(w, job.tenantId, req.txnId);
    if (status === "aborted") {
      const out = reply({ type: "error", error: { code: "transaction_aborted", message: "the transaction was aborted on the storage node (expired, pushed, or the node restarted); retry it" } }, false);
      w.put(recordKey, out.response);
      return out;
    }
    const collected = status === "pending" ? collectIntents(w, job.tenantId, req.txnId) : null;
    const r = applyCommit(ctx, job.tenantId, req, job.commitTs, collected?.writes ?? []);
    if (collected !== null) {
      if (r.ok) {
        removeCollected(w, collected);
        w.remove(txnStatusKey(job.tenantId, req.txnId));
      } else abortTxn(w, job.tenantId, req.txnId, this.nowMs());
    }
    const res: KvResponse = r.ok ? { type: "commit", commitTs: job.commitTs } : { type: "error", error: r.error };
    const out = reply(res, r.ok, r);
    w.put(recordKey, out.response);
    return out;
  }

  /**
   * One bounded GC step: removes versions no snapshot at or above thresholdTs can see, and (when
   * the pass completes) commit records of transactions whose snapshot is below it. Returns the
   * entries removed and the resume key (null when the pass is complete; otherwise call again with
   * it, after letting queued commits run).
   *
   * Work is proportional to garbage, not to data: each commit that writes a version over an older
   * one queues the key (mvcc/apply.ts, node-keys.ts GC queue), and a pass visits exactly the queued
   * keys at or below the threshold, in pages of about gcBatchEntriesMax entries read, each page
   * one write transaction that also deletes the queue entries it handled. (It used to scan every
   * version of every tenant each gcIntervalMs.) Stores written before the queue existed get full
   * scans until one completes at or above the point where queueing started.
   */
  gcStep(thresholdTs: bigint, cursor: Uint8Array | null): { removed: number; cursor: Uint8Array | null } {
    const raise = thresholdTs > this.gcThresholdTs;
    const threshold = raise ? thresholdTs : this.gcThresholdTs;
    const fullScan = this.gcQueueSince > 0n;
    let removed = 0;
    const expired: ClearRecord[] = [];
    const next = this.engine.writeSync((w) => {
      // The threshold is persisted with (not after) the first removals below it: after a crash in
      // the middle of a pass the node restarts refusing reads below it, instead of serving
      // snapshots with holes.
      if (raise) w.put(META_GC_THRESHOLD, u64(threshold));
      const garbage: Uint8Array[] = [];
      const mvccDeltas = new Map<number, number>();
      const step = fullScan ? this.gcScanPage(w, threshold, cursor, garbage, mvccDeltas) : this.gcQueuePage(w, threshold, cursor, garbage, mvccDeltas);
      for (const k of garbage) w.remove(k);
      removed = garbage.length;
      for (const [t, d] of mvccDeltas) this.bytes.add(t, 0, -d);
      if (step.next === null) {
        // The pass is complete: old commit records go too (their snapshots are unreadable now).
        const recs = txnRecordsBelow(threshold);
        const old = [...w.range({ low: recs.low, high: recs.high })].map((r) => r.key);
        for (const k of old) if (!this.moved.has(Number(readU64(k, 9)))) w.remove(k);
        // Aborted transaction records: once past the transaction duration limit, no commit of
        // theirs can be accepted any more (transaction_expired), so the refusal they carry is moot.
        for (const k of abortedRecordsBefore(w, this.nowMs() - this.limits.txnDurationMsMax)) if (!this.moved.has(Number(readU64(k, 1)))) w.remove(k);
        if (fullScan && threshold >= this.gcQueueSince) w.put(META_GC_QUEUE_SINCE, u64(0n));
        // Finished clears below the threshold: no snapshot that predates them can read or commit
        // any more, so their records (and the refusals they carry) can go.
        for (const r of this.cleared.all()) {
          if (!r.done || r.clearTs > threshold || this.moved.has(r.tenantId)) continue;
          w.remove(clearRecordKey(r.tenantId, r.clearTs, r.start));
          expired.push(r);
        }
      }
      this.persistDirtyBytes(w);
      return step.next;
    });
    if (raise) this.gcThresholdTs = threshold;
    this.forgotClears(expired);
    if (next === null && fullScan && threshold >= this.gcQueueSince) this.gcQueueSince = 0n;
    return { removed, cursor: next };
  }

  /**
   * Garbage among the versions of one key: the newest version at or below the threshold is what
   * old snapshots see, so it stays unless it is a tombstone (then the key is simply absent);
   * everything older is invisible to every snapshot the node still serves. Returns entries read.
   */
  private gcKey(w: EngineWriter, userKey: Uint8Array, threshold: bigint, garbage: Uint8Array[], mvccDeltas: Map<number, number>): number {
    const { low, high } = versionBounds(userKey);
    const t = tenantOfKey(userKey);
    if (t !== null && this.moved.has(t)) return 0;
    let read = 0;
    let sawVisible = false;
    for (const e of w.range({ low, high })) {
      read++;
      if (versionTs(e.key) > threshold) continue;
      const remove = sawVisible || decodeVersionValue(e.value) === null;
      sawVisible = true;
      if (remove) {
        garbage.push(e.key);
        if (t !== null) mvccDeltas.set(t, (mvccDeltas.get(t) ?? 0) + userKey.length + 8 + (e.value.length - 1));
      }
    }
    return read;
  }

  /** One page of the GC queue at or below the threshold; handled entries are deleted with the garbage. */
  private gcQueuePage(
    w: EngineWriter,
    threshold: bigint,
    cursor: Uint8Array | null,
    garbage: Uint8Array[],
    mvccDeltas: Map<number, number>,
  ): { next: Uint8Array | null } {
    const max = this.limits.gcBatchEntriesMax;
    const queue = gcQueueUpTo(threshold);
    const handled: Uint8Array[] = [];
    const judged = new Set<string>();
    let read = 0;
    let next: Uint8Array | null = null;
    for (const q of w.range({ low: cursor ?? queue.low, high: queue.high })) {
      if (read >= max) {
        next = q.key.slice();
        break;
      }
      read++;
      // A moving tenant's queue entries stay (they are part of its state: moves/tenant-keys.ts).
      const owner = tenantOfKey(gcQueueUserKey(q.key));
      if (owner !== null && this.moved.has(owner)) continue;
      handled.push(q.key);
      // A key updated many times is queued once per update; judging it once per page is enough.
      const userKey = gcQueueUserKey(q.key);
      const id = keyIdOf(userKey);
      if (judged.has(id)) continue;
      judged.add(id);
      read += this.gcKey(w, userKey, threshold, garbage, mvccDeltas);
    }
    for (const k of handled) w.remove(k);
    return { next };
  }

  /** One page of a full scan of every version (stores written before the GC queue existed). */
  private gcScanPage(
    w: EngineWriter,
    threshold: bigint,
    cursor: Uint8Array | null,
    garbage: Uint8Array[],
    mvccDeltas: Map<number, number>,
  ): { next: Uint8Array | null } {
    const max = this.limits.gcBatchEntriesMax;
    let read = 0;
    let low = cursor ?? VERSIONS_LOW;
    for (;;) {
      let first: Uint8Array | undefined;
      for (const e of w.range({ low, high: VERSIONS_HIGH, limit: 1 })) first = e.key;
      if (first === undefined) return { next: null };
      const userKey = userKeyOf(first);
      if (read >= max) return { next: escapedBound(userKey) };
      read += this.gcKey(w, userKey, threshold, garbage, mvccDeltas);
      low = versionBounds(userKey).high;
    }
  }

  /** One bounded step of dropping a tenant: marks it dropped and removes up to a batch of its versions. */
  dropStep(tenantId: number): { removed: number; done: boolean } {
    const span = tenantSpan(tenantId);
    const low = escapedBound(span.start);
    const high = escapedBound(span.end);
    const keys: Uint8Array[] = [];
    for (const e of this.engine.range({ low, high, limit: this.limits.gcBatchEntriesMax })) keys.push(e.key);
    const expired: ClearRecord[] = [];
    this.engine.writeSync((w) => {
      w.put(tenantDroppedKey(tenantId), new Uint8Array([1]));
      for (const k of keys) w.remove(k);
      if (keys.length < this.limits.gcBatchEntriesMax) {
        const b = this.bytes.entry(tenantId);
        this.bytes.add(tenantId, -b.liveBytes, -b.mvccBytes);
        this.persistDirtyBytes(w);
        // The whole span is gone, cleared spans with it.
        for (const r of this.cleared.all()) {
          if (r.tenantId !== tenantId) continue;
          w.remove(clearRecordKey(r.tenantId, r.clearTs, r.start));
          expired.push(r);
        }
      }
    });
    this.forgotClears(expired);
    this.dropped.add(tenantId);
    return { removed: keys.length, done: keys.length < this.limits.gcBatchEntriesMax };
  }

  /** Forgets clear records after the transaction that removed them committed, and reports them. */
  private forgotClears(records: ClearRecord[]): void {
    for (const r of records) {
      this.cleared.remove(r);
      this.news.expired.push({ tenantId: r.tenantId, clearTs: r.clearTs, start: r.start });
    }
  }

  /**
   * One bounded step of deleting a cleared span (clearing/clear-step.ts): at most about
   * clearChunkKeysMax versions in one durable write transaction, the tenant's byte counters
   * lowered in the same transaction. When the span is empty the record is marked done, or
   * forgotten at once when the GC threshold has already passed its clearTs.
   */
  clearStep(key: ClearKey): { removed: number; done: boolean } {
    const rec = this.cleared.find(key);
    if (rec === undefined || rec.done) return { removed: 0, done: true };
    // A tenant moved away: its record goes with it and the target finishes the clear.
    if (this.moved.has(rec.tenantId)) return { removed: 0, done: true };
    let forget = false;
    let step: ReturnType<typeof clearStep>;
    try {
      step = this.engine.writeSync((w) => {
        const s = clearStep(w, rec, this.limits.clearChunkKeysMax);
        if (s.liveBytes !== 0 || s.mvccBytes !== 0) this.bytes.add(rec.tenantId, -s.liveBytes, -s.mvccBytes);
        if (s.exhausted) {
          forget = rec.clearTs <= this.gcThresholdTs;
          if (forget) w.remove(clearRecordKey(rec.tenantId, rec.clearTs, rec.start));
          else w.put(clearRecordKey(rec.tenantId, rec.clearTs, rec.start), clearRecordValue(true, rec.end));
        }
        this.persistDirtyBytes(w);
        this.faults.beforeClearCommit?.(rec, s.removed);
        return s;
      });
    } catch (err) {
      // Nothing of the step was stored: the counters go back to what the disk holds.
      const dirty = [...this.bytes.dirty];
      this.bytes.dirty.clear();
      this.reloadBytes(dirty);
      for (const t of dirty) this.bytes.dirty.add(t);
      throw err;
    }
    if (step.exhausted) {
      if (forget) this.forgotClears([rec]);
      else {
        rec.done = true;
        this.news.done.push({ tenantId: rec.tenantId, clearTs: rec.clearTs, start: rec.start });
      }
    }
    return { removed: step.removed, done: step.exhausted };
  }

  /** Stores the HTTP thread's usage counters (metrics.ts encodes them; the writer only keeps them). */
  putCounters(entries: Array<[number, Uint8Array]>): void {
    if (entries.length === 0) return;
    this.engine.writeSync((w) => {
      for (const [tenantId, value] of entries) w.put(tenantCountersKey(tenantId), value);
    });
  }

  /** One step of a tenant move, in its own durable transaction (moves/move-steps.ts). */
  moveStep(id: number, step: MoveStep): WriterReply {
    const done = (ok: boolean, message: string, removed = 0): WriterReply => ({ id, response: new TextEncoder().encode(message), ok, readBytes: 0, writeBytes: 0, removed });
    const t = step.tenantId;
    if (this.dropped.has(t)) return done(false, `tenant ${t} has been dropped`);
    try {
      if (step.op === "fence") {
        this.engine.writeSync((w) => fenceTenant(w, t));
        this.moved.add(t);
        return done(true, "fenced");
      }
      if (step.op === "import" && step.adopt === undefined) {
        const n = this.engine.writeSync((w) => importTenantOps(w, t, step.first, step.ops));
        this.moved.add(t);
        return done(true, "imported", n);
      }
      // An adopt, or the last import and the adopt in one transaction (one log entry, one fsync:
      // the move's write pause is made of such round trips).
      const clockAtLeast = step.op === "import" ? step.adopt!.clockAtLeast : step.clockAtLeast;
      // Adopted already (this is a retry whose first answer was lost): nothing to do, and the
      // import must not run again over a tenant that may have taken writes since.
      if (step.op === "import" && movedMarker(this.engine, t) === undefined && !this.moved.has(t) && tenantHasState(this.engine, t)) return done(true, "already adopted");
      let digestMs = 0;
      const adopted = this.engine.writeSync((w) => {
        if (step.op === "import") {
          importTenantOps(w, t, step.first, step.ops);
          const digestStartedMs = performance.now();
          checkTenantDigest(w, t, step.adopt!.digest, step.adopt!.digestOf === "touched" ? step.ops : undefined);
          digestMs = performance.now() - digestStartedMs;
        }
        const a = adoptTenant(w, t, this.nowMs());
        if (clockAtLeast > this.maxCommitTs) w.put(META_MAX_COMMIT_TS, u64(clockAtLeast));
        return a;
      });
      if (clockAtLeast > this.maxCommitTs) this.maxCommitTs = clockAtLeast;
      this.moved.delete(t);
      // The tenant's clear records and byte counters as the source left them.
      this.forgotClears(this.cleared.all().filter((r) => r.tenantId === t));
      for (const r of adopted.clears) {
        this.cleared.add(r);
        this.news.added.push(r);
      }
      this.reloadBytes([t]);
      this.bytes.dirty.add(t);
      return done(true, `adopted (${adopted.aborted} pending transactions aborted; digest checked in ${digestMs.toFixed(0)} ms)`, adopted.aborted);
    } catch (err) {
      if (err instanceof MoveRefused) return done(false, err.message);
      throw err;
    }
  }

  /** One bounded step of deleting a tenant that moved away (its marker stays: the node still refuses it). */
  purgeStep(tenantId: number): { removed: number; done: boolean } {
    if (!this.moved.has(tenantId)) throw new Error(`tenant ${tenantId} has not moved away from this node; nothing is purged`);
    const step = this.engine.writeSync((w) => purgeTenantStep(w, tenantId, this.limits.gcBatchEntriesMax));
    if (step.done) {
      for (const r of this.cleared.all()) {
        if (r.tenantId === tenantId) this.forgotClears([r]);
      }
      this.bytes.byTenant.delete(tenantId);
    }
    return step;
  }

  droppedTenants(): number[] {
    return [...this.dropped];
  }

  takeBytesUpdate(): TenantBytesUpdate {
    return this.takeDirtyBytes();
  }
}

function movedError(tenantId: number): { code: "tenant_moved"; message: string } {
  return { code: "tenant_moved", message: `tenant ${tenantId} is not served by this storage node (it moved to another shard); nothing was applied` };
}
