// The edge Worker's entry (wrangler.toml `main`): the Hono app, the RPC entrypoints a gateway
// isolate receives as capabilities, and the Durable Object classes.
import gateway from "../gateway/index.ts";
import { createEdge } from "./app.ts";
import type { GatewayCode } from "./gateway-env.ts";

export { TenantRouter } from "../../durable-objects/router/tenant-router.ts";
export { TenantDirectory } from "../../durable-objects/directory/tenant-directory.ts";
export { QuotaBucket } from "../../durable-objects/quota/quota-bucket.ts";
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

export const edge = createEdge({ gatewayCode, inlineGateway: gateway });

export default {
  fetch(request, env, ctx) {
    return edge.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<import("./env.ts").EdgeEnv>;
