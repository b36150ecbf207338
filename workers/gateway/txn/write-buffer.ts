// The transaction's buffered writes. Nothing is sent to storage before commit (optimistic
// transactions), so every read inside the transaction merges this buffer over what storage returns
// (read-your-own-writes). Savepoints are marks into an undo log: rolling back to a mark undoes every
// change made after it, in reverse.
import type { WriteOp } from "../../../common/kv-protocol/messages.ts";
import { keyFromString, keyString } from "../../../common/bytes.ts";
import { PgError } from "../../../common/errors.ts";

export interface BufferedWrite {
  key: Uint8Array;
  /** null: the key is deleted by this transaction. */
  value: Uint8Array | null;
}

interface RangeTombstone {
  start: string;
  end: string;
  /** "delete": an MVCC deleteRange; "clear": a clearRange (DROP/TRUNCATE: the span goes whole). */
  kind: "delete" | "clear";
}

/** Undo record of a range deletion: the buffered writes it removed (and, for a clear, the tombstones before it). */
interface RangeUndo {
  removed: Array<[string, Uint8Array | null]>;
  tombstonesBefore?: RangeTombstone[];
}

// Memory: a 100,000-row transaction (the largest the storage node accepts is 120,000 entries) must
// fit a 128 MB isolate beside the statement's own working memory. Each buffered key therefore
// costs a Map entry holding only its key string and value (null = deleted); the key's bytes are
// rebuilt from the string when a read or the commit needs them, and the undo log is two flat
// arrays. Measured in Node: 826 -> ~430 heap bytes per 20-byte key / 100-byte value write.
export class WriteBuffer {
  private readonly entries = new Map<string, Uint8Array | null>();
  private sortedKeys: string[] | null = null;
  private readonly tombstones: RangeTombstone[] = [];
  /** Undo log, one slot per change: the key (or a range deletion's record) and its previous state. */
  private readonly undoKeys: Array<string | RangeUndo> = [];
  private readonly undoPrev: Array<Uint8Array | null | undefined> = [];
  /** Sum of key and value sizes, for the transaction size limit. */
  bytes = 0;
  /**
   * For each key the current statement changed, its buffered state before the statement
   * (undefined: untouched by the transaction until then). A statement's own reads use this
   * state, as Postgres's command counter does, so `INSERT INTO t SELECT … FROM t` never reads
   * the rows it is inserting.
   */
  private stmtPrev = new Map<string, Uint8Array | null | undefined>();

  /** True when this transaction has a buffered write (or delete) of exactly `key`. */
  has(key: Uint8Array): boolean {
    return this.entries.has(keyString(key));
  }

  get size(): number {
    return this.entries.size + this.tombstones.length;
  }

  mark(): number {
    return this.undoBase + this.undoKeys.length;
  }

  /**
   * Undo-log positions below this were sent to storage as intents (takeFlushable): a savepoint
   * set before them cannot be rolled back to any more.
   */
  private undoBase = 0;
  /** Writes sent to storage as intents so far (they live on the node until commit or abort). */
  flushed = 0;

  /**
   * Takes the buffered point writes out of the buffer, to be written to storage as intents (the
   * buffer stays bounded however much a transaction writes). Keys inside a buffered range deletion
   * and keys `keep` says stay (the session's own memory) are kept. With `currentStatement` false,
   * keys the current statement wrote stay too (its statement-snapshot reads need their previous
   * state, which only the buffer knows).
   */
  takeFlushable(keep: (key: Uint8Array) => boolean, currentStatement: boolean): WriteOp[] {
    const ops: WriteOp[] = [];
    for (const [k, value] of this.entries) {
      if (!currentStatement && this.stmtPrev.has(k)) continue;
      if (this.tombstones.length > 0 && this.hiddenByRange(k)) continue;
      const key = keyFromString(k);
      if (keep(key)) continue;
      ops.push(value === null ? { op: "delete", key } : { op: "put", key, value });
    }
    if (ops.length === 0) return ops;
    for (const op of ops) {
      const k = keyString((op as { key: Uint8Array }).key);
      this.entries.delete(k);
      this.stmtPrev.delete(k);
    }
    this.sortedKeys = null;
    this.undoBase += this.undoKeys.length;
    this.undoKeys.length = 0;
    this.undoPrev.length = 0;
    this.flushed += ops.length;
    let bytes = 0;
    for (const [k, v] of this.entries) bytes += k.length + (v?.length ?? 0);
    this.bytes = bytes;
    return ops;
  }

