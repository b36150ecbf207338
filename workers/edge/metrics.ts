// GET /metrics on the edge: Prometheus text exposition (version 0.0.4), admin token required (the
// names and usage of every tenant are an operator's business). Two kinds of series:
//
//   this edge isolate  warren_edge_*: live sessions and /sql requests per tenant, whether the
//                      tenant holds a gateway isolate here, isolates pinned / released, tenants
//                      suspended for idleness by this isolate
//   the control plane  warren_tenant_*: per tenant from the TenantDirectory, its TenantRouter
//                      (lifecycle) and its QuotaBucket (RU and their parts, all-time; this month's
//                      RU; the latest storage sample)
//
// A scrape costs one directory call plus two object calls per tenant, in parallel: fine for the
// hundreds of tenants of one deployment's operator; a fleet would scrape a metering pipeline.
import { settleRpc } from "../../common/rpc.ts";
import type { DirectoryEntry } from "../../durable-objects/directory/tenant-directory.ts";
import { directoryOf, quotaBucketFor, routerFor } from "../../durable-objects/env.ts";
import type { EdgeEnv } from "./env.ts";
import type { EdgeState } from "./app.ts";

/** A label value escaped as the exposition format asks (backslash, double quote, newline). */
function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

class Exposition {
  private readonly lines: string[] = [];
  private readonly declared = new Set<string>();

  metric(name: string, type: "gauge" | "counter", help: string, labels: Record<string, string>, value: number): void {
    if (!this.declared.has(name)) {
      this.declared.add(name);
      this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    }
    const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`);
    this.lines.push(`${name}${l.length ? `{${l.join(",")}}` : ""} ${Number.isFinite(value) ? value : 0}`);
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}

const STATES = ["creating", "active", "suspended", "dropping"] as const;

export async function renderMetrics(env: EdgeEnv, s: EdgeState): Promise<string> {
  const out = new Exposition();
  // This edge isolate first: grouped by metric name, as the format wants each family together.
  const here = [...s.activity.entries()];
  for (const e of here) out.metric("warren_edge_tenant_sessions", "gauge", "Postgres sessions open through this edge isolate.", { tenant: e.tenant.name }, e.sessions);
  for (const e of here) out.metric("warren_edge_tenant_requests", "gauge", "POST /sql requests in flight in this edge isolate.", { tenant: e.tenant.name }, e.requests);
  for (const e of here) out.metric("warren_edge_tenant_gateway_isolate", "gauge", "1 when this edge isolate holds a gateway isolate of the tenant.", { tenant: e.tenant.name }, s.gateways.hasIsolate(e.tenant.tenantId) ? 1 : 0);
  out.metric("warren_edge_gateway_isolates", "gauge", "Gateway isolates this edge isolate holds (Worker Loader get()).", {}, s.gateways.pinnedCount);
  out.metric("warren_edge_gateway_isolates_released_total", "counter", "Gateway isolates let go (idle or operator suspension).", {}, s.gateways.released);
  out.metric("warren_edge_gateway_isolates_pooled", "gauge", "Started gateway isolates bound to no tenant, ready for a tenant's first request.", {}, s.gateways.pooledCount);
  out.metric("warren_edge_gateway_isolates_created_total", "counter", "Gateway isolate ids created (each a new isolate).", {}, s.gateways.isolatesCreated);
  out.metric("warren_edge_gateway_pool_hits_total", "counter", "Tenants' first requests served by a started isolate from the pool.", {}, s.gateways.poolHits);
  out.metric("warren_edge_gateway_pool_misses_total", "counter", "Tenants' first requests that had to start an isolate.", {}, s.gateways.poolMisses);
  out.metric("warren_edge_idle_suspensions_total", "counter", "Tenants this edge isolate suspended for idleness.", {}, s.idle.suspended);
  out.metric("warren_edge_idle_suspend_seconds", "gauge", "Idle time before a tenant is suspended (0: never).", {}, s.idle.idleMs / 1000);

  const entries: DirectoryEntry[] = await settleRpc(directoryOf(env).list());
  const rows = await Promise.all(
    entries.map(async (e) => {
      const [router, quota] = await Promise.all([
        settleRpc(routerFor(env, e.name).describe()).catch(() => null),
        settleRpc(quotaBucketFor(env, e.id).metrics()).catch(() => null),
      ]);
      const state = router && router.tenantId === e.id && (e.state === "active" || e.state === "suspended") ? router.state : e.state;
      return { e, router, quota, state };
    }),
  );
  for (const r of rows) {
    for (const st of STATES) out.metric("warren_tenant_state", "gauge", "1 for the tenant's lifecycle state.", { tenant: r.e.name, state: st }, r.state === st ? 1 : 0);
  }
  for (const r of rows) out.metric("warren_tenant_idle_suspensions_total", "counter", "Times the tenant was suspended for idleness.", { tenant: r.e.name }, r.router?.idleSuspensions ?? 0);
  for (const r of rows) out.metric("warren_tenant_resumes_total", "counter", "Times a connection resumed the tenant from idle suspension.", { tenant: r.e.name }, r.router?.resumes ?? 0);
  const q = rows.filter((r) => r.quota !== null);
  for (const r of q) out.metric("warren_tenant_request_units_total", "counter", "Request Units consumed, all time.", { tenant: r.e.name }, r.quota!.totals.ru);
  for (const r of q) out.metric("warren_tenant_request_units_month", "gauge", "Request Units consumed this calendar month (UTC).", { tenant: r.e.name }, r.quota!.monthRu);
  for (const r of q) out.metric("warren_tenant_cpu_seconds_total", "counter", "Gateway CPU time charged, all time.", { tenant: r.e.name }, r.quota!.totals.cpuMs / 1000);
  for (const r of q) out.metric("warren_tenant_egress_bytes_total", "counter", "Bytes sent to clients, all time.", { tenant: r.e.name }, r.quota!.totals.egressBytes);
  for (const r of q) out.metric("warren_tenant_kv_read_bytes_total", "counter", "Bytes read from storage, all time.", { tenant: r.e.name }, r.quota!.totals.kv.readBytes);
  for (const r of q) out.metric("warren_tenant_kv_write_bytes_total", "counter", "Bytes written to storage, all time.", { tenant: r.e.name }, r.quota!.totals.kv.writeBytes);
  for (const r of q) out.metric("warren_tenant_connections_total", "counter", "Postgres connections opened, all time.", { tenant: r.e.name }, r.quota!.totals.connections);
  for (const r of q) out.metric("warren_tenant_http_requests_total", "counter", "POST /sql requests, all time.", { tenant: r.e.name }, r.quota!.totals.httpRequests);
  for (const r of q.filter((r) => r.quota!.storage !== null)) out.metric("warren_tenant_storage_live_bytes", "gauge", "Live bytes on the storage node (latest sample).", { tenant: r.e.name }, r.quota!.storage!.liveBytes);
  return out.text();
}
