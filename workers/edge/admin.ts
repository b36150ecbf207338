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
import { PgError } from "../../common/errors.ts";
import type { DirectoryEntry } from "../../durable-objects/directory/tenant-directory.ts";
import { parseSettingsPatch, SETTING_FIELDS, settingsOf, type TenantSettings } from "../../durable-objects/directory/tenant-settings.ts";
import { directoryOf, quotaBucketFor, routerFor, secretOf } from "../../durable-objects/env.ts";
import { passwordProblem, type TenantInfo } from "../../durable-objects/router/tenant-router.ts";
import type { TenantRef } from "./gateway-env.ts";
import type { DenyList } from "../../durable-objects/directory/deny-list.ts";
import { isTenantName } from "../../durable-objects/tenant-name.ts";
import { unwrap } from "../../durable-objects/wire-error.ts";
import { parseJsonBody, readBodyLimited } from "../gateway/http/body.ts";
import type { EdgeEnv } from "./env.ts";
import { errorResponse } from "./http-errors.ts";
import { limits } from "./limits.ts";
import { settleRpc } from "../../common/rpc.ts";

export interface TenantView {
  name: string;
  id: number;
  /** The lifecycle state (durable-objects/router/lifecycle.ts): the router's, once the directory has created it. */
  state: string;
  createdAt: string;
  settings: TenantSettings;
  /** Present when the tenant's router answered: who suspended it, since when, counters, live work here. */
  lifecycle?: LifecycleView;
}

export interface LifecycleView {
  suspendedBy: "idle" | "operator" | null;
  stateChangedAt: string;
  idleSuspensions: number;
  resumes: number;
  /** In the edge isolate that answered: live sessions and requests, and whether it holds a gateway isolate. */
  sessions: number;
  requests: number;
  gatewayIsolate: boolean;
}

/** What the admin API needs from the edge isolate it runs in. */
export interface AdminHooks {
  /** A tenant's route or credentials changed: drop what this isolate cached. */
  changed(name: string): void;
  /** A tenant was suspended or dropped by an operator: end its live work here and release it. */
  stopped(tenant: TenantRef, why: string): void;
  /** The deny list changed through this isolate: take it now and end the live work it matches. */
  denyChanged(list: DenyList): void;
  /** The tenant's live work in this edge isolate. */
  live(tenantId: number): { sessions: number; requests: number; gatewayIsolate: boolean };
}

function view(e: DirectoryEntry, router?: TenantInfo | null, live?: { sessions: number; requests: number; gatewayIsolate: boolean }): TenantView {
  const v: TenantView = { name: e.name, id: e.id, state: e.state, createdAt: new Date(e.createdAtMs).toISOString(), settings: settingsOf(e.settings) };
  // The directory knows creating/dropping; the router knows whether an active tenant is idle-suspended.
  if (router && router.tenantId === e.id && (e.state === "active" || e.state === "suspended")) {
    v.state = router.state;
    v.lifecycle = {
      suspendedBy: router.state === "suspended" ? (router.suspendedBy ?? "operator") : null,
      stateChangedAt: new Date(router.stateChangedAtMs).toISOString(),
      idleSuspensions: router.idleSuspensions ?? 0,
      resumes: router.resumes ?? 0,
      ...(live ?? { sessions: 0, requests: 0, gatewayIsolate: false }),
    };
  }
  return v;
}

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
export function adminRoutes(hooks: AdminHooks): Hono<{ Bindings: EdgeEnv }> {
  const app = new Hono<{ Bindings: EdgeEnv }>();
  const onChange = hooks.changed;
  const full = async (env: EdgeEnv, e: DirectoryEntry): Promise<TenantView> => {
    const router = await settleRpc(routerFor(env, e.name).describe()).catch(() => null);
    return view(e, router, hooks.live(e.id));
  };

  app.use("*", async (c, next) => {
    await requireAdmin(c);
    await next();
  });

  app.post("/tenants", async (c) => {
    const body = await jsonObject(c);
    const { name, password } = body;
    if (typeof name !== "string") throw new PgError("invalid_name", 'body must have "name": a string');
    if (password !== undefined && password !== null && typeof password !== "string") {
      throw new PgError("invalid_parameter_value", '"password" must be a string when given');
    }
    const created = unwrap(await settleRpc(directoryOf(c.env).create(name, password ?? null)));
    onChange(name);
    return c.json(created, 201);
  });

  app.get("/tenants", async (c) => {
    const all = await settleRpc(directoryOf(c.env).list());
    return c.json(await Promise.all(all.map((e) => full(c.env, e))));
  });

  app.get("/tenants/:name", async (c) => {
    return c.json(await full(c.env, unwrap(await settleRpc(directoryOf(c.env).get(nameParam(c))))));
  });

  app.patch("/tenants/:name", async (c) => {
    const name = nameParam(c);
    const body = await jsonObject(c);
    const { state, password, ...rest } = body;
    // Everything is validated before anything changes: a bad value (22023) leaves the tenant as it was.
    for (const key of Object.keys(rest)) {
      if (!(SETTING_FIELDS as readonly string[]).includes(key)) {
        throw new PgError("invalid_parameter_value", `unknown field "${key}"`, { hint: `Fields are state, password, ${SETTING_FIELDS.join(", ")}.` });
      }
    }
    if (state !== undefined && state !== "active" && state !== "suspended") {
      throw new PgError("invalid_parameter_value", '"state" must be "active" or "suspended"');
    }
    if (password !== undefined) {
      if (typeof password !== "string") throw new PgError("invalid_parameter_value", '"password" must be a string');
      const bad = passwordProblem(password);
      if (bad) throw new PgError("invalid_parameter_value", bad);
    }
    const settings = unwrap(parseSettingsPatch(rest));
    const dir = directoryOf(c.env);
    let entry = unwrap(await settleRpc(dir.get(name)));
    if (typeof password === "string") unwrap(await settleRpc(routerFor(c.env, name).setPassword(password)));
    if (Object.keys(settings).length > 0) entry = unwrap(await settleRpc(dir.alterSettings(name, rest)));
    if (state !== undefined) entry = unwrap(await settleRpc(dir.setState(name, state)));
    onChange(name);
    if (state === "suspended") hooks.stopped({ tenantId: entry.id, name }, "was suspended");
    return c.json(await full(c.env, entry));
  });

  app.get("/tenants/:name/usage", async (c) => {
    const name = nameParam(c);
    const now = Date.now();
    const until = parseUsageTime(c.req.query("until"), now, now, '"until"');
    const since = parseUsageTime(c.req.query("since"), until - USAGE_DEFAULT_WINDOW_MS, now, '"since"');
    if (since > until) throw new PgError("invalid_parameter_value", `"since" (${new Date(since).toISOString()}) is after "until" (${new Date(until).toISOString()})`);
    const entry = unwrap(await settleRpc(directoryOf(c.env).get(name)));
    const usage = await settleRpc(quotaBucketFor(c.env, entry.id).usage(since, until, entry.id));
    return c.json({ name: entry.name, id: entry.id, since: new Date(since).toISOString(), until: new Date(until).toISOString(), ...usage });
  });

  app.delete("/tenants/:name", async (c) => {
    const name = nameParam(c);
    const before = unwrap(await settleRpc(directoryOf(c.env).get(name)));
    // Live work ends first: the drop removes the data it would be working on.
    hooks.stopped({ tenantId: before.id, name }, "is being dropped");
    const entry = unwrap(await settleRpc(directoryOf(c.env).drop(name)));
    onChange(name);
    return c.json(view(entry));
  });

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
