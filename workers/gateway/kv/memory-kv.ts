// An in-memory stand-in for the storage node, for unit tests of the layers above the KV client.
// It follows the wire contract's semantics (common/kv-protocol/messages.ts): MVCC versions,
// snapshot reads at a timestamp, optimistic commits that fail with `conflict` when anything in the
// transaction's read spans or written keys changed after its read timestamp, idempotent commits by
// txnId, and single-shot batches, and clearRange as the node does it (the span goes whole; reads
// below the clear get snapshot_too_old, writes into it conflict). It is not the thing any e2e test
// measures.
import type {
  KvError,
  KvRequest,
  KvResponse,
  ReadOp,
  ReadResult,
  Span,
  Timestamp,
  WriteOp,
} from "../../../common/kv-protocol/messages.ts";
import { keyFromString, keyString } from "../../../common/bytes.ts";
import type { KvTransport } from "./kv-client.ts";
import type { TenantKvCapability } from "./capability.ts";
import { decodeRequest, encodeResponse } from "../../../common/kv-protocol/codec.ts";

interface Version {
  ts: Timestamp;
  value: Uint8Array | null;
}

export class MemoryKv implements KvTransport {
  private readonly versions = new Map<string, Version[]>();
  private sorted: string[] = [];
  private pending: string[] = [];
  private clock = 1n;
  private readonly outcomes = new Map<string, KvResponse>();
  /** Spans removed by clearRange, with the commit that removed them (kept for ever: tests only). */
  private readonly clears: Array<{ start: string; end: string; ts: Timestamp }> = [];
  /** Requests seen, by type: tests assert on round trips. */
  readonly requestCounts = { begin: 0, read: 0, commit: 0, abort: 0, batch: 0, txnRead: 0, txnWrite: 0, refresh: 0, heartbeat: 0, unlock: 0 };
  /** Intents of open transactions (no locking here: tests of the layers above run one client at a time). */
  private readonly intents = new Map<string, Map<string, Uint8Array | null>>();

  private ownIntent(txnId: Uint8Array, k: string): Uint8Array | null | undefined {
    return this.intents.get(keyString(txnId))?.get(k);
  }

  async send(request: KvRequest): Promise<KvResponse> {
    return this.handle(request);
  }

  handle(req: KvRequest): KvResponse {
    this.requestCounts[req.type]++;
    switch (req.type) {
      case "begin":
        return { type: "begin", readTs: this.clock };
      case "read": {
        const readTs = req.readTs ?? this.clock;
        const stale = this.clearedAfter(req.ops, readTs);
        if (stale) return { type: "error", error: stale };
        return { type: "read", readTs, results: req.ops.map((op) => this.readOp(op, readTs)) };
      }
      case "commit": {
        const id = keyString(req.txnId);
        const prior = this.outcomes.get(id);
        if (prior) return prior;
        const own = this.intents.get(id);
        this.intents.delete(id);
        const writes: WriteOp[] = own === undefined ? req.writes : [...[...own].map(([k, v]): WriteOp => (v === null ? { op: "delete", key: keyFromString(k) } : { op: "put", key: keyFromString(k), value: v })), ...req.writes];
        const err = this.validate(req.readTs, req.readSpans, req.writes);
        const out: KvResponse = err ? { type: "error", error: err } : { type: "commit", commitTs: this.apply(writes) };
        this.outcomes.set(id, out);
        return out;
      }
      case "abort":
        this.intents.delete(keyString(req.txnId));
        return { type: "abort" };
      case "txnRead": {
        const readTs = req.readTs ?? this.clock;
        const stale = this.clearedAfter(req.ops, readTs);
        if (stale) return { type: "error", error: stale };
        const own = this.intents.get(keyString(req.txnId));
        const results = req.ops.map((op) => this.readOp(op, readTs));
        if (own !== undefined) {
          for (let i = 0; i < req.ops.length; i++) {
            const op = req.ops[i]!;
            const r = results[i]!;
            if (op.op === "get" && r.op === "get") {
              const v = own.get(keyString(op.key));
              if (v !== undefined) r.value = v;
            } else if (op.op === "scan" && r.op === "scan") {
              const start = keyString(op.reverse ? (r.resumeKey ?? op.start) : op.start);
              const end = keyString(op.reverse ? op.end : (r.resumeKey ?? op.end));
              const merged = new Map(r.rows.map((row) => [keyString(row.key), row.value] as [string, Uint8Array | null]));
              for (const [k, v] of own) if (k >= start && k < end) merged.set(k, v);
              const ks = [...merged.keys()].filter((k) => merged.get(k) !== null).sort();
              if (op.reverse) ks.reverse();
              r.rows = ks.map((k) => ({ key: keyFromString(k), value: merged.get(k)! }));
            }
          }
        }
        return { type: "read", readTs, results };
      }
      case "txnWrite": {
        const id = keyString(req.txnId);
        const own = this.intents.get(id) ?? new Map<string, Uint8Array | null>();
        for (const w of req.writes) {
          if (w.op !== "put" && w.op !== "delete" && w.op !== "cput") continue;
          const k = keyString(w.key);
          if (this.changedAfter(k, req.readTs)) return { type: "error", error: { code: "write_too_old", message: "a key written by this transaction changed", key: w.key } };
          if (w.op === "cput") {
            const o = own.get(k);
            const cur = o !== undefined ? o : this.valueAt(k, this.clock);
            if (!sameValue(cur, w.expected)) return { type: "error", error: { code: "condition_failed", message: "cput condition failed", key: w.key, actual: cur } };
          }
        }
        for (const w of req.writes) {
          if (w.op === "put") own.set(keyString(w.key), w.value.slice());
          else if (w.op === "delete") own.set(keyString(w.key), null);
          else if (w.op === "cput") own.set(keyString(w.key), w.value === null ? null : w.value.slice());
        }
        this.intents.set(id, own);
        return { type: "ack" };
      }
      case "refresh": {
        const err = this.validate(req.readTs, req.spans, []);
        return err ? { type: "error", error: err } : { type: "refresh", readTs: this.clock };
      }
      case "heartbeat":
      case "unlock":
        // This in-memory store keeps no locks (one session per test, or tests of other things).
        return { type: "ack" };
      case "batch": {
        const readTs = this.clock;
        const results = req.reads.map((op) => this.readOp(op, readTs));
        const cleared = this.writesIntoCleared(req.writes);
        if (cleared) return { type: "error", error: cleared };
        for (const w of req.writes) {
          if (w.op === "cput") {
            const cur = this.valueAt(keyString(w.key), readTs);
            if (!sameValue(cur, w.expected)) {
              return { type: "error", error: { code: "condition_failed", message: "cput condition failed", key: w.key, actual: cur } };
            }
          }
        }
        return { type: "batch", commitTs: this.apply(req.writes), results };
      }
    }
  }

