// The writer's part of a tenant move (replication/README.md "Tenant moves"), as functions over one
// write transaction. The writer runs them as jobs in posting order with the commits around them, so
// on a replicated node each is one log entry like any commit: every replica applies it, and a new
// leaseholder loads the moved markers it wrote (writer-core.ts).
import type { EngineReader, EngineWriter } from "../engine/engine.ts";
import { CLEAR_RECORD_TAG, decodeClearRecord, MOVED_AWAY, MOVING_IN, TXN_PENDING, TXN_STATUS_TAG, decodeTxnStatusKey, tenantMovedKey, u64 } from "../node-keys.ts";
import type { ClearRecord } from "../clearing/cleared-spans.ts";
import { forEachGroupOp } from "../replication/group-entry.ts";
import { abortTxn } from "../txn/intents.ts";
import { isTenantStateKey, tenantState, tenantStateDigest, tenantStateSpans, touchedKeysDigest } from "./tenant-keys.ts";

/** The tenant's moved marker here: MOVED_AWAY, MOVING_IN, or undefined (served here, or never here). */
export function movedMarker(r: EngineReader, tenantId: number): number | undefined {
  return r.get(tenantMovedKey(tenantId))?.[0];
}

export function tenantHasState(r: EngineReader, tenantId: number): boolean {
  for (const _ of tenantState(r, tenantId)) return true;
  return false;
}

/** The source stops serving the tenant: every later job of it is refused (tenant_moved). */
export function fenceTenant(w: EngineWriter, tenantId: number): void {
  w.put(tenantMovedKey(tenantId), new Uint8Array([MOVED_AWAY]));
}

/**
 * Keys of the tenant's state copied from the source. Every key is checked to be the tenant's
 * before anything is written (a bad chunk changes nothing). `first`: the copy starts over, so what
 * this node held of the tenant before (a cancelled move, an earlier stay not yet purged) goes.
 * Returns the operations applied.
 */
export function importTenantOps(w: EngineWriter, tenantId: number, first: boolean, ops: Uint8Array): number {
  // Only into a tenant arriving here: never into one this node serves (a retried import after the
  // adopt, or a move to the shard the tenant is on), nor into a move cancelled meanwhile.
  const marker = movedMarker(w, tenantId);
  if (marker === undefined && !(first && !tenantHasState(w, tenantId))) throw new MoveRefused(`tenant ${tenantId} is served by this node; nothing is imported`);
  if (marker === MOVED_AWAY && !first) throw new MoveRefused(`tenant ${tenantId}'s move here was cancelled (it is fenced here); start the move over`);
  const spans = tenantStateSpans(tenantId);
  try {
    forEachGroupOp(ops, (o) => {
      if (!isTenantStateKey(spans, o.key)) throw new MoveRefused(`key ${Buffer.from(o.key).toString("hex")} is not part of tenant ${tenantId}'s state`);
    });
  } catch (err) {
    if (err instanceof MoveRefused) throw err;
    throw new MoveRefused(`the chunk is not an encoded group entry: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (first) for (const k of [...tenantState(w, tenantId)].map((e) => e.key.slice())) w.remove(k);
  w.put(tenantMovedKey(tenantId), new Uint8Array([MOVING_IN]));
  return forEachGroupOp(ops, (o) => (o.put ? w.put(o.key, o.value) : w.remove(o.key)));
}

/**
 * The target starts serving the tenant. Transactions the tenant had pending on the source lost
 * their locks there (they live in the source's memory), so they are aborted here, as a new
 * leaseholder aborts every pending one at its start (writer-core.ts). Returns the tenant's clear
 * records, which the writer's index (and, through its news, the HTTP thread's) must now hold.
 */
export function adoptTenant(w: EngineWriter, tenantId: number, nowMs: number): { clears: ClearRecord[]; aborted: number } {
  w.remove(tenantMovedKey(tenantId));
  let aborted = 0;
  const status = { low: new Uint8Array([TXN_STATUS_TAG, ...u64(BigInt(tenantId))]), high: new Uint8Array([TXN_STATUS_TAG, ...u64(BigInt(tenantId) + 1n)]) };
  const pending = [...w.range(status)].filter((e) => e.value[0] === TXN_PENDING).map((e) => decodeTxnStatusKey(e.key));
  for (const p of pending) {
    abortTxn(w, p.tenantId, p.txnId, nowMs);
    aborted++;
  }
  return { clears: tenantClearRecords(w, tenantId), aborted };
}

export function tenantClearRecords(r: EngineReader, tenantId: number): ClearRecord[] {
  const low = new Uint8Array([CLEAR_RECORD_TAG, ...u64(BigInt(tenantId))]);
  const high = new Uint8Array([CLEAR_RECORD_TAG, ...u64(BigInt(tenantId) + 1n)]);
  return [...r.range({ low, high })].map((e) => decodeClearRecord(e.key, e.value));
}

/** One bounded step of deleting a moved tenant's state from the source; its moved marker stays. */
export function purgeTenantStep(w: EngineWriter, tenantId: number, keysMax: number): { removed: number; done: boolean } {
  const keys: Uint8Array[] = [];
  for (const e of tenantState(w, tenantId)) {
    if (keys.length >= keysMax) break;
    keys.push(e.key.slice());
  }
  for (const k of keys) w.remove(k);
  return { removed: keys.length, done: keys.length < keysMax };
}

/**
 * Throws MoveRefused unless the tenant's state in `r` has the source's digest (what the source read
 * at its apply point): of the whole state, or with `touchedBy`, of the keys that chunk touches.
 */
export function checkTenantDigest(r: EngineReader, tenantId: number, expected: string, touchedBy?: Uint8Array): void {
  const d = touchedBy === undefined ? tenantStateDigest(r, tenantId) : touchedKeysDigest(r, touchedBy);
  if (d.sha256 !== expected) throw new MoveRefused(`tenant ${tenantId}'s state here (${d.keys} keys${touchedBy === undefined ? "" : " touched by the last tail"}) differs from the source's after the copy`);
}

/** A move step refused because of what it was asked (not an I/O failure): answered 400/409. */
export class MoveRefused extends Error {}
