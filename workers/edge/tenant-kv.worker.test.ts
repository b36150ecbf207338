// The KV conformance suite (workers/gateway/kv/kv-conformance.ts) through the edge's TenantKV
// entrypoint — the capability a gateway isolate really holds: RPC stub with the tenant in its
// props, token minted by the edge, usage header, retries — in front of a real storage node.
// The node is started in Node by the workers project's globalSetup (test/harness/
// storage-node-setup.ts); wrangler.test.toml's STORAGE_URL names no real host, so this file
// redirects TenantKV's storage fetches (made in this isolate) to the real node, changing nothing
// else about the request.
import { env, exports } from "cloudflare:workers";
import { afterAll, beforeAll, inject, vi } from "vitest";
import { DEFAULT_LIMITS } from "../../storage-node/limits.ts";
import { kvConformanceSuite } from "../gateway/kv/kv-conformance.ts";
import type { TenantKvCapability } from "../gateway/kv/capability.ts";
import type { EdgeEnv } from "./env.ts";
import type { EdgeExports } from "./gateway-env.ts";

const edgeEnv = env as unknown as EdgeEnv;
const edgeExports = exports as unknown as EdgeExports;

beforeAll(() => {
  const real = inject("storageNodeUrl");
  const configured = edgeEnv.STORAGE_URL.replace(/\/+$/, "");
  const fetchOriginal = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    if (!req.url.startsWith(configured + "/")) return fetchOriginal(req);
    return fetchOriginal(new Request(real + req.url.slice(configured.length), req));
  });
});

afterAll(() => {
  vi.restoreAllMocks();
});

kvConformanceSuite(
  "edge TenantKV in front of a storage node",
  () => ({
    capability: async (tenantId: number) => edgeExports.TenantKV({ props: { tenantId } }) as unknown as TenantKvCapability,
    enforces: { limits: true, tenantSpans: true, malformedAnswered: true },
    keyBytesMax: DEFAULT_LIMITS.keyBytesMax,
  }),
  100,
);
