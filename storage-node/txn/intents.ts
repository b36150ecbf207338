// The writer thread's side of pessimistic transactions: provisional intents and the transaction
// record (node-keys.ts 0x08-0x0A). Everything here runs inside the writer's group transaction, so
// an intent, its index entry and its record appear or vanish together, and a commit resolves all
// of a transaction's intents in the same LMDB transaction that writes its versions (on one node the
// "flip" of the record and the resolution are one atomic step; storage-node/README.md).
import type { KvError, KvRequest } from "../../common/kv-protocol/messages.ts";
import type { EngineReader, EngineWriter } from "../engine/engine.ts";
import { latestVersions } from "../mvcc/read.ts";
import {
  allWithTag,
  decodeIntent,
  decodeTxnStatusKey,
  intentKey,
  intentValue,
  TXN_ABORTED,
  TXN_PENDING,
  TXN_STATUS_TAG,
  txnIntentsKeyAfter,
  txnIntentsPrefix,
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
  // Every key's newest version comes from one merged walk (latestVersions), not a seek per key.
  const ops = req.writes.filter((op) => op.op === "put" || op.op === "delete" || op.op === "cput");
  const latest = latestVersions(w, ops.map((op) => op.key));
  const overlay = new Map<string, { key: Uint8Array; value: Uint8Array | null }>();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    if (op.op !== "put" && op.op !== "delete" && op.op !== "cput") continue;
    const id = Buffer.from(op.key.buffer, op.key.byteOffset, op.key.byteLength).toString("latin1");
    const newest = latest[i];
    if (newest !== undefined && newest.ts > req.readTs) {
      return { code: "write_too_old", message: "a key this transaction writes was committed by another transaction after its snapshot", key: op.key };
    }
    const existing = w.get(intentKey(op.key));
    let own: { value: Uint8Array | null } | undefined;
    if (existing !== undefined) {
      const d = decodeIntent(existing);
      if (bytesEqual(d.txnId, req.txnId)) own = d;
      else if (txnStatus(w, tenantId, d.txnId) === "pending") {
        // The lock table prevents this; refusing keeps the invariant "one pending intent per key".
        return { code: "conflict", message: "a key this transaction writes holds another transaction's intent", key: op.key };
      }
    }
    if (op.op === "cput") {
      const planned = overlay.get(id);
      // What ownLatest would answer: the own intent, else the newest version.
      const current = planned !== undefined ? planned.value : own !== undefined ? own.value : newest === undefined ? null : newest.value;
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
  const indexPrefix = txnIntentsPrefix(tenantId, req.txnId);
  for (const { key, value } of overlay.values()) {
    w.put(intentKey(key), intentValue(req.txnId, value));
    w.put(txnIntentsKeyAfter(indexPrefix, key), EMPTY);
  }
  return null;
}

const EMPTY = new Uint8Array(0);

/** A transaction's intents, read once at commit: what to write, and what to remove afterwards. */
export interface CollectedIntents {
  /** Its intents as (key, value) pairs in key order (views of what the engine returned). */
  writes: Array<{ key: Uint8Array; value: Uint8Array | null }>;
  /** The intent keys (0x08) that are its own. */
  intentKeys: Uint8Array[];
  /** Every index entry (0x09) of the transaction, its own intents' and stale ones alike. */
  indexKeys: Uint8Array[];
}

/** Reads the transaction's intents through its index, one walk (removeCollected then needs no second one). */
export function collectIntents(r: EngineReader, tenantId: number, txnId: Uint8Array): CollectedIntents {
  const out: CollectedIntents = { writes: [], intentKeys: [], indexKeys: [] };
  const span = txnIntentsSpan(tenantId, txnId);
  for (const e of r.range({ low: span.low, high: span.high })) {
    out.indexKeys.push(e.key);
    // No copies: the engine's keys and values belong to the caller (engine.ts), and these views
    // live only until the commit that reads them has written its versions.
    const key = txnIntentsUserKey(e.key);
    const ik = intentKey(key);
    const stored = r.get(ik);
    if (stored === undefined) continue;
    const d = decodeIntent(stored);
    if (!bytesEqual(d.txnId, txnId)) continue;
    out.writes.push({ key, value: d.value });
    out.intentKeys.push(ik);
  }
  return out;
}

/**
 * Removes what collectIntents found, in the same write transaction (nothing else can have changed
 * those keys in between: the writer is the only writer and runs one job at a time).
 */
export function removeCollected(w: EngineWriter, c: CollectedIntents): void {
  for (const k of c.intentKeys) w.remove(k);
  for (const k of c.indexKeys) w.remove(k);
}

/** Removes the transaction's intents, index entries and (when `forget`) its record. Returns intents removed. */
export function removeIntents(w: EngineWriter, tenantId: number, txnId: Uint8Array): number {
  const c = collectIntents(w, tenantId, txnId);
  removeCollected(w, c);
  return c.intentKeys.length;
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
