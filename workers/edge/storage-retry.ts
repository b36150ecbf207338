// When the edge cannot reach the storage node (it died and `warren dev` or the platform is starting
// it again; later: its shard is failing over), which requests may it simply send again?
//
// A request whose connection failed may or may not have reached the node. Sending it again is
// harmless exactly when executing it twice equals executing it once:
//   begin, read  change nothing (begin takes an open-transaction slot, which expires on its own);
//   abort        releases a slot, again a no-op the second time;
//   commit       is idempotent: the node stores its outcome with the commit under
//                (readTs, tenant, txnId) and answers a repetition with the stored response.
//                The stored outcome is part of the commit's own write, so in a fleet it is in the
//                replicated log: a commit re-sent to the new leaseholder gets the first answer (or,
//                if it never committed, transaction_aborted: a new leaseholder aborts what was pending);
//   heartbeat of a lock holder (heartbeatLocksOnly: a session's advisory locks) only keeps the
//                holder alive, so a second one is a no-op; resending it matters, since its session
//                is ended (57P01) when the node answers transaction_aborted (its locks are gone);
//   batch        without writes is a read; with writes it is a single-shot transaction without
//                a transaction id, so a second send could apply it twice: never repeated.
// A write batch (and a frame that does not decode) gets `outcome_unknown` (SQLSTATE 08006) at once; the retryable ones are sent again
// with a growing pause until storageUnavailableWaitMs has passed, then give up (givingUpCode):
// `unavailable` (57P01, "nothing was applied") for those that change nothing durable, but a commit
// that is given up on may have been applied by an attempt that broke mid-request or by a
// leaseholder that stopped answering after replicating it, so it gets `outcome_unknown` (08006):
// the client must find out, never assume it failed.
//
// A request inside an open transaction (txnRead, txnWrite, refresh, heartbeat) is never sent again
// (a second txnWrite could stack a lock request behind its own first one), but its outcome is not
// unknown to the client either: it makes nothing visible by itself. Its reads, locks and intents
// count only through the transaction's commit, and the gateway sends that commit only if every
// request of the transaction succeeded: a failed one makes it abort the transaction on the node and
// throw (workers/gateway/txn/txn.ts abortOnNode). So whatever became of the failed request, its
// transaction will not commit, and `transaction_aborted` (40001, "retry the transaction") is the
// true answer, where 08006 would make the client doubt a commit that cannot happen. An autocommit
// statement is then retried inside the gateway (session.ts implicit retry). What the transaction
// left on the node goes with that abort, with its heartbeat's expiry, or, when the leaseholder
// died, with the new leaseholder, which aborts every transaction left pending in the log when it
// starts (storage-node/writer/writer-core.ts).
import { decodeRequest, FRAME_HEADER_BYTES, FRAME_MAGIC, RequestTag } from "../../common/kv-protocol/codec.ts";
import { limits } from "./limits.ts";

/** Whether `request` (an encoded KvRequest) may be sent again after a failed connection. */
export function retrySafe(request: Uint8Array): boolean {
  if (request.byteLength < FRAME_HEADER_BYTES) return false;
  const tag = request[2];
  if (tag === RequestTag.begin || tag === RequestTag.read || tag === RequestTag.commit || tag === RequestTag.abort || tag === RequestTag.heartbeatLocksOnly) return true;
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

/** A request of an open transaction (see the header): never repeated, answered 40001 on failure. */
export function txnScoped(request: Uint8Array): boolean {
  if (request.byteLength < FRAME_HEADER_BYTES || request[0] !== FRAME_MAGIC) return false;
  const tag = request[2];
  return tag === RequestTag.txnRead || tag === RequestTag.txnWrite || tag === RequestTag.refresh || tag === RequestTag.heartbeat;
}

export type AfterFailedAttempt = "resend" | "transaction_aborted" | "outcome_unknown";

/**
 * What to do with `request` after an attempt failed: the connection was refused or broke, the
 * leaseholder it waited on was replaced, or it got no answer within storageAttemptMsMax.
 */
export function afterFailedAttempt(request: Uint8Array): AfterFailedAttempt {
  if (retrySafe(request)) return "resend";
  if (txnScoped(request)) return "transaction_aborted";
  return "outcome_unknown";
}

/** Pause before the next attempt: doubling from storageRetryDelayMsMin, capped at storageRetryDelayMsMax. */
export function retryDelayMs(attempt: number, l: { readonly storageRetryDelayMsMin: number; readonly storageRetryDelayMsMax: number } = limits): number {
  return Math.min(l.storageRetryDelayMsMax, l.storageRetryDelayMsMin * 2 ** Math.min(attempt, 16));
}
