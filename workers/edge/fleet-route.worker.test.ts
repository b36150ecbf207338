// POST /fleet/v1/op through the edge to the real FleetDirectory Durable Object: the system token is
// required, bad requests change nothing, and the configuration manager's answers survive in
// Durable Object storage (a second stub sees them).
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { mintTenantToken } from "../../common/tenant-token.ts";
import type { EdgeEnv } from "./env.ts";
import { edge } from "./index.ts";

const edgeEnv = env as unknown as EdgeEnv;

async function op(body: unknown, tenantId = 1): Promise<{ status: number; json: any }> {
  const token = await mintTenantToken(edgeEnv.FLEET_SECRET, { tenantId, expiresAtMs: Date.now() + 60_000 });
  const res = await edge.fetch(
    new Request("http://edge.test/fleet/v1/op", { method: "POST", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify(body) }),
    edgeEnv,
    createExecutionContext(),
  );
  return { status: res.status, json: await res.json() };
}

describe("FleetDirectory through /fleet/v1/op", () => {
  it("creates a shard, renews the lease, refuses an early promotion, places tenants", async () => {
    expect(await op({ op: "createShard", shardId: 7, replicas: ["a", "b", "c"] })).toMatchObject({ status: 200, json: { ok: true, config: { epoch: 1, primary: "a" } } });
    const renewed = await op({ op: "renewLease", shardId: 7, node: "a", epoch: 1, leaseMs: 10_000 });
    expect(renewed.json).toMatchObject({ ok: true, config: { epoch: 1 } });
    expect(renewed.json.config.leaseExpiresAtMs).toBeGreaterThan(Date.now());
    expect((await op({ op: "promote", shardId: 7, node: "b", epoch: 1, leaseMs: 10_000 })).json).toMatchObject({ ok: false, reason: expect.stringMatching(/lease of a/) });
    expect((await op({ op: "placeTenant", tenantId: 42 })).json).toMatchObject({ ok: true, config: { shardId: 7 } });
    expect((await op({ op: "current", shardId: 7 })).json).toMatchObject({ ok: true, config: { epoch: 1, primary: "a", replicas: ["a", "b", "c"] } });
  });

  it("refuses tenant tokens, bad bodies and unknown ops", async () => {
    expect(await op({ op: "current", shardId: 1 }, 5)).toMatchObject({ status: 401, json: { error: { code: "unauthenticated" } } });
    expect(await op({ op: "promote", shardId: 1, node: "b", epoch: 1, leaseMs: 1 })).toMatchObject({ status: 400, json: { error: { message: expect.stringMatching(/leaseMs/) } } });
    expect(await op({ op: "createShard", shardId: 1, replicas: ["x y"] })).toMatchObject({ status: 400 });
    expect(await op({ op: "drop everything" })).toMatchObject({ status: 400, json: { error: { message: expect.stringMatching(/unknown op/) } } });
    const res = await edge.fetch(new Request("http://edge.test/fleet/v1/op", { method: "POST", body: "{}" }), edgeEnv, createExecutionContext());
    expect(res.status).toBe(401);
  });
});
