// A client for the edge's admin API (`/admin/tenants…`, `Authorization: Bearer <token>`), used by
// `warren tenant …` and by `warren dev` to create the demo tenant.
import { adminRequestTimeoutMs } from "./limits.ts";

/** A tenant as the admin API returns it; `password` only on creation. */
export interface AdminTenant {
  readonly name: string;
  readonly id: string | number;
  readonly password?: string;
  readonly [field: string]: unknown;
}

/** What `alterTenant` may change; settings values are sent as given and validated by the edge. */
export interface AlterPatch {
  state?: "active" | "suspended";
  password?: string;
  ruPerSecond?: unknown;
  burstRu?: unknown;
  spendLimitRu?: unknown;
  atSpendLimit?: unknown;
  maxConnections?: unknown;
  allowedCidrs?: unknown;
  allowedOrigins?: unknown;
}

interface KvParts {
  readBatches: number;
  readRequests: number;
  readBytes: number;
  writeBatches: number;
  writeRequests: number;
  writeBytes: number;
}

/** One hour (or the all-time totals) of a tenant's usage, as GET /admin/tenants/:name/usage returns it. */
export interface UsageRecord {
  ru: number;
  kv: KvParts;
  cpuMs: number;
  egressBytes: number;
  connections: number;
  httpRequests: number;
  grantedRu: number;
}

export interface TenantUsage {
  name: string;
  id: number;
  since: string;
  until: string;
  config: { ruPerSecond: number; burstRu: number; spendLimitRu: number | null; atSpendLimit: string };
  bucket: { tokensRu: number; refillRuPerSecond: number; burstRu: number; gateways: number };
  month: { month: string; ru: number; limitRu: number | null; atLimit: boolean; atSpendLimit: string };
  totals: UsageRecord & { lastReportMs: number };
  hours: Array<UsageRecord & { hourStartMs: number; storage: { liveBytes: number; mvccBytes: number } | null }>;
  storageNode: (KvParts & { requests: number; requestUnits: number; liveBytes: number; mvccBytes: number }) | null | { error: string };
  historyHoursMax: number;
}

/** A failed admin call, with the SQLSTATE the edge sent when it sent one. */
export class AdminError extends Error {
  readonly status: number;
  readonly code: string | undefined;
  readonly hint: string | undefined;
  constructor(status: number, message: string, code?: string, hint?: string) {
    super(message);
    this.name = "AdminError";
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
}

export class AdminClient {
  readonly baseUrl: string;
  private readonly token: string;
  private readonly timeoutMs: number;

  /** `timeoutMs` bounds each call (limits.ts adminRequestTimeoutMs unless a test overrides it). */
  constructor(baseUrl: string, token: string, timeoutMs = adminRequestTimeoutMs) {
    this.baseUrl = baseUrl.replace(/\/+$/, "");
    this.token = token;
    this.timeoutMs = timeoutMs;
  }

  async createTenant(name: string, password?: string): Promise<AdminTenant> {
    const body = password === undefined ? { name } : { name, password };
    return (await this.call("POST", "/admin/tenants", body)) as AdminTenant;
  }

  async listTenants(): Promise<AdminTenant[]> {
    const body = await this.call("GET", "/admin/tenants");
    // Accept a bare array or an object wrapping it, so the CLI does not break on either shape.
    if (Array.isArray(body)) return body as AdminTenant[];
    const wrapped = (body as { tenants?: unknown }).tenants;
    if (Array.isArray(wrapped)) return wrapped as AdminTenant[];
    throw new AdminError(200, `unexpected response from GET /admin/tenants: ${JSON.stringify(body).slice(0, 200)}`);
  }

  /** The tenant, or undefined when the edge answers 404. */
  async getTenant(name: string): Promise<AdminTenant | undefined> {
    try {
      return (await this.call("GET", `/admin/tenants/${encodeURIComponent(name)}`)) as AdminTenant;
    } catch (err) {
      if (err instanceof AdminError && err.status === 404) return undefined;
      throw err;
    }
  }

