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
import { assertTenantId } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { secretOf } from "../../durable-objects/env.ts";
import type { TenantKvCapability } from "../gateway/kv/capability.ts";
import type { EdgeEnv, TenantProps } from "./env.ts";
import { limits } from "./limits.ts";
import { forwardWithRetries } from "./storage-forward.ts";
import { routeMovedFrom, storageRouteFor } from "./storage-route.ts";

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
  // Bounded attempts, retried only where that is safe (storage-forward.ts, storage-retry.ts).
  return forwardWithRetries(request, {
    route: (failed) => storageRouteFor(env, tenantId, "/v1/kv", failed),
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
