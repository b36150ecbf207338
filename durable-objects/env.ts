// The bindings the control plane's Durable Objects use. The edge Worker's env is a superset.
import type { QuotaBucket } from "./quota/quota-bucket.ts";
import type { TenantDirectory } from "./directory/tenant-directory.ts";
import type { TenantRouter } from "./router/tenant-router.ts";
import type { FleetDirectory } from "./fleet-directory/fleet-directory.ts";

export interface ControlEnv {
  TENANT_ROUTER: DurableObjectNamespace<TenantRouter>;
  TENANT_DIRECTORY: DurableObjectNamespace<TenantDirectory>;
  QUOTA_BUCKET: DurableObjectNamespace<QuotaBucket>;
  /** The storage fleet's configuration manager (storage-node/replication/README.md). */
  FLEET_DIRECTORY: DurableObjectNamespace<FleetDirectory>;
  /** Base URL of the storage fleet, e.g. http://127.0.0.1:26258 (no trailing slash needed). */
  STORAGE_URL: string;
  /** HMAC secret shared with the storage fleet for wt1 tenant tokens. */
  FLEET_SECRET: string;
}

/**
 * Shortest secret the control plane accepts (FLEET_SECRET, ADMIN_TOKEN): `warren dev` generates 43
 * characters (32 random bytes); 32 characters of a random alphabet leave no room for guessing, and
 * anything shorter is almost certainly a placeholder someone typed.
 */
export const SECRET_CHARS_MIN = 32;

/**
 * A secret binding's value, or why it cannot be used. Secrets are never in wrangler.toml: in
 * production they come from `wrangler secret put`, locally `warren dev` supplies generated ones.
 * An edge deployed without them must refuse the traffic that needs them, not run on a default.
 */
export function secretOf(env: { readonly [name: string]: unknown }, name: "FLEET_SECRET" | "ADMIN_TOKEN" | "TXN_HANDLE_SECRET"): { value: string } | { missing: string } {
  const value = env[name];
  if (typeof value !== "string" || value.length === 0) {
    return { missing: `the edge is deployed without ${name}: set it with \`wrangler secret put ${name}\`` };
  }
  if (value.length < SECRET_CHARS_MIN) {
    return { missing: `${name} is shorter than ${SECRET_CHARS_MIN} characters: set a random one with \`wrangler secret put ${name}\`` };
  }
  return { value };
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

/** The one FleetDirectory instance. */
export function fleetDirectoryOf(env: ControlEnv): DurableObjectStub<FleetDirectory> {
  return env.FLEET_DIRECTORY.get(env.FLEET_DIRECTORY.idFromName("fleet"));
}

/** `${STORAGE_URL}${path}` without a doubled slash. */
export function storageUrl(env: ControlEnv, path: string): string {
  return env.STORAGE_URL.replace(/\/+$/, "") + path;
}
