// Node-local keys: the storage node's own metadata, kept in the same LMDB keyspace below 0x74 so
// it commits atomically with the data (tenant-prefix.ts leaves those first bytes free; no tenant
// can address them because every tenant key must start with 0x74).
//
//   0x01 'c'                          highest commit timestamp ever written (u64 BE)
//   0x01 'g'                          GC threshold: reads below it are snapshot_too_old (u64 BE)
//   0x02 be64(readTs) be64(tenant) id commit outcome (the encoded KvResponse) for idempotent retry
//   0x03 be64(tenant)                 tenant stats: live bytes, MVCC bytes (2 x f64)
//   0x04 be64(tenant)                 tenant dropped marker
//   0x05 be64(commitTs) userKey       GC queue: at commitTs, userKey got a version over an older
//                                     one (or a tombstone); once the GC threshold reaches commitTs
//                                     the older versions are garbage (writer-core.ts gcStep)
//   0x06 be64(tenant) be64(clearTs) start
//                                     clear record: the span [start, end) was cleared by a
//                                     clearRange committed at clearTs; value = u8 state (0 pending,
//                                     1 done: every version deleted) + end. Kept until done and the
//                                     GC threshold passes clearTs (clearing/cleared-spans.ts)
//   0x07 be64(tenant)                 tenant usage counters (requests, RU, bytes…; metrics.ts), written
//                                     by the HTTP thread's periodic persist through the writer
//   0x0B be64(tenant)                 tenant moved marker: this node does not serve the tenant (u8 1: it
//                                     moved away, fenced; u8 2: it is being moved here, not adopted
//                                     yet). storage-node/moves/, replication/README.md "Tenant moves"
//   0x01 'q'                          GC queue start: commits above this ts are all queued; until a
//                                     GC pass at or above it completes, passes also scan everything
//                                     (stores written before the queue existed); 0 = not needed
//   0x74 ...                          MVCC versions of tenant keys (mvcc/version-key.ts)

export const META_MAX_COMMIT_TS = new Uint8Array([0x01, 0x63]);
export const META_GC_THRESHOLD = new Uint8Array([0x01, 0x67]);
export const META_GC_QUEUE_SINCE = new Uint8Array([0x01, 0x71]);
export const TXN_RECORD_TAG = 0x02;
export const TENANT_STATS_TAG = 0x03;
export const TENANT_DROPPED_TAG = 0x04;
export const GC_QUEUE_TAG = 0x05;
export const CLEAR_RECORD_TAG = 0x06;
export const TENANT_COUNTERS_TAG = 0x07;
export const TENANT_MOVED_TAG = 0x0b;
/** Moved-marker values: the tenant left this node (fenced), or is arriving here (imported, not adopted). */
export const MOVED_AWAY = 1;
export const MOVING_IN = 2;
/** All version keys of all tenants: [0x74, 0x75). */
export const VERSIONS_LOW = new Uint8Array([0x74]);
export const VERSIONS_HIGH = new Uint8Array([0x75]);

export function u64(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v, false);
  return out;
}

export function readU64(b: Uint8Array, offset = 0): bigint {
  return new DataView(b.buffer, b.byteOffset + offset, 8).getBigUint64(0, false);
}

function tagged(tag: number, ...parts: Uint8Array[]): Uint8Array {
  let len = 1;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  out[0] = tag;
  let o = 1;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function txnRecordKey(readTs: bigint, tenantId: number, txnId: Uint8Array): Uint8Array {
  return tagged(TXN_RECORD_TAG, u64(readTs), u64(BigInt(tenantId)), txnId);
}

/** Every txn record whose readTs is below `ts`. */
export function txnRecordsBelow(ts: bigint): { low: Uint8Array; high: Uint8Array } {
  return { low: new Uint8Array([TXN_RECORD_TAG]), high: tagged(TXN_RECORD_TAG, u64(ts)) };
}

export function tenantStatsKey(tenantId: number): Uint8Array {
  return tagged(TENANT_STATS_TAG, u64(BigInt(tenantId)));
}

export function tenantCountersKey(tenantId: number): Uint8Array {
  return tagged(TENANT_COUNTERS_TAG, u64(BigInt(tenantId)));
}

/** The tenant id of a tenant-tagged node key (stats, dropped marker, counters). */
export function tenantOfNodeKey(key: Uint8Array): number {
  return Number(readU64(key, 1));
}

export function tenantMovedKey(tenantId: number): Uint8Array {
  return tagged(TENANT_MOVED_TAG, u64(BigInt(tenantId)));
}

export function tenantDroppedKey(tenantId: number): Uint8Array {
  return tagged(TENANT_DROPPED_TAG, u64(BigInt(tenantId)));
}

export function allWithTag(tag: number): { low: Uint8Array; high: Uint8Array } {
  return { low: new Uint8Array([tag]), high: new Uint8Array([tag + 1]) };
}

/** The GC queue entry saying userKey's older versions become garbage once the threshold reaches commitTs. */
export function gcQueueKey(commitTs: bigint, userKey: Uint8Array): Uint8Array {
  return tagged(GC_QUEUE_TAG, u64(commitTs), userKey);
}

/** Every GC queue entry whose commitTs is at or below `ts`. */
export function gcQueueUpTo(ts: bigint): { low: Uint8Array; high: Uint8Array } {
  return { low: new Uint8Array([GC_QUEUE_TAG]), high: tagged(GC_QUEUE_TAG, u64(ts + 1n)) };
}

/** The user key of a GC queue entry (a view). */
export function gcQueueUserKey(entryKey: Uint8Array): Uint8Array {
  return entryKey.subarray(9);
}

/** Where the record of a clearRange of [start, …) committed at clearTs is kept. */
export function clearRecordKey(tenantId: number, clearTs: bigint, start: Uint8Array): Uint8Array {
  return tagged(CLEAR_RECORD_TAG, u64(BigInt(tenantId)), u64(clearTs), start);
}

export const CLEAR_PENDING = 0;
export const CLEAR_DONE = 1;

export function clearRecordValue(done: boolean, end: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + end.length);
  out[0] = done ? CLEAR_DONE : CLEAR_PENDING;
  out.set(end, 1);
  return out;
}

