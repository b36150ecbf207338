// TenantKV's conversation with storage for one KvRequest: pick the route, make bounded attempts
// (storage-attempt.ts), and decide after each failure whether to send again (storage-retry.ts).
// Platform-free: tenant-kv.ts binds it to fetch(), the token cache and the FleetDirectory, and
// storage-forward.test.ts drives every limit of it in Node with a fake fleet.
//
// Every attempt is bounded three ways (workers/edge/limits.ts, each with its reason):
//   time      no attempt outlives storageAttemptMsMax (a commit: storageCommitAttemptMsMax), and one waiting on a leaseholder the
//             FleetDirectory has replaced is left after at most about storageRouteCheckMs more;
//   size      the request is at most kvRequestBytesMax (checked by the caller before any attempt),
//             the answer is read up to kvResponseBytesMax and no further;
//   count     a retry-safe request is sent again until storageUnavailableWaitMs has passed (pauses
//             storageRetryDelayMsMin doubling to storageRetryDelayMsMax), and follows at most
//             storageMovesPerRequestMax leaseholder changes.
// What may be sent again, and why, is in storage-retry.ts.
import { encodeResponse, FRAME_MAGIC, RequestTag, TENANT_SHARD_HEADER } from "../../common/kv-protocol/codec.ts";
import type { StorageRoute } from "./shard-routes.ts";
import { limits as edgeLimits } from "./limits.ts";
import { attemptOnce } from "./storage-attempt.ts";
import { afterFailedAttempt, givingUpCode, retryDelayMs } from "./storage-retry.ts";
import { readCapped } from "../../common/read-capped.ts";

export type ForwardLimits = {
  readonly [K in
    | "storageUnavailableWaitMs"
  | "storageRouteCheckMs"
  | "storageAttemptMsMax"
  | "storageCommitAttemptMsMax"
  | "storageMovesPerRequestMax"
  | "storageRetryDelayMsMin"
  | "storageRetryDelayMsMax"
    | "kvResponseBytesMax"]: number;
};

export interface ForwardDeps {
  /**
   * The route to use now; `failed`: the route last used did not answer (ask the directory again);
   * `tenantMoved`: its node refused the tenant as moved: go to the shard it names, else read the
   * tenant's placement again.
   */
  route(failed?: StorageRoute, tenantMoved?: TenantMoved): Promise<StorageRoute>;
  /** The route that replaced `route` if its shard now has another leaseholder; at most one directory read per `checkEveryMs`. */
  movedFrom(route: StorageRoute, checkEveryMs: number): Promise<StorageRoute | undefined>;
  /** POSTs the request to `url`; must stop when `signal` aborts. The body is read by the caller. */
  post(url: string, signal: AbortSignal): Promise<Response>;
  /** The node refused the token (401): forget the cached one; called at most once per request. */
  tokenRefused(): void;
}

/** A tenant_moved answer: the shard its node named (the move's target), if any. */
export interface TenantMoved {
  readonly toShard?: number;
}

export type StorageFailureCode = "unavailable" | "outcome_unknown" | "transaction_aborted" | "internal";

/**
 * A failure between the edge and the storage node, as an encoded KvResponse error, so the gateway
 * handles every storage outcome through the one decoder: `unavailable` (nothing was applied, 57P01),
 * `outcome_unknown` (a request that must not be repeated may or may not have applied, 08006),
 * `transaction_aborted` (the request's transaction lived on a leaseholder that was replaced, 40001),
 * or `internal` (something other than the node answered).
 */
export function storageFailure(code: StorageFailureCode, message: string): Uint8Array {
  return encodeResponse({ type: "error", error: { code, message } });
}

/** Reads `res`'s body, refusing (throwing BodyTooLarge) once it passes `max` bytes. */
export async function readBodyCapped(res: Response, max: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new BodyTooLarge(declared, max);
  }
  return readCapped(res.body, max, (bytes) => new BodyTooLarge(bytes, max));
}

export class BodyTooLarge extends Error {
  readonly bytes: number;
  readonly max: number;
  constructor(bytes: number, max: number) {
    super(`storage answer of at least ${bytes} bytes exceeds ${max} (kvResponseBytesMax)`);
    this.bytes = bytes;
    this.max = max;
  }
}

/** HTTP status of the storage node's tenant_moved answer (storage-node/service.ts HTTP_STATUS; nothing applied). */
const STATUS_TENANT_MOVED = 421;

/** The edge stops trying: 57P01 where nothing can have been applied, else 08006 (storage-retry.ts givingUpCode). */
function giveUp(request: Uint8Array, why: string): Uint8Array {
  return givingUpCode(request) === "unavailable"
    ? storageFailure("unavailable", `${why}; nothing was applied`)
    : storageFailure("outcome_unknown", `${why}; the outcome of this request is unknown (a commit may have been applied)`);
}

