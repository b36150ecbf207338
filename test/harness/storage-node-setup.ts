// vitest globalSetup of the workers project: one real storage node (its own process, LMDB in a
// temp directory; lmdb cannot be loaded inside the workers project's module graph) for the worker tests that need storage behind the edge's TenantKV
// (workers/edge/tenant-kv.worker.test.ts, the KV conformance suite). Its URL reaches the tests
// through vitest's provide/inject; its fleet secret is the FLEET_SECRET of
// workers/edge/wrangler.test.toml, read from that file so the two cannot drift apart.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { spawnStorageNode } from "../../storage-node/testing/spawn-node.ts";

// The provided value's type: types/vitest-provided.d.ts.

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const toml = readFileSync(new URL("../../workers/edge/wrangler.test.toml", import.meta.url), "utf8");
  const secret = /^FLEET_SECRET\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (secret === undefined) throw new Error("storage-node-setup: no FLEET_SECRET in workers/edge/wrangler.test.toml");
  const dir = mkdtempSync(join(tmpdir(), "warren-workers-storage-"));
  let node: Awaited<ReturnType<typeof spawnStorageNode>>;
  try {
    node = await spawnStorageNode(dir, secret);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  project.provide("storageNodeUrl", node.url);
  return async () => {
    try {
      if (node.child.exitCode === null && node.child.signalCode === null) {
        const exited = new Promise((resolve) => node.child.once("exit", resolve));
        node.child.kill("SIGTERM");
        await exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}
