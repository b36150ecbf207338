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
import { clearRecordKey, clearRecordValue, gcQueueKey } from "../node-keys.ts";
import type { ClearedSpans, ClearRecord } from "../clearing/cleared-spans.ts";
import { latestVersions, mvccGet, mvccScan, spanWrittenAfter, type ScanPage } from "./read.ts";
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
  /** Spans cleared and not yet forgotten (the writer's index; a commit's clears are added to it). */
  cleared: ClearedSpans;
  /** Records this group added (the writer reports them, and removes them again if the group fails). */
  clearsAdded: ClearRecord[];
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

export interface PlannedWrite {
  key: Uint8Array;
  value: Uint8Array | null;
}

/** Phase 1 for the write ops: the final value of every written key. Throws Refusal. */
function planWrites(ctx: ApplyContext, writes: WriteOp[], intents: PlannedWrite[] = []): Map<string, PlannedWrite> {
  const overlay = new Map<string, PlannedWrite>();
  // A transaction's resolved intents come first: the commit's own writes were made after them.
  for (const i of intents) overlay.set(keyId(i.key), i);
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
            message: `deleteRange would delete more than ${max} keys in one commit (deleteRangeKeysMax); delete the span in smaller pieces, or clear it whole with clearRange (DROP/TRUNCATE)`,
            key: op.start,
          });
        }
        break;
      }
      case "clearRange":
        // Not a per-key write: applyClears records the span; its versions go in the background.
        break;
    }
  }
  return overlay;
}

/** Phase 2: one version per planned key at commitTs. */
function applyWrites(ctx: ApplyContext, tenantId: number, overlay: Map<string, PlannedWrite>, commitTs: bigint): void {
  let liveDelta = 0;
  let mvccDelta = 0;
  const planned = [...overlay.values()];
  // Every key's newest version in one merged walk (a commit may resolve 100,000s of intents).
  const newest = latestVersions(ctx.w, planned.map((p) => p.key));
  for (let i = 0; i < planned.length; i++) {
    const { key, value } = planned[i]!;
    const latest = newest[i];
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
    if (op.op === "deleteRange" || op.op === "clearRange") n += op.start.length + op.end.length;
    else if (op.op === "cput") n += op.key.length + (op.value?.length ?? 0);
    else n += op.key.length + (op.op === "put" ? op.value.length : 0);
  }
  return n;
}

/** Backward validation: nothing committed after readTs in a read span, a deleted span or a written key. */
function validate(ctx: ApplyContext, tenantId: number, req: Extract<KvRequest, { type: "commit" }>): void {
  const conflict = (key: Uint8Array, what: string): Refusal =>
    new Refusal({
      code: "conflict",
      message: `transaction conflict: ${what} was written by a transaction that committed after this transaction's snapshot; retry the transaction`,
      key,
    });
  for (const span of req.readSpans) {
    const hit = spanWrittenAfter(ctx.w, span.start, span.end, req.readTs);
    if (hit) throw conflict(hit, "a key this transaction read");
    // A span cleared after the snapshot changed under the read as surely as a write would have.
    const cleared = ctx.cleared.first(tenantId, span.start, span.end, (r) => r.clearTs > req.readTs);
    if (cleared) throw conflict(cleared.start, "a span this transaction read (dropped or truncated since)");
  }
  const pointKeys: Uint8Array[] = [];
  for (const op of req.writes) {
    if (op.op === "clearRange") continue;
    if (op.op === "deleteRange") {
      const hit = spanWrittenAfter(ctx.w, op.start, op.end, req.readTs);
      if (hit) throw conflict(hit, "a key in a span this transaction deletes");
    } else pointKeys.push(op.key);
  }
  const newest = latestVersions(ctx.w, pointKeys);
  for (let i = 0; i < pointKeys.length; i++) {
    const latest = newest[i];
    if (latest !== undefined && latest.ts > req.readTs) throw conflict(pointKeys[i]!, "a key this transaction writes");
  }
}