  private sortedKeys(): string[] {
    if (this.pending.length > 0) {
      this.pending.sort();
      const merged: string[] = [];
      let i = 0;
      let j = 0;
      while (i < this.sorted.length || j < this.pending.length) {
        if (j >= this.pending.length || (i < this.sorted.length && this.sorted[i]! < this.pending[j]!)) merged.push(this.sorted[i++]!);
        else merged.push(this.pending[j++]!);
      }
      this.sorted = merged;
      this.pending = [];
    }
    return this.sorted;
  }

  private valueAt(k: string, ts: Timestamp): Uint8Array | null {
    const vs = this.versions.get(k);
    if (!vs) return null;
    for (let i = vs.length - 1; i >= 0; i--) if (vs[i]!.ts <= ts) return vs[i]!.value;
    return null;
  }

  private lowerBound(keys: string[], k: string): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private readOp(op: ReadOp, ts: Timestamp): ReadResult {
    if (op.op === "get") return { op: "get", value: this.valueAt(keyString(op.key), ts) };
    const keys = this.sortedKeys();
    const start = keyString(op.start);
    const end = keyString(op.end);
    const rows: Array<{ key: Uint8Array; value: Uint8Array }> = [];
    let bytes = 0;
    const maxRows = Math.max(1, op.maxRows);
    if (!op.reverse) {
      for (let i = this.lowerBound(keys, start); i < keys.length && keys[i]! < end; i++) {
        const v = this.valueAt(keys[i]!, ts);
        if (v === null) continue;
        if (rows.length >= maxRows || (rows.length > 0 && bytes >= op.maxBytes)) return { op: "scan", rows, resumeKey: keyFromString(keys[i]!) };
        rows.push({ key: keyFromString(keys[i]!), value: v });
        bytes += keys[i]!.length + v.length;
      }
    } else {
      for (let i = this.lowerBound(keys, end) - 1; i >= 0 && keys[i]! >= start; i--) {
        const v = this.valueAt(keys[i]!, ts);
        if (v === null) continue;
        if (rows.length >= maxRows || (rows.length > 0 && bytes >= op.maxBytes)) {
          // Reverse resume key is the exclusive end of what is left: the last returned key.
          return { op: "scan", rows, resumeKey: rows[rows.length - 1]!.key };
        }
        rows.push({ key: keyFromString(keys[i]!), value: v });
        bytes += keys[i]!.length + v.length;
      }
    }
    return { op: "scan", rows, resumeKey: null };
  }

