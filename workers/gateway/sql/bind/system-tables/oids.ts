// OIDs of the system catalogs and of the built-in roles, as PostgreSQL 15 numbers them: clients
// compare them (pg_description.classoid = 'pg_catalog.pg_class'::regclass) and regclass prints them.
// A catalog Postgres has and this list lacks gets a stable OID from a reserved range.

/** pg_class.oid of the catalogs clients name, from PostgreSQL 15's pg_class. */
export const SYSTEM_RELATION_OIDS: Readonly<Record<string, number>> = {
  pg_type: 1247,
  pg_attribute: 1249,
  pg_proc: 1255,
  pg_class: 1259,
  pg_authid: 1260,
  pg_auth_members: 1261,
  pg_database: 1262,
  pg_foreign_server: 1417,
  pg_foreign_data_wrapper: 2328,
  pg_attrdef: 2604,
  pg_constraint: 2606,
  pg_inherits: 2611,
  pg_index: 2610,
  pg_language: 2612,
  pg_rewrite: 2618,
  pg_trigger: 2620,
  pg_description: 2609,
  pg_namespace: 2615,
  pg_am: 2601,
  pg_depend: 2608,
  pg_tablespace: 1213,
  pg_shdescription: 2396,
  pg_sequence: 2224,
  pg_extension: 3079,
  pg_collation: 3456,
  pg_enum: 3501,
  pg_event_trigger: 3466,
  pg_policy: 3256,
  pg_partitioned_table: 3350,
  pg_statistic_ext: 3381,
  pg_publication: 6104,
  pg_publication_rel: 6106,
  pg_publication_namespace: 6237,
  pg_opclass: 2616,
  pg_settings: 12160,
  pg_roles: 12001,
  pg_opfamily: 2753,
  pg_amop: 2602,
  pg_amproc: 2603,
  pg_cast: 2605,
  pg_conversion: 2607,
  pg_operator: 2617,
  pg_aggregate: 2600,
  pg_default_acl: 826,
  pg_init_privs: 3394,
  pg_foreign_table: 3118,
  pg_subscription: 6100,
  pg_ts_config: 3602,
  pg_ts_dict: 3600,
  pg_ts_parser: 3601,
  pg_ts_template: 3764,
  pg_range: 3541,
  pg_transform: 3576,
  pg_largeobject_metadata: 2995,
  pg_seclabel: 3596,
  pg_shseclabel: 3592,
  pg_db_role_setting: 2964,
};

/**
 * Catalogs without an entry above are numbered in name order from these bases (below
 * FirstNormalObjectId, 16384, where user objects start; each range has room for 600).
 */
export const OTHER_PG_CATALOG_OID_BASE = 15000;
export const INFORMATION_SCHEMA_OID_BASE = 15600;

export function systemRelationOid(name: string, allNames: readonly string[], base: number): number {
  const known = SYSTEM_RELATION_OIDS[name];
  if (known !== undefined) return known;
  const others = allNames.filter((n) => SYSTEM_RELATION_OIDS[n] === undefined).sort();
  return base + others.indexOf(name);
}

/** pg_database_owner: owns the public schema in PostgreSQL 15. */
export const PG_DATABASE_OWNER_OID = 6171;
/** pg_default, the tablespace every relation lives in. */
export const DEFAULT_TABLESPACE_OID = 1663;
