import { describe, expect, it } from "vitest";
import { addReplica, beginMove, cancelMove, createShard, emptyDirectory, moveTenant, placeTenant, promote, removeReplica, renewLease, requestJoin } from "./directory-state.ts";

const LEASE = 2_000;

describe("directory state (the configuration manager's decisions)", () => {
  it("promotes a replica only after the lease has run out, and only once per epoch", () => {
    const s = emptyDirectory();
    createShard(s, 1, ["a", "b", "c"]);
    expect(renewLease(s, 1, "a", 1, 1_000, LEASE)).toMatchObject({ ok: true, config: { leaseExpiresAtMs: 3_000 } });
    expect(promote(s, 1, "b", 1, 2_999, LEASE)).toMatchObject({ ok: false, reason: expect.stringMatching(/lease of a runs for 1 ms/) });
    const won = promote(s, 1, "b", 1, 3_000, LEASE);
    expect(won).toMatchObject({ ok: true, config: { epoch: 2, primary: "b", replicas: ["b", "c"], leaseExpiresAtMs: 5_000 } });
    // c saw epoch 1 too: its compare-and-set fails and it learns epoch 2.
    expect(promote(s, 1, "c", 1, 3_001, LEASE)).toMatchObject({ ok: false, config: { epoch: 2, primary: "b" } });
    // The old primary can neither renew nor promote itself: it is not a replica of epoch 2.
    expect(renewLease(s, 1, "a", 1, 3_001, LEASE).ok).toBe(false);
    // The new primary's renewal sent at an older epoch still counts while it is the primary; a future epoch never does.
    expect(renewLease(s, 1, "b", 1, 3_002, LEASE)).toMatchObject({ ok: true, config: { epoch: 2, leaseExpiresAtMs: 5_002 } });
    expect(renewLease(s, 1, "b", 3, 3_003, LEASE).ok).toBe(false);
    expect(promote(s, 1, "a", 2, 99_999, LEASE).ok).toBe(false);
  });

  it("lets a restarted primary take a new epoch for itself once its old lease has run out, keeping the replica set", () => {
    const s = emptyDirectory();
    createShard(s, 1, ["a", "b", "c"]);
    renewLease(s, 1, "a", 1, 1_000, LEASE);
    expect(promote(s, 1, "a", 1, 2_999, LEASE)).toMatchObject({ ok: false, reason: expect.stringMatching(/lease of a runs for 1 ms/) });
    expect(promote(s, 1, "a", 1, 3_000, LEASE)).toMatchObject({ ok: true, config: { epoch: 2, primary: "a", replicas: ["a", "b", "c"], leaseExpiresAtMs: 5_000 } });
    // A shard of one replica whose only node restarted.
    createShard(s, 2, ["z"]);
    renewLease(s, 2, "z", 1, 0, LEASE);
    expect(promote(s, 2, "z", 1, LEASE, LEASE)).toMatchObject({ ok: true, config: { epoch: 2, primary: "z", replicas: ["z"] } });
  });

  it("lets only the leaseholding primary change the replica set, each change a new epoch", () => {
    const s = emptyDirectory();
    createShard(s, 1, ["a", "b", "c"]);
    renewLease(s, 1, "a", 1, 0, LEASE);
    expect(removeReplica(s, 1, "b", 1, "c", 10).ok).toBe(false); // not the primary
    expect(removeReplica(s, 1, "a", 1, "c", LEASE).ok).toBe(false); // lease over
    expect(removeReplica(s, 1, "a", 1, "c", 10)).toMatchObject({ ok: true, config: { epoch: 2, replicas: ["a", "b"] } });
    expect(addReplica(s, 1, "a", 2, "c", 20).ok).toBe(false); // not a learner yet
    expect(requestJoin(s, 1, "c")).toMatchObject({ ok: true, config: { epoch: 2, learners: ["c"] } });
    expect(addReplica(s, 1, "a", 1, "c", 20).ok).toBe(false); // stale epoch
    expect(addReplica(s, 1, "a", 2, "c", 20)).toMatchObject({ ok: true, config: { epoch: 3, replicas: ["a", "b", "c"], learners: [] } });
  });

  it("places a new tenant on the shard with the fewest tenants and keeps it there", () => {
    const s = emptyDirectory();
    expect(placeTenant(s, 5).ok).toBe(false);
    createShard(s, 1, ["a"]);
    createShard(s, 2, ["b"]);
    const shards = [10, 11, 12, 13, 14].map((t) => (placeTenant(s, t) as { config: { shardId: number } }).config.shardId);
    expect(shards).toEqual([1, 2, 1, 2, 1]);
    expect(placeTenant(s, 11)).toMatchObject({ ok: true, config: { shardId: 2 } });
  });

  it("moves a placed tenant only after beginMove, as a compare-and-set on its placement version, one move at a time", () => {
    const s = emptyDirectory();
    createShard(s, 1, ["a"]);
    createShard(s, 2, ["b"]);
    createShard(s, 3, ["c"]);
    expect(placeTenant(s, 10)).toMatchObject({ ok: true, config: { shardId: 1 }, placementVersion: 1 });
    expect(beginMove(s, 11, 1, 2, 1)).toMatchObject({ ok: false, reason: expect.stringMatching(/not placed/) });
    expect(beginMove(s, 10, 2, 1, 1)).toMatchObject({ ok: false, config: { shardId: 1 } }); // not on shard 2
    expect(beginMove(s, 10, 1, 4, 1)).toMatchObject({ ok: false, reason: expect.stringMatching(/no shard 4/) });
    expect(beginMove(s, 10, 1, 1, 1).ok).toBe(false);
    expect(moveTenant(s, 10, 1, 2, 1)).toMatchObject({ ok: false, reason: expect.stringMatching(/beginMove/) });
    expect(beginMove(s, 10, 1, 2, 1)).toMatchObject({ ok: true, config: { shardId: 2 }, placementVersion: 1 });
    // A second mover to another shard is refused; the same move may be begun again (a dead mover rerun).
    expect(beginMove(s, 10, 1, 3, 1)).toMatchObject({ ok: false, reason: expect.stringMatching(/in progress/) });
    expect(beginMove(s, 10, 1, 2, 1).ok).toBe(true);
    expect(moveTenant(s, 10, 1, 3, 1).ok).toBe(false);
    expect(moveTenant(s, 10, 1, 2, 1)).toMatchObject({ ok: true, config: { shardId: 2 }, placementVersion: 2 });
    // A mover that read version 1 loses; the placement stays where the first put it.
    expect(beginMove(s, 10, 1, 2, 1)).toMatchObject({ ok: false, config: { shardId: 2 } });
    expect(placeTenant(s, 10)).toMatchObject({ ok: true, config: { shardId: 2 }, placementVersion: 2 });
    // Cancelled: nothing switches, and another move may begin.
    expect(beginMove(s, 10, 2, 1, 2).ok).toBe(true);
    expect(cancelMove(s, 10)).toMatchObject({ ok: true, config: { shardId: 2 }, placementVersion: 2 });
    expect(moveTenant(s, 10, 2, 1, 2).ok).toBe(false);
    expect(beginMove(s, 10, 2, 3, 2).ok).toBe(true);
  });
});
