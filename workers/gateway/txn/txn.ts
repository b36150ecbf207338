// The transaction coordinator. One Txn is one optimistic, serializable transaction:
//   - its snapshot is the read timestamp of its first read (or of `begin`, when it writes first);
//   - every read records the span it covered, so commit can prove nothing changed under it;
//   - writes are buffered here in the write buffer and merged into every get and scan
//     (read-your-own-writes); savepoints are marks into that buffer;
//   - commit sends {txnId, readTs, readSpans, writes} in one request; a read-only transaction
//     commits without any request at all.
// Its whole state is plain data (toState/fromState) so it can be sealed into a client-held handle.
import { PgError } from "../../../common/errors.ts";
import type { ReadOp, ReadResult, Span, Timestamp } from "../../../common/kv-protocol/messages.ts";
import { keyNext, keyString } from "../../../common/bytes.ts";
import { KvRequestError, kvErrorToPgError, type KvClient } from "../kv/kv-client.ts";
import { LockMode } from "../../../common/kv-protocol/messages.ts";
import { kvLimits } from "../kv/limits.ts";
import { txnLimits } from "./limits.ts";
import { WriteBuffer } from "./write-buffer.ts";
import { compactSpans } from "./read-spans.ts";

export interface KvRow {
  key: Uint8Array;
  value: Uint8Array;
}

export interface ScanOptions {
  reverse?: boolean;
  /** Read as of the current statement's start: its own writes are not seen (query operators). */
  statementSnapshot?: boolean;
  /** How many rows the caller expects to need (LIMIT): the first page asks for about that many. */
  rowsHint?: number;
}

export type TxnStatus = "open" | "committed" | "aborted";

/**
 * What the transaction asks of the statement running in it around each storage request: the
 * statement's budget (sql/exec/budget.ts) implements it; the interface lives here because the
 * transaction layer sits below the SQL layer.
 */
export interface StatementGuard {
  /** Throws 57014 when the statement was canceled or has run past its deadline. */
  check(): void;
  /** The statement stops holding the thread while it waits (for storage, the client, a sleep). */
  suspend(): void;
  /** The statement holds the thread again. */
  resume(): void;
}

export class Txn {
  readonly kv: KvClient;
  private txnIdBytes: Uint8Array | null = null;
  readonly readOnly: boolean;
  readTs: Timestamp | null = null;
  readonly readSpans: Span[] = [];
  readonly buffer: WriteBuffer;
  status: TxnStatus = "open";
  /**
   * Reads of keys in [start, end) lock what they read (LockMode) before reading: set by UPDATE and
   * DELETE around the collection of their target rows, and by SELECT … FOR UPDATE / FOR SHARE.
   */
  lockScope: { start: Uint8Array; end: Uint8Array; mode: number } | null = null;
  /** The node holds locks or intents of this transaction: reads go as txnRead, rollback aborts, heartbeats run. */
  private onNode = false;
  private heartbeatTimer: ReturnType<typeof setInterval> | null = null;
  /** Snapshot refreshes done (a locked key had changed after the snapshot; tests and stats). */
  refreshes = 0;
  /** Extra gets attached to the next read request (the catalog version check rides along). */
  private piggyback: Array<{ key: Uint8Array; onValue: (v: Uint8Array | null) => void }> = [];

  constructor(kv: KvClient, opts: { readOnly?: boolean } = {}) {
    this.kv = kv;
    this.readOnly = opts.readOnly ?? false;
    this.buffer = new WriteBuffer();
  }

  /** The commit's idempotency id, made when first needed (most transactions never commit writes). */
  get txnId(): Uint8Array {
    if (this.txnIdBytes === null) this.txnIdBytes = crypto.getRandomValues(new Uint8Array(16));
    return this.txnIdBytes;
  }

  private checkOpen(): void {
    if (this.status !== "open") throw new PgError("internal_error", `transaction is already ${this.status}`);
  }

