// Per-tenant metering: what each tenant asked of the node and what it stores. Counters are kept in
// memory and written to LMDB (node key 0x06 be64(tenant), node-keys.ts) every
// countersPersistIntervalMs and on a clean stop, through the writer thread; a start loads them, so
// they survive restarts and agree with the usage history the control plane keeps from the same
// numbers (each KV response reports its own usage). A SIGKILL loses at most one interval. Stored
// bytes come from the writer, which keeps them exactly and persists them with every commit.

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

/**
 * The counters persisted, in their stored order (never reorder: append new ones at the end). The
 * gauges liveBytes/mvccBytes are the writer's and persisted with the data.
 */
const PERSISTED: ReadonlyArray<keyof TenantCounters> = [
  "requests",
  "readBatches",
  "readRequests",
  "readBytes",
  "writeBatches",
  "writeRequests",
  "writeBytes",
  "requestUnits",
  "rateLimited",
  "conflicts",
  "errors",
];
const COUNTERS_FORMAT = 1;

/** Stored form: u8 format (1), u8 field count, then that many f64 (big-endian) in PERSISTED order. */
export function encodeCounters(c: TenantCounters): Uint8Array {
  const out = new Uint8Array(2 + 8 * PERSISTED.length);
  const view = new DataView(out.buffer);
  out[0] = COUNTERS_FORMAT;
  out[1] = PERSISTED.length;
  PERSISTED.forEach((f, i) => view.setFloat64(2 + 8 * i, c[f], false));
  return out;
}

/**
 * Reads the stored counters into `into`. A value written by a later node with more fields keeps
 * the fields this node knows; one with fewer leaves the rest at zero. Anything unreadable throws:
 * the node must not start with counters it silently reset.
 */
export function decodeCounters(value: Uint8Array, into: TenantCounters): void {
  if (value.length < 2 || value[0] !== COUNTERS_FORMAT) throw new Error(`tenant counters: unknown stored format ${value[0]}`);
  const n = value[1]!;
  if (value.length !== 2 + 8 * n) throw new Error(`tenant counters: ${value.length} bytes for ${n} fields`);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  for (let i = 0; i < Math.min(n, PERSISTED.length); i++) into[PERSISTED[i]!] = view.getFloat64(2 + 8 * i, false);
}

export class Metrics {
  readonly tenants = new Map<number, TenantCounters>();
  /** Tenants whose counters changed since the last takeDirty(). */
  private readonly dirty = new Set<number>();
  unauthenticated = 0;
  commitGroups = 0;
  gcRemoved = 0;

  /** The tenant's counters; the caller is about to change them, so they are marked for the next persist. */
  tenant(id: number): TenantCounters {
    let c = this.tenants.get(id);
    if (!c) {
      c = emptyCounters();
      this.tenants.set(id, c);
    }
    this.dirty.add(id);
    return c;
  }

  /** Loads persisted counters (node key 0x06 entries: [tenantId, stored value]) at start. */
  load(entries: Iterable<[number, Uint8Array]>): void {
    for (const [id, value] of entries) {
      let c = this.tenants.get(id);
      if (!c) {
        c = emptyCounters();
        this.tenants.set(id, c);
      }
      decodeCounters(value, c);
    }
  }

  /** The encoded counters of every tenant that changed since the last call, for the writer to store. */
  takeDirty(): Array<[number, Uint8Array]> {
    const out: Array<[number, Uint8Array]> = [];
    for (const id of this.dirty) out.push([id, encodeCounters(this.tenants.get(id)!)]);
    this.dirty.clear();
    return out;
  }

  /** Puts entries whose write failed back on the dirty list (the next persist retries them). */
  markDirty(ids: Iterable<number>): void {
    for (const id of ids) this.dirty.add(id);
  }

  setBytes(update: Array<[number, number, number]>): void {
    for (const [t, live, mvcc] of update) {
      let c = this.tenants.get(t);
      if (!c) {
        c = emptyCounters();
        this.tenants.set(t, c);
      }
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
