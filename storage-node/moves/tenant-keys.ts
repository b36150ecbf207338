// Every key of one tenant's state on a storage node, across the node's keyspace (node-keys.ts): what a
// tenant move copies, what the digest that checks a move compares, and what is deleted from the
// source once the move is done (replication/README.md, "Tenant moves").
//
//   0x74 escape(prefix(T)…)        MVCC versions                      one range
//   0x08 prefix(T)…                intents                            one range
//   0x03 be64(T)                   byte stats                         a point
//   0x06 / 0x09 / 0x0A be64(T)…    clear records, intent index,       three ranges
//                                  transaction status
//   0x02 be64(readTs) be64(T) id   commit outcomes (idempotent retry) the whole tag, filtered
//   0x05 be64(commitTs) userKey    GC queue                           the whole tag, filtered
//
// Not the tenant's state, so never copied: the dropped marker (0x04: a dropped tenant is not moved),
// the moved marker (0x0B: each node's own statement of whether it serves the tenant), the usage
// counters (0x07: what this node metered; the HTTP thread keeps them in memory and rewrites them
// every few seconds, also for requests it refuses, so each node reports its own), and the node's
// metadata (0x01, the replication log 0x20–0x22). The two filtered tags are ordered by
// timestamp, not tenant; both are bounded by the GC window (records and queue entries below the GC
// threshold are deleted), so scanning them costs what the node's recent write history holds.
import { createHash } from "node:crypto";
import { tenantOfKey, tenantSpan } from "../../common/tenant-prefix.ts";
import type { EngineReader } from "../engine/engine.ts";
import { forEachGroupOp } from "../replication/group-entry.ts";
import { escapedBound } from "../mvcc/version-key.ts";
import {
  allWithTag,
  CLEAR_RECORD_TAG,
  GC_QUEUE_TAG,
  gcQueueUserKey,
  intentSpan,
  readU64,
  tenantStatsKey,
  TXN_INTENTS_TAG,
  TXN_RECORD_TAG,
  TXN_STATUS_TAG,
  u64,
} from "../node-keys.ts";

interface Span {
  low: Uint8Array;
  high: Uint8Array;
  /** Keys of a span ordered by something else than the tenant: kept only when this says so. */
  keep?: (key: Uint8Array) => boolean;
}

function tenantTagged(tag: number, tenantId: number): Span {
  const low = new Uint8Array(9);
  low[0] = tag;
  low.set(u64(BigInt(tenantId)), 1);
  const high = new Uint8Array(9);
  high[0] = tag;
  high.set(u64(BigInt(tenantId) + 1n), 1);
  return { low, high };
}

function point(key: Uint8Array): Span {
  const high = new Uint8Array(key.length + 1);
  high.set(key);
  return { low: key, high };
}

/** The spans holding tenant `tenantId`'s state, in key order. */
export function tenantStateSpans(tenantId: number): Span[] {
  const span = tenantSpan(tenantId);
  const txnRecords = allWithTag(TXN_RECORD_TAG);
  const gcQueue = allWithTag(GC_QUEUE_TAG);
  return [
    { ...txnRecords, keep: (k) => k.length >= 17 && Number(readU64(k, 9)) === tenantId },
    point(tenantStatsKey(tenantId)),
    { ...gcQueue, keep: (k) => k.length > 9 && tenantOfKey(gcQueueUserKey(k)) === tenantId },
    tenantTagged(CLEAR_RECORD_TAG, tenantId),
    intentSpan(span.start, span.end),
    tenantTagged(TXN_INTENTS_TAG, tenantId),
    tenantTagged(TXN_STATUS_TAG, tenantId),
    { low: escapedBound(span.start), high: escapedBound(span.end) },
  ];
}

function compare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Whether `key` is part of tenant `tenantId`'s state (the spans above). */
export function isTenantStateKey(spans: readonly Span[], key: Uint8Array): boolean {
  for (const s of spans) {
    if (compare(key, s.low) >= 0 && compare(key, s.high) < 0) return s.keep === undefined || s.keep(key);
  }
  return false;
}

/** Every key and value of the tenant's state, in key order, from `reader`'s one state. */
export function* tenantState(reader: EngineReader, tenantId: number): Generator<{ key: Uint8Array; value: Uint8Array }> {
  for (const s of tenantStateSpans(tenantId)) {
    for (const e of reader.range({ low: s.low, high: s.high })) {
      if (s.keep === undefined || s.keep(e.key)) yield e;
    }
  }
}

/** sha256 over (length, key, length, value) of every key of the tenant's state, in key order. */
export function tenantStateDigest(reader: EngineReader, tenantId: number): { keys: number; sha256: string } {
  const h = createHash("sha256");
  let keys = 0;
  for (const e of tenantState(reader, tenantId)) {
    h.update(u64(BigInt(e.key.length))).update(e.key).update(u64(BigInt(e.value.length))).update(e.value);
    keys++;
  }
  return { keys, sha256: h.digest("hex") };
}

/**
 * sha256 over the keys a fenced tail touches (the operations of `chunk`, an encoded group entry),
 * each with its value in `reader` or its absence, in key order. The source takes it at its apply
 * point after the fence, the target after it imported the same chunk: with the whole state's
 * digest already compared at the last catch-up (outside the write pause), equal values of the
 * touched keys make the whole states equal, since every other key is as it was then on both
 * (replication/README.md "Tenant moves", the digest). Costs what the tail wrote, not the tenant.
 */
export function touchedKeysDigest(reader: EngineReader, chunk: Uint8Array | undefined): { keys: number; sha256: string } {
  const touched = new Map<string, Uint8Array>();
  if (chunk !== undefined) forEachGroupOp(chunk, (o) => touched.set(Buffer.from(o.key).toString("hex"), o.key.slice()));
  const keys = [...touched.values()].sort(compare);
  const h = createHash("sha256");
  for (const k of keys) {
    const v = reader.get(k);
    h.update(u64(BigInt(k.length))).update(k);
    if (v === undefined) h.update(new Uint8Array([0]));
    else h.update(new Uint8Array([1])).update(u64(BigInt(v.length))).update(v);
  }
  return { keys: keys.length, sha256: h.digest("hex") };
}
