// The FleetDirectory as a replica reaches it: POST {edge}/fleet/v1/op with a system token (tenant 1,
// signed with the fleet secret the node already holds). Every call has a timeout: an unreachable
// directory must not hold a replica's only directory slot forever (replica.ts callDirectory).
import type { DirectoryResult } from "../../common/fleet/directory-state.ts";
import type { FleetOp } from "../../common/fleet/directory-protocol.ts";
import type { ShardConfig } from "../../common/fleet/shard-config.ts";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import type { ConfigManager } from "./replica.ts";

/**
 * A directory call that has not answered within this is abandoned (the replica asks again at its
 * next tick). Not shorter than a lease renewal can still be of use: a renewal answered within
 * leaseMsMax minus its margin (9 s) still gives a lease (replica.ts leaseToAskMs), and under CPU
 * load round trips of 2–6 s were seen, which a 2 s timeout turned into no leaseholder at all.
 */
const directoryCallTimeoutMs = 9_000;
/** System tokens live 10 minutes (TOKEN_TTL_MS_MAX is 15) and are renewed 1 minute before they end. */
const tokenTtlMs = 10 * 60_000;

export class HttpDirectory implements ConfigManager {
  private token: { value: string; expiresAtMs: number } | undefined;
  private readonly url: string;
  private readonly secret: string;
  private readonly leaseMs: number;

  constructor(edgeUrl: string, fleetSecret: string, leaseMs: number) {
    this.url = edgeUrl.replace(/\/+$/, "") + "/fleet/v1/op";
    this.secret = fleetSecret;
    this.leaseMs = leaseMs;
  }

  async call(op: FleetOp): Promise<DirectoryResult> {
    const now = Date.now();
    if (!this.token || this.token.expiresAtMs - 60_000 < now) {
      const expiresAtMs = now + tokenTtlMs;
      this.token = { value: await mintTenantToken(this.secret, { tenantId: SYSTEM_TENANT_ID, expiresAtMs }), expiresAtMs };
    }
    const res = await fetch(this.url, {
      method: "POST",
      headers: { authorization: `Bearer ${this.token.value}`, "content-type": "application/json" },
      body: JSON.stringify(op),
      signal: AbortSignal.timeout(directoryCallTimeoutMs),
    });
    const body = (await res.json()) as DirectoryResult | { error: { message: string } };
    if ("error" in body) throw new Error(`fleet directory: ${body.error.message}`);
    return body;
  }

  async current(shardId: number): Promise<ShardConfig | undefined> {
    return (await this.call({ op: "current", shardId })).config;
  }
  renewLease(shardId: number, node: string, epoch: number, leaseMs = this.leaseMs): Promise<DirectoryResult> {
    return this.call({ op: "renewLease", shardId, node, epoch, leaseMs });
  }
  promote(shardId: number, node: string, epoch: number, leaseMs = this.leaseMs): Promise<DirectoryResult> {
    return this.call({ op: "promote", shardId, node, epoch, leaseMs });
  }
  removeReplica(shardId: number, node: string, epoch: number, victim: string): Promise<DirectoryResult> {
    return this.call({ op: "removeReplica", shardId, node, epoch, victim });
  }
  requestJoin(shardId: number, node: string): Promise<DirectoryResult> {
    return this.call({ op: "requestJoin", shardId, node });
  }
  addReplica(shardId: number, node: string, epoch: number, learner: string): Promise<DirectoryResult> {
    return this.call({ op: "addReplica", shardId, node, epoch, learner });
  }
}
