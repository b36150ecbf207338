// Tenant isolation, the second wall: the storage node of a running `warren dev` checks every batch
// on its own, whatever the gateway above it does. Using the stack's real fleet secret (so the
// tokens are exactly what the edge mints), a token for tenant B must not read or write a single
// byte of tenant A's span, a batch with one stray key must be refused whole, and forged, expired or
// missing tokens must be refused. The first wall (SQL through the gateway) is in stack.test.ts.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest } from "../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse, ReadOp } from "../common/kv-protocol/messages.ts";
import { tenantPrefix, tenantSpan } from "../common/tenant-prefix.ts";
import { mintTenantToken } from "../common/tenant-token.ts";
import { httpSql, startStack, type Stack, type TenantConnection } from "./harness/stack.ts";

let stack: Stack | undefined;
let alpha: TenantConnection;
let beta: TenantConnection;
let fleetSecret: string;

beforeAll(async () => {
  stack = await startStack();
  alpha = await stack.createTenant("alpha");
  beta = await stack.createTenant("beta");
  fleetSecret = fs.readFileSync(path.join(stack.dataDir, "fleet-secret"), "utf8").trim();
  // Real rows in both tenants, written through SQL, so each span has data to protect.
  for (const t of [alpha, beta]) {
    await httpSql(t, "CREATE TABLE secrets (id INT PRIMARY KEY, body TEXT)");
    await httpSql(t, `INSERT INTO secrets VALUES (1, 'only for ${t.name}')`);
  }
});
afterAll(async () => {
  await stack?.stop();
});

const idOf = (t: TenantConnection) => Number(t.id);
const scanAll = (tenantId: number): ReadOp => ({ op: "scan", ...tenantSpan(tenantId), reverse: false, maxRows: 10_000, maxBytes: 4 << 20 });

async function kv(request: KvRequest, authorization: string | undefined): Promise<KvResponse> {
  const res = await fetch(`http://127.0.0.1:${stack!.ports.storage}/v1/kv`, {
    method: "POST",
    headers: authorization === undefined ? {} : { authorization },
    body: new Uint8Array(encodeRequest(request)),
  });
  return decodeResponse(new Uint8Array(await res.arrayBuffer()));
}

async function tokenFor(tenantId: number, secret = fleetSecret, ttlMs = 60_000): Promise<string> {
  return `Bearer ${await mintTenantToken(secret, { tenantId, expiresAtMs: Date.now() + ttlMs })}`;
}

/** Every key and value in a tenant's span, read with that tenant's own token. */
async function snapshot(tenantId: number): Promise<string[]> {
  const res = await kv({ type: "batch", reads: [scanAll(tenantId)], writes: [] }, await tokenFor(tenantId));
  if (res.type !== "batch") throw new Error(`scan of tenant ${tenantId} failed: ${JSON.stringify(res)}`);
  const scan = res.results[0];
  if (scan?.op !== "scan") throw new Error("expected a scan result");
  return scan.rows.map((r) => `${Buffer.from(r.key).toString("hex")}=${Buffer.from(r.value).toString("hex")}`);
}

function errorCode(res: KvResponse): string {
  return res.type === "error" ? res.error.code : `no error (${res.type})`;
}

describe("storage node isolation in the running stack", () => {
  it("lets a tenant read its own span with a token from the stack's fleet secret", async () => {
    expect((await snapshot(idOf(alpha))).length).toBeGreaterThan(0);
    expect((await snapshot(idOf(beta))).length).toBeGreaterThan(0);
  });

  it("refuses beta's token any read in alpha's span", async () => {
    const token = await tokenFor(idOf(beta));
    const scan = await kv({ type: "batch", reads: [scanAll(idOf(alpha))], writes: [] }, token);
    expect(errorCode(scan)).toBe("outside_tenant_span");
    const key = new Uint8Array([...tenantPrefix(idOf(alpha)), 0x01]);
    expect(errorCode(await kv({ type: "batch", reads: [{ op: "get", key }], writes: [] }, token))).toBe("outside_tenant_span");
    // A span that starts inside beta's prefix and runs on into the next tenant's is just as foreign.
    const next = new Uint8Array([...tenantPrefix(idOf(beta) + 1), 0x01]);
    const straddle: ReadOp = { op: "scan", start: tenantSpan(idOf(beta)).start, end: next, reverse: false, maxRows: 10, maxBytes: 4096 };
    expect(errorCode(await kv({ type: "batch", reads: [straddle], writes: [] }, token))).toBe("outside_tenant_span");
  });

  it("refuses a whole batch with one key outside the tenant, writing nothing", async () => {
    const alphaBefore = await snapshot(idOf(alpha));
    const betaBefore = await snapshot(idOf(beta));
    const own = new Uint8Array([...tenantPrefix(idOf(beta)), 0xfe, 0x01]);
    const foreign = new Uint8Array([...tenantPrefix(idOf(alpha)), 0xfe, 0x01]);
    const value = new TextEncoder().encode("planted");
    const res = await kv(
      {
        type: "batch",
        reads: [],
        writes: [
          { op: "put", key: own, value },
          { op: "put", key: foreign, value },
        ],
      },
      await tokenFor(idOf(beta)),
    );
    expect(errorCode(res)).toBe("outside_tenant_span");
    const range = await kv(
      { type: "batch", reads: [], writes: [{ op: "deleteRange", ...tenantSpan(idOf(alpha)) }] },
      await tokenFor(idOf(beta)),
    );
    expect(errorCode(range)).toBe("outside_tenant_span");
    expect(await snapshot(idOf(alpha))).toEqual(alphaBefore);
    expect(await snapshot(idOf(beta))).toEqual(betaBefore);
    // …and alpha's rows are still there for alpha's SQL.
    const rows = await httpSql(alpha, "SELECT body FROM secrets");
    expect(rows.rows.map((r) => String(Object.values(r as object)[0]))).toEqual(["only for alpha"]);
  });

  it("refuses missing, forged and expired tokens", async () => {
    const read: KvRequest = { type: "batch", reads: [scanAll(idOf(alpha))], writes: [] };
    expect(errorCode(await kv(read, undefined))).toBe("unauthenticated");
    expect(errorCode(await kv(read, await tokenFor(idOf(alpha), "not-the-fleet-secret-at-all")))).toBe("unauthenticated");
    const forgedId = (await tokenFor(idOf(beta))).replace(`wt1.${idOf(beta)}.`, `wt1.${idOf(alpha)}.`);
    expect(errorCode(await kv(read, forgedId))).toBe("unauthenticated");
    expect(errorCode(await kv(read, await tokenFor(idOf(alpha), fleetSecret, -1_000)))).toBe("token_expired");
  });
});
