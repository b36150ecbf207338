// When the edge cannot reach the storage node (it died and `warren dev` or the platform is starting
// it again; later: its shard is failing over), which requests may it simply send again?
//
// A request whose connection failed may or may not have reached the node. Sending it again is
// harmless exactly when executing it twice equals executing it once:
//   begin, read  change nothing (begin takes an open-transaction slot, which expires on its own);
//   abort        releases a slot, again a no-op the second time;
//   commit       is idempotent: the node stores its outcome with the commit under
//                (readTs, tenant, txnId) and answers a repetition with the stored response;
//   batch        without writes is a read; with writes it is a single-shot transaction without
//                a transaction id, so a second send could apply it twice: never repeated.
//                The stored outcome is part of the commit's own write, so in a fleet it is in the
//                replicated log: a commit re-sent to the new leaseholder gets the first answer.
// Anything else gets `outcome_unknown` (SQLSTATE 08006) at once; the retryable ones are sent again
// with a growing pause until storageUnavailableWaitMs has passed, then give up (givingUpCode):
// `unavailable` (57P01, "nothing was applied") for those that change nothing durable, but a commit
// that is given up on may have been applied by an attempt that broke mid-request or by a
// leaseholder that stopped answering after replicating it, so it gets `outcome_unknown` (08006):
// the client must find out, never assume it failed.
//
// In a fleet the edge may learn more: that the node it waited on is no longer its shard's
// leaseholder (the directory names another primary at a newer epoch). Then a request of an open
// transaction (txnRead, txnWrite, refresh, heartbeat) belongs to a transaction that is known to be
// aborted: its locks lived in the old leaseholder's memory, which is gone (a deposed node exits),
// and the new leaseholder aborts every transaction left pending in the log when it starts
// (storage-node/writer/writer-core.ts), so nothing of it can commit. It gets `transaction_aborted`
// (40001: the client retries the transaction) instead of 08006.
import { decodeRequest, FRAME_HEADER_BYTES, FRAME_MAGIC, RequestTag } from "../../common/kv-protocol/codec.ts";
import { limits } from "./limits.ts";

/** Whether `request` (an encoded KvRequest) may be sent again after a failed connection. */
export function retrySafe(request: Uint8Array): boolean {
  if (request.byteLength < FRAME_HEADER_BYTES) return false;
  const tag = request[2];
  if (tag === RequestTag.begin || tag === RequestTag.read || tag === RequestTag.commit || tag === RequestTag.abort) return true;
  if (tag !== RequestTag.batch) return false;
  // Decoded only on this failure path; a frame that does not decode is not ours to repeat.
  try {
    const decoded = decodeRequest(request);
    return decoded.type === "batch" && decoded.writes.length === 0;
  } catch {
    return false;
  }
}

/**
 * What a retry-safe request gets when the edge stops trying: `unavailable` (57P01, nothing was
 * applied) when repeating it would have been a no-op anyway (begin, read, read-only batch; abort,
 * whose transaction ends either way: by the abort or by expiry), `outcome_unknown` (08006) for a
 * commit, which an earlier attempt may have applied.
 */
export function givingUpCode(request: Uint8Array): "unavailable" | "outcome_unknown" {
  return retrySafe(request) && request[2] !== RequestTag.commit ? "unavailable" : "outcome_unknown";
}

export type AfterLeaseholderChange = "resend" | "transaction_aborted" | "outcome_unknown";

/** What to do with `request` when the leaseholder it was sent to was replaced before it answered. */
export function afterLeaseholderChange(request: Uint8Array): AfterLeaseholderChange {
  if (retrySafe(request)) return "resend";
  const tag = request.byteLength >= FRAME_HEADER_BYTES && request[0] === FRAME_MAGIC ? request[2] : undefined;
  if (tag === RequestTag.txnRead || tag === RequestTag.txnWrite || tag === RequestTag.refresh || tag === RequestTag.heartbeat) return "transaction_aborted";
  return "outcome_unknown";
}

/** Pause before the next attempt: doubling from storageRetryDelayMsMin, capped at storageRetryDelayMsMax. */
export function retryDelayMs(attempt: number, l: { readonly storageRetryDelayMsMin: number; readonly storageRetryDelayMsMax: number } = limits): number {
  return Math.min(l.storageRetryDelayMsMax, l.storageRetryDelayMsMin * 2 ** Math.min(attempt, 16));
}
