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
// Anything else gets `outcome_unknown` (SQLSTATE 08006) at once; the retryable ones are sent again
// with a growing pause until storageUnavailableWaitMs has passed, then get `unavailable` (57P01).
import { decodeRequest, FRAME_HEADER_BYTES, RequestTag } from "../../common/kv-protocol/codec.ts";
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

/** Pause before the next attempt: doubling from storageRetryDelayMsMin, capped at storageRetryDelayMsMax. */
export function retryDelayMs(attempt: number): number {
  return Math.min(limits.storageRetryDelayMsMax, limits.storageRetryDelayMsMin * 2 ** Math.min(attempt, 16));
}