  private async kvCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KvRequestError) throw kvErrorToPgError(err.kvError);
      throw err;
    }
  }

  /**
   * Queues a get that rides on the next read request. `onValue` runs as soon as that request
   * returns, before its other results reach the caller; if it throws, the read throws (this is how
   * a stale catalog stops a statement before it acts on what it read).
   */
  piggybackGet(key: Uint8Array, onValue: (v: Uint8Array | null) => void): void {
    this.piggyback.push({ key, onValue });
  }

  cancelPiggyback(): void {
    this.piggyback = [];
  }

  hasPiggyback(): boolean {
    return this.piggyback.length > 0;
  }

  /** Sends queued piggyback gets on their own when no other read will carry them. */
  async flushPiggyback(): Promise<void> {
    if (this.piggyback.length > 0) await this.read([]);
  }

  /**
   * The running statement (its budget: statement_timeout, cancel, CPU accounting), consulted
   * around every read request: a long scan stops between pages. null between statements.
   */
  guard: StatementGuard | null = null;

  private async read(ops: ReadOp[]): Promise<ReadResult[]> {
    this.checkOpen();
    if (ops.length > 0) await this.maybeFlush();
    const guard = this.guard;
    guard?.check();
    const extra = this.piggyback;
    this.piggyback = [];
    const all = extra.length > 0 ? [...ops, ...extra.map((p): ReadOp => ({ op: "get", key: p.key }))] : ops;
    const interrupt = guard === null ? undefined : (): void => guard.check();
    const locks = this.lockScope === null ? null : ops.map((op) => this.lockModeOf(op));
    const locking = locks !== null && locks.some((m) => m !== LockMode.none);
    if (locking) this.locksAsked += locks.filter((m) => m !== LockMode.none).length;
    const pending =
      locking || this.onNode
        ? this.txnRead(all, locks ?? [], extra.length, interrupt)
        : this.kvCall(() => this.kv.read(this.readTs, all, extra.length, interrupt));
    guard?.suspend();
    let r: Awaited<typeof pending>;
    try {
      r = await pending;
    } finally {
      guard?.resume();
    }
    // A read answered only from session memory (temporary tables) takes no snapshot: null stays null.
    if (this.readTs === null) this.readTs = r.readTs;
    for (let i = 0; i < extra.length; i++) {
      const res = r.results[ops.length + i]!;
      this.readSpans.push({ start: extra[i]!.key, end: keyNext(extra[i]!.key) });
      extra[i]!.onValue(res.op === "get" ? res.value : null);
    }
    return r.results.slice(0, ops.length);
  }

  /**
   * Locks `key` on the node until this transaction ends (pg_advisory_xact_lock; the key is never
   * written). `lockByte` is a LockMode with LockFlag bits. The node's errors come back unchanged
   * as KvRequestError (the caller tells lock_not_available and a lock-wait timeout apart). When the
   * transaction has no snapshot yet, it is taken after the lock is granted, so a transaction that
   * starts by locking sees what the previous holder committed.
   */
  lockKey(key: Uint8Array, lockByte: number): { txnId: Uint8Array; granted: Promise<void> } {
    this.checkOpen();
    this.startOnNode();
    const granted = this.kv.txnRead(this.txnId, this.readTs, [{ op: "get", key }], [lockByte]).then((r) => {
      if (this.readTs === null) this.readTs = r.readTs;
    });
    return { txnId: this.txnId, granted };
  }

  /** Lock requests sent so far (bounded by txnLimits.locksPerTxnMax). */
  private locksAsked = 0;

  private lockModeOf(op: ReadOp): number {
    const scope = this.lockScope!;
    if (this.locksAsked >= txnLimits.locksPerTxnMax) return LockMode.none;
    const inside = (k: Uint8Array): boolean => keyString(k) >= keyString(scope.start) && keyString(k) < keyString(scope.end);
    if (op.op === "get") return inside(op.key) && this.kv.local?.owns(op.key) !== true ? scope.mode : LockMode.none;
    return inside(op.start) && keyString(op.end) <= keyString(scope.end) && this.kv.local?.owns(op.start) !== true ? scope.mode : LockMode.none;
  }

  /** The node now holds something of this transaction: keep it alive with heartbeats. */
  private startOnNode(): void {
    if (this.onNode) return;
    this.onNode = true;
    const id = this.txnId;
    const since = Date.now();
    const timer = setInterval(() => {
      // A transaction nobody ended (a leaked session) must not hold its locks for ever: past the
      // longest a transaction may live, stop beating and let the node expire it.
      if (Date.now() - since > txnLimits.heartbeatForMsMax) {
        this.stopHeartbeat();
        return;
      }
      this.kv.heartbeat(id).catch(() => {
        // A lost heartbeat is retried at the next beat; an aborted transaction learns it at its next request.
      });
    }, txnLimits.heartbeatIntervalMs);
    (timer as { unref?: () => void }).unref?.();
    this.heartbeatTimer = timer;
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  /**
   * A txnRead; when a key it locks changed after the snapshot (write_too_old), the snapshot moves
   * forward if nothing the transaction read changed (refresh), and the read is sent again.
   */
  private async txnRead(ops: ReadOp[], locks: number[], metaOps: number, interrupt?: () => void): Promise<{ readTs: Timestamp | null; results: ReadResult[] }> {
    this.startOnNode();
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.kv.txnRead(this.txnId, this.readTs, ops, locks, metaOps, interrupt);
      } catch (err) {
        if (err instanceof KvRequestError && err.kvError.code === "write_too_old" && this.readTs !== null && attempt < txnLimits.refreshesPerRequestMax) {
          await this.refreshSnapshot();
          continue;
        }
        if (err instanceof KvRequestError) throw kvErrorToPgError(err.kvError);
        throw err;
      }
    }
  }

  /** Moves the snapshot forward; 40001 when something the transaction read changed since. */
  private async refreshSnapshot(): Promise<void> {
    const readTs = this.readTs!;
    const spans = compactSpans(this.readSpans, [], txnLimits.commitEntriesMax / 2);
    this.readTs = await this.kvCall(() => this.kv.refresh(this.txnId, readTs, spans));
    this.refreshes++;
  }

  /**
   * Sends buffered writes to storage as intents when the buffer is large (txn/limits.ts): writes of
   * earlier statements past flushKeys, and everything past flushKeysHard (a single huge statement,
   * like a COPY of a million rows). Called before reads and by the table writer between chunks.
   */
  async maybeFlush(): Promise<void> {
    if (this.status !== "open") return;
    const size = this.buffer.size;
    const hard = size >= txnLimits.flushKeysHard || this.buffer.bytes >= txnLimits.flushBytesHard;
    if (!hard && size - this.buffer.statementWrites < txnLimits.flushKeys) return;
    if (this.readTs === null) await this.read([]);
    const ops = this.buffer.takeFlushable((k) => this.kv.local?.owns(k) === true, hard);
    if (ops.length === 0) return;
    this.startOnNode();
    let at = 0;
    while (at < ops.length) {
      let end = at;
      let bytes = 0;
      while (end < ops.length && end - at < txnLimits.flushBatchKeysMax && bytes < txnLimits.flushBatchBytesMax) {
        const op = ops[end]!;
        bytes += (op as { key: Uint8Array }).key.length + (op.op === "put" ? op.value.length : 0);
        end++;
      }
      const chunk = ops.slice(at, end);
      for (let attempt = 0; ; attempt++) {
        try {
          await this.kv.txnWrite(this.txnId, this.readTs!, chunk);
          break;
        } catch (err) {
          if (err instanceof KvRequestError && err.kvError.code === "write_too_old" && attempt < txnLimits.refreshesPerRequestMax) {
            await this.refreshSnapshot();
            continue;
          }
          // The writes are no longer in the buffer: this transaction can only roll back now.
          this.status = "aborted";
          await this.abortOnNode();
          if (err instanceof KvRequestError) throw kvErrorToPgError(err.kvError);
          throw err;
        }
      }
      at = end;
    }
  }

  private async abortOnNode(): Promise<void> {
    this.stopHeartbeat();
    if (!this.onNode) return;
    this.onNode = false;
    try {
      await this.kv.abort(this.txnId, this.readTs ?? 0n);
    } catch {
      // The node aborts it anyway once its heartbeat stops (txnHeartbeatExpiryMs).
    }
  }

  /**
   * Point reads, all in one request (split only past the per-request bound). With
   * `statementSnapshot`, the current statement's own writes are not seen.
   */
  async getMany(keys: Uint8Array[], statementSnapshot = false): Promise<Array<Uint8Array | null>> {
    const out: Array<Uint8Array | null> = new Array(keys.length).fill(null);
    const need: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const w = this.buffer.get(keys[i]!, statementSnapshot);
      if (w !== undefined) out[i] = w.value;
      else need.push(i);
    }
    for (let at = 0; at < need.length; at += kvLimits.getsPerRequestMax) {
      const chunk = need.slice(at, at + kvLimits.getsPerRequestMax);
      const results = await this.read(chunk.map((i): ReadOp => ({ op: "get", key: keys[i]! })));
      for (let j = 0; j < chunk.length; j++) {
        const i = chunk[j]!;
        const r = results[j]!;
        this.readSpans.push({ start: keys[i]!, end: keyNext(keys[i]!) });
        out[i] = r.op === "get" ? r.value : null;
      }
      this.noteSpan();
    }
    return out;
  }

  async get(key: Uint8Array): Promise<Uint8Array | null> {
    return (await this.getMany([key]))[0]!;
  }

  /**
   * Scans [start, end) in pages, merging this transaction's own writes. Yields non-empty batches
   * in key order (descending when reverse). Stopping early leaves later pages unread and unrecorded.
   */
  async *scan(start: Uint8Array, end: Uint8Array, opts: ScanOptions = {}): AsyncGenerator<KvRow[]> {
    const reverse = opts.reverse ?? false;
    let pageRows = Math.min(kvLimits.scanPageRowsMax, Math.max(1, opts.rowsHint ?? kvLimits.scanPageRowsDefault));
    let cursor = reverse ? end : start;
    for (;;) {
      const op: ReadOp = reverse
        ? { op: "scan", start, end: cursor, reverse: true, maxRows: pageRows, maxBytes: kvLimits.scanPageBytesMax }
        : { op: "scan", start: cursor, end, reverse: false, maxRows: pageRows, maxBytes: kvLimits.scanPageBytesMax };
      const [res] = await this.read([op]);
      if (res === undefined || res.op !== "scan") throw new PgError("internal_error", "storage answered a scan with a get");
      const covered: Span = reverse
        ? { start: res.resumeKey ?? start, end: cursor }
        : { start: cursor, end: res.resumeKey ?? end };
      this.readSpans.push(covered);
      this.noteSpan();
      const merged = this.mergeBuffered(res.rows, covered, reverse, opts.statementSnapshot ?? false);
      if (merged.length > 0) yield merged;
      if (res.resumeKey === null) return;
      cursor = res.resumeKey;
      pageRows = Math.min(kvLimits.scanPageRowsMax, pageRows * 4);
    }
  }

  private mergeBuffered(rows: KvRow[], span: Span, reverse: boolean, statementSnapshot: boolean): KvRow[] {
    const buffered = this.buffer.range(keyString(span.start), keyString(span.end), statementSnapshot);
    const hideRanges = this.buffer.hasRangeDeletes();
    if (buffered.length === 0 && !hideRanges) return rows;
    if (reverse) buffered.reverse();
    const out: KvRow[] = [];
    let i = 0;
    let j = 0;
    const before = (a: string, b: string): boolean => (reverse ? a > b : a < b);
    while (i < rows.length || j < buffered.length) {
      const rk = i < rows.length ? keyString(rows[i]!.key) : null;
      const bk = j < buffered.length ? keyString(buffered[j]!.key) : null;
      if (rk !== null && (bk === null || before(rk, bk))) {
        // A row from storage the transaction has not overwritten.
        if (!hideRanges || !this.buffer.hiddenByRange(rk)) out.push(rows[i]!);
        i++;
      } else {
        const w = buffered[j]!;
        if (w.value !== null) out.push({ key: w.key, value: w.value });
        j++;
        if (rk !== null && rk === bk) i++;
      }
    }
    return out;
  }

  /** Keeps the recorded spans bounded during long transactions (merging is conservative). */
  private noteSpan(): void {
    if (this.readSpans.length > txnLimits.readSpansKeptMax) {
      const c = compactSpans(this.readSpans, [], txnLimits.readSpansKeptMax / 2);
      this.readSpans.length = 0;
      this.readSpans.push(...c);
    }
  }

  /** Writes `key` (or the range from it): a read-only transaction may write only the session's own memory (temporary tables). */
  private checkWritable(key: Uint8Array): void {
    this.checkOpen();
    if (this.readOnly && this.kv.local?.owns(key) !== true) throw new PgError("read_only_sql_transaction", "cannot execute a write in a read-only transaction");
  }

  /** The transaction size bounds (txn/limits.ts), checked before a write that would cross them. */
  private checkSize(key: Uint8Array | null, value: Uint8Array | null): void {
    if (this.buffer.size >= txnLimits.writesMax && (key === null || !this.buffer.has(key))) {
      throw new PgError("program_limit_exceeded", `transaction buffers more than ${txnLimits.writesMax} unsent writes`, {
        hint: "split the work into several transactions",
      });
    }
    const add = (key?.length ?? 0) + (value?.length ?? 0);
    if (this.buffer.bytes + add > txnLimits.writeBytesMax) {
      throw new PgError("program_limit_exceeded", `transaction buffers more than ${txnLimits.writeBytesMax} bytes of unsent keys and values`, {
        hint: "split the work into several transactions",
      });
    }
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.checkWritable(key);
    this.checkSize(key, value);
    this.buffer.set(key, value);
  }

  del(key: Uint8Array): void {
    this.checkWritable(key);
    this.checkSize(key, null);
    this.buffer.set(key, null);
  }

  deleteRange(start: Uint8Array, end: Uint8Array): void {
    this.checkWritable(start);
    this.checkSize(null, null);
    this.buffer.deleteRange(start, end);
  }

  /**
   * Removes a whole span at commit, however many keys it holds (DROP TABLE, TRUNCATE, DROP INDEX):
   * the storage node records it with the commit and deletes the versions in the background.
   */
  clearRange(start: Uint8Array, end: Uint8Array): void {
    this.checkWritable(start);
    this.checkSize(null, null);
    this.buffer.clearRange(start, end);
  }

  hasWrites(): boolean {
    return this.buffer.size > 0 || this.buffer.flushed > 0;
  }

  async commit(): Promise<void> {
    this.checkOpen();
    try {
      await this.flushPiggyback();
    } catch (err) {
      await this.abortOnNode();
      throw err;
    }
    if (!this.hasWrites()) {
      this.status = "committed";
      if (this.onNode) {
        // Read-only, but it holds locks (SELECT … FOR UPDATE): a commit without writes releases them.
        this.stopHeartbeat();
        this.onNode = false;
        try {
          await this.kv.commit(this.txnId, this.readTs ?? 0n, [], []);
        } catch {
          // They expire with the heartbeat.
        }
      }
      return;
    }
    const writes = this.buffer.toWriteOps();
    try {
      // A long transaction (a big load) moves its snapshot forward before committing, so the
      // commit is not refused for age (transaction_expired) when nothing it read changed.
      if (this.buffer.flushed > 0 && this.readTs !== null && Date.now() - Number(this.readTs >> 16n) > txnLimits.refreshBeforeCommitMs) await this.refreshSnapshot();
      if (this.readTs === null) {
        // Blind writes: nothing was read, so nothing can conflict with a snapshot; one request.
        await this.kvCall(() => this.kv.batch([], writes));
      } else {
        const readTs = this.readTs;
        const spans = compactSpans(this.readSpans, writes, Math.max(1, txnLimits.commitEntriesMax - writes.length));
        await this.kvCall(() => this.kv.commit(this.txnId, readTs, spans, writes));
      }
      this.status = "committed";
      this.stopHeartbeat();
      this.onNode = false;
    } catch (err) {
      this.status = "aborted";
      await this.abortOnNode();
      throw err;
    }
  }

  /**
   * The transaction leaves this gateway between two HTTP requests (a Warren-Transaction handle):
   * everything it holds on the node is released now, because nothing would keep it alive or end it
   * between requests. Its heartbeat stops (a timer left running would keep its locks alive for up
   * to heartbeatForMsMax with no request of it in flight), and its locks and intents are aborted
   * on the node: the next request continues under a fresh commit id (workers/gateway/http/
   * interactive-txn.ts), which would never release this id's locks nor commit its intents. Locks
   * only order writers; commit validation still checks every read span and written key, so the
   * carried transaction stays serializable. Returns true when intents were dropped (writes flushed
   * to the node, which the handle does not carry): the transaction must then be aborted.
   */
  async releaseNode(): Promise<boolean> {
    const lost = this.buffer.flushed > 0;
    await this.abortOnNode();
    this.buffer.flushed = 0;
    return lost;
  }

  async rollback(): Promise<void> {
    if (this.status === "committed") return;
    this.status = "aborted";
    // Only a transaction holding locks or intents has anything on the node to release; the
    // snapshot of a plain one was taken by a plain read (no `begin` registration).
    await this.abortOnNode();
  }

  /** Plain data that restores this transaction in another gateway (HTTP interactive transactions). */
  toState(): TxnState {
    return {
      txnId: this.txnId,
      readOnly: this.readOnly,
      readTs: this.readTs,
      readSpans: this.readSpans.map((s) => [s.start, s.end]),
      buffer: this.buffer.toState(),
      ...(this.onNode ? { onNode: true, flushed: this.buffer.flushed } : {}),
    };
  }

  static fromState(kv: KvClient, s: TxnState): Txn {
    const t = new Txn(kv, { readOnly: s.readOnly });
    t.txnIdBytes = s.txnId;
    t.readTs = s.readTs;
    for (const [start, end] of s.readSpans) t.readSpans.push({ start, end });
    (t as { buffer: WriteBuffer }).buffer = WriteBuffer.fromState(s.buffer);
    if (s.onNode === true) {
      t.buffer.flushed = s.flushed ?? 0;
      t.startOnNode();
    }
    return t;
  }
}

export interface TxnState {
  txnId: Uint8Array;
  readOnly: boolean;
  readTs: Timestamp | null;
  readSpans: Array<[Uint8Array, Uint8Array]>;
  buffer: ReturnType<WriteBuffer["toState"]>;
  /** The node holds locks or intents of it (and `flushed` writes were sent as intents). */
  onNode?: boolean;
  flushed?: number;
}