  /** Point writes buffered by the current statement. */
  get statementWrites(): number {
    return this.stmtPrev.size;
  }

  /** Starts a statement: later writes are invisible to reads made with `statementSnapshot`. */
  beginStatement(): void {
    this.stmtPrev = new Map();
  }

  /**
   * Starts a statement run inside the current one (a statement of a PL/pgSQL function or
   * trigger): it sees every write made so far, the enclosing statement's included. Returns what
   * `leaveNestedStatement` needs to give the enclosing statement its own snapshot back.
   */
  enterNestedStatement(): Map<string, Uint8Array | null | undefined> {
    const outer = this.stmtPrev;
    this.stmtPrev = new Map();
    return outer;
  }

  /** Ends a nested statement: its writes count as the enclosing statement's own from now on. */
  leaveNestedStatement(outer: Map<string, Uint8Array | null | undefined>): void {
    for (const [k, prev] of this.stmtPrev) if (!outer.has(k)) outer.set(k, prev);
    this.stmtPrev = outer;
  }

  rollbackTo(mark: number): void {
    if (mark < this.undoBase) {
      throw new PgError("feature_not_supported", "cannot roll back to a savepoint set before the transaction's writes were sent to storage", {
        hint: "a transaction that writes many rows sends them to storage as it goes; roll back the whole transaction instead",
      });
    }
    mark -= this.undoBase;
    while (this.undoKeys.length > mark) {
      const u = this.undoKeys.pop()!;
      const prev = this.undoPrev.pop();
      if (typeof u === "string") {
        if (prev === undefined) {
          this.entries.delete(u);
          this.sortedKeys = null;
        } else this.entries.set(u, prev);
      } else {
        if (u.tombstonesBefore !== undefined) this.tombstones.splice(0, this.tombstones.length, ...u.tombstonesBefore);
        else this.tombstones.pop();
        for (const [k, w] of u.removed) this.entries.set(k, w);
        this.sortedKeys = null;
      }
    }
  }

  set(key: Uint8Array, value: Uint8Array | null): void {
    const k = keyString(key);
    const prev = this.entries.get(k);
    if (!this.stmtPrev.has(k)) this.stmtPrev.set(k, prev);
    this.undoKeys.push(k);
    this.undoPrev.push(prev);
    if (prev === undefined) this.sortedKeys = null;
    this.entries.set(k, value);
    this.bytes += key.length + (value?.length ?? 0);
  }

  deleteRange(start: Uint8Array, end: Uint8Array): void {
    const s = keyString(start);
    const e = keyString(end);
    const removed = this.dropEntriesIn(s, e);
    this.tombstones.push({ start: s, end: e, kind: "delete" });
    this.undoKeys.push({ removed });
    this.undoPrev.push(undefined);
  }

  /**
   * Clears a whole span (clearRange: DROP TABLE, TRUNCATE, DROP INDEX). Buffered writes in it are
   * dropped, and so is the part of any earlier range deletion inside it: the storage node refuses
   * a request that writes inside a span it also clears.
   */
  clearRange(start: Uint8Array, end: Uint8Array): void {
    const s = keyString(start);
    const e = keyString(end);
    const removed = this.dropEntriesIn(s, e);
    const before = [...this.tombstones];
    const kept: RangeTombstone[] = [];
    for (const t of this.tombstones) {
      if (t.kind === "clear" || t.end <= s || t.start >= e) {
        kept.push(t);
        continue;
      }
      if (t.start < s) kept.push({ start: t.start, end: s, kind: "delete" });
      if (t.end > e) kept.push({ start: e, end: t.end, kind: "delete" });
    }
    kept.push({ start: s, end: e, kind: "clear" });
    this.tombstones.splice(0, this.tombstones.length, ...kept);
    this.undoKeys.push({ removed, tombstonesBefore: before });
    this.undoPrev.push(undefined);
  }

  private dropEntriesIn(s: string, e: string): Array<[string, Uint8Array | null]> {
    const removed: Array<[string, Uint8Array | null]> = [];
    for (const [k, w] of this.entries) {
      if (k >= s && k < e) removed.push([k, w]);
    }
    for (const [k] of removed) this.entries.delete(k);
    if (removed.length > 0) this.sortedKeys = null;
    return removed;
  }

