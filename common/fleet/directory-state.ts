// The configuration manager's decisions, as pure functions over its state and a clock reading:
// membership and replica configurations with epochs, the primary's lease, tenant placement. The
// FleetDirectory Durable Object (durable-objects/fleet-directory) stores this state in Durable Object
// storage, which is strongly consistent and durable, and applies one operation at a time: that is
// the consensus the replication protocol needs, taken from an existing system rather than written
// here (storage-node/replication/README.md, "Configuration manager"). Tests drive the same functions
// with a fake clock.
//
// Every operation that changes a configuration is a compare-and-set on the epoch the caller saw, so
// two nodes acting on the same stale view cannot both succeed.
import type { NodeId, ShardConfig } from "./shard-config.ts";

export interface DirectoryState {
  shards: ShardConfig[];
  /** tenant id (as a decimal string, a JSON object key) → shard id. */
  placement: Record<string, number>;
  /**
   * tenant id → its placement's version: 1 when placed, one more at each move. A move is a
   * compare-and-set on it, so two movers of one tenant cannot both switch it; the edge keeps the
   * highest it has seen, so its view of a tenant's shard only moves forward. Absent (a state stored
   * before moves existed, or a tenant never moved): 1.
   */
  placementVersions?: Record<string, number>;
  /**
   * tenant id → the shard a move in progress takes it to (beginMove, until moveTenant or
   * cancelMove). One move per tenant at a time: the nodes fence and adopt by their own markers,
   * and the source's refusals point edges at the target before the placement switches, so two
   * movers of one tenant to different shards must never both get as far as the fence.
   */
  moving?: Record<string, number>;
}

export type DirectoryResult =
  /** `placementVersion`: set by placeTenant and moveTenant (the tenant's placement version). */
  | { ok: true; config: ShardConfig; placementVersion?: number }
  /** Refused: `config` is the current one, so the caller can adopt it at once. */
  | { ok: false; reason: string; config: ShardConfig | undefined };

export function emptyDirectory(): DirectoryState {
  return { shards: [], placement: {} };
}

function shardOf(state: DirectoryState, shardId: number): ShardConfig | undefined {
  return state.shards.find((s) => s.shardId === shardId);
}

function replace(state: DirectoryState, next: ShardConfig): DirectoryResult {
  const i = state.shards.findIndex((s) => s.shardId === next.shardId);
  if (i < 0) state.shards.push(next);
  else state.shards[i] = next;
  return { ok: true, config: next };
}

function refuse(state: DirectoryState, shardId: number, reason: string): DirectoryResult {
  return { ok: false, reason, config: shardOf(state, shardId) };
}

/** Declares a shard; its first replica is the first primary (with an expired lease, to be renewed). */
export function createShard(state: DirectoryState, shardId: number, replicas: readonly NodeId[]): DirectoryResult {
  const existing = shardOf(state, shardId);
  if (existing) {
    const same = existing.replicas.length === replicas.length && replicas.every((r) => existing.replicas.includes(r) || existing.learners.includes(r));
    return same ? { ok: true, config: existing } : refuse(state, shardId, `shard ${shardId} already exists with other replicas`);
  }
  if (replicas.length === 0 || new Set(replicas).size !== replicas.length) return refuse(state, shardId, "a shard needs distinct replicas");
  return replace(state, { shardId, epoch: 1, primary: replicas[0]!, replicas: [...replicas], learners: [], leaseExpiresAtMs: 0 });
}

export function currentConfig(state: DirectoryState, shardId: number): ShardConfig | undefined {
  return shardOf(state, shardId);
}

/**
 * The primary extends its lease to nowMs + leaseMs. A renewal sent at an older epoch is granted
 * while the sender is still the primary: its own reconfigurations (a replica removed or added) raise
 * the epoch, and with directory round trips of seconds every renewal in flight across one was
 * refused, so the lease lapsed and the leaseholder left (seen at load ~24). Granting it is safe: a
 * lease only holds off other promotions, and the primary counts it only if the answer names it
 * primary of the epoch it leads (replica.ts).
 */
export function renewLease(state: DirectoryState, shardId: number, node: NodeId, epoch: number, nowMs: number, leaseMs: number): DirectoryResult {
  const c = shardOf(state, shardId);
  if (!c) return refuse(state, shardId, `no shard ${shardId}`);
  if (epoch > c.epoch || c.primary !== node) return refuse(state, shardId, `${node} is not the primary of epoch ${epoch}`);
  return replace(state, { ...c, leaseExpiresAtMs: Math.max(c.leaseExpiresAtMs, nowMs + leaseMs) });
}

