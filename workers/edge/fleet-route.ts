// The storage fleet's way to its configuration manager:
//
//   POST /fleet/v1/op   Authorization: Bearer <system token: wt1 tenant 1, signed with FLEET_SECRET>
//                       body: a FleetOp (common/fleet/directory-protocol.ts) → 200 DirectoryResult
//
// Storage nodes hold the fleet secret already (they verify tenant tokens with it), so they mint a
// system token for this, as the control plane does for their admin routes. Errors are JSON
// {"error":{"code","message"}} with 400 / 401 / 413.
import { Hono } from "hono";
import { fleetOpProblem, type FleetOp } from "../../common/fleet/directory-protocol.ts";
import { SYSTEM_TENANT_ID } from "../../common/tenant-prefix.ts";
import { verifyTenantToken } from "../../common/tenant-token.ts";
import { fleetDirectoryOf, secretOf } from "../../durable-objects/env.ts";
import type { EdgeEnv } from "./env.ts";
import { limits } from "./limits.ts";

export function fleetRoutes(): Hono<{ Bindings: EdgeEnv }> {
  const app = new Hono<{ Bindings: EdgeEnv }>();
  app.post("/v1/op", async (c) => {
    const fail = (status: 400 | 401 | 413, code: string, message: string) => c.json({ error: { code, message } }, status);
    const secret = secretOf(c.env as unknown as Record<string, unknown>, "FLEET_SECRET");
    if ("missing" in secret) return fail(401, "unauthenticated", secret.missing);
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7) : "";
    try {
      const claims = await verifyTenantToken(secret.value, token, Date.now());
      if (claims.tenantId !== SYSTEM_TENANT_ID) return fail(401, "unauthenticated", "the fleet directory needs the system token (tenant 1)");
    } catch (err) {
      return fail(401, "unauthenticated", `bad system token: ${err instanceof Error ? err.message : String(err)}`);
    }
    const text = await c.req.text();
    if (text.length > limits.fleetOpBytesMax) return fail(413, "limit_exceeded", `a fleet request is at most ${limits.fleetOpBytesMax} bytes (fleetOpBytesMax)`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail(400, "malformed_request", "the body must be JSON");
    }
    const problem = fleetOpProblem(body);
    if (problem !== undefined) return fail(400, "malformed_request", problem);
    return c.json(await fleetDirectoryOf(c.env).apply(body as FleetOp));
  });
  return app;
}
