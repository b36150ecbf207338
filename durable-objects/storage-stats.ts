// The storage node's own counters for one tenant (GET /v1/admin/stats?tenant=N, system credential):
// what the usage history records as storage bytes, and what `warren tenant usage` shows beside the
// history so an operator can see that the two agree.
import { SYSTEM_TENANT_ID } from "../common/tenant-prefix.ts";
import { mintTenantToken } from "../common/tenant-token.ts";
import { secretOf, storageUrl, type ControlEnv } from "./env.ts";
import { limits } from "./limits.ts";

/** The node's per-tenant counters (storage-node/metrics.ts), as its stats endpoint returns them. */
export interface StorageNodeCounters {
  requests: number;
  readBatches: number;
  readRequests: number;
  readBytes: number;
  writeBatches: number;
  writeRequests: number;
  writeBytes: number;
  requestUnits: number;
  rateLimited: number;
  conflicts: number;
  errors: number;
  liveBytes: number;
  mvccBytes: number;
}

/** The tenant's counters at the storage node (null: it has none yet), or why they could not be had. Never throws. */
export async function storageCountersOf(env: ControlEnv, tenantId: number): Promise<{ counters: StorageNodeCounters | null } | { error: string }> {
  const secret = secretOf(env as unknown as Record<string, unknown>, "FLEET_SECRET");
  if ("missing" in secret) return { error: secret.missing };
  try {
    const token = await mintTenantToken(secret.value, { tenantId: SYSTEM_TENANT_ID, expiresAtMs: Date.now() + 60_000 });
    const res = await fetch(storageUrl(env, `/v1/admin/stats?tenant=${tenantId}`), {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(limits.storageAdminTimeoutMs),
    });
    if (!res.ok) {
      const text = (await res.text()).slice(0, 300);
      return { error: `the storage node answered HTTP ${res.status}: ${text}` };
    }
    const body = (await res.json()) as { tenants?: Array<{ tenantId: number } & StorageNodeCounters> };
    const t = body.tenants?.find((x) => x.tenantId === tenantId);
    return { counters: t ?? null };
  } catch (err) {
    return { error: `could not reach the storage node: ${err instanceof Error ? err.message : String(err)}` };
  }
}
