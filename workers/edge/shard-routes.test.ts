import { describe, expect, it } from "vitest";
import type { DirectoryResult } from "../../common/fleet/directory-state.ts";
import type { ShardConfig } from "../../common/fleet/shard-config.ts";
import { ShardRoutes, type DirectoryRead } from "./shard-routes.ts";

const nodes = new Map([
  ["n1", "http://127.0.0.1:1001"],
  ["n2", "http://127.0.0.1:1002"],
  ["n3", "http://127.0.0.1:1003"],
]);

/** A directory stand-in: one shard (id 0) whose primary and epoch the test sets; counts calls. */
interface FakeDirectory {
  config: ShardConfig;
  calls: number;
  gate: Promise<void> | undefined;
  read: DirectoryRead;
}

function fakeDirectory(): FakeDirectory {
  const d: FakeDirectory = {
    config: { shardId: 0, epoch: 1, primary: "n1", replicas: ["n1", "n2", "n3"], learners: [], leaseExpiresAtMs: 0 } as ShardConfig,
    calls: 0,
    /** When set, `current` waits for it (to hold a read in flight). */
    gate: undefined,
    read: async (op) => {
      d.calls++;
      if (d.gate) await d.gate;
      const result: DirectoryResult = { ok: true, config: d.config };
      return op.op === "placeTenant" || op.op === "current" ? result : { ok: false, reason: "unknown op", config: undefined };
    },
  };
  return d;
}

describe("ShardRoutes (the edge's view of the fleet)", () => {
  it("places a tenant once and routes it to its shard's primary", async () => {
    const d = fakeDirectory();
    const r = new ShardRoutes(d.read, nodes);
    expect(await r.route(7, "/v1/kv")).toEqual({ url: "http://127.0.0.1:1001/v1/kv", shardId: 0, epoch: 1, node: "n1" });
    await r.route(7, "/v1/kv");
    await r.route(8, "/v1/kv");
    // Tenant 8 needs its own placement; the shard's leader is shared.
    expect(d.calls).toBe(2);
  });

  it("after a failed route asks the directory again, and not when the cache already moved past it", async () => {
    const d = fakeDirectory();
    const r = new ShardRoutes(d.read, nodes);
    const first = await r.route(7, "/v1/kv");
    d.config = { ...d.config, epoch: 2, primary: "n2" };
    const second = await r.route(7, "/v1/kv", first);
    expect(second).toMatchObject({ epoch: 2, node: "n2", url: "http://127.0.0.1:1002/v1/kv" });
    const calls = d.calls;
    // Another request that failed on the old route finds the new one in the cache.
    expect(await r.route(7, "/v1/kv", first)).toMatchObject({ epoch: 2, node: "n2" });
    expect(d.calls).toBe(calls);
  });

  it("never goes back to an older epoch", async () => {
    const d = fakeDirectory();
    const r = new ShardRoutes(d.read, nodes);
    d.config = { ...d.config, epoch: 5, primary: "n3" };
    const route = await r.route(7, "/v1/kv");
    d.config = { ...d.config, epoch: 4, primary: "n2" }; // a lagging answer
    expect(await r.route(7, "/v1/kv", { ...route, epoch: 5 })).toMatchObject({ epoch: 5, node: "n3" });
  });

  it("coalesces concurrent directory reads of one shard into one call", async () => {
    const d = fakeDirectory();
    const r = new ShardRoutes(d.read, nodes);
    const route = await r.route(7, "/v1/kv");
    let open!: () => void;
    d.gate = new Promise<void>((resolve) => (open = resolve));
    d.config = { ...d.config, epoch: 2, primary: "n2" };
    const before = d.calls;
    const waiting = Array.from({ length: 50 }, () => r.movedFrom(route, "/v1/kv", 0));
    open();
    const moved = await Promise.all(waiting);
    expect(d.calls - before).toBe(1);
    for (const m of moved) expect(m).toMatchObject({ epoch: 2, node: "n2" });
  });

  it("movedFrom reads the directory at most once per checkEveryMs and reports a replaced leaseholder only", async () => {
    const d = fakeDirectory();
    let now = 1_000;
    const r = new ShardRoutes(d.read, nodes, () => now);
    const route = await r.route(7, "/v1/kv");
    expect(await r.movedFrom(route, "/v1/kv", 500)).toBeUndefined(); // first check reads
    const afterFirst = d.calls;
    d.config = { ...d.config, epoch: 2, primary: "n2" };
    now += 100;
    expect(await r.movedFrom(route, "/v1/kv", 500)).toBeUndefined(); // from the cache
    expect(d.calls).toBe(afterFirst);
    now += 500;
    expect(await r.movedFrom(route, "/v1/kv", 500)).toMatchObject({ epoch: 2, node: "n2" });
    expect(d.calls).toBe(afterFirst + 1);
    // A new epoch with the same primary (a replica set change) is not a move: the node still leads.
    d.config = { ...d.config, epoch: 3, primary: "n2" };
    now += 500;
    expect(await r.movedFrom({ ...route, epoch: 2, node: "n2" }, "/v1/kv", 500)).toBeUndefined();
  });

  it("refuses a primary it has no address for, and a tenant without a shard", async () => {
    const d = fakeDirectory();
    d.config = { ...d.config, primary: "n9" };
    await expect(new ShardRoutes(d.read, nodes).route(7, "/v1/kv")).rejects.toThrow(/n9 is not in STORAGE_NODES/);
    const none = new ShardRoutes(async () => ({ ok: false, reason: "no shards", config: undefined }), nodes);
    await expect(none.route(7, "/v1/kv")).rejects.toThrow(/tenant 7 has no shard: no shards/);
  });

  it("follows a moved tenant: to the shard a refusal names, else to a newer placement, never back to an older one", async () => {
    const shards: Record<number, ShardConfig> = {
      1: { shardId: 1, epoch: 3, primary: "n1", replicas: ["n1"], learners: [], leaseExpiresAtMs: 0 },
      2: { shardId: 2, epoch: 5, primary: "n2", replicas: ["n2"], learners: [], leaseExpiresAtMs: 0 },
    };
    const placement = { shardId: 1, version: 1 };
    let placeReads = 0;
    const read: DirectoryRead = async (op) => {
      if (op.op === "placeTenant") {
        placeReads++;
        return { ok: true, config: shards[placement.shardId]!, placementVersion: placement.version };
      }
      return { ok: true, config: shards[op.shardId]! };
    };
    const r = new ShardRoutes(read, nodes);
    expect((await r.route(7, "/v1/kv")).node).toBe("n1");
    // The source refused and named shard 2 (the move's target): no placement read.
    expect(await r.route(7, "/v1/kv", undefined, { toShard: 2 })).toMatchObject({ shardId: 2, node: "n2", epoch: 5 });
    expect(placeReads).toBe(1);
    expect((await r.route(7, "/v1/kv")).node).toBe("n2");
    // The target refused without a hint (not adopted yet): the directory's placement again (shard 1).
    expect((await r.route(7, "/v1/kv", undefined, {})).node).toBe("n1");
    expect(placeReads).toBe(2);
    // The switch: version 2 on shard 2.
    Object.assign(placement, { shardId: 2, version: 2 });
    expect((await r.route(7, "/v1/kv", undefined, {})).node).toBe("n2");
    // An answer older than what is cached (a slow read of version 1) is ignored.
    Object.assign(placement, { shardId: 1, version: 1 });
    expect((await r.route(7, "/v1/kv", undefined, {})).node).toBe("n2");
  });
});
