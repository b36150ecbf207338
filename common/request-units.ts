// The one Request-Unit cost model (design brief), used by the gateway to charge its QuotaBucket and
// by the storage node for its own per-tenant rate limits. Constants start from CockroachDB
// Serverless's defaults.

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
