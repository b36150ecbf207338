// Reaching a real local Warren stack for measurements (sqllogictest, bank test, bench:sql):
//   - an already running one (e.g. `npm start` in another terminal, so the engine engineer can
//     iterate quickly): WARREN_STACK_DIR names its data dir (its ready.json is read), or
//     WARREN_HTTP_URL, WARREN_ADMIN_URL and WARREN_ADMIN_TOKEN (and WARREN_PG_URL) give it;
//   - otherwise a fresh one from test/harness/stack.ts (`startStack()`), stopped by stop().
// Tenants are created through the admin API, which is the documented contract:
//   POST {admin.url}/admin/tenants  Authorization: Bearer <token>  {"name"} → {name, id, password}
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { NeonHttpClient } from "./neon-http.ts";

export interface WarrenStack {
  /** Base URL of the HTTP SQL endpoint (POST {http}/sql). */
  http: string;
  admin: { url: string; token: string };
  /** The tunnel (Postgres wire protocol): postgresql://HOST:PORT, when known (WARREN_PG_URL). */
  pg?: string;
  stop(): Promise<void>;
}

export interface WarrenTenant {
  name: string;
  id: string;
  password: string;
}

const stackHarnessPath = resolve(fileURLToPath(new URL("../../test/harness/stack.ts", import.meta.url)));

/** Why a Warren stack cannot be reached, or undefined when it can (for skip messages). */
export function warrenStackUnavailableReason(): string | undefined {
  if (process.env.WARREN_STACK_DIR) {
    const ready = resolve(process.env.WARREN_STACK_DIR, "ready.json");
    return existsSync(ready) ? undefined : `${ready} does not exist: is \`warren dev\` running on that data dir?`;
  }
  if (process.env.WARREN_HTTP_URL && process.env.WARREN_ADMIN_URL && process.env.WARREN_ADMIN_TOKEN) return undefined;
  if (!existsSync(stackHarnessPath)) return "test/harness/stack.ts (the local stack harness) does not exist yet";
  return undefined;
}

export async function acquireWarrenStack(): Promise<WarrenStack> {
  if (process.env.WARREN_STACK_DIR) {
    const path = resolve(process.env.WARREN_STACK_DIR, "ready.json");
    const r = JSON.parse(readFileSync(path, "utf8")) as { http?: unknown; pg?: unknown; admin?: { url?: unknown; token?: unknown } };
    if (typeof r.http !== "string" || typeof r.admin?.url !== "string" || typeof r.admin.token !== "string") {
      throw new Error(`${path} lacks http / admin.url / admin.token`);
    }
    return {
      http: r.http, admin: { url: r.admin.url, token: r.admin.token },
      pg: typeof r.pg === "string" ? r.pg : undefined, stop: async () => {},
    };
  }
  const { WARREN_HTTP_URL: http, WARREN_ADMIN_URL: adminUrl, WARREN_ADMIN_TOKEN: token } = process.env;
  if (http && adminUrl && token) {
    return { http, admin: { url: adminUrl, token }, pg: process.env.WARREN_PG_URL, stop: async () => {} };
  }
  const reason = warrenStackUnavailableReason();
  if (reason) throw new Error(`cannot start a Warren stack: ${reason}`);
  // Imported by path at run time: the harness belongs to another part and may change shape.
  const mod = (await import(stackHarnessPath)) as { startStack?: () => Promise<Record<string, unknown>> };
  if (typeof mod.startStack !== "function") throw new Error("test/harness/stack.ts has no startStack()");
  const s = await mod.startStack();
  const admin = s.admin as { url?: unknown; token?: unknown } | undefined;
  if (typeof s.http !== "string" || typeof admin?.url !== "string" || typeof admin.token !== "string") {
    await (s.stop as (() => Promise<void>) | undefined)?.();
    throw new Error(`startStack() returned an unexpected shape: keys ${Object.keys(s).join(", ")}`);
  }
  return {
    http: s.http,
    admin: { url: admin.url, token: admin.token },
    pg: typeof s.pg === "string" ? s.pg : undefined,
    stop: async () => await (s.stop as () => Promise<void>)(),
  };
}

export async function createTenant(stack: WarrenStack, name: string): Promise<WarrenTenant> {
  const res = await fetch(`${stack.admin.url.replace(/\/+$/, "")}/admin/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${stack.admin.token}`, "content-type": "application/json" },
    body: JSON.stringify({ name }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`creating tenant ${name}: HTTP ${res.status}: ${text.slice(0, 300)}`);
  const t = JSON.parse(text) as { name?: unknown; id?: unknown; password?: unknown };
  if (typeof t.password !== "string") throw new Error(`creating tenant ${name}: no password in ${text.slice(0, 300)}`);
  return { name: typeof t.name === "string" ? t.name : name, id: String(t.id), password: t.password };
}

/** Best effort: a dropped tenant frees its isolate and data; failure only leaks scratch data. */
export async function dropTenant(stack: WarrenStack, name: string): Promise<void> {
  await fetch(`${stack.admin.url.replace(/\/+$/, "")}/admin/tenants/${encodeURIComponent(name)}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${stack.admin.token}` },
    signal: AbortSignal.timeout(30_000),
  }).catch(() => {});
}

export function tenantConnectionString(t: WarrenTenant): string {
  return `postgresql://warren.${t.name}:${encodeURIComponent(t.password)}@${t.name}.localhost/defaultdb`;
}

/** The tenant's Postgres URL through the tunnel (user NAME.TENANT names the virtual cluster). */
export function tenantPgUrl(stack: WarrenStack, t: WarrenTenant): string {
  if (!stack.pg) throw new Error("this stack has no tunnel address (set WARREN_PG_URL for an external stack)");
  const base = new URL(stack.pg);
  return `postgresql://warren.${t.name}:${encodeURIComponent(t.password)}@${base.host}/defaultdb?sslmode=disable`;
}

export function tenantClient(stack: WarrenStack, t: WarrenTenant, timeoutMs?: number): NeonHttpClient {
  return new NeonHttpClient({ http: stack.http, connectionString: tenantConnectionString(t), timeoutMs });
}

let tenantSeq = 0;
/** Tenant names: lowercase letters, digits and '-', unique per process and run. */
export function scratchTenantName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 24);
  return `${clean || "t"}-${process.pid}-${Date.now().toString(36)}-${++tenantSeq}`;
}
