// A span of the keyspace that lives in the session's own memory instead of on the storage node:
// the data of the session's temporary tables (keys/doc.ts, TEMP_TABLE_ID_MIN…). KvClient routes
// every operation on a key inside the span here, so those keys never leave the gateway isolate:
// no other session (with its own LocalRange) can reach them, nothing is written to storage, and
// nothing can outlive the session — the memory goes with the session, or with the isolate.
//
// It holds committed values only. Transactions buffer their writes as usual (txn/write-buffer.ts:
// savepoints, rollback, read-your-own-writes) and KvClient applies the local part of a commit
// here after the storage part, if any, succeeded. There are no versions: one session runs one
// transaction at a time, and the span is private to it.
//
// Memory is bounded per session and per isolate (kvLimits.localRangeBytesMax,
// localRangesBytesMax); a commit that would cross either bound fails with 54000 before anything
// of it is applied, here or in storage.
import { PgError } from "../../../common/errors.ts";
import type { ReadOp, ReadResult, Span, WriteOp } from "../../../common/kv-protocol/messages.ts";
import { keyFromString, keyString } from "../../../common/bytes.ts";
import { kvLimits } from "./limits.ts";

/**
 * Bytes one entry costs beyond its key and value. Keys and values are kept as flat one-byte
 * strings (a string header each, the Map entry, a slot in the sorted key array): measured in
 * Node 22 with 19-byte keys and 60-byte values, 87 bytes per entry, against ~490 when values are
 * Uint8Arrays (each a typed array, an ArrayBuffer and a backing store) and keys are built by
 * concatenation (a rope until flattened).
 */
export const LOCAL_ENTRY_OVERHEAD_BYTES = 96;

/** A flat (sequential, one byte per char) string of `bytes`: the compact form entries are kept in. */
function flatString(bytes: Uint8Array): string {
  if (bytes.length <= 8192) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += 8192) parts.push(String.fromCharCode.apply(null, bytes.subarray(i, i + 8192) as unknown as number[]));
  return parts.join("");
}

/** Bytes held by every LocalRange of this isolate together (all sessions of the tenant). */
let isolateBytes = 0;

/** What one LocalRange holds, kept apart from it so the isolate's count can be corrected after it is gone. */
interface Ledger {
  bytes: number;
}

/**
 * A backstop for sessions that end without close() (a connection torn down abruptly): when such a
 * range is garbage-collected, its bytes leave the isolate's count, so leaked sessions cannot use
 * up the isolate-wide bound.
 */
const forgotten =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<Ledger>((ledger) => {
        isolateBytes -= ledger.bytes;
        ledger.bytes = 0;
      })
    : null;

export function localRangesBytes(): number {
  return isolateBytes;
}

export type SpanPlace = "local" | "remote" | "straddles";

