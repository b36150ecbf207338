// The cluster-wide catalogs as one tenant sees them: its database, its role (the bootstrap
// superuser OID, though not a superuser), pg_database_owner (which owns public, as in
// PostgreSQL 15), the default tablespaces, and the schemas.
import { BOOTSTRAP_SUPERUSER_OID, DATABASE_OID, namespaceOid } from "../../../catalog/oids.ts";
import type { Datum } from "../../types/datum.ts";
import { arrayOf, Types } from "../../types/type.ts";
import { B, C, I4, N, O, T, schemaNames, table, type SystemContext, type SystemTable } from "./context.ts";
import { DEFAULT_TABLESPACE_OID, PG_DATABASE_OWNER_OID, SYSTEM_RELATION_OIDS } from "./oids.ts";

const GLOBAL_TABLESPACE_OID = 1664;
/** pg_database.encoding: 6 is UTF8. */
const UTF8_ENCODING = 6;

/** The role name of an OID, as pg_get_userbyid prints it. */
export function roleName(x: Pick<SystemContext, "user">, oid: number): string {
  if (oid === BOOTSTRAP_SUPERUSER_OID) return x.user;
  if (oid === PG_DATABASE_OWNER_OID) return "pg_database_owner";
  return `unknown (OID=${oid})`;
}

export function pgDatabase(x: SystemContext): SystemTable {
  return table(
    [["oid", O], ["datname", N], ["datdba", O], ["encoding", I4], ["datlocprovider", C], ["datistemplate", B], ["datallowconn", B], ["datconnlimit", I4], ["dattablespace", O], ["datcollate", T], ["datctype", T], ["daticulocale", T], ["datcollversion", T], ["datacl", arrayOf(T)], ["datfrozenxid", O], ["datminmxid", O]],
    [[DATABASE_OID, x.database, BOOTSTRAP_SUPERUSER_OID, UTF8_ENCODING, "c", false, true, -1, DEFAULT_TABLESPACE_OID, "C", "C", null, null, null, 0, 0]],
  );
}

export function pgTablespace(): SystemTable {
  return table(
    [["oid", O], ["spcname", N], ["spcowner", O], ["spcacl", arrayOf(T)], ["spcoptions", arrayOf(T)]],
    [[DEFAULT_TABLESPACE_OID, "pg_default", BOOTSTRAP_SUPERUSER_OID, null, null], [GLOBAL_TABLESPACE_OID, "pg_global", BOOTSTRAP_SUPERUSER_OID, null, null]],
  );
}

export function pgRoles(x: SystemContext): SystemTable {
  const role = (oid: number, name: string, login: boolean): Datum[] => [oid, name, false, true, false, false, login, false, -1, "********", null, false, null];
  return table(
    [["oid", O], ["rolname", N], ["rolsuper", B], ["rolinherit", B], ["rolcreaterole", B], ["rolcreatedb", B], ["rolcanlogin", B], ["rolreplication", B], ["rolconnlimit", I4], ["rolpassword", T], ["rolvaliduntil", Types.timestamptz], ["rolbypassrls", B], ["rolconfig", arrayOf(T)]],
    [role(BOOTSTRAP_SUPERUSER_OID, x.user, true), role(PG_DATABASE_OWNER_OID, "pg_database_owner", false)],
  );
}

export function pgUser(x: SystemContext): SystemTable {
  return table(
    [["usename", N], ["usesysid", O], ["usecreatedb", B], ["usesuper", B], ["userepl", B], ["usebypassrls", B], ["passwd", T], ["valuntil", Types.timestamptz], ["useconfig", arrayOf(T)]],
    [[x.user, BOOTSTRAP_SUPERUSER_OID, false, false, false, false, "********", null, null]],
  );
}

export function pgAuthMembers(): SystemTable {
  return table([["oid", O], ["roleid", O], ["member", O], ["grantor", O], ["admin_option", B]], []);
}

/**
 * pg_init_privs: the privileges the built-in schemas start with (pg_catalog's and public's ACL
 * as pgNamespace lists them), so pg_dump sees them as unchanged and writes no GRANT for them.
 */
export function pgInitPrivs(x: SystemContext): SystemTable {
  const pgNamespaceOid = SYSTEM_RELATION_OIDS["pg_namespace"]!;
  const rows = pgNamespace(x).rows.filter((r) => r[1] === "pg_catalog" || r[1] === "public").map((r): Datum[] => [r[0]!, pgNamespaceOid, 0, "i", r[3]!]);
  return table([["objoid", O], ["classoid", O], ["objsubid", I4], ["privtype", C], ["initprivs", arrayOf(T)]], rows);
}

export function pgNamespace(x: SystemContext): SystemTable {
  return table(
    [["oid", O], ["nspname", N], ["nspowner", O], ["nspacl", arrayOf(T)]],
    schemaNames(x).map((name) => {
      const s = x.catalog.schema(name)!;
      if (name === "public") return [namespaceOid(s.id), name, PG_DATABASE_OWNER_OID, ["pg_database_owner=UC/pg_database_owner", "=U/pg_database_owner"]];
      if (name === "pg_catalog" || name === "information_schema") return [namespaceOid(s.id), name, BOOTSTRAP_SUPERUSER_OID, [`${x.user}=UC/${x.user}`, `=U/${x.user}`]];
      return [namespaceOid(s.id), name, BOOTSTRAP_SUPERUSER_OID, null];
    }),
  );
}
