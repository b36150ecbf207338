// Three test projects, chosen by where a test must run:
//   unit     — `*.test.ts` beside the code, in Node (storage node, CLI, common, and the gateway's
//              platform-neutral SQL layers, which must not import node: modules).
//   workers  — `*.worker.test.ts`, inside workerd through @cloudflare/vitest-plugin.
//   e2e      — `test/**/*.test.ts`, against the real local stack (storage node process, wrangler
//              dev, tunnel) started on free ports by test/harness.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{common,storage-node,cli,scripts,workers,durable-objects}/**/*.test.ts"],
          exclude: ["**/*.worker.test.ts", "**/node_modules/**"],
          testTimeout: 30_000,
        },
      },
      {
        plugins: [
          // The edge Worker's own bindings (Durable Objects, Worker Loader, vars): tests call it
          // through SELF and its entrypoints, which needs the Worker as `main`.
          cloudflareTest({ wrangler: { configPath: "./workers/edge/wrangler.test.toml" } }),
        ],
        test: {
          name: "workers",
          include: ["{common,workers,durable-objects}/**/*.worker.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
