// Which virtual cluster a connection is for. Clients name it in one of four places, because each
// driver lets users set a different one:
//
//   options   `options=--cluster=TENANT`        (libpq options; what CockroachDB Serverless uses)
//   user      `NAME.TENANT`                     (any driver; the suffix after the last dot)
//   database  `TENANT.DB`                       (any driver; the prefix before the first dot)
//   host      `TENANT.anything…` as the first DNS label (needs DNS / SNI, so only some setups)
//
// The first three are explicit: when more than one is present they must agree. The host label is
// used only when none of them names a tenant, because a hostname's first label is often not a
// tenant at all (`api.example.com`, `localhost`). Over HTTP the same parameters come from the
// Neon-Connection-String header (postgresql://user:password@host/db?options=…).
import { PgError } from "../../common/errors.ts";
import { isTenantName } from "../../durable-objects/tenant-name.ts";
import { limits } from "./limits.ts";

export interface ConnectionParams {
  user?: string | undefined;
  database?: string | undefined;
  options?: string | undefined;
  host?: string | undefined;
  password?: string | undefined;
}

/** The system virtual cluster's name: reserved, never a tenant's (workers/edge/system/). */
export const SYSTEM_CLUSTER_NAME = "system";

export type IdentitySource = "options" | "user" | "database" | "host";

export interface TenantIdentity {
  tenant: string;
  source: IdentitySource;
  /** The user with the `.TENANT` suffix removed (when the user named the tenant). */
  user: string | undefined;
  /** The database with the `TENANT.` prefix removed (when the database named the tenant). */
  database: string | undefined;
}

/** `--cluster=TENANT` among libpq-style options (whitespace-separated; `\ ` escapes a space). */
export function tenantFromOptions(options: string | undefined): string | null {
  if (!options) return null;
  for (const token of options.split(/(?<!\\)\s+/)) {
    const m = /^--cluster=(.*)$/.exec(token);
    if (m) return m[1]!;
  }
  return null;
}

/** `NAME.TENANT` → TENANT (suffix after the last dot), when it is a valid tenant name. */
export function tenantFromUser(user: string | undefined): { tenant: string; user: string } | null {
  if (!user) return null;
  const dot = user.lastIndexOf(".");
  if (dot <= 0) return null;
  const tenant = user.slice(dot + 1);
  return isTenantName(tenant) ? { tenant, user: user.slice(0, dot) } : null;
}

/** `TENANT.DB` → TENANT (prefix before the first dot), when it is a valid tenant name. */
export function tenantFromDatabase(database: string | undefined): { tenant: string; database: string } | null {
  if (!database) return null;
  const dot = database.indexOf(".");
  if (dot <= 0 || dot === database.length - 1) return null;
  const tenant = database.slice(0, dot);
  return isTenantName(tenant) ? { tenant, database: database.slice(dot + 1) } : null;
}

/**
 * The first DNS label of a hostname with at least one more label after it (`acme.localhost`,
 * `acme.db.example.com`), when it is a valid tenant name. IP addresses and single labels name none.
 */
export function tenantFromHost(host: string | undefined): string | null {
  if (!host) return null;
  let name = host.trim().toLowerCase();
  if (name.startsWith("[")) return null; // IPv6 literal
  name = name.replace(/:\d+$/, "").replace(/\.$/, "");
  if (/^[0-9.]+$/.test(name)) return null; // IPv4 literal
  const labels = name.split(".");
  if (labels.length < 2) return null;
  return isTenantName(labels[0]!) ? labels[0]! : null;
}

const FORMS_HINT =
  "Name the virtual cluster with options=--cluster=TENANT, user NAME.TENANT, database TENANT.DB, or the host TENANT.<domain>.";

/** Finds the tenant a connection names; throws PgError when it names none, or two different ones. */
export function identifyTenant(p: ConnectionParams): TenantIdentity {
  const fromOptions = tenantFromOptions(p.options);
  if (fromOptions !== null && !isTenantName(fromOptions)) {
    throw new PgError("invalid_catalog_name", `invalid virtual cluster name ${JSON.stringify(fromOptions)} in options`, {
      hint: FORMS_HINT,
    });
  }
  const fromUser = tenantFromUser(p.user);
  const fromDatabase = tenantFromDatabase(p.database);
  const explicit: Array<[IdentitySource, string]> = [];
  if (fromOptions !== null) explicit.push(["options", fromOptions]);
  if (fromUser) explicit.push(["user", fromUser.tenant]);
  if (fromDatabase) explicit.push(["database", fromDatabase.tenant]);

  const user = fromUser ? fromUser.user : p.user;
  const database = fromDatabase ? fromDatabase.database : p.database;
  if (explicit.length > 0) {
    const [source, tenant] = explicit[0]!;
    const other = explicit.find(([, t]) => t !== tenant);
    if (other) {
      throw new PgError(
        "invalid_authorization_specification",
        `the connection names two virtual clusters: "${tenant}" (${source}) and "${other[1]}" (${other[0]})`,
        { hint: "Name one virtual cluster; where several parameters name it, they must agree." },
      );
    }
    return { tenant, source, user, database };
  }
  // `psql …/system`: the system virtual cluster (operators, admin token) by its database name alone.
  if (p.database === SYSTEM_CLUSTER_NAME) return { tenant: SYSTEM_CLUSTER_NAME, source: "database", user, database: SYSTEM_CLUSTER_NAME };
  const fromHost = tenantFromHost(p.host);
  if (fromHost) return { tenant: fromHost, source: "host", user, database };
  throw new PgError("invalid_catalog_name", "the connection does not name a virtual cluster", { hint: FORMS_HINT });
}

/** Parses Neon's `Neon-Connection-String` header: postgres(ql)://user:password@host[:port]/db[?options=…]. */
export function parseConnectionString(text: string): ConnectionParams {
  if (text.length > limits.connectionStringBytesMax) {
    throw new PgError("program_limit_exceeded", `Neon-Connection-String is longer than ${limits.connectionStringBytesMax} bytes`);
  }
  let url: URL;
  const scheme = /^(postgres|postgresql):\/\//i.exec(text);
  if (!scheme) {
    throw new PgError("protocol_violation", "Neon-Connection-String must be a postgresql:// URL", {
      hint: "Pass postgresql://USER:PASSWORD@HOST/DATABASE to neon().",
    });
  }
  try {
    // URL only parses authority and path for special schemes; swap in http: to reuse it.
    url = new URL("http://" + text.slice(scheme[0].length));
  } catch {
    throw new PgError("protocol_violation", "Neon-Connection-String is not a valid URL");
  }
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new PgError("protocol_violation", "Neon-Connection-String has an invalid percent-encoding");
    }
  };
  const path = url.pathname.replace(/^\//, "");
  return {
    user: url.username ? decode(url.username) : undefined,
    password: url.password ? decode(url.password) : undefined,
    host: url.hostname || undefined,
    database: path ? decode(path) : undefined,
    options: url.searchParams.get("options") ?? undefined,
  };
}
