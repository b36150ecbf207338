// A tenant's settings: what the TenantDirectory keeps and the parts apply — the QuotaBucket (RU
// refill rate, burst, monthly spend limit and what happens at it) and the TenantRouter (connection
// cap, allowed client networks and allowed web origins, carried on the route for the edge to enforce).
//
// A change arrives as a patch (admin API, `warren tenant alter`); it is validated whole before
// anything is stored, and a bad value is refused with 22023 naming the field and its bound.
import { FREE_TIER } from "../../common/request-units.ts";
import { limits } from "../limits.ts";
import { fail, ok, type Result } from "../wire-error.ts";
import { formatCidr, parseCidr } from "./cidr.ts";
import { parseOrigin } from "./origin.ts";

export type AtSpendLimit = "throttle" | "refuse";

export interface TenantSettings {
  /** RU refill rate (RU/s); 0 makes the burst a hard limit. */
  ruPerSecond: number;
  /** Largest number of RU the bucket holds (and the first grant's reserve). */
  burstRu: number;
  /** RU a calendar month (UTC) may consume; null = no limit. */
  spendLimitRu: number | null;
  /** At the spend limit: slow to the free baseline rate, or refuse queries with 53400. */
  atSpendLimit: AtSpendLimit;
  /** Connections the edge admits at once for this tenant; null = the edge's default. */
  maxConnections: number | null;
  /** Client networks allowed to connect (canonical CIDR text); empty = any. */
  allowedCidrs: string[];
  /** Web origins whose pages may use the tenant from a browser (canonical, origin.ts); empty = any. */
  allowedOrigins: string[];
}

export const DEFAULT_SETTINGS: Readonly<TenantSettings> = Object.freeze({
  ruPerSecond: FREE_TIER.refillRuPerSecond,
  burstRu: FREE_TIER.burstRu,
  spendLimitRu: null,
  atSpendLimit: "throttle",
  maxConnections: null,
  allowedCidrs: [],
  allowedOrigins: [],
});

/** The admin API's field names, in the order they are documented. */
export const SETTING_FIELDS = ["ruPerSecond", "burstRu", "spendLimitRu", "atSpendLimit", "maxConnections", "allowedCidrs", "allowedOrigins"] as const;

/** A tenant's effective settings: what was stored, defaults for the rest (entries older than settings have `{}`). */
export function settingsOf(stored: unknown): TenantSettings {
  const s = (typeof stored === "object" && stored !== null ? stored : {}) as Partial<TenantSettings>;
  return {
    ruPerSecond: typeof s.ruPerSecond === "number" ? s.ruPerSecond : DEFAULT_SETTINGS.ruPerSecond,
    burstRu: typeof s.burstRu === "number" ? s.burstRu : DEFAULT_SETTINGS.burstRu,
    spendLimitRu: typeof s.spendLimitRu === "number" ? s.spendLimitRu : null,
    atSpendLimit: s.atSpendLimit === "refuse" ? "refuse" : "throttle",
    maxConnections: typeof s.maxConnections === "number" ? s.maxConnections : null,
    allowedCidrs: Array.isArray(s.allowedCidrs) ? s.allowedCidrs.filter((c): c is string => typeof c === "string") : [],
    allowedOrigins: Array.isArray(s.allowedOrigins) ? s.allowedOrigins.filter((c): c is string => typeof c === "string") : [],
  };
}

function number(field: string, v: unknown, min: number, max: number, what: string): Result<number> {
  if (typeof v !== "number" || !Number.isFinite(v)) return fail("invalid_parameter_value", `"${field}" must be a number (${what}), got ${JSON.stringify(v)}`);
  if (v < min || v > max) return fail("invalid_parameter_value", `"${field}" must be between ${min} and ${max} (${what}), got ${v}`);
  return ok(v);
}

/**
 * Validates a patch of settings (every key must be a setting; values as documented) and returns the
 * normalized patch, or the first problem as 22023. Nothing is applied here.
 */
