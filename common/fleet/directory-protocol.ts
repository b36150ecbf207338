// Requests to the FleetDirectory (the shard configuration manager): storage nodes send them as JSON
// to the edge's POST /fleet/v1/op with a system token (tenant 1, signed with the fleet secret); the
// edge checks the token and hands the request to the one FleetDirectory object. The answer is a
// DirectoryResult (directory-state.ts). `fleetOpProblem` is the one validator, used by the edge.
import type { DirectoryResult } from "./directory-state.ts";

export type FleetOp =
  | { op: "createShard"; shardId: number; replicas: string[] }
  | { op: "current"; shardId: number }
  | { op: "renewLease"; shardId: number; node: string; epoch: number; leaseMs: number }
  | { op: "promote"; shardId: number; node: string; epoch: number; leaseMs: number }
  | { op: "removeReplica"; shardId: number; node: string; epoch: number; victim: string }
  | { op: "requestJoin"; shardId: number; node: string }
  | { op: "addReplica"; shardId: number; node: string; epoch: number; learner: string }
  | { op: "placeTenant"; tenantId: number }
  | { op: "beginMove" | "moveTenant"; tenantId: number; fromShard: number; toShard: number; placementVersion: number }
  | { op: "cancelMove"; tenantId: number };

export type FleetAnswer = DirectoryResult;

/** Bounds of a request, with reasons: ids are short names, a shard has at most 5 replicas (issue 13). */
export const fleetProtocolLimits = {
  nodeIdCharsMax: 64,
  replicasMax: 5,
  /** A lease shorter than 0.5 s renews too often to be worth it; longer than 60 s makes failover slow. */
  leaseMsMin: 500,
  leaseMsMax: 60_000,
} as const;

const isInt = (v: unknown, min = 0): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= min;
const isNode = (v: unknown): v is string => typeof v === "string" && /^[A-Za-z0-9._-]+$/.test(v) && v.length <= fleetProtocolLimits.nodeIdCharsMax;

/** Why `value` is not a FleetOp, or undefined when it is one. */
export function fleetOpProblem(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return "the body must be a JSON object";
  const v = value as Record<string, unknown>;
  const lease = () => (isInt(v.leaseMs) && v.leaseMs >= fleetProtocolLimits.leaseMsMin && v.leaseMs <= fleetProtocolLimits.leaseMsMax ? undefined : `leaseMs must be ${fleetProtocolLimits.leaseMsMin}..${fleetProtocolLimits.leaseMsMax}`);
  const shard = () => (isInt(v.shardId, 1) ? undefined : "shardId must be a positive integer");
  const node = (k: string) => (isNode(v[k]) ? undefined : `${k} must be a node id (letters, digits, . _ -; at most ${fleetProtocolLimits.nodeIdCharsMax})`);
  const epoch = () => (isInt(v.epoch, 1) ? undefined : "epoch must be a positive integer");
  switch (v.op) {
    case "createShard":
      return shard() ?? (Array.isArray(v.replicas) && v.replicas.length >= 1 && v.replicas.length <= fleetProtocolLimits.replicasMax && v.replicas.every(isNode) ? undefined : `replicas must be 1..${fleetProtocolLimits.replicasMax} node ids`);
    case "current":
      return shard();
    case "renewLease":
    case "promote":
      return shard() ?? node("node") ?? epoch() ?? lease();
    case "removeReplica":
      return shard() ?? node("node") ?? epoch() ?? node("victim");
    case "requestJoin":
      return shard() ?? node("node");
    case "addReplica":
      return shard() ?? node("node") ?? epoch() ?? node("learner");
    case "placeTenant":
      return isInt(v.tenantId, 2) ? undefined : "tenantId must be an integer ≥ 2 (1 is the system tenant)";
    case "cancelMove":
      return isInt(v.tenantId, 2) ? undefined : "tenantId must be an integer ≥ 2 (1 is the system tenant)";
    case "beginMove":
    case "moveTenant":
      if (!isInt(v.tenantId, 2)) return "tenantId must be an integer ≥ 2 (1 is the system tenant)";
      if (!isInt(v.fromShard, 1) || !isInt(v.toShard, 1)) return "fromShard and toShard must be positive integers";
      return isInt(v.placementVersion, 1) ? undefined : "placementVersion must be a positive integer";
    default:
      return `unknown op ${JSON.stringify(v.op)}`;
  }
}
