// Commit and single-shot batch execution, run by the writer thread inside one engine write
// transaction. Each request is handled in two phases so a refused request writes nothing even
// though it shares the LMDB transaction with the other requests of its group:
//   1. check: conflicts (backward validation), conditions and limits, reading only, and compute
//      the final value of every key the request writes (an overlay: later ops see earlier ones);
//   2. apply: write one version per key at commitTs and update the tenant's byte counters.
import type { KvError, KvRequest, ReadOp, ReadResult, WriteOp } from "../../common/kv-protocol/messages.ts";
import { tenantOfKey } from "../../common/tenant-prefix.ts";
import type { EngineWriter } from "../engine/engine.ts";
import type { StorageLimits } from "../limits.ts";
import { gcQueueKey } from "../node-keys.ts";
import { mvccGet, mvccScan, readVersion, spanWrittenAfter } from "./read.ts";
import { bytesEqual, compareBytes } from "../../common/bytes.ts";
import { encodeVersionValue, TS_MAX, versionKey } from "./version-key.ts";

const GC_QUEUE_VALUE = new Uint8Array([1]);

export interface TenantBytes {
  liveBytes: number;
  mvccBytes: number;
}

/** Per-tenant byte counters kept by the writer; dirty entries are persisted with the group. */
export class TenantBytesTable {
  readonly byTenant = new Map<number, TenantBytes>();
  readonly dirty = new Set<number>();

  entry(tenantId: number): TenantBytes {
    let e = this.byTenant.get(tenantId);
    if (!e) {
      e = { liveBytes: 0, mvccBytes: 0 };
      this.byTenant.set(tenantId, e);
    }
    return e;
  }

  add(tenantId: number, liveDelta: number, mvccDelta: number): void {
    const e = this.entry(tenantId);
    e.liveBytes += liveDelta;
    e.mvccBytes += mvccDelta;
    this.dirty.add(tenantId);
  }
}

export interface ApplyContext {
  w: EngineWriter;
  limits: StorageLimits;
  bytes: TenantBytesTable;
}

export interface ApplyUsage {
  readBytes: number;
  writeBytes: number;
}

export type ApplyResult =
  | { ok: true; results: ReadResult[]; usage: ApplyUsage }
  | { ok: false; error: KvError; usage: ApplyUsage };

class Refusal extends Error {
  readonly error: KvError;
  constructor(error: KvError) {
    super(error.message);
    this.error = error;
  }
}

function keyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}

function sameValue(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return bytesEqual(a, b);
}

interface PlannedWrite {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** Phase 1 for the write ops: the final value of every written key. Throws Refusal. */
function planWrites(ctx: ApplyContext, writes: WriteOp[]): Map<string, PlannedWrite> {
  const overlay = new Map<string, PlannedWrite>();
  let rangeTombstones = 0;
  for (const op of writes) {
    switch (op.op) {
      case "put":
        overlay.set(keyId(op.key), { key: op.key, value: op.value });
        break;
      case "delete":
        overlay.set(keyId(op.key), { key: op.key, value: null });
        break;
      case "cput": {
        const id = keyId(op.key);
        const planned = overlay.get(id);
        const current = planned ? planned.value : mvccGet(ctx.w, op.key, TS_MAX);
        if (!sameValue(current, op.expected)) {
          throw new Refusal({
            code: "condition_failed",
            message: "conditional put refused: the key's current value differs from the expected value",
            key: op.key,
            actual: current === null ? null : current.slice(),
          });
        }
        overlay.set(id, { key: op.key, value: op.value });
        break;
      }
      case "deleteRange": {
        // MVCC delete of a span: one tombstone per key live now (and per key this request wrote
        // earlier). Bounded by deleteRangeKeysMax so one commit stays a bounded LMDB transaction.
        const max = ctx.limits.deleteRangeKeysMax;
        const page = mvccScan(ctx.w, TS_MAX, { start: op.start, end: op.end, reverse: false, maxRows: max + 1, maxBytes: Number.MAX_SAFE_INTEGER });
        for (const row of page.rows) overlay.set(keyId(row.key), { key: row.key, value: null });
        for (const p of overlay.values()) {
          if (compareBytes(p.key, op.start) >= 0 && compareBytes(p.key, op.end) < 0) p.value = null;
        }
        rangeTombstones += page.rows.length;
        if (rangeTombstones > max) {
          throw new Refusal({
            code: "limit_exceeded",
            message: `deleteRange would delete more than ${max} keys in one commit (deleteRangeKeysMax); delete the span in smaller pieces`,
            key: op.start,
          });
        }
        break;
      }
    }
  }
  return overlay;
}

/** Phase 2: one version per planned key at commitTs. */
function applyWrites(ctx: ApplyContext, tenantId: number, overlay: Map<string, PlannedWrite>, commitTs: bigint): void {
  let liveDelta = 0;
  let mvccDelta = 0;
  for (const { key, value } of overlay.values()) {
    const latest = readVersion(ctx.w, key, TS_MAX);
    if (latest !== undefined && latest.ts >= commitTs) {
      // Commit timestamps are handed out in apply order; anything else is a clock bug.
      throw new Error(`invariant: key already has a version at ${latest.ts} >= commitTs ${commitTs}`);
    }
    // Deleting a key that is already absent changes nothing a reader can see: write no tombstone.
    if (value === null && (latest === undefined || latest.value === null)) continue;
    if (latest !== undefined && latest.value !== null) liveDelta -= key.length + latest.value.length;
    ctx.w.put(versionKey(key, commitTs), encodeVersionValue(value));
    // The older version (or, for a tombstone, this one too) becomes garbage once the GC threshold
    // reaches commitTs: queue the key so GC visits it then, instead of scanning every key.
    if (latest !== undefined) ctx.w.put(gcQueueKey(commitTs, key), GC_QUEUE_VALUE);
    mvccDelta += key.length + 8 + (value === null ? 0 : value.length);
    if (value !== null) liveDelta += key.length + value.length;
  }
  if (liveDelta !== 0 || mvccDelta !== 0) ctx.bytes.add(tenantId, liveDelta, mvccDelta);
}

function writeBytesOf(writes: WriteOp[]): number {
  let n = 0;
  for (const op of writes) {
    if (op.op === "deleteRange") n += op.start.length + op.end.length;
    else if (op.op === "cput") n += op.key.length + (op.value?.length ?? 0);
    else n += op.key.length + (op.op === "put" ? op.value.length : 0);
  }
  return n;
}

/** Backward validation: nothing committed after readTs in a read span, a deleted span or a written key. */
function validate(ctx: ApplyContext, req: Extract<KvRequest, { type: "commit" }>): void {
  const conflict = (key: Uint8Array, what: string): Refusal =>
    new Refusal({
      code: "conflict",
      message: `transaction conflict: ${what} was written by a transaction that committed after this transaction's snapshot; retry the transaction`,
      key,
    });
  for (const span of req.readSpans) {
    const hit = spanWrittenAfter(ctx.w, span.start, span.end, req.readTs);
    if (hit) throw conflict(hit, "a key this transaction read");
  }
  for (const op of req.writes) {
    if (op.op === "deleteRange") {
      const hit = spanWrittenAfter(ctx.w, op.start, op.end, req.readTs);
      if (hit) throw conflict(hit, "a key in a span this transaction deletes");
    } else {
      const latest = readVersion(ctx.w, op.key, TS_MAX);
      if (latest !== undefined && latest.ts > req.readTs) throw conflict(op.key, "a key this transaction writes");
    }
  }
}

export function applyCommit(
  ctx: ApplyContext,
  tenantId: number,
  req: Extract<KvRequest, { type: "commit" }>,
  commitTs: bigint,
): ApplyResult {
  const usage: ApplyUsage = { readBytes: 0, writeBytes: writeBytesOf(req.writes) };
  try {
    validate(ctx, req);
    const overlay = planWrites(ctx, req.writes);
    applyWrites(ctx, tenantId, overlay, commitTs);
    return { ok: true, results: [], usage };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, error: err.error, usage };
    throw err;
  }
}

