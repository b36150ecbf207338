// Test support: a real storage node (storage-node/server.ts, LMDB in a temp dir) started in this
// Node process, and a TenantKvCapability that reaches it over HTTP with a minted tenant token,
// exactly as the edge Worker's TenantKV does. Node-only modules are imported dynamically by
// path so this file type-checks as Worker code (it is only ever loaded by Node tests).
import type { TenantKvCapability } from "../../kv/capability.ts";
import { mintTenantToken } from "../../../../common/tenant-token.ts";

export interface RealStorage {
  url: string;
  capability(tenantId: number): Promise<TenantKvCapability>;
  /** A bearer token of the system tenant (admin endpoints: stats, span census). */
  systemToken(): Promise<string>;
  close(): Promise<void>;
}

const SECRET = "engine-test-fleet-secret-0123456789";

/** `limits`: overrides of storage-node/limits.ts (e.g. a small deleteRangeKeysMax). */
export async function startRealStorage(limits: Record<string, number> = {}): Promise<RealStorage> {
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
    node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET, unsafeNoSync: true, limits });
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
    systemToken(): Promise<string> {
      return mintTenantToken(SECRET, { tenantId: 1, expiresAtMs: Date.now() + 10 * 60_000 });
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

/** A storage node in its own process (durable, as deployed), which a test can SIGKILL and restart on the same data. */
export interface SpawnedStorage {
  url: string;
  capability(tenantId: number): Promise<TenantKvCapability>;
  systemToken(): Promise<string>;
  /** kill -9, then start again on the same directory (a new port): returns the new URL. */
  killAndRestart(): Promise<string>;
  close(): Promise<void>;
}

export async function spawnRealStorage(limits?: Record<string, number>): Promise<SpawnedStorage> {
  const fsPath: string = "node:fs";
  const osPath: string = "node:os";
  const pathPath: string = "node:path";
  const spawnPath: string = "../../../../storage-node/testing/spawn-node.ts";
  const fs = await import(fsPath);
  const os = await import(osPath);
  const path = await import(pathPath);
  const { spawnStorageNode } = await import(spawnPath);
  const dir: string = fs.mkdtempSync(path.join(os.tmpdir(), "warren-spawned-"));
  type Child = { kill(signal: string): void; once(event: "exit", f: () => void): void; exitCode: number | null; signalCode: string | null };
  let node: { child: Child; url: string } = await spawnStorageNode(dir, SECRET, limits);
  const stopped = (c: Child): Promise<void> => new Promise((resolve) => (c.exitCode !== null || c.signalCode !== null ? resolve() : c.once("exit", () => resolve())));
  const tokens = (tenantId: number) => mintTenantToken(SECRET, { tenantId, expiresAtMs: Date.now() + 10 * 60_000 });
  const out: SpawnedStorage = {
    url: node.url,
    async capability(tenantId: number): Promise<TenantKvCapability> {
      const token = await tokens(tenantId);
      return {
        async batch(request: Uint8Array): Promise<Uint8Array> {
          // The URL of the node now (a restart moves it).
          const res = await fetch(`${out.url}/v1/kv`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/x-warren-kv" }, body: request });
          return new Uint8Array(await res.arrayBuffer());
        },
      };
    },
    systemToken: () => tokens(1),
    async killAndRestart(): Promise<string> {
      node.child.kill("SIGKILL");
      await stopped(node.child);
      node = await spawnStorageNode(dir, SECRET, limits);
      out.url = node.url;
      return node.url;
    },
    async close(): Promise<void> {
      try {
        node.child.kill("SIGTERM");
        await stopped(node.child);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  return out;
}
