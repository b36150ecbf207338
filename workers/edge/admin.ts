// The admin HTTP API (operators and `warren tenant …`). Every route needs
// `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
//
//   POST   /admin/tenants          {"name", "password"?}      → 201 {"name","id","password"}
//   GET    /admin/tenants                                     → 200 [{"name","id","state","createdAt"}]
//   GET    /admin/tenants/:name                               → 200 {"name","id","state","createdAt"}
//   PATCH  /admin/tenants/:name    {"state"?, "password"?}    → 200 {"name","id","state","createdAt"}
//   DELETE /admin/tenants/:name                               → 200 {"name","id","state":"dropped","createdAt"}
//
// Errors: {"severity","code","message","detail"?,"hint"?} with 400/401/404/409/413/503.
import { Hono, type Context } from "hono";
import { PgError } from "../../common/errors.ts";
import type { DirectoryEntry } from "../../durable-objects/directory/tenant-directory.ts";
import { directoryOf, routerFor, secretOf } from "../../durable-objects/env.ts";
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
  state: string;
  createdAt: string;
}

function view(e: DirectoryEntry): TenantView {
  return { name: e.name, id: e.id, state: e.state, createdAt: new Date(e.createdAtMs).toISOString() };
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

async function requireAdmin(c: Context<{ Bindings: EdgeEnv }>): Promise<void> {
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

/** `onChange(name)` lets the edge drop its cached route when a tenant changes through this isolate. */
export function adminRoutes(onChange: (name: string) => void): Hono<{ Bindings: EdgeEnv }> {
  const app = new Hono<{ Bindings: EdgeEnv }>();

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
    return c.json(all.map(view));
  });

  app.get("/tenants/:name", async (c) => {
    return c.json(view(unwrap(await settleRpc(directoryOf(c.env).get(nameParam(c))))));
  });

  app.patch("/tenants/:name", async (c) => {
    const name = nameParam(c);
    const body = await jsonObject(c);
    const { state, password } = body;
    for (const key of Object.keys(body)) {
      if (key !== "state" && key !== "password") throw new PgError("invalid_parameter_value", `unknown field "${key}"`);
    }
    if (state !== undefined && state !== "active" && state !== "suspended") {
      throw new PgError("invalid_parameter_value", '"state" must be "active" or "suspended"');
    }
    if (password !== undefined && typeof password !== "string") {
      throw new PgError("invalid_parameter_value", '"password" must be a string');
    }
    const dir = directoryOf(c.env);
    let entry = unwrap(await settleRpc(dir.get(name)));
    if (typeof password === "string") unwrap(await settleRpc(routerFor(c.env, name).setPassword(password)));
    if (state !== undefined) entry = unwrap(await settleRpc(dir.setState(name, state)));
    onChange(name);
    return c.json(view(entry));
  });

  app.delete("/tenants/:name", async (c) => {
    const name = nameParam(c);
    const entry = unwrap(await settleRpc(directoryOf(c.env).drop(name)));
    onChange(name);
    return c.json(view(entry));
  });

  app.notFound((c) => errorResponse(new PgError("protocol_violation", `no admin route ${c.req.method} ${c.req.path}`), 404));
  app.onError((err) => errorResponse(err));
  return app;
}