export class LocalRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  private readonly startStr: string;
  private readonly endStr: string;
  /** Key string → value string (both flatString form; keyFromString turns either back into bytes). */
  private readonly values = new Map<string, string>();
  /** The keys of `values` in byte order. */
  private sorted: string[] = [];
  private readonly ledger: Ledger = { bytes: 0 };
  private readonly bytesMax: number;
  private readonly isolateBytesMax: number;

  constructor(span: Span, bounds: { bytesMax?: number; isolateBytesMax?: number } = {}) {
    this.start = span.start;
    this.end = span.end;
    this.startStr = keyString(span.start);
    this.endStr = keyString(span.end);
    this.bytesMax = bounds.bytesMax ?? kvLimits.localRangeBytesMax;
    this.isolateBytesMax = bounds.isolateBytesMax ?? kvLimits.localRangesBytesMax;
    forgotten?.register(this, this.ledger);
  }

  /** Bytes this range holds (keys, values and per-entry overhead). */
  get bytes(): number {
    return this.ledger.bytes;
  }

  owns(key: Uint8Array): boolean {
    const k = keyString(key);
    return k >= this.startStr && k < this.endStr;
  }

  /** Where [start, end) lies: inside this range, outside it, or across its boundary. */
  place(start: Uint8Array, end: Uint8Array): SpanPlace {
    const s = keyString(start);
    const e = keyString(end);
    if (s >= this.startStr && e <= this.endStr) return "local";
    if (e <= this.startStr || s >= this.endStr) return "remote";
    return "straddles";
  }

  /** The parts of `span` outside this range (read spans sent to storage for validation). */
  clip(span: Span): Span[] {
    const s = keyString(span.start);
    const e = keyString(span.end);
    if (e <= this.startStr || s >= this.endStr) return [span];
    const out: Span[] = [];
    if (s < this.startStr) out.push({ start: span.start, end: this.start });
    if (e > this.endStr) out.push({ start: this.end, end: span.end });
    return out;
  }

  get size(): number {
    return this.values.size;
  }

  read(op: ReadOp): ReadResult {
    if (op.op === "get") {
      const v = this.values.get(keyString(op.key));
      return { op: "get", value: v === undefined ? null : keyFromString(v) };
    }
    const start = keyString(op.start);
    const end = keyString(op.end);
    const maxRows = Math.max(1, op.maxRows);
    const rows: Array<{ key: Uint8Array; value: Uint8Array }> = [];
    let bytes = 0;
    const keys = this.sorted;
    if (!op.reverse) {
      for (let i = lowerBound(keys, start); i < keys.length && keys[i]! < end; i++) {
        if (rows.length >= maxRows || (rows.length > 0 && bytes >= op.maxBytes)) return { op: "scan", rows, resumeKey: keyFromString(keys[i]!) };
        const v = this.values.get(keys[i]!)!;
        rows.push({ key: keyFromString(keys[i]!), value: keyFromString(v) });
        bytes += keys[i]!.length + v.length;
      }
    } else {
      for (let i = lowerBound(keys, end) - 1; i >= 0 && keys[i]! >= start; i--) {
        if (rows.length >= maxRows || (rows.length > 0 && bytes >= op.maxBytes)) return { op: "scan", rows, resumeKey: rows[rows.length - 1]!.key };
        const v = this.values.get(keys[i]!)!;
        rows.push({ key: keyFromString(keys[i]!), value: keyFromString(v) });
        bytes += keys[i]!.length + v.length;
      }
    }
    return { op: "scan", rows, resumeKey: null };
  }

  /**
   * Checks that `writes` can be applied: every cput's condition holds (else the storage node's
   * condition_failed, with the value found) and the bytes after them stay within both bounds.
   * Nothing is changed.
   */
  check(writes: readonly WriteOp[]): { condition: { key: Uint8Array; actual: Uint8Array | null } | null } {
    let delta = 0;
    const seen = new Map<string, number>();
    for (const w of writes) {
      // A clearRange (DROP, TRUNCATE) is a deletion like any other here: no history is kept.
      if (w.op === "deleteRange" || w.op === "clearRange") {
        const s = keyString(w.start);
        const e = keyString(w.end);
        for (let i = lowerBound(this.sorted, s); i < this.sorted.length && this.sorted[i]! < e; i++) {
          const k = this.sorted[i]!;
          const cur = seen.has(k) ? seen.get(k)! : this.entryBytes(k);
          delta -= cur;
          seen.set(k, 0);
        }
        continue;
      }
      const k = keyString(w.key);
      if (w.op === "cput") {
        const cur = this.values.get(k);
        const actual = cur === undefined ? null : keyFromString(cur);
        if (!sameValue(actual, w.expected)) return { condition: { key: w.key, actual } };
      }
      const before = seen.has(k) ? seen.get(k)! : this.entryBytes(k);
      const value = w.op === "delete" ? null : w.value;
      const after = value === null ? 0 : k.length + value.length + LOCAL_ENTRY_OVERHEAD_BYTES;
      delta += after - before;
      seen.set(k, after);
    }
    if (delta > 0 && this.bytes + delta > this.bytesMax) {
      throw new PgError("program_limit_exceeded", `temporary tables of this session would hold ${this.bytes + delta} bytes, more than the limit of ${this.bytesMax}`, {
        hint: "Temporary tables live in the gateway's memory; keep larger data in a regular table.",
      });
    }
    if (delta > 0 && isolateBytes + delta > this.isolateBytesMax) {
      throw new PgError("program_limit_exceeded", `temporary tables of all sessions of this database would hold more than ${this.isolateBytesMax} bytes`, {
        hint: "Drop temporary tables you no longer need, or keep larger data in a regular table.",
      });
    }
    return { condition: null };
  }

  /** Applies writes already checked by check(). */
  apply(writes: readonly WriteOp[]): void {
    // Keys present before the batch and removed by it, and keys absent before it and present now:
    // `sorted` is brought up to date once, at the end.
    const gone = new Set<string>();
    const added = new Set<string>();
    const remove = (k: string): void => {
      const v = this.values.get(k);
      if (v === undefined) return;
      this.values.delete(k);
      this.account(-(k.length + v.length + LOCAL_ENTRY_OVERHEAD_BYTES));
      if (added.has(k)) added.delete(k);
      else gone.add(k);
    };
    for (const w of writes) {
      if (w.op === "deleteRange" || w.op === "clearRange") {
        const s = keyString(w.start);
        const e = keyString(w.end);
        for (const k of [...added]) if (k >= s && k < e) remove(k);
        for (let i = lowerBound(this.sorted, s); i < this.sorted.length && this.sorted[i]! < e; i++) remove(this.sorted[i]!);
        continue;
      }
      const value = w.op === "delete" ? null : w.value;
      if (value === null) {
        remove(keyString(w.key));
        continue;
      }
      const k = flatString(w.key);
      const prev = this.values.get(k);
      if (prev !== undefined) this.account(-(k.length + prev.length + LOCAL_ENTRY_OVERHEAD_BYTES));
      else if (gone.has(k)) gone.delete(k);
      else added.add(k);
      this.values.set(k, flatString(value));
      this.account(k.length + value.length + LOCAL_ENTRY_OVERHEAD_BYTES);
    }
    if (gone.size > 0) this.sorted = this.sorted.filter((k) => !gone.has(k));
    if (added.size > 0) this.sorted = mergeSorted(this.sorted, [...added].sort());
  }

  /** Forgets everything (the session ended) and gives its bytes back to the isolate's budget. */
  clear(): void {
    isolateBytes -= this.ledger.bytes;
    this.ledger.bytes = 0;
    this.values.clear();
    this.sorted = [];
  }

  private entryBytes(k: string): number {
    const v = this.values.get(k);
    return v === undefined ? 0 : k.length + v.length + LOCAL_ENTRY_OVERHEAD_BYTES;
  }

  private account(delta: number): void {
    this.ledger.bytes += delta;
    isolateBytes += delta;
  }
}

function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (keys[mid]! < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function mergeSorted(a: readonly string[], b: readonly string[]): string[] {
  const out: string[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < a.length || j < b.length) out[o++] = j >= b.length || (i < a.length && a[i]! < b[j]!) ? a[i++]! : b[j++]!;
  return out;
}

function sameValue(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
