// Per-tenant metering: what each tenant asked of the node and what it stores. Counters live in
// memory (they restart at zero with the process, as Prometheus counters do); stored bytes come from
// the writer, which keeps them exactly and persists them with every commit.

import type { KvUsage } from "../common/request-units.ts";

/** The RU model's usage fields (read/write batches, requests, bytes), summed, plus the node's own. */
export interface TenantCounters extends KvUsage {
  requests: number;
  requestUnits: number;
  rateLimited: number;
  conflicts: number;
  errors: number;
  liveBytes: number;
  mvccBytes: number;
}

const COUNTER_HELP: Record<keyof TenantCounters, [string, "counter" | "gauge"]> = {
  requests: ["KV requests received (any outcome)", "counter"],
  readBatches: ["requests that read", "counter"],
  readRequests: ["read operations (get, scan)", "counter"],
  readBytes: ["bytes of keys and values returned", "counter"],
  writeBatches: ["requests that wrote (commits and batches with writes)", "counter"],
  writeRequests: ["write operations", "counter"],
  writeBytes: ["bytes of keys and values written", "counter"],
  requestUnits: ["Request Units consumed (common/request-units.ts)", "counter"],
  rateLimited: ["requests refused as rate limited", "counter"],
  conflicts: ["commits refused with a conflict", "counter"],
  errors: ["requests answered with any error", "counter"],
  liveBytes: ["bytes of keys and values visible at the latest timestamp", "gauge"],
  mvccBytes: ["bytes of every stored version (key, timestamp, value)", "gauge"],
};

const METRIC_NAME: Record<keyof TenantCounters, string> = {
  requests: "warren_storage_requests_total",
  readBatches: "warren_storage_read_batches_total",
  readRequests: "warren_storage_read_requests_total",
  readBytes: "warren_storage_read_bytes_total",
  writeBatches: "warren_storage_write_batches_total",
  writeRequests: "warren_storage_write_requests_total",
  writeBytes: "warren_storage_write_bytes_total",
  requestUnits: "warren_storage_request_units_total",
  rateLimited: "warren_storage_rate_limited_total",
  conflicts: "warren_storage_conflicts_total",
  errors: "warren_storage_errors_total",
  liveBytes: "warren_storage_live_bytes",
  mvccBytes: "warren_storage_mvcc_bytes",
};

export function emptyCounters(): TenantCounters {
  return {
    requests: 0,
    readBatches: 0,
    readRequests: 0,
    readBytes: 0,
    writeBatches: 0,
    writeRequests: 0,
    writeBytes: 0,
    requestUnits: 0,
    rateLimited: 0,
    conflicts: 0,
    errors: 0,
    liveBytes: 0,
    mvccBytes: 0,
  };
}

export class Metrics {
  readonly tenants = new Map<number, TenantCounters>();
  unauthenticated = 0;
  commitGroups = 0;
  gcRemoved = 0;

  tenant(id: number): TenantCounters {
    let c = this.tenants.get(id);
    if (!c) {
      c = emptyCounters();
      this.tenants.set(id, c);
    }
    return c;
  }

  setBytes(update: Array<[number, number, number]>): void {
    for (const [t, live, mvcc] of update) {
      const c = this.tenant(t);
      c.liveBytes = live;
      c.mvccBytes = mvcc;
    }
  }

  json(): { tenants: Array<{ tenantId: number } & TenantCounters>; node: Record<string, number> } {
    return {
      tenants: [...this.tenants].sort((a, b) => a[0] - b[0]).map(([tenantId, c]) => ({ tenantId, ...c })),
      node: { unauthenticatedRequests: this.unauthenticated, gcRemovedVersions: this.gcRemoved },
    };
  }

  prometheus(extra: Record<string, number>): string {
    const lines: string[] = [];
    const ids = [...this.tenants.keys()].sort((a, b) => a - b);
    for (const key of Object.keys(METRIC_NAME) as Array<keyof TenantCounters>) {
      const name = METRIC_NAME[key];
      const [help, type] = COUNTER_HELP[key];
      lines.push(`# HELP ${name} Per tenant: ${help}.`, `# TYPE ${name} ${type}`);
      for (const id of ids) lines.push(`${name}{tenant="${id}"} ${this.tenants.get(id)![key]}`);
    }
    lines.push(
      "# HELP warren_storage_unauthenticated_total Requests refused before a tenant was known.",
      "# TYPE warren_storage_unauthenticated_total counter",
      `warren_storage_unauthenticated_total ${this.unauthenticated}`,
      "# HELP warren_storage_gc_removed_versions_total MVCC versions removed by garbage collection.",
      "# TYPE warren_storage_gc_removed_versions_total counter",
      `warren_storage_gc_removed_versions_total ${this.gcRemoved}`,
    );
    for (const [name, value] of Object.entries(extra)) {
      lines.push(`# TYPE ${name} gauge`, `${name} ${value}`);
    }
    return lines.join("\n") + "\n";
  }
}