/** Sends one encoded KvRequest; returns the encoded KvResponse (an error response on any failure). */
export async function forwardWithRetries(request: Uint8Array, deps: ForwardDeps, l: ForwardLimits = edgeLimits): Promise<Uint8Array> {
  const giveUpAtMs = Date.now() + l.storageUnavailableWaitMs;
  let tokenRetried = false;
  let failedRoute: StorageRoute | undefined;
  let tenantMoved: TenantMoved | undefined;
  let moves = 0;
  for (let attempt = 0; ; attempt++) {
    // One node: STORAGE_URL. A fleet: the tenant's shard leaseholder; after a failed attempt the
    // route is asked again (the leaseholder may have changed).
    let route: StorageRoute;
    try {
      route = await deps.route(failedRoute, tenantMoved);
    } catch (err) {
      return storageFailure("unavailable", `no route to storage: ${err instanceof Error ? err.message : String(err)}; nothing was applied`);
    }
    const r = route;
    // A commit's work grows with its intents: it gets the longer bound (limits.ts).
    const [attemptMsMax, boundName] = request[2] === RequestTag.commit ? [l.storageCommitAttemptMsMax, "storageCommitAttemptMsMax"] : [l.storageAttemptMsMax, "storageAttemptMsMax"];
    const outcome = await attemptOnce({
      send: async (signal) => {
        const res = await deps.post(r.url, signal);
        const shard = Number(res.headers.get(TENANT_SHARD_HEADER) ?? NaN);
        return { status: res.status, body: await readBodyCapped(res, l.kvResponseBytesMax), movedToShard: Number.isSafeInteger(shard) && shard >= 1 ? shard : undefined };
      },
      movedFrom: () => deps.movedFrom(r, l.storageRouteCheckMs),
      checkEveryMs: l.storageRouteCheckMs,
      attemptMsMax,
    });
    if (outcome.kind !== "answered") {
      const why =
        outcome.kind === "moved"
          ? `storage node ${route.node} stopped answering and shard ${route.shardId} moved to ${outcome.to.node} (epoch ${outcome.to.epoch}) after ${outcome.afterMs} ms`
          : outcome.kind === "timedOut"
          ? `storage node at ${route.url} did not answer within ${attemptMsMax} ms (${boundName})`
          : `storage node unreachable at ${route.url}: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`;
      if (outcome.kind === "unreachable" && outcome.error instanceof BodyTooLarge) {
        return storageFailure("internal", `${outcome.error.message}: not an answer a storage node gives; the outcome of this request is unknown`);
      }
      const next = afterFailedAttempt(request);
      if (next === "transaction_aborted") return storageFailure("transaction_aborted", `${why}; this request's transaction will not commit (the gateway aborts it); retry the transaction`);
      if (next === "outcome_unknown") return storageFailure("outcome_unknown", `${why}; the outcome of this request is unknown`);
      // Safe to send again (storage-retry.ts).
      failedRoute = route;
      if (outcome.kind === "timedOut") return giveUp(request, why); // the node is wedged: waiting longer helps nobody
      if (outcome.kind === "moved") {
        // Sent at once to the new leaseholder, which the directory already names.
        if (++moves > l.storageMovesPerRequestMax) return giveUp(request, `${why}; gave up after ${moves} leaseholder changes (storageMovesPerRequestMax ${l.storageMovesPerRequestMax})`);
        continue;
      }
      // Unreachable: the node is down or restarting, or its shard is failing over.
      const delayMs = retryDelayMs(attempt, l);
      if (Date.now() + delayMs > giveUpAtMs) return giveUp(request, `${why}; gave up after ${l.storageUnavailableWaitMs} ms (storageUnavailableWaitMs)`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      continue;
    }
    // A 401 means the node did not accept the token (rotated secret, clock skew): mint a new one once.
    if (outcome.status === 401 && !tokenRetried) {
      tokenRetried = true;
      deps.tokenRefused();
      continue;
    }
    // tenant_moved: the node does not serve the tenant (it moved to another shard, or is being moved
    // and its writes are fenced for the moment) and applied nothing, so any request may go again,
    // to wherever the directory places the tenant now. Inside an open transaction it is not sent
    // again (its reads and locks were on the source; the gateway aborts it: 40001), as after a
    // failed attempt. While the move is finishing the directory still names the source: wait and
    // ask again, up to storageUnavailableWaitMs (the move's write pause is far below that).
    if (outcome.status === STATUS_TENANT_MOVED) {
      if (afterFailedAttempt(request) === "transaction_aborted") {
        return storageFailure("transaction_aborted", `tenant moved to another shard during its transaction (storage node ${route.node ?? route.url}); retry the transaction`);
      }
      tenantMoved = { toShard: outcome.movedToShard };
      failedRoute = undefined;
      // The shortest pause: a move's fence lasts a fraction of a second, and each pause adds to it.
      const delayMs = l.storageRetryDelayMsMin;
      if (Date.now() + delayMs > giveUpAtMs) return giveUp(request, `the tenant is moving between shards and its new shard did not take it within ${l.storageUnavailableWaitMs} ms (storageUnavailableWaitMs)`);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      continue;
    }
    // The node always answers with a KvResponse frame; anything else came from something in between
    // (a proxy's 502 page, a crash mid-response). Say so in the protocol's own terms.
    if (outcome.body.length === 0 || outcome.body[0] !== FRAME_MAGIC) {
      return storageFailure("internal", `storage node answered HTTP ${outcome.status} without a KvResponse frame; the outcome of this request is unknown`);
    }
    return outcome.body;
  }
}
