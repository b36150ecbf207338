// The KV channel of one POST /sql request (loader and inline mode alike): created by the edge in the
// request's own invocation, for the tenant of its authenticated route, and handed to the gateway as
// an argument of its GatewaySql.sql call (workers/gateway/edge-contract.ts). Each batch the gateway
// sends is a method call on this object, run in the edge's /sql invocation, which forwards it to
// storage with one fetch (forwardKv: token, retries, the fleet's routing). Before, each batch was a
// fresh invocation of the TenantKV entrypoint, and the invocation cost more than the fetch.
//
// The same bound as a session's channel: every batch forwarded here is a subrequest of the /sql
// invocation, and Workers bound those per invocation; past kvChannelBatchesMax a batch goes through
// the TenantKV entrypoint (its own invocation) instead, as all batches did before, so a large
// request is never refused for it.
//
// Isolation: the tenant is fixed in the constructor by the edge; the gateway holding the stub can
// only send bytes, which the storage node checks key by key against the tenant of the token
// forwardKv mints for that tenant (isolation, twice, as for the entrypoint).
import { RpcTarget } from "cloudflare:workers";
import { assertTenantId } from "../../common/tenant-prefix.ts";
import type { TenantKvCapability } from "../gateway/kv/capability.ts";
import type { EdgeEnv } from "./env.ts";
import { limits } from "./limits.ts";
import { forwardKv } from "./tenant-kv.ts";

export class RequestKvChannel extends RpcTarget implements TenantKvCapability {
  private readonly env: EdgeEnv;
  private readonly tenantId: number;
  private readonly overflow: () => TenantKvCapability;
  private readonly batchesMax: number;
  /** Batches forwarded from this invocation so far. */
  forwarded = 0;
  /** Batches sent through the entrypoint because the bound was reached. */
  overflowed = 0;

  /** `overflow`: the tenant's TenantKV entrypoint, for the batches past `batchesMax`. */
  constructor(env: EdgeEnv, tenantId: number, overflow: () => TenantKvCapability, batchesMax: number = limits.kvChannelBatchesMax) {
    super();
    assertTenantId(tenantId);
    this.env = env;
    this.tenantId = tenantId;
    this.overflow = overflow;
    this.batchesMax = batchesMax;
  }

  async batch(request: Uint8Array): Promise<Uint8Array> {
    if (this.forwarded >= this.batchesMax) {
      this.overflowed++;
      return this.overflow().batch(request);
    }
    this.forwarded++;
    return forwardKv(this.env, this.tenantId, request);
  }
}
