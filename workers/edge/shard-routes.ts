// The edge isolate's view of the storage fleet: where each tenant lives (its shard, from the
// FleetDirectory's placement) and who leads each shard (primary and epoch). Platform-free, so its
// rules are tested in Node (shard-routes.test.ts); storage-route.ts binds it to the Durable Object.
//
//   tenant → { shard id, version } (placement: changes only when a tenant moves; the version
//                                   grows by one at each move, and only a higher one replaces it)
//   shard  → { epoch, primary }  (one entry per shard, shared by all its tenants)
//
// Reads of the directory are coalesced per shard: however many requests wait on a shard, one
// directory call is in flight for it at a time, and a watcher (a request waiting on a leaseholder
// that may be gone) reads it at most once per `checkEveryMs` — the cost of watching is per shard,
// not per waiting request. An answer older than what is cached (a lower epoch) is ignored, so the
// view only moves forward.
import type { DirectoryResult } from "../../common/fleet/directory-state.ts";
import type { ShardConfig } from "../../common/fleet/shard-config.ts";

export interface StorageRoute {
  /** Where to POST the tenant's KV requests. */
  readonly url: string;
  /** null: a single storage node (STORAGE_URL), no fleet. */
  readonly shardId: number | null;
  readonly epoch: number;
  readonly node: string | null;
}

/** The two FleetDirectory operations the edge uses. */
export type DirectoryRead = (op: { op: "placeTenant"; tenantId: number } | { op: "current"; shardId: number }) => Promise<DirectoryResult>;

interface ShardLeader {
  readonly epoch: number;
  readonly primary: string;
}

export class ShardRoutes {
  private readonly placement = new Map<number, { shardId: number; version: number }>();
  private readonly placing = new Map<number, Promise<number>>();
  private readonly leaders = new Map<number, ShardLeader>();
  private readonly reading = new Map<number, Promise<ShardLeader>>();
  private readonly lastReadAtMs = new Map<number, number>();
  /** Directory calls made (tests, and a figure to watch: it must stay per shard, not per request). */
  directoryCalls = 0;

  private readonly directory: DirectoryRead;
  /** Node id → base URL of its KV service (STORAGE_NODES). */
  private readonly nodes: ReadonlyMap<string, string>;
  private readonly nowMs: () => number;

  constructor(directory: DirectoryRead, nodes: ReadonlyMap<string, string>, nowMs: () => number = Date.now) {
    this.directory = directory;
    this.nodes = nodes;
    this.nowMs = nowMs;
  }

  /**
   * The route of `tenantId`'s requests to `path`. `failed`: the route last used did not answer;
   * unless the cache already moved past it, the directory is asked again.
   */
  async route(tenantId: number, path: string, failed?: StorageRoute, tenantMoved?: { toShard?: number }): Promise<StorageRoute> {
    // `tenantMoved`: the node of the route last used refused the tenant (it moved, or is moving,
    // to another shard). When it named the shard, go there: the placement switches only after
    // the target serves the tenant, and a node that does not serve it refuses (nothing applied),
    // so a hint can cost a retry, never a wrong answer. Otherwise the placement is read again.
    const placed = this.placement.get(tenantId);
    let shardId: number;
    if (tenantMoved?.toShard !== undefined) {
      shardId = tenantMoved.toShard;
      this.placement.set(tenantId, { shardId, version: placed?.version ?? 1 });
    } else {
      shardId = placed === undefined || tenantMoved !== undefined ? await this.place(tenantId) : placed.shardId;
    }
    let leader = this.leaders.get(shardId);
    const stale = failed !== undefined && leader !== undefined && leader.epoch <= failed.epoch && leader.primary === failed.node;
    if (leader === undefined || stale) leader = await this.read(shardId);
    return this.toRoute(shardId, leader, path);
  }

  /**
   * Whether the directory now names another primary for `route`'s shard at a newer epoch (the
   * route's leaseholder was replaced: it cannot acknowledge anything any more). Reads the directory
   * at most once per `checkEveryMs` per shard; between reads it answers from the cache.
   */
  async movedFrom(route: StorageRoute, path: string, checkEveryMs: number): Promise<StorageRoute | undefined> {
    if (route.shardId === null) return undefined;
    const last = this.lastReadAtMs.get(route.shardId);
    let leader = this.leaders.get(route.shardId);
    if (leader === undefined || last === undefined || this.nowMs() - last >= checkEveryMs) leader = await this.read(route.shardId);
    if (leader.epoch > route.epoch && leader.primary !== route.node) return this.toRoute(route.shardId, leader, path);
    return undefined;
  }

  private toRoute(shardId: number, leader: ShardLeader, path: string): StorageRoute {
    const base = this.nodes.get(leader.primary);
    if (base === undefined) throw new Error(`shard ${shardId}'s primary ${leader.primary} is not in STORAGE_NODES`);
    return { url: base + path, shardId, epoch: leader.epoch, node: leader.primary };
  }

  /** The tenant's shard from the directory (one read per tenant at a time); keeps the highest placement version seen. */
  private place(tenantId: number): Promise<number> {
    const inFlight = this.placing.get(tenantId);
    if (inFlight) return inFlight;
    this.directoryCalls++;
    const p = this.directory({ op: "placeTenant", tenantId })
      .then((answer) => {
        if (!answer.ok || answer.config === undefined) throw new Error(`tenant ${tenantId} has no shard: ${answer.ok ? "no configuration" : answer.reason}`);
        const version = answer.placementVersion ?? 1;
        // Never backwards. The same version replaces a hinted shard: a target that refused without
        // a hint has not adopted the tenant yet (or its move was cancelled), so the directory's
        // shard is asked again, which sends the request back to the target while the move runs.
        const cached = this.placement.get(tenantId);
        if (cached !== undefined && cached.version > version) return cached.shardId;
        this.placement.set(tenantId, { shardId: answer.config.shardId, version });
        this.learn(answer.config);
        return answer.config.shardId;
      })
      .finally(() => this.placing.delete(tenantId));
    this.placing.set(tenantId, p);
    return p;
  }

  /** One directory read per shard at a time; concurrent callers share it. */
  private read(shardId: number): Promise<ShardLeader> {
    const inFlight = this.reading.get(shardId);
    if (inFlight) return inFlight;
    this.directoryCalls++;
    const p = this.directory({ op: "current", shardId })
      .then((answer) => {
        if (!answer.ok || answer.config === undefined) throw new Error(`shard ${shardId}: ${answer.ok ? "no configuration" : answer.reason}`);
        this.lastReadAtMs.set(shardId, this.nowMs());
        return this.learn(answer.config);
      })
      .finally(() => this.reading.delete(shardId));
    this.reading.set(shardId, p);
    return p;
  }

  /** Keeps the newest leader seen for the shard; returns what is cached afterwards. */
  private learn(c: ShardConfig): ShardLeader {
    const cached = this.leaders.get(c.shardId);
    if (cached !== undefined && cached.epoch > c.epoch) return cached;
    const leader = { epoch: c.epoch, primary: c.primary };
    this.leaders.set(c.shardId, leader);
    return leader;
  }
}
