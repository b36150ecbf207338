// `wrangler deploy --dry-run` with the storage fleet configured (issue 13, acceptance 6): the edge
// Worker bundles with the FleetDirectory and the StorageNodeContainer Durable Objects, and the
// storage node's image is declared as a container. Offline: nothing is uploaded.
//
// `--containers-rollout=none`: a dry run otherwise builds the image with Docker, and these machines
// have no Docker engine (TOOLCHAIN.md); the image is built by `wrangler deploy` on a machine that
// has one (README.md, "Operating a storage fleet").
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runTool } from "../harness/run-tool.ts";

const repoRoot = path.resolve(import.meta.dirname, "..", "..");
const bin = path.join(repoRoot, "node_modules", ".bin");
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "warren-dry-run-"));
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

describe("wrangler deploy --dry-run", () => {
  it("passes with the FleetDirectory, the storage node containers and the fleet's shape configured", async () => {
    const run = await runTool(path.join(bin, "wrangler"), ["deploy", "--dry-run", "--containers-rollout=none", "--outdir", outDir], {
      cwd: repoRoot,
      env: { PATH: `${bin}:${process.env.PATH}`, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
      timeoutMs: 180_000,
    });
    expect(run.code, run.out.slice(-3000)).toBe(0);
    expect(run.out).toMatch(/env\.FLEET_DIRECTORY \(FleetDirectory\)\s+Durable Object/);
    expect(run.out).toMatch(/env\.STORAGE_CONTAINERS \(StorageNodeContainer\)\s+Durable Object/);
    expect(run.out).toMatch(/env\.FLEET_SHARDS \("1"\)/);
    expect(run.out).toMatch(/env\.FLEET_REPLICAS \("3"\)/);
    expect(run.out).toMatch(/warren-edge-storagenodecontainer \(.*storage-node\/Dockerfile\)/);
    const bundle = fs.readFileSync(path.join(outDir, "index.js"), "utf8");
    expect(bundle).toContain("StorageNodeContainer");
    expect(bundle).toContain("FleetDirectory");
  }, 200_000);
});
