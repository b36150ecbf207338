// The move admin routes at their edges, on a real storage node: only the system token, the import
// chunk bound (moveChunkBytesMax: at it accepted, one byte past it refused with 413), malformed
// bodies refused with 400, and a tenant the node serves taking no import.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";
import { tenantStatsKey } from "../node-keys.ts";
import { encodeGroupEntry } from "../replication/group-entry.ts";
import { startStorageNode, type StorageNode } from "../server.ts";
import { KvHttpClient, bytes, tkey } from "../testing/kv-client.ts";

const SECRET = "move-admin-test-secret-0123456789";
const CHUNK_MAX = 64 * 1024;
const T = 9;
let dir: string;
let node: StorageNode;
let system: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "warren-move-admin-"));
  node = await startStorageNode({ dataDir: dir, port: 0, fleetSecret: SECRET, limits: { moveChunkBytesMax: CHUNK_MAX } });
  system = await mintTenantToken(SECRET, { tenantId: SYSTEM_TENANT_ID, expiresAtMs: Date.now() + 60_000 });
});
afterAll(async () => {
  await node.close();
  rmSync(dir, { recursive: true, force: true });
});

const post = (path: string, body: Uint8Array | string, token = system) =>
  fetch(node.url + path, { method: "POST", body: typeof body === "string" ? body : new Uint8Array(body), headers: { authorization: `Bearer ${token}` } });

/** One put of the tenant's stats key whose encoded entry is exactly `size` bytes. */
function chunkOf(size: number): Uint8Array {
  const key = tenantStatsKey(T);
  const entry = encodeGroupEntry([{ put: true, key, value: new Uint8Array(size - (1 + 4 + key.length + 4)) }]);
  expect(entry.length).toBe(size);
  return entry;
}

describe("move admin routes", () => {
  it("need the system token", async () => {
    const tenantToken = await mintTenantToken(SECRET, { tenantId: T, expiresAtMs: Date.now() + 60_000 });
    const res = await post("/v1/admin/tenant-fence", JSON.stringify({ tenantId: T }), tenantToken);
    expect(res.status).toBe(401);
  });

  it("take an import chunk of exactly moveChunkBytesMax and refuse one byte more, writing nothing", async () => {
    const over = await post(`/v1/admin/tenant-import?tenantId=${T}&first=1`, chunkOf(CHUNK_MAX + 1));
    expect(over.status).toBe(413);
    expect(await over.text()).toMatch(/moveChunkBytesMax/);
    const at = await post(`/v1/admin/tenant-import?tenantId=${T}&first=1`, chunkOf(CHUNK_MAX));
    expect(at.status, await at.clone().text()).toBe(200);
    // The tenant is arriving: refused (421, nothing applied) until adopted.
    const kv = await KvHttpClient.forTenant(node.url, SECRET, T);
    const r = await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(T, "k"), value: bytes("v") }] });
    expect(r).toMatchObject({ status: 421, type: "error", error: { code: "tenant_moved" } });
    kv.close();
  });

  it("refuse malformed requests with 400 and an import into a tenant this node serves with 409", async () => {
    expect((await post("/v1/admin/tenant-fence", "{")).status).toBe(400);
    expect((await post("/v1/admin/tenant-fence", JSON.stringify({ tenantId: 1 }))).status).toBe(400); // the system tenant does not move
    expect((await post("/v1/admin/tenant-fence", JSON.stringify({ tenantId: T + 1, toShard: 0 }))).status).toBe(400);
    expect((await post(`/v1/admin/tenant-import?tenantId=${T}&adoptIfDigest=zz&clockAtLeast=1`, new Uint8Array(0))).status).toBe(400);
    expect((await post(`/v1/admin/tenant-import?tenantId=${T}`, new Uint8Array([9, 9, 9]))).status).toBe(409); // not a group entry
    const served = T + 2;
    const kv = await KvHttpClient.forTenant(node.url, SECRET, served);
    expect((await kv.send({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(served, "k"), value: bytes("v") }] })).type).toBe("batch");
    kv.close();
    const into = await post(`/v1/admin/tenant-import?tenantId=${served}&first=1`, encodeGroupEntry([{ put: true, key: tenantStatsKey(served), value: new Uint8Array(16) }]));
    expect(into.status).toBe(409);
    expect(await into.text()).toMatch(/served by this node/);
    // Nor is a tenant that did not move away purged.
    expect((await post("/v1/admin/tenant-purge", JSON.stringify({ tenantId: served }))).status).toBe(409);
  });
});
