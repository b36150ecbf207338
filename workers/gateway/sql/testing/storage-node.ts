// Test support: a real storage node (storage-node/server.ts, LMDB in a temp dir) started in this
// Node process, and a TenantKvCapability that reaches it over HTTP with a minted tenant token,
// exactly as the edge Worker's TenantKV does. Node-only modules are imported dynamically by
// path so this file type-checks as Worker code (it is only ever loaded by Node tests).
import type { TenantKvCapability } from "../../kv/capability.ts";
import { mintTenantToken } from "../../../../common/tenant-token.ts";

export interface RealStorage {
  url: string;
  capability(tenantId: number): Promise<TenantKvCapability>;
  close(): Promise<void>;
}

const SECRET = "engine-test-fleet-secret-0123456789";

export async function startRealStorage(): Promise<RealStorage> {
  const fsPath: string = "node:fs";
  const osPath: string = "node:os";
  const pathPath: string = "node:path";
  const serverPath: string = "../../../../storage-node/server.ts";
  const fs = await import(fsPath);
  const os = await import(osPath);
  const path = await import(pathPath);
  const { startStorageNode } = await import(serverPath);
  const dir: string = fs.mkdtempSync(path.join(os.tmpdir(), "warren-engine-"));
  let node: { url: string; close(): Promise<void> };
  try {
    node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET, unsafeNoSync: true });
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: node.url,
    async capability(tenantId: number): Promise<TenantKvCapability> {
      // Tokens live at most 15 minutes (common/tenant-token.ts); a long test mints a new one as the edge does.
      const ttlMs = 10 * 60_000;
      let token = { value: "", expiresAtMs: 0 };
      const current = async (): Promise<string> => {
        if (token.expiresAtMs - Date.now() < 60_000) {
          const expiresAtMs = Date.now() + ttlMs;
          token = { value: await mintTenantToken(SECRET, { tenantId, expiresAtMs }), expiresAtMs };
        }
        return token.value;
      };
      const endpoint = `${node.url}/v1/kv`;
      return {
        async batch(request: Uint8Array): Promise<Uint8Array> {
          const token = await current();
          const res = await fetch(endpoint, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/x-warren-kv" },
            body: request,
          });
          return new Uint8Array(await res.arrayBuffer());
        },
      };
    },
    async close(): Promise<void> {
      try {
        await node.close();
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
