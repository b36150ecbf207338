// TenantKV: the only way a gateway reaches storage. The edge hands each gateway isolate a stub of
// this entrypoint whose props name that isolate's tenant; the gateway sends encoded KvRequest bytes
// and gets encoded KvResponse bytes back. The tenant comes from props alone, never from the
// caller's arguments, and the token, the storage URL and the fleet secret never leave this Worker.
// The storage node checks the token against every key again (isolation, twice).
//
// Each TenantKV.batch() call is a new invocation of this entrypoint, and the first fetch() an
// invocation makes costs far more than later ones: measured in a local stack (wrangler dev, loaded
// 2-core machine, 300 sequential 1-get requests to the storage node), batch() through a fresh
// invocation 2.4-4.7 ms and 1.5-2.8 ms of workerd CPU per request, the same fetch repeated inside
// one invocation 0.9-1.3 ms and 0.6 ms. open() returns a channel whose batch() runs in the
// invocation that opened it (an RpcTarget), so a holder that sends many batches (a Postgres
// connection) pays the first-fetch cost once per channel. The holder must dispose the channel
// when done (an undisposed RPC result is finalized during GC, see common/rpc.ts) and open a new
// one after limits.kvChannelBatchesMax batches.
import { RpcTarget, WorkerEntrypoint } from "cloudflare:workers";
import { encodeResponse, FRAME_MAGIC, KV_USAGE_HEADER } from "../../common/kv-protocol/codec.ts";
import { assertTenantId } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { secretOf } from "../../durable-objects/env.ts";
import type { TenantKvCapability } from "../gateway/kv/capability.ts";
import type { EdgeEnv, TenantProps } from "./env.ts";
import { limits } from "./limits.ts";
import { attemptOnce } from "./storage-attempt.ts";
import { afterLeaseholderChange, retryDelayMs, retrySafe } from "./storage-retry.ts";
import { routeMovedFrom, storageRouteFor, type StorageRoute } from "./storage-route.ts";

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

/** Tokens by tenant id, reused until shortly before they expire (one HMAC per tenant per ~9 min). */
const tokens = new Map<number, CachedToken>();

export async function storageTokenFor(secret: string, tenantId: number, nowMs = Date.now()): Promise<string> {
  const cached = tokens.get(tenantId);
  if (cached && cached.expiresAtMs - limits.storageTokenRefreshBeforeMs > nowMs) return cached.token;
  const expiresAtMs = nowMs + limits.storageTokenTtlMs;
  const token = await mintTenantToken(secret, { tenantId, expiresAtMs });
  tokens.set(tenantId, { token, expiresAtMs });
  return token;
}

