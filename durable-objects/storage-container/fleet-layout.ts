// Which storage nodes a deployed fleet has, from two numbers in wrangler.toml ([vars] FLEET_SHARDS,
// FLEET_REPLICAS): node `s{shard}r{replica}` is replica r of shard s, one StorageNodeContainer
// Durable Object (and so one container) each, addressed by idFromName(node id). Pure, so a unit
// test checks it without the platform.

/** Bounds of the fleet's shape: a shard has 1–5 replicas (issue 13); 64 shards is 320 containers. */
export const FLEET_SHARDS_MAX = 64;
export const FLEET_REPLICAS_MIN = 1;
export const FLEET_REPLICAS_MAX = 5;
/** The host a container uses for a peer: `${id}.${PEER_HOST_SUFFIX}`; the object intercepts it. */
export const PEER_HOST_SUFFIX = "fleet.warren.internal";
/** Ports inside the container (storage-node/container-entry.sh). */
export const KV_PORT = 7070;
export const REPLICATION_PORT = 7071;

export interface FleetShape {
  shards: number;
  replicas: number;
}

export function fleetShape(shardsText: string | undefined, replicasText: string | undefined): FleetShape {
  const shards = Number(shardsText ?? "1");
  const replicas = Number(replicasText ?? "3");
  if (!Number.isInteger(shards) || shards < 1 || shards > FLEET_SHARDS_MAX) throw new RangeError(`FLEET_SHARDS must be an integer in [1, ${FLEET_SHARDS_MAX}], got ${shardsText}`);
  if (!Number.isInteger(replicas) || replicas < FLEET_REPLICAS_MIN || replicas > FLEET_REPLICAS_MAX) {
    throw new RangeError(`FLEET_REPLICAS must be an integer in [${FLEET_REPLICAS_MIN}, ${FLEET_REPLICAS_MAX}], got ${replicasText}`);
  }
  return { shards, replicas };
}

export function nodeId(shard: number, replica: number): string {
  return `s${shard}r${replica}`;
}

/** The shard and replica a node id names, if it names one of this fleet's nodes. */
export function parseNodeId(id: string, shape: FleetShape): { shard: number; replica: number } | undefined {
  const m = /^s([1-9][0-9]*)r([1-9][0-9]*)$/.exec(id);
  if (!m) return undefined;
  const shard = Number(m[1]);
  const replica = Number(m[2]);
  return shard <= shape.shards && replica <= shape.replicas ? { shard, replica } : undefined;
}

/** The `--peers` argument of a node: every other replica of its shard, at its intercepted host. */
export function peersOf(shard: number, replica: number, shape: FleetShape): string {
  const out: string[] = [];
  for (let r = 1; r <= shape.replicas; r++) {
    if (r !== replica) out.push(`${nodeId(shard, r)}=http://${nodeId(shard, r)}.${PEER_HOST_SUFFIX}:${REPLICATION_PORT}`);
  }
  return out.join(",");
}
