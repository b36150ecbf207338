// The operator page at /admin (a browser's view of the admin API):
//
//   GET  /admin                  the list of virtual clusters, or the sign-in form
//   POST /admin/login            form field "token" (the admin token) → session cookie, 303 /admin
//   POST /admin/logout           clears the cookie
//   GET  /admin/clusters/:name   one cluster: settings, RU/s and storage charts (last 7 days)
//
// The token travels once, in a POST body; it never appears in a URL or a page. What the browser
// keeps is a session cookie (HttpOnly, SameSite=Strict, Path=/admin, Secure on https) holding an
// expiry and an HMAC of it under the admin token: it cannot be forged without the token, it stops
// working when the token is rotated, and it is not the token. Pages are read-only, and the
// SameSite=Strict cookie is not sent with requests other sites start.
import type { Context, Hono } from "hono";
import { secretOf } from "../../../durable-objects/env.ts";
import { tokensEqual } from "../admin.ts";
import type { EdgeEnv } from "../env.ts";
import type { AdminHooks, TenantOperations } from "../tenant-operations.ts";
import { clusterPage, listPage, loginPage } from "./html.ts";
import { isTenantName } from "../../../durable-objects/tenant-name.ts";
import { readBodyLimited } from "../../gateway/http/body.ts";
import { limits } from "../limits.ts";

const COOKIE = "warren_admin";
const SESSION_LABEL = "warren/admin-session/v1";
/** How long a sign-in lasts: a working day. */
const SESSION_TTL_MS = 12 * 3_600_000;
/** The cluster page's charts cover this window. */
const CHART_WINDOW_MS = 7 * 24 * 3_600_000;

const encoder = new TextEncoder();

async function mac(token: string, expMs: number): Promise<string> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(token), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(`${SESSION_LABEL}\n${expMs}`)));
  return btoa(String.fromCharCode(...sig)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function adminToken(env: EdgeEnv): string | null {
  const t = secretOf(env as unknown as Record<string, unknown>, "ADMIN_TOKEN");
  return "missing" in t ? null : t.value;
}

function cookieOf(c: Context<{ Bindings: EdgeEnv }>): string | null {
  const header = c.req.header("cookie") ?? "";
  for (const part of header.split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === COOKIE) return v.join("=");
  }
  return null;
}

async function signedIn(c: Context<{ Bindings: EdgeEnv }>): Promise<boolean> {
  const token = adminToken(c.env);
  const value = cookieOf(c);
  if (token === null || value === null) return false;
  const m = /^(\d{1,15})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m || Number(m[1]) < Date.now()) return false;
  return tokensEqual(m[2]!, await mac(token, Number(m[1])));
}

function html(body: string, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", ...headers } });
}

export function consoleRoutes(app: Hono<{ Bindings: EdgeEnv }>, ops: (env: EdgeEnv) => TenantOperations, _hooks?: AdminHooks): void {
  app.get("/admin", async (c) => {
    if (!(await signedIn(c))) return html(loginPage(null), adminToken(c.env) === null ? 503 : 200);
    const o = ops(c.env);
    const tenants = await o.list();
    const usage = new Map<string, { ru: number; liveBytes: number | null }>();
    await Promise.all(
      tenants.map(async (t) => {
        const u = await o.usage(t.name, Date.now() - CHART_WINDOW_MS, Date.now()).catch(() => null);
        if (u) usage.set(t.name, { ru: u.totals.ru, liveBytes: [...u.hours].reverse().find((h) => h.storage !== null)?.storage?.liveBytes ?? null });
      }),
    );
    return html(listPage(tenants, usage));
  });

  app.post("/admin/login", async (c) => {
    const token = adminToken(c.env);
    if (token === null) return html(loginPage("The admin token is not configured on this edge (wrangler secret put ADMIN_TOKEN)."), 503);
    const form = new URLSearchParams(new TextDecoder().decode(await readBodyLimited(c.req.raw, limits.adminBodyBytesMax, "sign-in form")));
    const given = form.get("token") ?? "";
    if (!(await tokensEqual(given, token))) return html(loginPage("Wrong admin token."), 401);
    const expMs = Date.now() + SESSION_TTL_MS;
    const secure = new URL(c.req.url).protocol === "https:" ? "; Secure" : "";
    return new Response(null, {
      status: 303,
      headers: { location: "/admin", "set-cookie": `${COOKIE}=${expMs}.${await mac(token, expMs)}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=${SESSION_TTL_MS / 1000}${secure}`, "cache-control": "no-store" },
    });
  });

  app.post("/admin/logout", () => new Response(null, { status: 303, headers: { location: "/admin", "set-cookie": `${COOKIE}=; HttpOnly; SameSite=Strict; Path=/admin; Max-Age=0` } }));

  app.get("/admin/clusters/:name", async (c) => {
    if (!(await signedIn(c))) return new Response(null, { status: 303, headers: { location: "/admin" } });
    const name = c.req.param("name");
    if (!isTenantName(name)) return html(`<p>invalid virtual cluster name</p>`, 400);
    const o = ops(c.env);
    const until = Date.now();
    const since = until - CHART_WINDOW_MS;
    try {
      const [t, u] = await Promise.all([o.show(name), o.usage(name, since, until)]);
      return html(clusterPage(t, u, since, until));
    } catch {
      return html(`<p>virtual cluster ${name.replace(/[^a-z0-9-]/g, "")} does not exist. <a href="/admin">back</a></p>`, 404);
    }
  });
}
