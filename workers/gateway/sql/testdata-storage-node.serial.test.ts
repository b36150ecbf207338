// The data-driven SQL tests (testing/testdata-runner.ts) over a real storage node: its own process
// on LMDB in a temp directory, reached over HTTP with a minted tenant token as the edge's TenantKV
// reaches it. Each file gets its own tenant. Same files as testdata.test.ts (in-memory KV), so a
// difference between the two KVs that SQL can see fails here.
//
// Serial project: it starts a process and sends every statement over HTTP (~45 s on the shared
// 2-core machine against ~28 s in memory; see sql/README.md), so it runs after the parallel unit
// tests instead of competing with them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnRealStorage, type SpawnedStorage } from "./testing/storage-node.ts";
import { runTestdataFile, testdataFiles } from "./testing/testdata-runner.ts";

let storage: SpawnedStorage;

beforeAll(async () => {
  // Quotas far above what the files spend: this suite checks SQL results, not throttling.
  storage = await spawnRealStorage({ tenantRuPerSecond: 10_000_000, tenantBurstRu: 10_000_000 });
}, 60_000);

afterAll(async () => {
  await storage?.close();
});

let nextTenant = 3000;
for (const [name, text] of testdataFiles()) {
  const tenantId = nextTenant++;
  describe(name, () => {
    it("matches over the real storage node", async () => {
      const failures = await runTestdataFile(name, text, await storage.capability(tenantId), tenantId);
      expect(failures.join("\n\n")).toBe("");
    });
  });
}
