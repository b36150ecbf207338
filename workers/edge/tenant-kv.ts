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
import { encodeResponse, KV_USAGE_HEADER } from "../../common/kv-protocol/codec.ts";
import { KV_STREAM_PATH } from "../../common/kv-protocol/stream.ts";
import { KvStreamBroken, KvStreamFull, type KvStreamConnection } from "../../common/kv-protocol/stream-client.ts";
import { assertTenantId } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { secretOf, storageUrl } from "../../durable-objects/env.ts";
import type { TenantKvCapability } from "../gateway/kv/capability.ts";
import type { EdgeEnv, TenantProps } from "./env.ts";
import { limits } from "./limits.ts";
import { forwardWithRetries, storageFailure } from "./storage-forward.ts";
import { afterFailedAttempt } from "./storage-retry.ts";
import { routeMovedFrom, storageNodesVar, storageRouteFor } from "./storage-route.ts";
import { openStorageStream } from "./storage-stream.ts";

interface CachedToken {
  token: string;
  expiresAtMs: number;
}

/** Tokens by tenant id, reused until shortly before they expire (one HMAC per tenant per ~9 min). */
const tokens = new Map<number, CachedToken>();

export async function storageTokenFor(secret: string, tenantId: number, nowMs = Date.now()): Promise<string> {
  return (await cachedTokenFor(secret, tenantId, nowMs)).token;
}

async function cachedTokenFor(secret: string, tenantId: number, nowMs: number): Promise<CachedToken> {
  const cached = tokens.get(tenantId);
  if (cached && cached.expiresAtMs - limits.storageTokenRefreshBeforeMs > nowMs) return cached;
  const expiresAtMs = nowMs + limits.storageTokenTtlMs;
  const token = await mintTenantToken(secret, { tenantId, expiresAtMs });
  const fresh = { token, expiresAtMs };
  tokens.set(tenantId, fresh);
  return fresh;
}

/** The edge's own answer to a request it will not forward (too large, no fleet secret), or null. */
function refusal(env: EdgeEnv, request: Uint8Array): Uint8Array | null {
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
  return null;
}

/** Sends one encoded KvRequest for `tenantId`; returns the encoded KvResponse. */
export async function forwardKv(env: EdgeEnv, tenantId: number, request: Uint8Array): Promise<Uint8Array> {
  assertTenantId(tenantId);
  const refused = refusal(env, request);
  if (refused !== null) return refused;
  const secret = secretOf(env as unknown as Record<string, unknown>, "FLEET_SECRET") as { value: string };
  // Bounded attempts, retried only where that is safe (storage-forward.ts, storage-retry.ts).
  return forwardWithRetries(request, {
    route: (failed, tenantMoved) => storageRouteFor(env, tenantId, "/v1/kv", failed, tenantMoved),
    movedFrom: (route, checkEveryMs) => routeMovedFrom(env, route, "/v1/kv", checkEveryMs),
    post: async (url, signal) =>
      fetch(url, {
        signal,
        method: "POST",
        // The usage trailer: what the node metered for this request, which the gateway charges.
        headers: { authorization: `Bearer ${await storageTokenFor(secret.value, tenantId)}`, "content-type": "application/octet-stream", [KV_USAGE_HEADER]: "1" },
        body: request,
      }),
    tokenRefused: () => tokens.delete(tenantId),
  });
}

/**
 * TenantKV's batch() bound to one invocation (see the header); the tenant is fixed when opened.
 *
 * A channel sends its batches over one persistent KV stream to the storage node (storage-stream.ts:
 * one frame each way per batch, several in flight at once), opened by its first batch and kept
 * until the channel is disposed. What happens when that goes wrong:
 * - the stream breaks with requests in flight (node killed or restarted, connection reset, a frame
 *   the two ends disagree on): each of those requests that may safely be repeated (storage-retry.ts)
 *   is sent again over HTTP with forwardKv's retries; any other gets `outcome_unknown` (08006 at the
 *   gateway) saying the stream broke. The next batch opens a new stream;
 * - a stream cannot be opened (node down, refusal): batches go over HTTP for
 *   kvStreamReconnectDelayMs, then a stream is tried again;
 * - kvStreamInFlightMax requests are in flight: the next one goes over HTTP;
 * - the stream's token nears its expiry: the stream is retired (closed once its requests are
 *   answered) and the next batch opens one with a fresh token;
 * - a fleet (STORAGE_NODES) or STORAGE_TRANSPORT=http: HTTP only (the fleet's leaseholder moves, and
 *   forwardKv follows it; streams there are future work).
 */
