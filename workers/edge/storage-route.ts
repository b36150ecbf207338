// Where TenantKV sends a tenant's requests. One storage node (`npm start`, `warren dev`): STORAGE_URL,
// nothing else. A fleet (`warren dev --shards N --replicas R`): STORAGE_NODES (`id=url,…`) maps node ids to KV
// URLs, the FleetDirectory places the tenant (a new tenant on the shard holding the fewest tenants:
// common/fleet/directory-state.ts placeTenant) and names its shard's primary, and this isolate caches
// both (shard-routes.ts: per shard, with the epoch; directory reads coalesced per shard).
//
// A stale route never gets a wrong answer: only the leaseholder listens on its KV port
// (storage-node/replication/replicated-node.ts: backups do not serve KV, a node that loses its lease
// exits), so a request sent to a former primary is refused at connect — nothing applied — and the
// caller asks again with `failed` set, which refreshes the shard's leader from the directory. A
// leaseholder that stops answering without closing its port (stopped, cut off) is found by
// `movedFrom`: a request waiting on it checks the directory and leaves once another primary leads a
// newer epoch (storage-attempt.ts, storage-forward.ts).
import { fleetDirectoryOf, storageUrl } from "../../durable-objects/env.ts";
import type { EdgeEnv } from "./env.ts";
import { ShardRoutes, type StorageRoute } from "./shard-routes.ts";

export type { StorageRoute };

let fleet: { raw: string; routes: ShardRoutes } | undefined;

/**
 * The STORAGE_NODES var (`id=url,…`), or undefined for a single storage node. Only a string counts:
 * a binding of that name (a Durable Object namespace, say) is a configuration mistake, not a fleet.
 */
export function storageNodesVar(env: EdgeEnv): string | undefined {
  const raw = (env as unknown as { STORAGE_NODES?: unknown }).STORAGE_NODES;
  return typeof raw === "string" && raw !== "" ? raw : undefined;
}

/** This isolate's fleet view, or undefined for a single storage node (no STORAGE_NODES). */
function fleetRoutes(env: EdgeEnv): ShardRoutes | undefined {
  const raw = storageNodesVar(env);
  if (raw === undefined) return undefined;
  if (fleet?.raw !== raw) {
    // `id=url,…` (cli/dev-fleet.ts storageNodesVar)
    const nodes = new Map<string, string>();
    for (const item of raw.split(",").filter(Boolean)) {
      const at = item.indexOf("=");
      if (at <= 0) throw new Error(`STORAGE_NODES item "${item}" is not id=url`);
      nodes.set(item.slice(0, at), item.slice(at + 1).replace(/\/+$/, ""));
    }
    fleet = { raw, routes: new ShardRoutes((op) => fleetDirectoryOf(env).apply(op), nodes) };
  }
  return fleet.routes;
}

/**
 * The route of `tenantId`'s requests to `path`; `failed`: the route last used did not answer;
 * `tenantMoved`: its node refused the tenant (tenant_moved), so the placement is read again.
 */
export async function storageRouteFor(env: EdgeEnv, tenantId: number, path: string, failed?: StorageRoute, tenantMoved?: { toShard?: number }): Promise<StorageRoute> {
  const routes = fleetRoutes(env);
  if (routes === undefined) return { url: storageUrl(env, path), shardId: null, epoch: 0, node: null };
  return routes.route(tenantId, path, failed, tenantMoved);
}

/**
 * The route that replaced `route` (its shard has a newer epoch led by another node), or undefined
 * while `route` is still the shard's leaseholder as far as the directory knows. Always undefined
 * for a single node. Reads the directory at most once per `checkEveryMs` per shard.
 */
export async function routeMovedFrom(env: EdgeEnv, route: StorageRoute, path: string, checkEveryMs: number): Promise<StorageRoute | undefined> {
  const routes = fleetRoutes(env);
  if (routes === undefined || route.shardId === null) return undefined;
  return routes.movedFrom(route, path, checkEveryMs);
}
