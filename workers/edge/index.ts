// The edge Worker's entry (wrangler.toml `main`): the Hono app, the RPC entrypoints a gateway
// isolate receives as capabilities, and the Durable Object classes.
import { createEdge } from "./app.ts";
import type { GatewayCode } from "./gateway-env.ts";
import type { GatewayHandler } from "./gateway-host.ts";

export { TenantRouter } from "../../durable-objects/router/tenant-router.ts";
export { TenantDirectory } from "../../durable-objects/directory/tenant-directory.ts";
export { QuotaBucket } from "../../durable-objects/quota/quota-bucket.ts";
export { FleetDirectory } from "../../durable-objects/fleet-directory/fleet-directory.ts";
export { StorageNodeContainer } from "../../durable-objects/storage-container/storage-node-container.ts";
export { TenantKV } from "./tenant-kv.ts";
export { TenantQuota } from "./tenant-quota.ts";

let code: Promise<GatewayCode> | null = null;

/**
 * The bundled gateway (scripts/build-gateway.ts), imported on first use so that inline mode and
 * tests that never load a gateway do not need dist/ to exist.
 */
function gatewayCode(): Promise<GatewayCode> {
  code ??= import("../../dist/gateway/gateway-modules.js").then((m) => m.default);
  return code;
}

let inline: Promise<GatewayHandler> | null = null;

/**
 * The gateway run in this isolate (GATEWAY_MODE=inline), imported on first use: in loader mode,
 * the default, an edge isolate never evaluates the SQL engine's modules at start-up.
 */
const inlineGateway: GatewayHandler = {
  async fetch(request, env, ctx) {
    inline ??= import("../gateway/index.ts").then((m) => m.default);
    return (await inline).fetch(request, env, ctx);
  },
};

export const edge = createEdge({ gatewayCode, inlineGateway });

export default {
  fetch(request, env, ctx) {
    return edge.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<import("./env.ts").EdgeEnv>;