export function parseSettingsPatch(body: Record<string, unknown>): Result<Partial<TenantSettings>> {
  const out: Partial<TenantSettings> = {};
  for (const [key, v] of Object.entries(body)) {
    switch (key) {
      case "ruPerSecond": {
        const r = number(key, v, 0, limits.tenantRuPerSecondMax, "RU per second; 0 makes the burst a hard limit");
        if (!r.ok) return r;
        out.ruPerSecond = r.value;
        break;
      }
      case "burstRu": {
        const r = number(key, v, 0, limits.tenantBurstRuMax, "RU");
        if (!r.ok) return r;
        out.burstRu = r.value;
        break;
      }
      case "spendLimitRu": {
        if (v === null) {
          out.spendLimitRu = null;
          break;
        }
        const r = number(key, v, 1, limits.tenantSpendLimitRuMax, "RU per calendar month, or null for none");
        if (!r.ok) return r;
        out.spendLimitRu = r.value;
        break;
      }
      case "atSpendLimit":
        if (v !== "throttle" && v !== "refuse") {
          return fail("invalid_parameter_value", `"atSpendLimit" must be "throttle" or "refuse", got ${JSON.stringify(v)}`);
        }
        out.atSpendLimit = v;
        break;
      case "maxConnections": {
        if (v === null) {
          out.maxConnections = null;
          break;
        }
        const r = number(key, v, 1, limits.tenantConnectionsMax, "connections at once, or null for the edge's default");
        if (!r.ok) return r;
        if (!Number.isInteger(r.value)) return fail("invalid_parameter_value", `"maxConnections" must be a whole number, got ${r.value}`);
        out.maxConnections = r.value;
        break;
      }
      case "allowedCidrs": {
        if (!Array.isArray(v)) return fail("invalid_parameter_value", `"allowedCidrs" must be an array of CIDR blocks (empty: any network)`);
        if (v.length > limits.tenantAllowedCidrsMax) {
          return fail("invalid_parameter_value", `"allowedCidrs" has ${v.length} blocks; at most ${limits.tenantAllowedCidrsMax} are allowed`);
        }
        const cidrs: string[] = [];
        for (const item of v) {
          const c = parseCidr(item as string);
          if ("problem" in c) return fail("invalid_parameter_value", `invalid CIDR block in "allowedCidrs": ${c.problem}`);
          const text = formatCidr(c);
          if (!cidrs.includes(text)) cidrs.push(text);
        }
        out.allowedCidrs = cidrs;
        break;
      }
      case "allowedOrigins": {
        if (!Array.isArray(v)) return fail("invalid_parameter_value", `"allowedOrigins" must be an array of origins like "https://app.example.com" (empty: any origin)`);
        if (v.length > limits.tenantAllowedOriginsMax) {
          return fail("invalid_parameter_value", `"allowedOrigins" has ${v.length} origins; at most ${limits.tenantAllowedOriginsMax} are allowed`);
        }
        const origins: string[] = [];
        for (const item of v) {
          const o = parseOrigin(item);
          if ("problem" in o) return fail("invalid_parameter_value", `invalid origin in "allowedOrigins": ${o.problem}`);
          if (!origins.includes(o.origin)) origins.push(o.origin);
        }
        out.allowedOrigins = origins;
        break;
      }
      default:
        return fail("invalid_parameter_value", `unknown setting "${key}"`, { hint: `Settings are ${SETTING_FIELDS.join(", ")}.` });
    }
  }
  return ok(out);
}

/** The settings after a validated patch. */
export function applySettingsPatch(current: TenantSettings, patch: Partial<TenantSettings>): TenantSettings {
  return { ...current, ...patch, allowedCidrs: [...(patch.allowedCidrs ?? current.allowedCidrs)], allowedOrigins: [...(patch.allowedOrigins ?? current.allowedOrigins)] };
}