/** Sends one encoded KvRequest for `tenantId`; returns the encoded KvResponse. */
export async function forwardKv(env: EdgeEnv, tenantId: number, request: Uint8Array): Promise<Uint8Array> {
  assertTenantId(tenantId);
  if (!(request instanceof Uint8Array)) throw new TypeError("TenantKV.batch expects a Uint8Array");
  if (request.byteLength > limits.kvRequestBytesMax) {
    // Answered in the protocol's terms (54000 at the gateway), without contacting storage.
    return encodeResponse({
      type: "error",
      error: { code: "limit_exceeded", message: `KV request of ${request.byteLength} bytes exceeds the edge limit of ${limits.kvRequestBytesMax} (kvRequestBytesMax)` },
    });
  }
  const secret = secretOf(env as unknown as Record<string, unknown>, "FLEET_SECRET");
  if ("missing" in secret) return encodeResponse({ type: "error", error: { code: "unauthenticated", message: secret.missing } });
  const giveUpAtMs = Date.now() + limits.storageUnavailableWaitMs;
  let tokenRetried = false;
  let failedRoute: StorageRoute | undefined;
  let moves = 0;
  for (let attempt = 0; ; attempt++) {
    // One node: STORAGE_URL. A fleet: the tenant's shard leaseholder (storage-route.ts); after a
    // failed attempt the route is asked again (the leaseholder may have changed).
    let route: StorageRoute;
    try {
      route = await storageRouteFor(env, tenantId, "/v1/kv", failedRoute);
    } catch (err) {
      return storageFailure("unavailable", `no route to storage for tenant ${tenantId}: ${err instanceof Error ? err.message : String(err)}; nothing was applied`);
    }
    const url = route.url;
    const token = await storageTokenFor(secret.value, tenantId);
    // Bounded (storage-attempt.ts): a leaseholder that stopped answering is left once the
    // directory names another, and no attempt outlives storageAttemptMsMax.
    const outcome = await attemptOnce({
      send: async (signal) => {
        const res = await fetch(url, {
          signal,
          method: "POST",
          // The usage trailer: what the node metered for this request, which the gateway charges.
          headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", [KV_USAGE_HEADER]: "1" },
          body: request,
        });
        return { status: res.status, body: new Uint8Array(await res.arrayBuffer()) };
      },
      movedFrom: () => routeMovedFrom(env, route, "/v1/kv", limits.storageRouteCheckMs),
      checkEveryMs: limits.storageRouteCheckMs,
      attemptMsMax: limits.storageAttemptMsMax,
    });
    if (outcome.kind === "moved") {
      // The leaseholder was replaced while the request waited on it (stopped or cut off).
      failedRoute = route;
      const why = `storage node ${route.node} stopped answering and shard ${route.shardId} moved to ${outcome.to.node} (epoch ${outcome.to.epoch}) after ${outcome.afterMs} ms`;
      const next = afterLeaseholderChange(request);
      if (next === "transaction_aborted") return storageFailure("transaction_aborted", `${why}; the transaction's locks were on the former leaseholder, so it was aborted; retry it`);
      if (next === "outcome_unknown") return storageFailure("outcome_unknown", `${why}; the outcome of this request is unknown`);
      if (++moves > limits.storageMovesPerRequestMax) return storageFailure("unavailable", `${why}; gave up after ${moves} leaseholder changes (storageMovesPerRequestMax); nothing was applied`);
      continue; // safe to repeat: sent at once to the new leaseholder
    }
    if (outcome.kind === "timedOut") {
      const why = `storage node at ${url} did not answer within ${limits.storageAttemptMsMax} ms (storageAttemptMsMax)`;
      return retrySafe(request) ? storageFailure("unavailable", `${why}; nothing was applied`) : storageFailure("outcome_unknown", `${why}; the outcome of this request is unknown`);
    }
    if (outcome.kind === "unreachable") {
      // The node is down or restarting, or the connection broke mid-request (storage-retry.ts).
      failedRoute = route;
      const why = `storage node unreachable at ${url}: ${outcome.error instanceof Error ? outcome.error.message : String(outcome.error)}`;
      if (!retrySafe(request)) {
        // A request of an open transaction on a leaseholder already replaced: the transaction is aborted.
        const movedTo = await routeMovedFrom(env, route, "/v1/kv", 0).catch(() => undefined);
        if (movedTo !== undefined && afterLeaseholderChange(request) === "transaction_aborted") {
          return storageFailure("transaction_aborted", `${why}; shard ${route.shardId} moved to ${movedTo.node} (epoch ${movedTo.epoch}), so the transaction was aborted; retry it`);
        }
        return storageFailure("outcome_unknown", `${why}; the outcome of this request is unknown`);
      }
      const delayMs = retryDelayMs(attempt);
      if (Date.now() + delayMs > giveUpAtMs) {
        return storageFailure("unavailable", `${why}; gave up after ${limits.storageUnavailableWaitMs} ms (storageUnavailableWaitMs); nothing was applied`);
      }
      await new Promise((r) => setTimeout(r, delayMs));
      continue;
    }
    // A 401 means the node did not accept the token (rotated secret, clock skew): mint a new one once.
    if (outcome.status === 401 && !tokenRetried) {
      tokenRetried = true;
      tokens.delete(tenantId);
      continue;
    }
    const body = outcome.body;
    // The node always answers with a KvResponse frame; anything else came from something in between
    // (a proxy's 502 page, a crash mid-response). Say so in the protocol's own terms.
    if (body.length === 0 || body[0] !== FRAME_MAGIC) {
      return storageFailure("internal", `storage node answered HTTP ${outcome.status} without a KvResponse frame; the outcome of this request is unknown`);
    }
    return body;
  }
}

/**
 * A failure between the edge and the storage node, as an encoded KvResponse error, so the gateway
 * handles every storage outcome through the one decoder: `unavailable` (nothing was applied, 57P01),
 * `outcome_unknown` (a request that must not be repeated may or may not have applied, 08006),
 * `transaction_aborted` (the request's transaction lived on a leaseholder that was replaced, 40001),
 * or `internal` (something other than the node answered).
 */
function storageFailure(code: "unavailable" | "outcome_unknown" | "transaction_aborted" | "internal", message: string): Uint8Array {
  return encodeResponse({ type: "error", error: { code, message } });
}

/** TenantKV's batch() bound to one invocation (see the header); the tenant is fixed when opened. */
export class TenantKvChannel extends RpcTarget implements TenantKvCapability {
  private readonly env: EdgeEnv;
  private readonly tenantId: number;
  private readonly batchesMax: number;
  private batches = 0;

  constructor(env: EdgeEnv, tenantId: number, batchesMax: number = limits.kvChannelBatchesMax) {
    super();
    this.env = env;
    this.tenantId = tenantId;
    this.batchesMax = batchesMax;
  }

  async batch(request: Uint8Array): Promise<Uint8Array> {
    if (this.batches >= this.batchesMax) {
      // Answered in the protocol's terms, before touching storage; nothing was executed.
      return encodeResponse({
        type: "error",
        error: {
          code: "limit_exceeded",
          message: `this TenantKV channel has forwarded its ${this.batchesMax} batches (kvChannelBatchesMax); open a new channel`,
        },
      });
    }
    this.batches++;
    return forwardKv(this.env, this.tenantId, request);
  }
}

export class TenantKV extends WorkerEntrypoint<EdgeEnv, TenantProps> implements TenantKvCapability {
  async batch(request: Uint8Array): Promise<Uint8Array> {
    return forwardKv(this.env, this.ctx.props.tenantId, request);
  }

  /** A channel for many batches of this tenant (see the header: cheaper per batch, must be disposed). */
  open(): TenantKvChannel {
    assertTenantId(this.ctx.props.tenantId);
    return new TenantKvChannel(this.env, this.ctx.props.tenantId);
  }
}
