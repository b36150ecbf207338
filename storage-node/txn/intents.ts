// The writer thread's side of pessimistic transactions: provisional intents and the transaction
// record (node-keys.ts 0x08-0x0A). Everything here runs inside the writer's group transaction, so
// an intent, its index entry and its record appear or vanish together, and a commit resolves all
// of a transaction's intents in the same LMDB transaction that writes its versions (on one node the
// "flip" of the record and the resolution are one atomic step; storage-node/README.md).
import type { KvError, KvRequest } from "../../common/kv-protocol/messages.ts";
import type { EngineReader, EngineWriter } from "../engine/engine.ts";
import { mvccGet, readVersion } from "../mvcc/read.ts";
import { TS_MAX } from "../mvcc/version-key.ts";
import {
  allWithTag,
  decodeIntent,
  decodeTxnStatusKey,
  intentKey,
  intentValue,
  TXN_ABORTED,
  TXN_PENDING,
  TXN_STATUS_TAG,
  txnIntentsKey,
  txnIntentsSpan,
  txnIntentsUserKey,
  txnStatusKey,
  txnStatusValue,
} from "../node-keys.ts";
import { bytesEqual } from "../../common/bytes.ts";

export type TxnStatus = "none" | "pending" | "aborted";

export function txnStatus(r: EngineReader, tenantId: number, txnId: Uint8Array): TxnStatus {
  const v = r.get(txnStatusKey(tenantId, txnId));
  if (v === undefined) return "none";
  return v[0] === TXN_ABORTED ? "aborted" : "pending";
}

function sameValue(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return bytesEqual(a, b);
}

/** The value a transaction sees for `key` at the latest state: its own intent, else the newest version. */
export function ownLatest(r: EngineReader, txnId: Uint8Array, key: Uint8Array): Uint8Array | null {
  const i = r.get(intentKey(key));
  if (i !== undefined) {
    const d = decodeIntent(i);
    if (bytesEqual(d.txnId, txnId)) return d.value;
  }
  return mvccGet(r, key, TS_MAX);
}

/**
 * Writes the intents of one txnWrite. The HTTP thread holds an exclusive lock on every key for this
 * transaction (txn/lock-table.ts), so no other pending transaction can have an intent there; an
 * intent of an aborted transaction not yet cleaned is replaced. Refusals write nothing (phase 1
 * reads only). Returns the error, or null.
 */
export function writeIntents(
  w: EngineWriter,
  tenantId: number,
  req: Extract<KvRequest, { type: "txnWrite" }>,
  nowMs: number,
): KvError | null {
  const status = txnStatus(w, tenantId, req.txnId);
  if (status === "aborted") return { code: "transaction_aborted", message: "the transaction was aborted on the storage node (expired, pushed, or the node restarted); retry it" };
  // Phase 1: conditions and write-write checks, with an overlay so later ops see earlier ones.
  const overlay = new Map<string, { key: Uint8Array; value: Uint8Array | null }>();
  for (const op of req.writes) {
    if (op.op !== "put" && op.op !== "delete" && op.op !== "cput") continue;
    const id = Buffer.from(op.key.buffer, op.key.byteOffset, op.key.byteLength).toString("latin1");
    const latest = readVersion(w, op.key, TS_MAX);
    if (latest !== undefined && latest.ts > req.readTs) {
      return { code: "write_too_old", message: "a key this transaction writes was committed by another transaction after its snapshot", key: op.key };
    }
    const existing = w.get(intentKey(op.key));
    if (existing !== undefined) {
      const d = decodeIntent(existing);
      if (!bytesEqual(d.txnId, req.txnId) && txnStatus(w, tenantId, d.txnId) === "pending") {
        // The lock table prevents this; refusing keeps the invariant "one pending intent per key".
        return { code: "conflict", message: "a key this transaction writes holds another transaction's intent", key: op.key };
      }
    }
    if (op.op === "cput") {
      const planned = overlay.get(id);
      const current = planned !== undefined ? planned.value : ownLatest(w, req.txnId, op.key);
      if (!sameValue(current, op.expected)) {
        return {
          code: "condition_failed",
          message: "conditional put refused: the key's current value differs from the expected value",
          key: op.key,
          actual: current === null ? null : current.slice(),
        };
      }
      overlay.set(id, { key: op.key, value: op.value });
    } else overlay.set(id, { key: op.key, value: op.op === "put" ? op.value : null });
  }
  // Phase 2.
  if (status === "none") w.put(txnStatusKey(tenantId, req.txnId), txnStatusValue(TXN_PENDING, nowMs));
  for (const { key, value } of overlay.values()) {
    w.put(intentKey(key), intentValue(req.txnId, value));
    w.put(txnIntentsKey(tenantId, req.txnId, key), EMPTY);
  }
  return null;
}

