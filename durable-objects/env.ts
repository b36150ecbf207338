// The bindings the control plane's Durable Objects use. The edge Worker's env is a superset.
import type { QuotaBucket } from "./quota/quota-bucket.ts";
import type { TenantDirectory } from "./directory/tenant-directory.ts";
import type { TenantRouter } from "./router/tenant-router.ts";

export interface ControlEnv {
  TENANT_ROUTER: DurableObjectNamespace<TenantRouter>;
  TENANT_DIRECTORY: DurableObjectNamespace<TenantDirectory>;
  QUOTA_BUCKET: DurableObjectNamespace<QuotaBucket>;
  /** Base URL of the storage fleet, e.g. http://127.0.0.1:26258 (no trailing slash needed). */
  STORAGE_URL: string;
  /** HMAC secret shared with the storage fleet for wt1 tenant tokens. */
  FLEET_SECRET: string;
}

/** The one TenantDirectory instance. */
export const DIRECTORY_OBJECT_NAME = "directory";

export function routerFor(env: ControlEnv, tenantName: string): DurableObjectStub<TenantRouter> {
  return env.TENANT_ROUTER.get(env.TENANT_ROUTER.idFromName(tenantName));
}

export function directoryOf(env: ControlEnv): DurableObjectStub<TenantDirectory> {
  return env.TENANT_DIRECTORY.get(env.TENANT_DIRECTORY.idFromName(DIRECTORY_OBJECT_NAME));
}

/** Quota buckets are keyed by tenant id, so a re-created name starts with a fresh bucket. */
export function quotaBucketFor(env: ControlEnv, tenantId: number): DurableObjectStub<QuotaBucket> {
  return env.QUOTA_BUCKET.get(env.QUOTA_BUCKET.idFromName(`tenant-${tenantId}`));
}

/** `${STORAGE_URL}${path}` without a doubled slash. */
export function storageUrl(env: ControlEnv, path: string): string {
  return env.STORAGE_URL.replace(/\/+$/, "") + path;
}