/**
 * A span stays cleared while the node keeps its record: a write into it comes from a transaction
 * that saw the table or index before it was dropped or truncated (its catalog read conflicts
 * too), or from a gateway with a stale schema. Refused, so nothing lands in a span the background
 * clear is deleting (where it would be lost, or left behind for ever).
 */
function refuseWritesIntoCleared(ctx: ApplyContext, tenantId: number, writes: WriteOp[]): void {
  if (!ctx.cleared.hasTenant(tenantId)) return;
  for (const op of writes) {
    if (op.op === "clearRange") continue;
    const hit = op.op === "deleteRange" ? ctx.cleared.first(tenantId, op.start, op.end) : ctx.cleared.first(tenantId, op.key, null);
    if (hit) {
      throw new Refusal({
        code: "conflict",
        message: "transaction conflict: it writes into a table or index that was dropped or truncated (its span was cleared); reload the schema and retry the transaction",
        key: op.op === "deleteRange" ? op.start : op.key,
      });
    }
  }
}

/** The clearRange spans of a request, one per start (the widest), within the tenant's record bound. */
function planClears(ctx: ApplyContext, tenantId: number, writes: WriteOp[]): Array<{ start: Uint8Array; end: Uint8Array }> {
  const byStart = new Map<string, { start: Uint8Array; end: Uint8Array }>();
  for (const op of writes) {
    if (op.op !== "clearRange" || compareBytes(op.start, op.end) >= 0) continue;
    const id = keyId(op.start);
    const prev = byStart.get(id);
    if (prev === undefined || compareBytes(op.end, prev.end) > 0) byStart.set(id, { start: op.start, end: op.end });
  }
  const max = ctx.limits.clearSpansPerTenantMax;
  if (byStart.size > 0 && ctx.cleared.count(tenantId) + byStart.size > max) {
    throw new Refusal({
      code: "limit_exceeded",
      message: `tenant ${tenantId} already has ${ctx.cleared.count(tenantId)} cleared spans waiting for deletion or for the GC window; at most ${max} (clearSpansPerTenantMax): retry in a few minutes`,
    });
  }
  return [...byStart.values()];
}

/** Records each cleared span durably (with the commit) and in the writer's index. */
function applyClears(ctx: ApplyContext, tenantId: number, clears: Array<{ start: Uint8Array; end: Uint8Array }>, commitTs: bigint): void {
  for (const c of clears) {
    // Copies: the request body is a transferred buffer, and records outlive it.
    const rec: ClearRecord = { tenantId, start: c.start.slice(), end: c.end.slice(), clearTs: commitTs, done: false };
    ctx.w.put(clearRecordKey(tenantId, commitTs, rec.start), clearRecordValue(false, rec.end));
    ctx.cleared.add(rec);
    ctx.clearsAdded.push(rec);
  }
}

export function applyCommit(
  ctx: ApplyContext,
  tenantId: number,
  req: Extract<KvRequest, { type: "commit" }>,
  commitTs: bigint,
  intents: PlannedWrite[] = [],
): ApplyResult {
  const usage: ApplyUsage = { readBytes: 0, writeBytes: writeBytesOf(req.writes) };
  try {
    validate(ctx, tenantId, req);
    refuseWritesIntoCleared(ctx, tenantId, req.writes);
    if (intents.length > 0) refuseWritesIntoCleared(ctx, tenantId, intents.map((i): WriteOp => ({ op: "delete", key: i.key })));
    const clears = planClears(ctx, tenantId, req.writes);
    const overlay = planWrites(ctx, req.writes, intents);
    applyWrites(ctx, tenantId, overlay, commitTs);
    applyClears(ctx, tenantId, clears, commitTs);
    return { ok: true, results: [], usage };
  } catch (err) {
    if (err instanceof Refusal) return { ok: false, error: err.error, usage };
    throw err;
  }
}

/** The cleared spans a read must respect, for the tenant whose request it is. */
export interface ClearedView {
  spans: ClearedSpans;
  tenantId: number;
}

/**
 * snapshot_too_old when an op reads a span cleared after readTs: the clear removes versions without
 * keeping history, so a snapshot before it would see the span half deleted. Such a reader is a
 * transaction that began before a DROP/TRUNCATE committed; it must retry (and then sees the new
 * schema). Checked on the HTTP thread before reading.
 */