  /**
   * PATCH: `state` "active" | "suspended", a new `password` for the tenant's role, and/or settings
   * (ruPerSecond, burstRu, spendLimitRu, atSpendLimit, maxConnections, allowedCidrs). The edge
   * validates everything (22023) before changing anything.
   */
  async alterTenant(name: string, patch: AlterPatch): Promise<AdminTenant> {
    return (await this.call("PATCH", `/admin/tenants/${encodeURIComponent(name)}`, patch)) as AdminTenant;
  }

  /** The tenant's usage history (`since`/`until`: ISO 8601 or a span before now such as 24h). */
  async tenantUsage(name: string, window: { since?: string; until?: string } = {}): Promise<TenantUsage> {
    const q = new URLSearchParams();
    if (window.since !== undefined) q.set("since", window.since);
    if (window.until !== undefined) q.set("until", window.until);
    const query = q.size > 0 ? `?${q.toString()}` : "";
    return (await this.call("GET", `/admin/tenants/${encodeURIComponent(name)}/usage${query}`)) as TenantUsage;
  }

  /** The deny list: {"addresses": [CIDR…], "tenants": [NAME…]}. */
  async denyList(): Promise<DenyListView> {
    return (await this.call("GET", "/admin/deny")) as DenyListView;
  }

  async denyAdd(entry: { address: string } | { tenant: string }): Promise<DenyListView> {
    return (await this.call("POST", "/admin/deny", entry)) as DenyListView;
  }

  async denyRemove(entry: { address: string } | { tenant: string }): Promise<DenyListView> {
    return (await this.call("POST", "/admin/deny/remove", entry)) as DenyListView;
  }

  async dropTenant(name: string): Promise<void> {
    await this.call("DELETE", `/admin/tenants/${encodeURIComponent(name)}`);
  }

  private timedOut(method: string, path: string): AdminError {
    return new AdminError(
      0,
      `the admin API at ${this.baseUrl} did not answer ${method} ${path} within ${this.timeoutMs} ms`,
      undefined,
      "is the edge (wrangler dev) stuck? See DATA/logs/edge.log",
    );
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = this.baseUrl + path;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? null : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      if ((err as Error).name === "TimeoutError") throw this.timedOut(method, path);
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new AdminError(0, `cannot reach the admin API at ${this.baseUrl} (${cause})`, undefined, "is `warren dev` running? Pass --admin-url or set WARREN_ADMIN_URL");
    }
    let text: string;
    try {
      // The same signal bounds the body: a server that sends headers and then stalls is cut off too.
      text = await res.text();
    } catch (err) {
      if ((err as Error).name === "TimeoutError") throw this.timedOut(method, path);
      throw new AdminError(res.status, `${method} ${path}: the response broke off (${(err as Error).message})`);
    }
    let parsed: unknown = undefined;
    if (text.length > 0) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = undefined;
      }
    }
    if (res.ok) {
      if (parsed === undefined && text.length > 0) {
        throw new AdminError(res.status, `${method} ${path} answered with non-JSON: ${text.slice(0, 200)}`);
      }
      return parsed;
    }
    const fields = errorFields(parsed);
    const message = fields.message ?? (text.slice(0, 200) || res.statusText);
    const hint = fields.hint ?? (res.status === 401 || res.status === 403 ? "check --admin-token / WARREN_ADMIN_TOKEN" : undefined);
    throw new AdminError(res.status, message, fields.code, hint);
  }
}

export interface DenyListView {
  addresses: string[];
  tenants: string[];
}

/** Pulls code/message/hint from `{code,message}` or `{error:{code,message}}` bodies. */
function errorFields(body: unknown): { code?: string; message?: string; hint?: string } {
  if (typeof body !== "object" || body === null) return {};
  const inner = (body as { error?: unknown }).error;
  const src = (typeof inner === "object" && inner !== null ? inner : body) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const message = str(src.message) ?? str(inner);
  return { code: str(src.code), message, hint: str(src.hint) };
}
