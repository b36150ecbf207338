// Four test projects, chosen by where a test must run and whether it may share the machine:
//   unit     — `*.test.ts` beside the code, in Node (storage node, CLI, common, and the gateway's
//              platform-neutral SQL layers, which must not import node: modules).
//   workers  — `*.worker.test.ts`, inside workerd through @cloudflare/vitest-plugin.
//   serial   — `*.serial.test.ts`: tests that measure latency or load the machine on purpose (the
//              storage node's fairness and crash tests). They run after unit and workers, one
//              file at a time, so no other test skews their measurements or they skew others.
//   e2e      — `test/**/*.test.ts`, against the real local stack (storage node process, wrangler
//              dev, tunnel) started on free ports by test/harness; last, one file at a time.
// `sequence.groupOrder` runs the groups one after another (0, then 1, then 2).
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{common,client,storage-node,cli,scripts,workers,durable-objects}/**/*.test.ts"],
          exclude: ["**/*.worker.test.ts", "**/*.serial.test.ts", "**/node_modules/**"],
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The edge Worker's own bindings (Durable Objects, Worker Loader, vars): tests call it
        // through SELF and its entrypoints, which needs the Worker as `main`.
        plugins: [cloudflareTest({ wrangler: { configPath: "./workers/edge/wrangler.test.toml" } })],
        test: {
          name: "workers",
          include: ["{common,workers,durable-objects}/**/*.worker.test.ts"],
          // A real storage node for TenantKV's conformance run (tenant-kv.worker.test.ts).
          globalSetup: ["test/harness/storage-node-setup.ts"],
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: "serial",
          include: ["{common,storage-node,cli,scripts,workers,durable-objects}/**/*.serial.test.ts"],
          exclude: ["**/node_modules/**"],
          testTimeout: 180_000,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          sequence: { groupOrder: 2 },
        },
      },
    ],
  },
});
