// The edge's workerd tests with the bindings they need (Durable Objects, Worker Loader, vars) from
// workers/edge/wrangler.test.toml. Run: npx vitest run -c workers/edge/vitest.config.mts
// (The shared vitest.config.ts's "workers" project needs the same `wrangler.configPath` to run
// these files as part of `npm test`.)
import path from "node:path";
import { fileURLToPath } from "node:url";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export default defineConfig({
  root,
  plugins: [cloudflareTest({ wrangler: { configPath: path.join(root, "workers/edge/wrangler.test.toml") } })],
  test: {
    name: "edge-workers",
    include: ["workers/edge/**/*.worker.test.ts", "durable-objects/**/*.worker.test.ts", "workers/gateway/http/**/*.worker.test.ts"],
    testTimeout: 30_000,
  },
});
