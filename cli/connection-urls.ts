// The connection URLs the CLI prints for a tenant. The tenant travels in the user name as
// `ROLE.TENANT` (one of the forms the edge accepts), so a plain Postgres URL through the tunnel
// reaches the right virtual cluster with any driver.
import type { TenantConnection } from "./data-dir.ts";
import type { Address } from "./options.ts";

/** The role every new tenant starts with (the admin API creates it with the tenant's password). */
export const defaultRole = "warren";
/** The database every new tenant starts with, as in CockroachDB. */
export const defaultDatabase = "defaultdb";

/** postgresql://warren.TENANT:PASSWORD@HOST:PORT/defaultdb?sslmode=disable */
export function tenantPgUrl(tenant: string, password: string, tunnel: Address): string {
  const user = encodeURIComponent(`${defaultRole}.${tenant}`);
  const host = tunnel.host.includes(":") ? `[${tunnel.host}]` : tunnel.host;
  // The tunnel speaks plain TCP on loopback; TLS, where there is any, is on the WebSocket leg.
  return `postgresql://${user}:${encodeURIComponent(password)}@${host}:${tunnel.port}/${defaultDatabase}?sslmode=disable`;
}

/** The edge's HTTP SQL endpoint for `httpBase` (the edge's origin). */
export function httpSqlUrl(httpBase: string): string {
  return `${httpBase.replace(/\/+$/, "")}/sql`;
}

/** The tunnel's address as a credential-less URL, as written to ready.json's `pg`. */
export function tunnelUrl(tunnel: Address): string {
  const host = tunnel.host.includes(":") ? `[${tunnel.host}]` : tunnel.host;
  return `postgresql://${host}:${tunnel.port}`;
}

/** Reads back what tunnelUrl() wrote. */
export function parseTunnelUrl(url: string): Address | undefined {
  try {
    const u = new URL(url);
    const host = u.hostname.replace(/^\[|\]$/g, "");
    const port = Number(u.port || "5432");
    return { host, port };
  } catch {
    return undefined;
  }
}

export function tenantConnection(
  tenant: { name: string; id: string | number },
  password: string,
  tunnel: Address,
  httpBase: string,
): TenantConnection {
  return {
    name: tenant.name,
    id: tenant.id,
    password,
    pg: tenantPgUrl(tenant.name, password, tunnel),
    http: httpSqlUrl(httpBase),
  };
}
