// pg_catalog and information_schema as clients read them (psql's describe commands, postgres.js's
// type fetch, drizzle and Prisma introspection): virtual tables computed from the catalog snapshot
// at bind time, one builder per catalog. Columns follow PostgreSQL 15's; catalogs of features
// Warren lacks exist and are empty (empty.ts), so client queries run and return nothing.
//
//   relations.ts          pg_class, pg_attribute, pg_attrdef, pg_index, pg_sequence
//   dependencies.ts       pg_depend, pg_rewrite (what pg_dump orders its output by)
//   constraints.ts        pg_constraint (+ the text pg_get_constraintdef prints)
//   types.ts              pg_type, pg_collation, pg_enum
//   cluster.ts            pg_database, pg_tablespace, pg_roles, pg_user, pg_auth_members, pg_namespace, pg_init_privs
//   descriptions.ts       pg_description (COMMENT ON), pg_shdescription
//   settings.ts           pg_settings
//   system-views.ts       pg_tables, pg_views, pg_indexes, pg_sequences, pg_matviews
//   opclass.ts            pg_opclass (default btree classes), pg_stat_user_indexes
//   triggers.ts           pg_trigger (+ the text pg_get_triggerdef prints)
//   empty.ts              event triggers, rules, policies, publications, foreign data, pg_proc, …
//   information-schema.ts information_schema.*
//   oids.ts               PostgreSQL's OIDs for the catalogs and built-in roles
import { pgDescription, pgShdescription } from "./descriptions.ts";
import { pgAuthMembers, pgDatabase, pgInitPrivs, pgNamespace, pgRoles, pgTablespace, pgUser } from "./cluster.ts";
import { pgConstraint } from "./constraints.ts";
import type { SystemContext, SystemTable } from "./context.ts";
import { EMPTY_CATALOGS } from "./empty.ts";
import { INFORMATION_SCHEMA } from "./information-schema.ts";
import { INFORMATION_SCHEMA_OID_BASE, OTHER_PG_CATALOG_OID_BASE, systemRelationOid } from "./oids.ts";
import { pgDepend, pgRewrite } from "./dependencies.ts";
import { pgAttrdef, pgAttribute, pgClass, pgIndex, pgSequence } from "./relations.ts";
import { pgOpclass, pgStatUserIndexes } from "./opclass.ts";
import { pgSettings } from "./settings.ts";
import { pgIndexes, pgMatviews, pgSequences, pgTables, pgViews } from "./system-views.ts";
import { pgCollation, pgEnum, pgType } from "./types.ts";
import { pgProc } from "./procs.ts";
import { pgTrigger } from "./triggers.ts";

export type { SettingRow, SystemContext, SystemTable } from "./context.ts";

const PG_CATALOG: Record<string, (x: SystemContext) => SystemTable> = {
  pg_class: pgClass,
  pg_attribute: pgAttribute,
  pg_attrdef: pgAttrdef,
  pg_index: pgIndex,
  pg_sequence: pgSequence,
  pg_depend: pgDepend,
  pg_trigger: pgTrigger,
  pg_rewrite: pgRewrite,
  pg_constraint: pgConstraint,
  pg_type: pgType,
  pg_collation: pgCollation,
  pg_enum: pgEnum,
  pg_database: pgDatabase,
  pg_tablespace: pgTablespace,
  pg_roles: pgRoles,
  pg_user: pgUser,
  pg_auth_members: pgAuthMembers,
  pg_namespace: pgNamespace,
  pg_init_privs: pgInitPrivs,
  pg_description: pgDescription,
  pg_shdescription: pgShdescription,
  pg_settings: pgSettings,
  pg_tables: pgTables,
  pg_views: pgViews,
  pg_matviews: pgMatviews,
  pg_indexes: pgIndexes,
  pg_sequences: pgSequences,
  pg_opclass: pgOpclass,
  pg_stat_user_indexes: pgStatUserIndexes,
  ...EMPTY_CATALOGS,
  pg_proc: pgProc,
};

const PG_CATALOG_NAMES = Object.keys(PG_CATALOG).sort();
const INFORMATION_SCHEMA_NAMES = Object.keys(INFORMATION_SCHEMA).sort();

/** The system table `schema.name` (schema null: pg_catalog, which is always searched first). */
export function systemTable(x: SystemContext, schema: string | null, name: string): SystemTable | undefined {
  if (schema === "information_schema") return Object.hasOwn(INFORMATION_SCHEMA, name) ? INFORMATION_SCHEMA[name]!(x) : undefined;
  if (schema === null || schema === "pg_catalog") return Object.hasOwn(PG_CATALOG, name) ? PG_CATALOG[name]!(x) : undefined;
  return undefined;
}

/** The OID of system relation `schema.name` (regclass input), or null when there is none. */
export function systemRelationOidOf(schema: string, name: string): number | null {
  if (schema === "pg_catalog" && Object.hasOwn(PG_CATALOG, name)) return systemRelationOid(name, PG_CATALOG_NAMES, OTHER_PG_CATALOG_OID_BASE);
  if (schema === "information_schema" && Object.hasOwn(INFORMATION_SCHEMA, name)) return INFORMATION_SCHEMA_OID_BASE + INFORMATION_SCHEMA_NAMES.indexOf(name);
  return null;
}

/** The [schema, name] of a system relation OID (regclass output), or null. */
export function systemRelationByOid(oid: number): [string, string] | null {
  for (const n of PG_CATALOG_NAMES) if (systemRelationOidOf("pg_catalog", n) === oid) return ["pg_catalog", n];
  for (const n of INFORMATION_SCHEMA_NAMES) if (systemRelationOidOf("information_schema", n) === oid) return ["information_schema", n];
  return null;
}