  /**
   * The buffered state of a key: a write, or undefined when this transaction has not touched it.
   * With `statementSnapshot`, the state before the current statement's own writes.
   */
  get(key: Uint8Array, statementSnapshot = false): BufferedWrite | undefined {
    const k = keyString(key);
    if (statementSnapshot && this.stmtPrev.has(k)) {
      const p = this.stmtPrev.get(k);
      return p === undefined ? undefined : { key, value: p };
    }
    const w = this.entries.get(k);
    if (w !== undefined) return { key, value: w };
    if (this.hiddenByRange(k)) return { key, value: null };
    return undefined;
  }

  /** True when a key storage returned is deleted by one of this transaction's range deletions. */
  hiddenByRange(k: string): boolean {
    for (const t of this.tombstones) if (k >= t.start && k < t.end) return true;
    return false;
  }

  hasRangeDeletes(): boolean {
    return this.tombstones.length > 0;
  }

  private sorted(): string[] {
    if (this.sortedKeys === null) this.sortedKeys = [...this.entries.keys()].sort();
    return this.sortedKeys;
  }

  /** Buffered writes with keys in [start, end), in ascending key order (start/end as key strings). */
  range(start: string, end: string, statementSnapshot = false): BufferedWrite[] {
    if (this.entries.size === 0) return [];
    if (statementSnapshot && this.stmtPrev.size > 0) {
      const out: BufferedWrite[] = [];
      for (const w of this.range(start, end, false)) {
        const k = keyString(w.key);
        if (!this.stmtPrev.has(k)) out.push(w);
        else {
          const prev = this.stmtPrev.get(k);
          if (prev !== undefined) out.push({ key: w.key, value: prev });
        }
      }
      return out;
    }
    const keys = this.sorted();
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < start) lo = mid + 1;
      else hi = mid;
    }
    const out: BufferedWrite[] = [];
    for (let i = lo; i < keys.length && keys[i]! < end; i++) out.push({ key: keyFromString(keys[i]!), value: this.entries.get(keys[i]!)! });
    return out;
  }

  /** The writes to send at commit: range deletions first, then the final state of each key. */
  toWriteOps(): WriteOp[] {
    const ops: WriteOp[] = [];
    for (const t of this.tombstones) ops.push({ op: t.kind === "clear" ? "clearRange" : "deleteRange", start: keyFromString(t.start), end: keyFromString(t.end) });
    // All keys as views of one allocation: at 100,000 writes a separate buffer per key would add
    // ~10 MB of heap at the moment the encoded request is also being built.
    let total = 0;
    for (const k of this.entries.keys()) total += k.length;
    const slab = new Uint8Array(total);
    let at = 0;
    for (const [k, value] of this.entries) {
      for (let i = 0; i < k.length; i++) slab[at + i] = k.charCodeAt(i);
      const key = slab.subarray(at, at + k.length);
      at += k.length;
      ops.push(value === null ? { op: "delete", key } : { op: "put", key, value });
    }
    return ops;
  }

  /** Plain data, so a transaction can be sealed into a handle and restored by another gateway. */
  toState(): {
    writes: Array<[Uint8Array, Uint8Array | null]>;
    rangeDeletes: Array<[Uint8Array, Uint8Array]>;
    rangeClears?: Array<[Uint8Array, Uint8Array]>;
  } {
    const span = (t: RangeTombstone): [Uint8Array, Uint8Array] => [keyFromString(t.start), keyFromString(t.end)];
    const clears = this.tombstones.filter((t) => t.kind === "clear").map(span);
    return {
      writes: [...this.entries].map(([k, value]): [Uint8Array, Uint8Array | null] => [keyFromString(k), value]),
      rangeDeletes: this.tombstones.filter((t) => t.kind === "delete").map(span),
      ...(clears.length > 0 ? { rangeClears: clears } : {}),
    };
  }

  static fromState(state: ReturnType<WriteBuffer["toState"]>): WriteBuffer {
    const b = new WriteBuffer();
    // Deletions before clears: a clear trims whatever deletion it overlaps, as it did originally.
    for (const [s, e] of state.rangeDeletes) b.deleteRange(s, e);
    for (const [s, e] of state.rangeClears ?? []) b.clearRange(s, e);
    for (const [k, v] of state.writes) b.set(k, v);
    b.undoKeys.length = 0;
    b.undoPrev.length = 0;
    return b;
  }
}