export function clearedReadRefusal(view: ClearedView, readTs: bigint, ops: ReadOp[]): KvError | null {
  if (!view.spans.hasTenant(view.tenantId)) return null;
  for (const op of ops) {
    const newer = (r: ClearRecord): boolean => r.clearTs > readTs;
    const hit = op.op === "get" ? view.spans.first(view.tenantId, op.key, null, newer) : view.spans.first(view.tenantId, op.start, op.end, newer);
    if (hit) {
      return {
        code: "snapshot_too_old",
        message: "the transaction's snapshot is older than a DROP TABLE / TRUNCATE / DROP INDEX of data it reads (the old data is being removed); retry the transaction",
        key: hit.start,
      };
    }
  }
  return null;
}

/**
 * One scan page over [start, end) minus the spans cleared at or below readTs (what is left of them
 * is being deleted in the background and must read as empty). Pieces are scanned in order within
 * the page's row and byte budget; the resume key keeps its usual meaning.
 */
function scanAroundCleared(
  reader: Parameters<typeof mvccGet>[0],
  readTs: bigint,
  pieces: Array<{ start: Uint8Array; end: Uint8Array }>,
  reverse: boolean,
  maxRows: number,
  maxBytes: number,
): ScanPage {
  const out: ScanPage = { rows: [], resumeKey: null, bytes: 0 };
  const order = reverse ? [...pieces].reverse() : pieces;
  for (const piece of order) {
    if (out.rows.length >= maxRows || (out.rows.length > 0 && out.bytes >= maxBytes)) {
      // Full before this piece: the next page starts (forward) or ends (reverse) at its edge.
      out.resumeKey = reverse ? piece.end : piece.start;
      return out;
    }
    const page = mvccScan(reader, readTs, {
      start: piece.start,
      end: piece.end,
      reverse,
      maxRows: maxRows - out.rows.length,
      maxBytes: out.rows.length > 0 ? maxBytes - out.bytes : maxBytes,
      mustFit: out.rows.length > 0,
    });
    for (const r of page.rows) out.rows.push(r);
    out.bytes += page.bytes;
    if (page.resumeKey !== null) {
      out.resumeKey = page.resumeKey;
      return out;
    }
  }
  return out;
}

/** Executes read ops at readTs within a response byte budget. Shared with the HTTP thread. */
export function executeReads(
  reader: Parameters<typeof mvccGet>[0],
  readTs: bigint,
  ops: ReadOp[],
  limits: StorageLimits,
  cleared?: ClearedView,
): { results: ReadResult[]; readBytes: number } | { error: KvError } {
  const results: ReadResult[] = new Array(ops.length);
  let budget = limits.responseBytesMax;
  let readBytes = 0;
  const anyCleared = cleared !== undefined && cleared.spans.hasTenant(cleared.tenantId);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.op === "get") {
      const hidden = anyCleared && cleared.spans.first(cleared.tenantId, op.key, null, (r) => r.clearTs <= readTs) !== null;
      const value = hidden ? null : mvccGet(reader, op.key, readTs);
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
      const pieces = anyCleared ? cleared.spans.visiblePieces(cleared.tenantId, op.start, op.end, readTs) : null;
      const page =
        pieces === null
          ? mvccScan(reader, readTs, { start: op.start, end: op.end, reverse: op.reverse, maxRows, maxBytes })
          : scanAroundCleared(reader, readTs, pieces, op.reverse, maxRows, maxBytes);
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
  const reads = executeReads(ctx.w, TS_MAX, req.reads, ctx.limits, { spans: ctx.cleared, tenantId });
  if ("error" in reads) return { ok: false, error: reads.error, usage };
  usage.readBytes = reads.readBytes;
  try {
    refuseWritesIntoCleared(ctx, tenantId, req.writes);
    const clears = planClears(ctx, tenantId, req.writes);
    const overlay = planWrites(ctx, req.writes);
    applyWrites(ctx, tenantId, overlay, commitTs);
    applyClears(ctx, tenantId, clears, commitTs);
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
