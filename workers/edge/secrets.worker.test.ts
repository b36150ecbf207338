// An edge deployed without its secrets (or with placeholder-length ones) refuses the traffic that
// needs them with an error naming the missing secret, instead of running on a default value.
import { env } from "cloudflare:workers";
import { createExecutionContext } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest } from "../../common/kv-protocol/codec.ts";
import { SECRET_CHARS_MIN } from "../../durable-objects/env.ts";
import type { EdgeEnv } from "./env.ts";
import { edge } from "./index.ts";
import { forwardKv } from "./tenant-kv.ts";

const edgeEnv = env as unknown as EdgeEnv;

function withEnv(changes: Record<string, string | undefined>): EdgeEnv {
  return { ...edgeEnv, ...changes } as EdgeEnv;
}

describe("secrets", () => {
  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["one character short", "x".repeat(SECRET_CHARS_MIN - 1)],
  ])("the admin API refuses when ADMIN_TOKEN is %s, even for a caller who sends that value", async (_label, token) => {
    const res = await edge.fetch(
      new Request("http://edge.test/admin/tenants", { headers: { authorization: `Bearer ${token ?? ""}` } }),
      withEnv({ ADMIN_TOKEN: token }),
      createExecutionContext(),
    );
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("F0000");
    expect(body.message).toContain("ADMIN_TOKEN");
    expect(body.message).toContain("wrangler secret put ADMIN_TOKEN");
  });

  it.each([
    ["missing", undefined],
    ["one character short", "y".repeat(SECRET_CHARS_MIN - 1)],
  ])("TenantKV refuses storage traffic when FLEET_SECRET is %s, without contacting storage", async (_label, secret) => {
    const request = encodeRequest({ type: "batch", reads: [], writes: [] });
    const answer = decodeResponse(await forwardKv(withEnv({ FLEET_SECRET: secret, STORAGE_URL: "http://must-not-be-called.invalid" }), 42, request));
    expect(answer.type).toBe("error");
    if (answer.type !== "error") return;
    expect(answer.error.code).toBe("unauthenticated");
    expect(answer.error.message).toContain("FLEET_SECRET");
  });

  it("a secret of exactly the minimum length is accepted", async () => {
    const token = "z".repeat(SECRET_CHARS_MIN);
    const res = await edge.fetch(
      new Request("http://edge.test/admin/tenants", { headers: { authorization: `Bearer ${token}` } }),
      withEnv({ ADMIN_TOKEN: token }),
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
  });
});
