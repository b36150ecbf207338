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
    const guard = this.guard;
    guard?.check();
    const extra = this.piggyback;
    this.piggyback = [];
    const all = extra.length > 0 ? [...ops, ...extra.map((p): ReadOp => ({ op: "get", key: p.key }))] : ops;
    const interrupt = guard === null ? undefined : (): void => guard.check();
    const pending = this.kvCall(() => this.kv.read(this.readTs, all, extra.length, interrupt));
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
      throw new PgError("program_limit_exceeded", `transaction writes more than ${txnLimits.writesMax} keys`, {
        hint: "split the work into several transactions",
      });
    }
    const add = (key?.length ?? 0) + (value?.length ?? 0);
    if (this.buffer.bytes + add > txnLimits.writeBytesMax) {
      throw new PgError("program_limit_exceeded", `transaction writes more than ${txnLimits.writeBytesMax} bytes of keys and values`, {
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
    return this.buffer.size > 0;
  }

  async commit(): Promise<void> {
    this.checkOpen();
    await this.flushPiggyback();
    if (!this.hasWrites()) {
      this.status = "committed";
      return;
    }
    const writes = this.buffer.toWriteOps();
    try {
      if (this.readTs === null) {
        // Blind writes: nothing was read, so nothing can conflict with a snapshot; one request.
        await this.kvCall(() => this.kv.batch([], writes));
      } else {
        const readTs = this.readTs;
        const spans = compactSpans(this.readSpans, writes, Math.max(1, txnLimits.commitEntriesMax - writes.length));
        await this.kvCall(() => this.kv.commit(this.txnId, readTs, spans, writes));
      }
      this.status = "committed";
    } catch (err) {
      this.status = "aborted";
      throw err;
    }
  }

  async rollback(): Promise<void> {
    if (this.status !== "open") return;
    this.status = "aborted";
    // Nothing was written to storage and the snapshot was taken by a plain read (no `begin`
    // registration), so there is nothing on the node to release.
  }

  /** Plain data that restores this transaction in another gateway (HTTP interactive transactions). */
  toState(): TxnState {
    return {
      txnId: this.txnId,
      readOnly: this.readOnly,
      readTs: this.readTs,
      readSpans: this.readSpans.map((s) => [s.start, s.end]),
      buffer: this.buffer.toState(),
    };
  }

  static fromState(kv: KvClient, s: TxnState): Txn {
    const t = new Txn(kv, { readOnly: s.readOnly });
    t.txnIdBytes = s.txnId;
    t.readTs = s.readTs;
    for (const [start, end] of s.readSpans) t.readSpans.push({ start, end });
    (t as { buffer: WriteBuffer }).buffer = WriteBuffer.fromState(s.buffer);
    return t;
  }
}

export interface TxnState {
  txnId: Uint8Array;
  readOnly: boolean;
  readTs: Timestamp | null;
  readSpans: Array<[Uint8Array, Uint8Array]>;
  buffer: ReturnType<WriteBuffer["toState"]>;
}
