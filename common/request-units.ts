// The one Request-Unit cost model (design brief), used by the gateway to charge its QuotaBucket and
// by the storage node for its own per-tenant rate limits. Constants start from CockroachDB
// Serverless's defaults.
import type { KvRequest, KvResponse } from "./kv-protocol/messages.ts";

export const RU = {
  readBatch: 0.5,
  readRequest: 0.125,
  readPerMiB: 16,
  writeBatch: 1,
  writeRequest: 1,
  writePerMiB: 1024,
  /** Writes are charged once per replica. One node today; raise with the replication factor. */
  replicationFactor: 1,
  gatewayCpuPerSecond: 333.33,
  egressPerMiB: 1024,
} as const;

/** Free tier: refill 100 RU/s, burst 10,000,000 RU. */
export const FREE_TIER = { refillRuPerSecond: 100, burstRu: 10_000_000 } as const;

const MiB = 1024 * 1024;

export interface KvUsage {
  readBatches: number;
  readRequests: number;
  readBytes: number;
  writeBatches: number;
  writeRequests: number;
  writeBytes: number;
}

export function kvRequestUnits(u: KvUsage): number {
  return (
    u.readBatches * RU.readBatch +
    u.readRequests * RU.readRequest +
    (u.readBytes / MiB) * RU.readPerMiB +
    RU.replicationFactor *
      (u.writeBatches * RU.writeBatch + u.writeRequests * RU.writeRequest + (u.writeBytes / MiB) * RU.writePerMiB)
  );
}

export function gatewayCpuRequestUnits(cpuMs: number): number {
  return (cpuMs / 1000) * RU.gatewayCpuPerSecond;
}

export function egressRequestUnits(bytes: number): number {
  return (bytes / MiB) * RU.egressPerMiB;
}

export function emptyKvUsage(): KvUsage {
  return { readBatches: 0, readRequests: 0, readBytes: 0, writeBatches: 0, writeRequests: 0, writeBytes: 0 };
}

/** Adds `u` into `into` (in place) and returns `into`. */
export function addKvUsage(into: KvUsage, u: KvUsage): KvUsage {
  into.readBatches += u.readBatches;
  into.readRequests += u.readRequests;
  into.readBytes += u.readBytes;
  into.writeBatches += u.writeBatches;
  into.writeRequests += u.writeRequests;
  into.writeBytes += u.writeBytes;
  return into;
}

/**
 * Everything a tenant is charged for, in the model's own units: KV work as the storage node
 * measured it, gateway CPU time and bytes sent to the client. What the gateways report to the
 * QuotaBucket and what the usage history keeps per hour.
 */
export interface UsageParts {
  kv: KvUsage;
  cpuMs: number;
  egressBytes: number;
}

export function emptyUsageParts(): UsageParts {
  return { kv: emptyKvUsage(), cpuMs: 0, egressBytes: 0 };
}

/** The Request Units of a set of parts: one sum, the same everywhere it is computed. */
export function usageRequestUnits(p: UsageParts): number {
  return kvRequestUnits(p.kv) + gatewayCpuRequestUnits(p.cpuMs) + egressRequestUnits(p.egressBytes);
}

/** The usage a KV request will cost before its reads have returned bytes (the node rate-limits on it). */
export function kvUsageEstimate(req: KvRequest): KvUsage {
  const u = emptyKvUsage();
  const reads = req.type === "read" || req.type === "txnRead" ? req.ops : req.type === "batch" ? req.reads : [];
  const writes = req.type === "commit" || req.type === "batch" || req.type === "txnWrite" ? req.writes : [];
  if (reads.length > 0 || req.type === "begin") u.readBatches = 1;
  u.readRequests = reads.length;
  if (writes.length > 0) u.writeBatches = 1;
  u.writeRequests = writes.length;
  for (const op of writes) {
    if (op.op === "put") u.writeBytes += op.key.length + op.value.length;
    else if (op.op === "cput") u.writeBytes += op.key.length + (op.value?.length ?? 0);
    else if (op.op === "delete") u.writeBytes += op.key.length;
  }
  return u;
}

/**
 * What a request cost, computed by the gateway from the request and its response, for a storage
 * node that does not report usage itself (one older than the usage trailer, see
 * common/kv-protocol/codec.ts). It follows the node's own metering: the estimate, bytes of keys
 * and values returned (a get counts its key, as the node's executeReads does), and no write parts
 * unless the writes were applied.
 */
export function kvUsageFromExchange(req: KvRequest, res: KvResponse): KvUsage {
  if (res.type === "error") return emptyKvUsage();
  const u = kvUsageEstimate(req);
  const reads = req.type === "read" || req.type === "txnRead" ? req.ops : req.type === "batch" ? req.reads : [];
  const results = res.type === "read" || res.type === "batch" ? res.results : [];
  for (let i = 0; i < results.length; i++) {
    const r = results[i]!;
    if (r.op === "get") {
      const op = reads[i];
      u.readBytes += (op?.op === "get" ? op.key.length : 0) + (r.value?.length ?? 0);
    } else {
      for (const row of r.rows) u.readBytes += row.key.length + row.value.length;
    }
  }
  return u;
}
