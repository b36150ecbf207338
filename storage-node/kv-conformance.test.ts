// The KV conformance suite (workers/gateway/kv/kv-conformance.ts) over a real storage node: LMDB
// in a temp directory, HTTP with a minted tenant token per tenant, every part of the contract
// enforced.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { mintTenantToken } from "../common/tenant-token.ts";
import { kvConformanceSuite } from "../workers/gateway/kv/kv-conformance.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { startStorageNode, type StorageNode } from "./server.ts";

const SECRET = "conformance-fleet-secret-0123456789";
let dir: string;
let node: StorageNode;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warren-kv-conformance-"));
  node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET, unsafeNoSync: true });
});

afterAll(async () => {
  await node?.close();
  rmSync(dir, { recursive: true, force: true });
});

kvConformanceSuite(
  "storage node",
  () => ({
    async capability(tenantId: number) {
      const token = await mintTenantToken(SECRET, { tenantId, expiresAtMs: Date.now() + 10 * 60_000 });
      return {
        async batch(request: Uint8Array): Promise<Uint8Array> {
          const res = await fetch(`${node.url}/v1/kv`, { method: "POST", headers: { authorization: `Bearer ${token}` }, body: request as Uint8Array<ArrayBuffer> });
          return new Uint8Array(await res.arrayBuffer());
        },
      };
    },
    enforces: { limits: true, tenantSpans: true, malformedAnswered: true },
    keyBytesMax: DEFAULT_LIMITS.keyBytesMax,
  }),
  100,
);
