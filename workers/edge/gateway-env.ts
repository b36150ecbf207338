// Builds the env of a tenant's gateway, and the WorkerCode the loader receives. This is the one
// place that decides what a gateway can touch, so the isolation test loads its probe through
// exactly these functions.
//
// The tenant's env holds: KV (TenantKV entrypoint of this Worker, props = the tenant), QUOTA
// (TenantQuota, same), and the tenant's id and name as plain strings. It never holds STORAGE_URL,
// FLEET_SECRET, ADMIN_TOKEN, a token, or any Durable Object namespace. In loader mode it reaches the
// gateway as the props of each invocation (gateway-host.ts): the isolate's own env is empty, so an
// isolate holds a tenant's capabilities only while a request of that tenant runs in it. And
// `globalOutbound: null` takes away fetch() and connect() to anywhere: the capabilities are the
// gateway's only way out.
import type { GatewayEnv, TenantQuotaCapability } from "../gateway/env.ts";
import type { TenantKvCapability } from "../gateway/kv/capability.ts";
import type { TenantProps } from "./env.ts";
import { limits } from "./limits.ts";

/** The loopback bindings of this Worker's exported entrypoints (`ctx.exports`). */
export interface EdgeExports {
  TenantKV(options: { props: TenantProps }): TenantKvCapability;
  TenantQuota(options: { props: TenantProps }): TenantQuotaCapability;
}

export interface TenantRef {
  tenantId: number;
  name: string;
}

export function buildGatewayEnv(exports: EdgeExports, tenant: TenantRef, statementTimeoutMs = ""): GatewayEnv {
  const props: TenantProps = { tenantId: tenant.tenantId };
  return {
    KV: exports.TenantKV({ props }),
    QUOTA: exports.TenantQuota({ props }),
    TENANT_ID: String(tenant.tenantId),
    TENANT_NAME: tenant.name,
    STATEMENT_TIMEOUT_MS: statementTimeoutMs,
  };
}

/**
 * Gateway isolates run on the same runtime contract as the edge (wrangler.toml). enable_request_signal:
 * a /sql request whose client went away aborts request.signal, which cancels its statement.
 */
export const GATEWAY_COMPATIBILITY_DATE = "2026-08-01";
export const GATEWAY_COMPATIBILITY_FLAGS = ["nodejs_compat", "enable_request_signal"];

/** The gateway's modules: its bundled entry and the .wasm files it imports. */
export interface GatewayCode {
  /** Changes whenever any module changes; part of every isolate id, so new code means new isolates. */
  version: string;
  mainModule: string;
  modules: Record<string, string | WebAssembly.Module | WorkerLoaderModule>;
}

/** The loaded code of a gateway isolate: bound to no tenant, so its env is empty (the tenant comes with each invocation). */
export function gatewayWorkerCode(code: GatewayCode): WorkerLoaderWorkerCode {
  return {
    compatibilityDate: GATEWAY_COMPATIBILITY_DATE,
    compatibilityFlags: GATEWAY_COMPATIBILITY_FLAGS,
    mainModule: code.mainModule,
    modules: code.modules,
    env: {},
    globalOutbound: null,
    // The ceiling for any invocation; GatewayHost.fetch passes the bound of each kind of request.
    limits: { cpuMs: limits.gatewaySessionCpuMs },
  };
}
