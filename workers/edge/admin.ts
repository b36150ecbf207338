// The admin HTTP API (operators and `warren tenant …`). Every route needs
// `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
//
//   POST   /admin/tenants          {"name", "password"?}      → 201 {"name","id","password"}
//   GET    /admin/tenants                                     → 200 [{"name","id","state","createdAt","settings"}]
//   GET    /admin/tenants/:name                               → 200 {"name","id","state","createdAt","settings"}
//   PATCH  /admin/tenants/:name    {"state"?, "password"?, settings…} → 200 same shape
//          settings: "ruPerSecond", "burstRu", "spendLimitRu" (null: none), "atSpendLimit"
//          ("throttle" | "refuse"), "maxConnections" (null: default), "allowedCidrs" ([] : any)
//   GET    /admin/tenants/:name/usage?since=&until=           → 200 usage history (UsageView)
//   DELETE /admin/tenants/:name                               → 200 {"name","id","state":"dropped","createdAt"}
//
// Errors: {"severity","code","message","detail"?,"hint"?} with 400/401/404/409/413/503.
import { Hono, type Context } from "hono";
import { TenantOperations, type AdminHooks as AdminHooksT } from "./tenant-operations.ts";
import { PgError } from "../../common/errors.ts";
import { directoryOf, secretOf } from "../../durable-objects/env.ts";
import { isTenantName } from "../../durable-objects/tenant-name.ts";
import { unwrap } from "../../durable-objects/wire-error.ts";
import { parseJsonBody, readBodyLimited } from "../gateway/http/body.ts";
import type { EdgeEnv } from "./env.ts";
import { errorResponse } from "./http-errors.ts";
import { limits } from "./limits.ts";
import { settleRpc } from "../../common/rpc.ts";

export type { AdminHooks, TenantView, LifecycleView } from "./tenant-operations.ts";

/** Default window of a usage query: the last 24 hours. */
const USAGE_DEFAULT_WINDOW_MS = 24 * 3_600_000;
const RELATIVE_UNITS_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A time of a usage query: ISO 8601 (2026-08-01, 2026-08-01T12:00:00Z), or a span before now such
 * as 90m, 24h or 7d. 22007 otherwise.
 */
export function parseUsageTime(text: string | undefined, fallbackMs: number, nowMs: number, what: string): number {
  if (text === undefined || text === "") return fallbackMs;
  const rel = /^(\d{1,6})([mhd])$/.exec(text);
  if (rel) return nowMs - Number(rel[1]) * RELATIVE_UNITS_MS[rel[2]!]!;
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) {
    throw new PgError("invalid_datetime_format", `invalid ${what} ${JSON.stringify(text)}`, {
      hint: "Use an ISO 8601 time (2026-08-01 or 2026-08-01T12:00:00Z) or a span before now (90m, 24h, 7d).",
    });
  }
  return ms;
}

const encoder = new TextEncoder();

/** Constant-time string equality (the length is not secret: both sides are hashed first). */
export async function tokensEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  const x = new Uint8Array(ha);
  const y = new Uint8Array(hb);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

export async function requireAdmin(c: Context<{ Bindings: EdgeEnv }>): Promise<void> {
  const secret = secretOf(c.env as unknown as Record<string, unknown>, "ADMIN_TOKEN");
  if ("missing" in secret) throw new PgError("config_file_error", `the admin API is disabled: ${secret.missing}`);
  const expected = secret.value;
  const header = c.req.header("authorization") ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m || !(await tokensEqual(m[1]!.trim(), expected))) {
    throw new PgError("invalid_authorization_specification", "admin API: missing or wrong bearer token", {
      hint: "Send Authorization: Bearer <ADMIN_TOKEN>.",
    });
  }
}

async function jsonObject(c: Context<{ Bindings: EdgeEnv }>): Promise<Record<string, unknown>> {
  const body = parseJsonBody(await readBodyLimited(c.req.raw, limits.adminBodyBytesMax, "admin request body"), "admin request body");
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new PgError("protocol_violation", "admin request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function nameParam(c: Context<{ Bindings: EdgeEnv }>): string {
  const name = c.req.param("name") ?? "";
  if (!isTenantName(name)) throw new PgError("invalid_name", `invalid virtual cluster name ${JSON.stringify(name)}`);
  return name;
}

/** `hooks` let the edge drop its cached route, and end live work, when a tenant changes through this isolate. */
export function adminRoutes(hooks: AdminHooksT): Hono<{ Bindings: EdgeEnv }> {
  const app = new Hono<{ Bindings: EdgeEnv }>();
  const ops = (c: Context<{ Bindings: EdgeEnv }>) => new TenantOperations(c.env, hooks);

  app.use("*", async (c, next) => {
    await requireAdmin(c);
    await next();
  });

  app.post("/tenants", async (c) => {
    const { name, password, ...settings } = await jsonObject(c);
    return c.json(await ops(c).create(name, password, settings), 201);
  });

  app.get("/tenants", async (c) => c.json(await ops(c).list()));

  app.get("/tenants/:name", async (c) => c.json(await ops(c).show(nameParam(c))));

  app.patch("/tenants/:name", async (c) => {
    const name = nameParam(c);
    return c.json(await ops(c).alter(name, await jsonObject(c)));
  });

  app.get("/tenants/:name/usage", async (c) => {
    const name = nameParam(c);
    const now = Date.now();
    const until = parseUsageTime(c.req.query("until"), now, now, '"until"');
    const since = parseUsageTime(c.req.query("since"), until - USAGE_DEFAULT_WINDOW_MS, now, '"since"');
    if (since > until) throw new PgError("invalid_parameter_value", `"since" (${new Date(since).toISOString()}) is after "until" (${new Date(until).toISOString()})`);
    const { name: n, id, ...usage } = await ops(c).usage(name, since, until);
    return c.json({ name: n, id, since: new Date(since).toISOString(), until: new Date(until).toISOString(), ...usage });
  });

  app.delete("/tenants/:name", async (c) => c.json(await ops(c).drop(nameParam(c))));

  // The deny list: GET it, POST an entry {"address": IP|CIDR} or {"tenant": NAME} to add it, POST
  // the same to /deny/remove to remove it. Adding ends the matching live sessions here at once.
  app.get("/deny", async (c) => c.json(await settleRpc(directoryOf(c.env).denyList())));
  for (const [path, deny] of [["/deny", true], ["/deny/remove", false]] as const) {
    app.post(path, async (c) => {
      const list = unwrap(await settleRpc(directoryOf(c.env).changeDenyList(await jsonObject(c), deny)));
      hooks.denyChanged(list);
      return c.json(list);
    });
  }

  app.notFound((c) => errorResponse(new PgError("protocol_violation", `no admin route ${c.req.method} ${c.req.path}`), 404));
  app.onError((err) => errorResponse(err));
  return app;
}