const EMPTY = new Uint8Array(0);

/** The transaction's intents as (key, value) pairs, copied (the commit writes versions from them). */
export function collectIntents(r: EngineReader, tenantId: number, txnId: Uint8Array): Array<{ key: Uint8Array; value: Uint8Array | null }> {
  const out: Array<{ key: Uint8Array; value: Uint8Array | null }> = [];
  const span = txnIntentsSpan(tenantId, txnId);
  for (const e of r.range({ low: span.low, high: span.high })) {
    const key = txnIntentsUserKey(e.key).slice();
    const stored = r.get(intentKey(key));
    if (stored === undefined) continue;
    const d = decodeIntent(stored);
    if (!bytesEqual(d.txnId, txnId)) continue;
    out.push({ key, value: d.value === null ? null : d.value.slice() });
  }
  return out;
}

/** Removes the transaction's intents, index entries and (when `forget`) its record. Returns intents removed. */
export function removeIntents(w: EngineWriter, tenantId: number, txnId: Uint8Array): number {
  const span = txnIntentsSpan(tenantId, txnId);
  const entries: Uint8Array[] = [];
  for (const e of w.range({ low: span.low, high: span.high })) entries.push(e.key);
  let removed = 0;
  for (const k of entries) {
    const userKey = txnIntentsUserKey(k);
    const ik = intentKey(userKey);
    const stored = w.get(ik);
    if (stored !== undefined && bytesEqual(decodeIntent(stored).txnId, txnId)) {
      w.remove(ik);
      removed++;
    }
    w.remove(k);
  }
  return removed;
}

/**
 * Aborts a transaction durably: its intents go and its record stays as "aborted" (so a commit or
 * txnWrite that arrives later is refused instead of committing half of it) until GC forgets it.
 */
export function abortTxn(w: EngineWriter, tenantId: number, txnId: Uint8Array, nowMs: number): number {
  const status = txnStatus(w, tenantId, txnId);
  if (status === "none") return 0;
  const removed = removeIntents(w, tenantId, txnId);
  w.put(txnStatusKey(tenantId, txnId), txnStatusValue(TXN_ABORTED, nowMs));
  return removed;
}

/** Every pending transaction record (at startup all of them are aborted: their locks died with the process). */
export function pendingTxns(r: EngineReader): Array<{ tenantId: number; txnId: Uint8Array }> {
  const out: Array<{ tenantId: number; txnId: Uint8Array }> = [];
  const all = allWithTag(TXN_STATUS_TAG);
  for (const e of r.range({ low: all.low, high: all.high })) if (e.value[0] === TXN_PENDING) out.push(decodeTxnStatusKey(e.key));
  return out;
}

/** Aborted records older than `beforeMs` (GC forgets them). */
export function abortedRecordsBefore(r: EngineReader, beforeMs: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const all = allWithTag(TXN_STATUS_TAG);
  for (const e of r.range({ low: all.low, high: all.high })) {
    if (e.value[0] !== TXN_ABORTED) continue;
    const ms = Number(new DataView(e.value.buffer, e.value.byteOffset + 1, 8).getBigUint64(0, false));
    if (ms < beforeMs) out.push(e.key.slice());
  }
  return out;
}