export class TenantKvChannel extends RpcTarget implements TenantKvCapability {
  private readonly env: EdgeEnv;
  private readonly tenantId: number;
  private readonly batchesMax: number;
  private batches = 0;
  private stream: { conn: KvStreamConnection; tokenExpiresAtMs: number } | null = null;
  private opening: Promise<KvStreamConnection | null> | null = null;
  /** No stream is tried before this time (one failed to open). */
  private streamRetryAtMs = 0;
  private disposed = false;

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
    const refused = refusal(this.env, request);
    if (refused !== null) return refused;
    const conn = await this.streamForBatch();
    if (conn === null) return forwardKv(this.env, this.tenantId, request);
    try {
      return await conn.request(request);
    } catch (err) {
      if (err instanceof KvStreamFull) return forwardKv(this.env, this.tenantId, request);
      if (!(err instanceof KvStreamBroken)) throw err;
      if (this.stream?.conn === conn) this.stream = null;
      // What may be sent again goes over HTTP (with forwardKv's retries); a request inside an open
      // transaction aborts it (40001), anything else has an unknown outcome (08006): storage-retry.ts.
      const after = afterFailedAttempt(request);
      if (after === "resend") return forwardKv(this.env, this.tenantId, request);
      if (after === "transaction_aborted") return storageFailure("transaction_aborted", `${err.message}; the transaction was aborted`);
      return storageFailure("outcome_unknown", `${err.message}; the outcome of this request is unknown`);
    }
  }

  /** The channel's stream, opened if need be; null: send this batch over HTTP. */
  private async streamForBatch(): Promise<KvStreamConnection | null> {
    if (this.disposed || this.env.STORAGE_TRANSPORT === "http") return null;
    const now = Date.now();
    const s = this.stream;
    if (s !== null) {
      if (s.conn.broken === null && s.tokenExpiresAtMs - limits.storageTokenRefreshBeforeMs > now) return s.conn;
      s.conn.retire();
      this.stream = null;
    }
    if (now < this.streamRetryAtMs) return null;
    this.opening ??= this.openStream().finally(() => (this.opening = null));
    return this.opening;
  }

  private async openStream(): Promise<KvStreamConnection | null> {
    if (storageNodesVar(this.env) !== undefined) {
      // A fleet: HTTP, which follows the shard's leaseholder (see the class comment).
      this.streamRetryAtMs = Number.POSITIVE_INFINITY;
      return null;
    }
    const secret = secretOf(this.env as unknown as Record<string, unknown>, "FLEET_SECRET") as { value: string };
    const token = await cachedTokenFor(secret.value, this.tenantId, Date.now());
    try {
      const opened = await openStorageStream(storageUrl(this.env, KV_STREAM_PATH), token.token);
      if ("refused" in opened) {
        // 401: the node did not accept the token (rotated secret, clock skew): the next try mints one.
        if (opened.refused.status === 401) tokens.delete(this.tenantId);
        this.streamRetryAtMs = Date.now() + limits.kvStreamReconnectDelayMs;
        return null;
      }
      if (this.disposed) {
        opened.stream.close();
        return null;
      }
      this.stream = { conn: opened.stream, tokenExpiresAtMs: token.expiresAtMs };
      return opened.stream;
    } catch {
      // Not reachable now: HTTP (with its retries) until kvStreamReconnectDelayMs has passed.
      this.streamRetryAtMs = Date.now() + limits.kvStreamReconnectDelayMs;
      return null;
    }
  }

  /** The holder disposed its stub: the stream goes (requests in flight still get their answers). */
  [Symbol.dispose](): void {
    this.disposed = true;
    this.stream?.conn.retire();
    this.stream = null;
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