/** Decodes a stored clear record (copies: the engine's arrays may be slab views). */
export function decodeClearRecord(key: Uint8Array, value: Uint8Array): { tenantId: number; clearTs: bigint; start: Uint8Array; end: Uint8Array; done: boolean } {
  if (key.length < 17 || key[0] !== CLEAR_RECORD_TAG || value.length < 1 || value[0]! > CLEAR_DONE) {
    throw new Error("invariant: corrupt clear record");
  }
  return {
    tenantId: Number(readU64(key, 1)),
    clearTs: readU64(key, 9),
    start: key.slice(17),
    end: value.slice(1),
    done: value[0] === CLEAR_DONE,
  };
}

// Intents and transaction records (txn/, storage-node/README.md "Intents and locks"):
//   0x08 userKey                                  intent: a provisional write of a pending
//                                                 transaction; value = u8 idLen, txnId, version
//                                                 value (00 value | 01 tombstone)
//   0x09 be64(tenant) u8 idLen txnId userKey      the transaction's intents, for resolution
//   0x0A be64(tenant) u8 idLen txnId              transaction record: u8 status (0 pending,
//                                                 2 aborted), be64 wall ms of the last change
export const INTENT_TAG = 0x08;
export const TXN_INTENTS_TAG = 0x09;
export const TXN_STATUS_TAG = 0x0a;
export const TXN_PENDING = 0;
export const TXN_ABORTED = 2;

export function intentKey(userKey: Uint8Array): Uint8Array {
  return tagged(INTENT_TAG, userKey);
}

/** Intent keys of the user keys in [start, end). */
export function intentSpan(start: Uint8Array, end: Uint8Array): { low: Uint8Array; high: Uint8Array } {
  return { low: tagged(INTENT_TAG, start), high: tagged(INTENT_TAG, end) };
}

export function intentUserKey(entryKey: Uint8Array): Uint8Array {
  return entryKey.subarray(1);
}

function txnPart(txnId: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + txnId.length);
  out[0] = txnId.length;
  out.set(txnId, 1);
  return out;
}

/** The part every index entry (0x09) of one transaction shares; the user key follows it. */
export function txnIntentsPrefix(tenantId: number, txnId: Uint8Array): Uint8Array {
  return tagged(TXN_INTENTS_TAG, u64(BigInt(tenantId)), txnPart(txnId));
}

/** An index entry's key from its transaction's prefix: one allocation per key (a txnWrite writes thousands). */
export function txnIntentsKeyAfter(prefix: Uint8Array, userKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(prefix.length + userKey.length);
  out.set(prefix);
  out.set(userKey, prefix.length);
  return out;
}

/** Every index entry of one transaction's intents. */
export function txnIntentsSpan(tenantId: number, txnId: Uint8Array): { low: Uint8Array; high: Uint8Array } {
  const low = tagged(TXN_INTENTS_TAG, u64(BigInt(tenantId)), txnPart(txnId));
  const high = low.slice();
  let i = high.length - 1;
  while (i >= 0 && high[i] === 0xff) i--;
  // txnId is at most 64 bytes and its length byte is < 0xff, so some byte can always be raised.
  high[i]! += 1;
  return { low, high: high.subarray(0, i + 1) };
}

export function txnIntentsUserKey(entryKey: Uint8Array): Uint8Array {
  // A plain view: the engine's keys are Buffers, whose subarray() is several times slower (a
  // commit resolving 100,000 intents calls this once per intent).
  const at = 9 + 1 + entryKey[9]!;
  return new Uint8Array(entryKey.buffer, entryKey.byteOffset + at, entryKey.length - at);
}

export function txnStatusKey(tenantId: number, txnId: Uint8Array): Uint8Array {
  return tagged(TXN_STATUS_TAG, u64(BigInt(tenantId)), txnPart(txnId));
}

export function txnStatusValue(status: number, wallMs: number): Uint8Array {
  const out = new Uint8Array(9);
  out[0] = status;
  new DataView(out.buffer).setBigUint64(1, BigInt(Math.max(0, Math.floor(wallMs))), false);
  return out;
}

export function decodeTxnStatusKey(key: Uint8Array): { tenantId: number; txnId: Uint8Array } {
  return { tenantId: Number(readU64(key, 1)), txnId: key.slice(10, 10 + key[9]!) };
}

export function intentValue(txnId: Uint8Array, value: Uint8Array | null): Uint8Array {
  const out = new Uint8Array(1 + txnId.length + 1 + (value?.length ?? 0));
  out[0] = txnId.length;
  out.set(txnId, 1);
  out[1 + txnId.length] = value === null ? 1 : 0;
  if (value !== null) out.set(value, 2 + txnId.length);
  return out;
}

/** The owner and the provisional value (null: a delete) of a stored intent (views). */
export function decodeIntent(stored: Uint8Array): { txnId: Uint8Array; value: Uint8Array | null } {
  const n = stored[0]!;
  const txnId = stored.subarray(1, 1 + n);
  const kind = stored[1 + n];
  if (kind === 1) return { txnId, value: null };
  if (kind !== 0) throw new Error(`corrupt intent: kind byte ${kind}`);
  return { txnId, value: stored.subarray(2 + n) };
}
