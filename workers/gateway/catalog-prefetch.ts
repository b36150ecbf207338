// Loading a tenant's catalog ahead of its first statement. A gateway isolate bound to a tenant
// (resumed, new, or evicted and bound again) has no catalog snapshot, so the first statement of the
// first session pays one storage round trip for it, after everything before it: on a loaded local
// stack that round trip was most of a resumed tenant's first-query time (`npm run bench:tenants`,
// hop `kv`). The edge asks for this load (GATEWAY_LIFECYCLE_PATHS.prepare) as soon as it knows the
// tenant of a new Postgres connection, so the load runs while the client and the edge are still
// busy with authentication; a session that starts meanwhile waits for it instead of loading again
// (CatalogStore.prefetched).
//
// It is the same load a session makes (CatalogStore.load: one request, descriptor scan plus the
// version key), in a read-only transaction, charged to the tenant's quota like any read. The
// snapshot it leaves is an ordinary cached one: checked against storage on use (the version get
// riding on each transaction's first read), dropped when the tenant's isolate is released.
import type { GatewayEnv } from "./env.ts";
import { CatalogStore, prefetchSharedCatalog } from "./catalog/catalog-store.ts";
import { Keyspace } from "./catalog/keyspace.ts";
import { capabilityTransport, KvClient } from "./kv/kv-client.ts";
import { localQuotaFor } from "./quota/local-quota.ts";
import { descriptorUpgrade } from "./sql/bind/stored-sql.ts";
import { Txn } from "./txn/txn.ts";

/** Loads the tenant's catalog into this isolate's shared snapshot unless it is there or on its way. */
export function prefetchCatalog(env: GatewayEnv): Promise<void> {
  const tenantId = Number(env.TENANT_ID);
  return prefetchSharedCatalog(tenantId, async () => {
    const quota = localQuotaFor(env.TENANT_ID, env.QUOTA);
    const kv = new KvClient(capabilityTransport(env.KV));
    kv.onUsage = (u) => quota.chargeKv(u);
    const txn = new Txn(kv, { readOnly: true });
    try {
      await new CatalogStore(tenantId, new Keyspace(tenantId), descriptorUpgrade).load(txn);
    } finally {
      await txn.rollback();
    }
  });
}