/** Executes read ops at readTs within a response byte budget. Shared with the HTTP thread. */
export function executeReads(
  reader: Parameters<typeof mvccGet>[0],
  readTs: bigint,
  ops: ReadOp[],
  limits: StorageLimits,
): { results: ReadResult[]; readBytes: number } | { error: KvError } {
  const results: ReadResult[] = new Array(ops.length);
  let budget = limits.responseBytesMax;
  let readBytes = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.op === "get") {
      const value = mvccGet(reader, op.key, readTs);
      const size = op.key.length + (value?.length ?? 0);
      if (size > budget) {
        return {
          error: {
            code: "limit_exceeded",
            message: `response would exceed ${limits.responseBytesMax} bytes (responseBytesMax); split the reads over several requests`,
            key: op.key,
          },
        };
      }
      budget -= size;
      readBytes += size;
      // The engine's arrays are the caller's: no copy (the response encoder copies once).
      results[i] = { op: "get", value };
    } else {
      const maxRows = Math.min(op.maxRows === 0 ? limits.scanRowsMax : op.maxRows, limits.scanRowsMax);
      const maxBytes = Math.max(1, Math.min(op.maxBytes === 0 ? limits.scanBytesMax : op.maxBytes, limits.scanBytesMax, budget));
      const page = mvccScan(reader, readTs, { start: op.start, end: op.end, reverse: op.reverse, maxRows, maxBytes });
      budget -= page.bytes;
      readBytes += page.bytes;
      results[i] = { op: "scan", rows: page.rows, resumeKey: page.resumeKey };
    }
  }
  return { results, readBytes };
}

export function applyBatch(
  ctx: ApplyContext,
  tenantId: number,
  req: Extract<KvRequest, { type: "batch" }>,
  commitTs: bigint,
): ApplyResult {
  const usage: ApplyUsage = { readBytes: 0, writeBytes: writeBytesOf(req.writes) };
  // Reads see the latest state (everything applied before this request, in this group too).
  const reads = executeReads(ctx.w, TS_MAX, req.reads, ctx.limits);
  if ("error" in reads) return { ok: false, error: reads.error, usage };
  usage.readBytes = reads.readBytes;
  try {
    const overlay = planWrites(ctx, req.writes);
    applyWrites(ctx, tenantId, overlay, commitTs);
    return { ok: true, results: reads.results, usage };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, error: err.error, usage };
    throw err;
  }
}

/** The tenant a key belongs to; the HTTP thread has already checked every key, so this only asserts. */
export function tenantOfCheckedKey(key: Uint8Array): number {
  const t = tenantOfKey(key);
  if (t === null) throw new Error("invariant: key outside every tenant span reached the writer");
  return t;
}
