// Helpers for tests of Request-Unit metering against the real stack: the storage node's own
// per-tenant counters (GET /v1/admin/stats with the system credential, minted from the stack's
// fleet secret), the tenant's usage through the admin API, and POST /sql that also reports the
// bytes the client received (what the gateway charges as egress).
import fs from "node:fs";
import type { AdminTenant, TenantUsage } from "../../cli/admin-client.ts";
import { AdminClient } from "../../cli/admin-client.ts";
import { dataPaths } from "../../cli/data-dir.ts";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { quotaLimits } from "../../workers/gateway/quota/limits.ts";
import type { Stack, TenantConnection } from "./stack.ts";

export interface NodeCounters {
  tenantId: number;
  requests: number;
  readBatches: number;
  readRequests: number;
  readBytes: number;
  writeBatches: number;
  writeRequests: number;
  writeBytes: number;
  requestUnits: number;
  liveBytes: number;
  mvccBytes: number;
}

/** The storage node's counters for one tenant (zeros before its first request). */
export async function nodeCounters(stack: Stack, tenantId: number): Promise<NodeCounters> {
  const secret = fs.readFileSync(dataPaths(stack.dataDir).fleetSecret, "utf8").trim();
  const token = await mintTenantToken(secret, { tenantId: SYSTEM_TENANT_ID, expiresAtMs: Date.now() + 60_000 });
  const res = await fetch(`http://127.0.0.1:${stack.ports.storage}/v1/admin/stats`, { headers: { authorization: `Bearer ${token}` } });
  if (!res.ok) throw new Error(`storage stats: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { tenants: NodeCounters[] };
  return (
    body.tenants.find((t) => t.tenantId === tenantId) ?? {
      tenantId,
      requests: 0,
      readBatches: 0,
      readRequests: 0,
      readBytes: 0,
      writeBatches: 0,
      writeRequests: 0,
      writeBytes: 0,
      requestUnits: 0,
      liveBytes: 0,
      mvccBytes: 0,
    }
  );
}

export function kvPartOf(c: { readBatches: number; readRequests: number; readBytes: number; writeBatches: number; writeRequests: number; writeBytes: number }) {
  const { readBatches, readRequests, readBytes, writeBatches, writeRequests, writeBytes } = c;
  return { readBatches, readRequests, readBytes, writeBatches, writeRequests, writeBytes };
}

export function adminOf(stack: Stack): AdminClient {
  return new AdminClient(stack.admin.url, stack.admin.token);
}

export async function usageOf(stack: Stack, name: string): Promise<TenantUsage> {
  return adminOf(stack).tenantUsage(name, { since: "7d" });
}

export async function alter(stack: Stack, name: string, patch: Record<string, unknown>): Promise<AdminTenant> {
  return adminOf(stack).alterTenant(name, patch);
}

/** POST /sql; resolves with the response's byte count, or rejects with {code, message}. */
export async function sqlBytes(tenant: Pick<TenantConnection, "http" | "pg">, query: string, params: readonly unknown[] = []): Promise<{ bytes: number; body: any }> {
  const res = await fetch(tenant.http, {
    method: "POST",
    headers: { "content-type": "application/json", "neon-connection-string": tenant.pg },
    body: JSON.stringify({ query, params }),
  });
  const buf = new Uint8Array(await res.arrayBuffer());
  const body = JSON.parse(new TextDecoder().decode(buf));
  if (!res.ok) throw Object.assign(new Error(body.message ?? `HTTP ${res.status}`), { code: body.code as string | undefined });
  return { bytes: buf.byteLength, body };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The gateway reports what it consumed on its own once the tenant has been quiet for
 * quotaLimits.usageFlushMs (a timer that looks every usageFlushMs, workers/gateway/quota): waits two
 * of its periods and a margin, sending nothing, so that every charge before the call is reported
 * and nothing new is charged meanwhile.
 */
export async function flushReports(_tenant: Pick<TenantConnection, "http" | "pg">): Promise<void> {
  await sleep(2 * quotaLimits.usageFlushMs + 2_000);
}