/**
 * A replica of the current configuration that no longer hears from the primary asks to take over.
 * Granted only once the primary's lease has expired on this clock (so the old primary has already
 * stopped acknowledging: lease.ts), and only to a member of `replicas`: every member holds every
 * committed entry (a commit needs all of them), so no acknowledged commit is lost. The old primary
 * leaves the replica set; it returns as a learner.
 *
 * The primary itself may ask too: a primary whose process restarted never resumes the epoch its
 * previous incarnation led (roles are crash-only: replica.ts adopt), so once that lease has run out
 * it takes a new epoch like any other replica, keeping the replica set (it holds every entry it
 * ever appended, so every committed one). Without this a shard of one replica would stay without a
 * leaseholder forever after its only node restarted.
 */
export function promote(state: DirectoryState, shardId: number, node: NodeId, seenEpoch: number, nowMs: number, leaseMs: number): DirectoryResult {
  const c = shardOf(state, shardId);
  if (!c) return refuse(state, shardId, `no shard ${shardId}`);
  if (c.epoch !== seenEpoch) return refuse(state, shardId, `epoch ${seenEpoch} is over (now ${c.epoch})`);
  if (!c.replicas.includes(node)) return refuse(state, shardId, `${node} is not a replica of epoch ${c.epoch}`);
  if (nowMs < c.leaseExpiresAtMs) return refuse(state, shardId, `the lease of ${c.primary} runs for ${c.leaseExpiresAtMs - nowMs} ms more`);
  return replace(state, {
    ...c,
    epoch: c.epoch + 1,
    primary: node,
    replicas: node === c.primary ? c.replicas : c.replicas.filter((r) => r !== c.primary),
    learners: c.learners.filter((l) => l !== node),
    leaseExpiresAtMs: nowMs + leaseMs,
  });
}

/** The primary, while its lease runs, drops a replica that stopped answering (commits wait for all replicas). */
export function removeReplica(state: DirectoryState, shardId: number, byPrimary: NodeId, epoch: number, victim: NodeId, nowMs: number): DirectoryResult {
  const c = shardOf(state, shardId);
  if (!c) return refuse(state, shardId, `no shard ${shardId}`);
  if (c.epoch !== epoch || c.primary !== byPrimary) return refuse(state, shardId, `${byPrimary} is not the primary of epoch ${epoch}`);
  if (nowMs >= c.leaseExpiresAtMs) return refuse(state, shardId, `the lease of ${byPrimary} has expired`);
  if (victim === byPrimary || !c.replicas.includes(victim)) return refuse(state, shardId, `${victim} is not a backup of epoch ${epoch}`);
  return replace(state, { ...c, epoch: c.epoch + 1, replicas: c.replicas.filter((r) => r !== victim) });
}

/** A node that is not a replica (returning, or new) asks to catch up as a learner. No epoch change: learners count for nothing. */
export function requestJoin(state: DirectoryState, shardId: number, node: NodeId): DirectoryResult {
  const c = shardOf(state, shardId);
  if (!c) return refuse(state, shardId, `no shard ${shardId}`);
  if (c.replicas.includes(node) || c.learners.includes(node)) return { ok: true, config: c };
  return replace(state, { ...c, learners: [...c.learners, node] });
}

/** The primary adds a learner whose log it has seen match its own up to its last entry. */
export function addReplica(state: DirectoryState, shardId: number, byPrimary: NodeId, epoch: number, learner: NodeId, nowMs: number): DirectoryResult {
  const c = shardOf(state, shardId);
  if (!c) return refuse(state, shardId, `no shard ${shardId}`);
  if (c.epoch !== epoch || c.primary !== byPrimary) return refuse(state, shardId, `${byPrimary} is not the primary of epoch ${epoch}`);
  if (nowMs >= c.leaseExpiresAtMs) return refuse(state, shardId, `the lease of ${byPrimary} has expired`);
  if (!c.learners.includes(learner)) return refuse(state, shardId, `${learner} is not a learner of shard ${shardId}`);
  return replace(state, { ...c, epoch: c.epoch + 1, replicas: [...c.replicas, learner], learners: c.learners.filter((l) => l !== learner) });
}

