// The format-1 fixture (testing/format1-fixture.ts) written into a real storage node (its own
// process, LMDB in a temp directory, HTTP with a tenant token) opens with today's code and answers
// as the code that wrote it did; descriptor-upgrade.test.ts checks the rest over the in-memory KV.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capabilityTransport, KvClient } from "../kv/kv-client.ts";
import { Session } from "./session.ts";
import { spawnRealStorage, type SpawnedStorage } from "./testing/storage-node.ts";
import { fixture, fixtureAnswers, writeFixture } from "./testing/format1-fixture.ts";

let storage: SpawnedStorage;

beforeAll(async () => {
  storage = await spawnRealStorage({ tenantRuPerSecond: 10_000_000, tenantBurstRu: 10_000_000 });
}, 60_000);

afterAll(async () => {
  await storage?.close();
});

describe("descriptors of format 1 on a real storage node", () => {
  it("open and answer as the code that wrote them did", async () => {
    const cap = await storage.capability(fixture.tenantId);
    await writeFixture(new KvClient(capabilityTransport(cap)));
    const s = new Session({ kv: cap, tenantId: fixture.tenantId });
    for (const [q, rows] of Object.entries(await fixtureAnswers(s))) expect(rows.got, q).toEqual(rows.want);
    await s.execute("INSERT INTO items (name) VALUES ('lamp')");
    const [r] = await s.execute("SELECT name, price, qty, total FROM items WHERE name = 'lamp'");
    expect(r!.rows).toEqual([["lamp", "1.00", "1", "1.00"]]);
    await s.close();
  });
});
