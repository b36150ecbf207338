// The deny list: client networks and virtual clusters the edge refuses (28000), kept by the
// TenantDirectory and cached by each edge isolate for limits.denyListTtlMs. An address entry is a
// CIDR block (a single address is a /32 or /128) and applies to every tenant; a tenant entry
// refuses every client of that tenant. Adding an entry also ends matching live sessions (the edge
// that carried the command at once, others when their cached copy refreshes).
import { limits } from "../limits.ts";
import { fail, ok, type Result } from "../wire-error.ts";
import { isTenantName } from "../tenant-name.ts";
import { cidrContains, formatCidr, parseCidr } from "./cidr.ts";

export interface DenyList {
  /** Canonical CIDR text, in the order added. */
  addresses: string[];
  /** Tenant names. */
  tenants: string[];
}

export type DenyEntry = { address: string } | { tenant: string };

export const EMPTY_DENY_LIST: DenyList = Object.freeze({ addresses: [], tenants: [] }) as DenyList;

/** Validates an entry from the admin API / CLI / SQL: exactly one of address (IP or CIDR) or tenant. */
export function parseDenyEntry(body: Record<string, unknown>): Result<DenyEntry> {
  const keys = Object.keys(body);
  if (keys.length !== 1 || (keys[0] !== "address" && keys[0] !== "tenant")) {
    return fail("invalid_parameter_value", 'a deny-list entry is {"address": "IP or CIDR"} or {"tenant": "NAME"}');
  }
  if ("address" in body) {
    const c = parseCidr(body["address"] as string);
    if ("problem" in c) return fail("invalid_parameter_value", `invalid address in the deny list: ${c.problem}`);
    return ok({ address: formatCidr(c) });
  }
  const t = body["tenant"];
  if (typeof t !== "string" || !isTenantName(t)) return fail("invalid_name", `invalid virtual cluster name ${JSON.stringify(t)}`);
  return ok({ tenant: t });
}

/** The list with `entry` added (idempotent); 54000 past limits.denyListEntriesMax. */
export function withEntry(list: DenyList, entry: DenyEntry): Result<DenyList> {
  const next = { addresses: [...list.addresses], tenants: [...list.tenants] };
  if ("address" in entry && !next.addresses.includes(entry.address)) next.addresses.push(entry.address);
  if ("tenant" in entry && !next.tenants.includes(entry.tenant)) next.tenants.push(entry.tenant);
  if (next.addresses.length + next.tenants.length > limits.denyListEntriesMax) {
    return fail("program_limit_exceeded", `the deny list holds at most ${limits.denyListEntriesMax} entries`);
  }
  return ok(next);
}

export function withoutEntry(list: DenyList, entry: DenyEntry): DenyList {
  return {
    addresses: list.addresses.filter((a) => !("address" in entry) || a !== entry.address),
    tenants: list.tenants.filter((t) => !("tenant" in entry) || t !== entry.tenant),
  };
}

/** Why a client of `tenant` at `address` is refused, or null. */
export function denial(list: DenyList, tenant: string, address: string): string | null {
  if (list.tenants.includes(tenant)) return `virtual cluster "${tenant}" is on the deny list`;
  if (address === "" || list.addresses.length === 0) return null;
  const a = parseCidr(address);
  if ("problem" in a) return null;
  for (const text of list.addresses) {
    const c = parseCidr(text);
    if (!("problem" in c) && c.family === a.family && cidrContains(c, a.bytes)) return `connections from ${address} are denied (deny list entry ${text})`;
  }
  return null;
}

/** Whether `address` lies in one of `cidrs` (empty: any address; an unknown address "" is in none). */
export function addressAllowed(cidrs: readonly string[], address: string): boolean {
  if (cidrs.length === 0) return true;
  const a = parseCidr(address);
  if (address === "" || "problem" in a) return false;
  return cidrs.some((text) => {
    const c = parseCidr(text);
    return !("problem" in c) && c.family === a.family && cidrContains(c, a.bytes);
  });
}
