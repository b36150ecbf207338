// Where TenantKV sends a tenant's requests. One storage node (`npm start`, `warren dev`): STORAGE_URL,
// nothing else. A fleet (`warren dev --shards N --replicas R`): STORAGE_NODES (`id=url,…`) maps node ids to KV
// URLs, the FleetDirectory places the tenant (a new tenant on the shard holding the fewest tenants:
// common/fleet/directory-state.ts placeTenant) and names its shard's primary, and this isolate caches
// the route with its epoch.
//
// A stale route never gets a wrong answer: only the leaseholder listens on its KV port
// (storage-node/replication/replicated-node.ts: backups do not serve KV, a node that loses its lease
// exits), so a request sent to a former primary is refused at connect — nothing applied — and the
// caller asks again with `stale` set, which refreshes the route from the directory. A refreshed
// route is kept only if its epoch is not older than the cached one.
import { fleetDirectoryOf, storageUrl } from "../../durable-objects/env.ts";
import type { EdgeEnv } from "./env.ts";

export interface StorageRoute {
  /** Where to POST the tenant's KV requests. */
  readonly url: string;
  readonly shardId: number | null;
  readonly epoch: number;
  readonly node: string | null;
}

const routes = new Map<number, StorageRoute>();
let parsedNodes: { raw: string; nodes: Map<string, string> } | undefined;

function fleetNodes(env: EdgeEnv): Map<string, string> | undefined {
  const raw = (env as unknown as { STORAGE_NODES?: string }).STORAGE_NODES;
  if (!raw) return undefined;
  if (parsedNodes?.raw !== raw) {
    // `id=url,…` (cli/dev-fleet.ts storageNodesVar)
    const nodes = new Map<string, string>();
    for (const item of raw.split(",").filter(Boolean)) {
      const at = item.indexOf("=");
      if (at <= 0) throw new Error(`STORAGE_NODES item "${item}" is not id=url`);
      nodes.set(item.slice(0, at), item.slice(at + 1).replace(/\/+$/, ""));
    }
    parsedNodes = { raw, nodes };
  }
  return parsedNodes.nodes;
}

/** The route of `tenantId`'s KV requests; `stale`: the route last used failed to connect, ask the directory again. */
export async function storageRouteFor(env: EdgeEnv, tenantId: number, path: string, stale?: StorageRoute): Promise<StorageRoute> {
  const nodes = fleetNodes(env);
  if (nodes === undefined) return { url: storageUrl(env, path), shardId: null, epoch: 0, node: null };
  const cached = routes.get(tenantId);
  if (cached && cached !== stale) return cached;
  const answer = await fleetDirectoryOf(env).apply({ op: "placeTenant", tenantId });
  if (!answer.ok || answer.config === undefined) throw new Error(`tenant ${tenantId} has no shard: ${answer.ok ? "no configuration" : answer.reason}`);
  const c = answer.config;
  const base = nodes.get(c.primary);
  if (base === undefined) throw new Error(`shard ${c.shardId}'s primary ${c.primary} is not in STORAGE_NODES`);
  const fresh: StorageRoute = { url: base + path, shardId: c.shardId, epoch: c.epoch, node: c.primary };
  const current = routes.get(tenantId);
  if (current && current.epoch > fresh.epoch) return current;
  routes.set(tenantId, fresh);
  return fresh;
}

/**
 * While a request to `route` is outstanding, checks the directory every `everyMs`; when the
 * tenant's shard has a newer epoch with another primary, aborts the request (the caller treats it
 * as a failed connection: repeated on the new leaseholder when that is safe, else 08006). Returns
 * the function that stops the checks. No-op for a single node.
 */
export function watchRoute(env: EdgeEnv, tenantId: number, route: StorageRoute, abort: AbortController, everyMs: number): () => void {
  if (route.shardId === null) return () => {};
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    storageRouteFor(env, tenantId, "/v1/kv", route)
      .then((fresh) => {
        if (fresh.epoch > route.epoch && fresh.node !== route.node) abort.abort(new Error(`shard ${route.shardId} moved to ${fresh.node} (epoch ${fresh.epoch})`));
      })
      .catch(() => {})
      .finally(() => (checking = false));
  }, everyMs);
  return () => clearInterval(timer);
}
