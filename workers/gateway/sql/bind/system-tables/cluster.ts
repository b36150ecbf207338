// The cluster-wide catalogs as one tenant sees them: its database, its role (the bootstrap
// superuser OID, though not a superuser), pg_database_owner (which owns public, as in
// PostgreSQL 15), the default tablespaces, and the schemas.
import { BOOTSTRAP_SUPERUSER_OID, DATABASE_OID, namespaceOid } from "../../../catalog/oids.ts";
import type { Datum } from "../../types/datum.ts";
import { arrayOf, Types } from "../../types/type.ts";
import { B, C, I4, N, O, T, schemaNames, table, type SystemContext, type SystemTable } from "./context.ts";
import { DEFAULT_TABLESPACE_OID, PG_DATABASE_OWNER_OID } from "./oids.ts";

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
    [["oid", O], ["datname", N], ["datdba", O], ["encoding", I4], ["datlocprovider", C], ["datistemplate", B], ["datallowconn", B], ["datconnlimit", I4], ["dattablespace", O], ["datcollate", T], ["datctype", T], ["daticulocale", T], ["datcollversion", T], ["datacl", arrayOf(T)]],
    [[DATABASE_OID, x.database, BOOTSTRAP_SUPERUSER_OID, UTF8_ENCODING, "c", false, true, -1, DEFAULT_TABLESPACE_OID, "C", "C", null, null, null]],
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