/** Where a tenant lives; a new tenant goes to the shard holding the fewest tenants (ties: lowest id). */
export function placeTenant(state: DirectoryState, tenantId: number): DirectoryResult {
  const placed = state.placement[String(tenantId)];
  if (placed !== undefined) {
    const c = shardOf(state, placed);
    return c ? { ok: true, config: c, placementVersion: placementVersion(state, tenantId) } : refuse(state, placed, `tenant ${tenantId} is placed on missing shard ${placed}`);
  }
  if (state.shards.length === 0) return { ok: false, reason: "the fleet has no shards", config: undefined };
  const load = new Map(state.shards.map((s) => [s.shardId, 0]));
  for (const shardId of Object.values(state.placement)) load.set(shardId, (load.get(shardId) ?? 0) + 1);
  const target = [...state.shards].sort((a, b) => load.get(a.shardId)! - load.get(b.shardId)! || a.shardId - b.shardId)[0]!;
  state.placement[String(tenantId)] = target.shardId;
  return { ok: true, config: target, placementVersion: placementVersion(state, tenantId) };
}

export function placementVersion(state: DirectoryState, tenantId: number): number {
  return state.placementVersions?.[String(tenantId)] ?? 1;
}

/**
 * The last step of a tenant move (storage-node/replication/README.md "Tenant moves"): the tenant's
 * placement switches from `fromShard` to `toShard`, as a compare-and-set on the placement version
 * the mover read before it fenced the tenant on the source. The mover has already copied the
 * tenant's state and made the target serve it; from this answer on, every edge that asks places
 * the tenant on `toShard`, and the source refuses it (tenant_moved), which makes an edge ask.
 */
export function moveTenant(state: DirectoryState, tenantId: number, fromShard: number, toShard: number, seenVersion: number): DirectoryResult {
  const refused = checkMove(state, tenantId, fromShard, toShard, seenVersion);
  if (refused) return refused;
  const reserved = state.moving?.[String(tenantId)];
  if (reserved !== toShard) return refuse(state, toShard, `no move of tenant ${tenantId} to shard ${toShard} was begun (beginMove)`);
  const version = placementVersion(state, tenantId);
  state.placement[String(tenantId)] = toShard;
  state.placementVersions = { ...state.placementVersions, [String(tenantId)]: version + 1 };
  const { [String(tenantId)]: _done, ...rest } = state.moving ?? {};
  state.moving = rest;
  return { ok: true, config: shardOf(state, toShard)!, placementVersion: version + 1 };
}

/**
 * Reserves a move of the tenant to `toShard` (before the mover copies or fences anything). Refused
 * while a move to another shard is in progress; a move to the same shard may be begun again (a
 * mover that died is run again; it must be dead: two at once to one target are not told apart).
 */
export function beginMove(state: DirectoryState, tenantId: number, fromShard: number, toShard: number, seenVersion: number): DirectoryResult {
  const refused = checkMove(state, tenantId, fromShard, toShard, seenVersion);
  if (refused) return refused;
  const reserved = state.moving?.[String(tenantId)];
  if (reserved !== undefined && reserved !== toShard) return refuse(state, toShard, `a move of tenant ${tenantId} to shard ${reserved} is in progress (cancelMove first)`);
  state.moving = { ...state.moving, [String(tenantId)]: toShard };
  return { ok: true, config: shardOf(state, toShard)!, placementVersion: placementVersion(state, tenantId) };
}

/** Ends a move without switching the placement (the mover cancelled it, or an operator after a mover died). */
export function cancelMove(state: DirectoryState, tenantId: number): DirectoryResult {
  const { [String(tenantId)]: _cancelled, ...rest } = state.moving ?? {};
  state.moving = rest;
  return placeTenantIfPlaced(state, tenantId);
}

function placeTenantIfPlaced(state: DirectoryState, tenantId: number): DirectoryResult {
  const placed = state.placement[String(tenantId)];
  if (placed === undefined) return { ok: false, reason: `tenant ${tenantId} is not placed`, config: undefined };
  return placeTenant(state, tenantId);
}

function checkMove(state: DirectoryState, tenantId: number, fromShard: number, toShard: number, seenVersion: number): DirectoryResult | undefined {
  const placed = state.placement[String(tenantId)];
  const version = placementVersion(state, tenantId);
  if (placed === undefined) return refuse(state, toShard, `tenant ${tenantId} is not placed`);
  if (placed !== fromShard || version !== seenVersion) {
    return { ok: false, reason: `tenant ${tenantId} is on shard ${placed} at placement version ${version}, not on ${fromShard} at ${seenVersion}`, config: shardOf(state, placed) };
  }
  if (!shardOf(state, toShard)) return refuse(state, toShard, `no shard ${toShard}`);
  if (toShard === fromShard) return refuse(state, toShard, `tenant ${tenantId} is already on shard ${toShard}`);
  return undefined;
}
