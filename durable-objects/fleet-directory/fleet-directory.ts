// FleetDirectory: the one Durable Object that is the storage fleet's configuration manager
// (storage-node/replication/README.md). It holds membership, each shard's replica configuration
// with its epoch and its primary's lease, and tenant placement, and applies one operation at a
// time: the decisions are common/fleet/directory-state.ts; this class only keeps the state.
//
// The state is small (a few shards, a number per tenant) and lives in memory, loaded once under
// blockConcurrencyWhile; each operation changes it synchronously, then writes it back before the
// answer leaves (the output gate holds the answer until the write is durable), so no answer ever
// reflects a state that could be lost, and no two operations interleave.
//
// Stored: "state" → DirectoryState.
import { DurableObject } from "cloudflare:workers";
import {
  addReplica, beginMove, cancelMove, createShard, currentConfig, emptyDirectory, moveTenant, placeTenant, promote, removeReplica, renewLease, requestJoin,
  type DirectoryResult, type DirectoryState,
} from "../../common/fleet/directory-state.ts";
import type { FleetOp } from "../../common/fleet/directory-protocol.ts";
import type { ControlEnv } from "../env.ts";

export class FleetDirectory extends DurableObject<ControlEnv> {
  private state: DirectoryState = emptyDirectory();

  constructor(ctx: DurableObjectState, env: ControlEnv) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      this.state = (await ctx.storage.get<DirectoryState>("state")) ?? emptyDirectory();
    });
  }

  /** One operation (validated by the caller with fleetOpProblem). Leases are on this object's clock. */
  async apply(request: FleetOp): Promise<DirectoryResult> {
    const nowMs = Date.now();
    const s = this.state;
    const before = JSON.stringify(s);
    let result: DirectoryResult;
    switch (request.op) {
      case "createShard":
        result = createShard(s, request.shardId, request.replicas);
        break;
      case "current": {
        const config = currentConfig(s, request.shardId);
        return config ? { ok: true, config } : { ok: false, reason: `no shard ${request.shardId}`, config: undefined };
      }
      case "renewLease":
        result = renewLease(s, request.shardId, request.node, request.epoch, nowMs, request.leaseMs);
        break;
      case "promote":
        result = promote(s, request.shardId, request.node, request.epoch, nowMs, request.leaseMs);
        break;
      case "removeReplica":
        result = removeReplica(s, request.shardId, request.node, request.epoch, request.victim, nowMs);
        break;
      case "requestJoin":
        result = requestJoin(s, request.shardId, request.node);
        break;
      case "addReplica":
        result = addReplica(s, request.shardId, request.node, request.epoch, request.learner, nowMs);
        break;
      case "placeTenant":
        result = placeTenant(s, request.tenantId);
        break;
      case "beginMove":
        result = beginMove(s, request.tenantId, request.fromShard, request.toShard, request.placementVersion);
        break;
      case "moveTenant":
        result = moveTenant(s, request.tenantId, request.fromShard, request.toShard, request.placementVersion);
        break;
      case "cancelMove":
        result = cancelMove(s, request.tenantId);
        break;
    }
    // Written only when something changed: most calls are reads (a placed tenant's placement, an
    // edge following a move asks it again and again), and each write is a durable storage write on
    // a machine whose disk the storage nodes' fsyncs already keep busy.
    if (result.ok && JSON.stringify(s) !== before) await this.ctx.storage.put("state", s);
    return result;
  }

  /** Every shard and the number of tenants on each (operators, `warren fleet`). */
  async overview(): Promise<{ shards: DirectoryState["shards"]; tenantsPerShard: Record<string, number> }> {
    const tenantsPerShard: Record<string, number> = {};
    for (const shardId of Object.values(this.state.placement)) tenantsPerShard[shardId] = (tenantsPerShard[shardId] ?? 0) + 1;
    return { shards: this.state.shards, tenantsPerShard };
  }
}