  private clearOverlapping(start: string, end: string | null, pred: (ts: Timestamp) => boolean): { start: string } | null {
    for (const c of this.clears) {
      const hit = end === null ? start >= c.start && start < c.end : start < c.end && end > c.start;
      if (hit && pred(c.ts)) return c;
    }
    return null;
  }

  private clearedAfter(ops: ReadOp[], readTs: Timestamp): KvError | null {
    for (const op of ops) {
      const c = op.op === "get" ? this.clearOverlapping(keyString(op.key), null, (ts) => ts > readTs) : this.clearOverlapping(keyString(op.start), keyString(op.end), (ts) => ts > readTs);
      if (c) return { code: "snapshot_too_old", message: "a span this snapshot reads was cleared after it", key: keyFromString(c.start) };
    }
    return null;
  }

  private writesIntoCleared(writes: WriteOp[]): KvError | null {
    for (const w of writes) {
      if (w.op === "clearRange") continue;
      const c = w.op === "deleteRange" ? this.clearOverlapping(keyString(w.start), keyString(w.end), () => true) : this.clearOverlapping(keyString(w.key), null, () => true);
      if (c) return { code: "conflict", message: "a write into a cleared span", key: keyFromString(c.start) };
    }
    return null;
  }

  private changedAfter(k: string, ts: Timestamp): boolean {
    const vs = this.versions.get(k);
    return vs !== undefined && vs.length > 0 && vs[vs.length - 1]!.ts > ts;
  }

  private validate(readTs: Timestamp, spans: Span[], writes: WriteOp[]): KvError | null {
    const keys = this.sortedKeys();
    for (const s of spans) {
      const start = keyString(s.start);
      const end = keyString(s.end);
      for (let i = this.lowerBound(keys, start); i < keys.length && keys[i]! < end; i++) {
        if (this.changedAfter(keys[i]!, readTs)) return { code: "conflict", message: "a key read by this transaction changed", key: keyFromString(keys[i]!) };
      }
      if (this.clearOverlapping(start, end, (ts) => ts > readTs)) return { code: "conflict", message: "a span read by this transaction was cleared", key: s.start };
    }
    const cleared = this.writesIntoCleared(writes);
    if (cleared) return cleared;
    for (const w of writes) {
      if (w.op === "deleteRange" || w.op === "clearRange") continue;
      if (this.changedAfter(keyString(w.key), readTs)) return { code: "conflict", message: "a key written by this transaction changed", key: w.key };
      if (w.op === "cput" && !sameValue(this.valueAt(keyString(w.key), readTs), w.expected)) {
        return { code: "condition_failed", message: "cput condition failed", key: w.key };
      }
    }
    return null;
  }

  private apply(writes: WriteOp[]): Timestamp {
    const ts = ++this.clock;
    const put = (k: string, value: Uint8Array | null): void => {
      let vs = this.versions.get(k);
      if (!vs) {
        vs = [];
        this.versions.set(k, vs);
        this.pending.push(k);
      }
      vs.push({ ts, value: value === null ? null : value.slice() });
    };
    for (const w of writes) {
      if (w.op === "put") put(keyString(w.key), w.value);
      else if (w.op === "delete") put(keyString(w.key), null);
      else if (w.op === "cput") put(keyString(w.key), w.value);
      else if (w.op === "clearRange") {
        // The span goes whole, history included (the node deletes it in the background).
        const start = keyString(w.start);
        const end = keyString(w.end);
        for (const k of this.sortedKeys()) if (k >= start && k < end) this.versions.delete(k);
        this.sorted = this.sorted.filter((k) => !(k >= start && k < end));
        this.clears.push({ start, end, ts });
      } else {
        const keys = this.sortedKeys();
        const start = keyString(w.start);
        const end = keyString(w.end);
        for (let i = this.lowerBound(keys, start); i < keys.length && keys[i]! < end; i++) {
          if (this.valueAt(keys[i]!, ts) !== null) put(keys[i]!, null);
        }
      }
    }
    return ts;
  }
}

function sameValue(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The in-memory store behind the same capability interface the gateway gets, through the wire codec. */
export function memoryCapability(mem: MemoryKv): TenantKvCapability {
  return {
    async batch(request: Uint8Array): Promise<Uint8Array> {
      return encodeResponse(mem.handle(decodeRequest(request)));
    },
  };
}
