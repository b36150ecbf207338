// Catalogs of features Warren does not have (triggers, rules, policies, publications,
// inheritance and partitions, extended statistics, foreign data, event triggers, extensions,
// user-defined functions): they exist with the columns clients read and hold no rows, so
// client queries run and find nothing, as they would in a database that uses none of them.
// pg_am and pg_language list the built-in entries every PostgreSQL 15 database has.
import { arrayOf, Types } from "../../types/type.ts";
import { B, C, F4, I2, I4, I8, N, O, T, table, type SystemTable } from "./context.ts";

/** pg_extension.oid and pg_language.oid of plpgsql in PostgreSQL 15 (what initdb gives them). */
export const PLPGSQL_EXTENSION_OID = 13559;
export const PLPGSQL_LANGUAGE_OID = 13563;
/** Their pg_description text. */
export const PLPGSQL_COMMENT = "PL/pgSQL procedural language";

const empty = (spec: Parameters<typeof table>[0]) => (): SystemTable => table(spec, []);

export const EMPTY_CATALOGS: Record<string, () => SystemTable> = {
  pg_inherits: empty([["inhrelid", O], ["inhparent", O], ["inhseqno", I4], ["inhdetachpending", B]]),
  pg_partitioned_table: empty([["partrelid", O], ["partstrat", C], ["partnatts", I2], ["partdefid", O], ["partattrs", T], ["partclass", arrayOf(O)], ["partcollation", arrayOf(O)], ["partexprs", T]]),
  // Row-level security policies (none exist): pg_policies is the view drizzle-kit reads.
  pg_policies: empty([["schemaname", N], ["tablename", N], ["policyname", N], ["permissive", T], ["roles", arrayOf(N)], ["cmd", T], ["qual", T], ["with_check", T]]),
  pg_policy: empty([["oid", O], ["polname", N], ["polrelid", O], ["polcmd", C], ["polpermissive", B], ["polroles", arrayOf(O)], ["polqual", T], ["polwithcheck", T]]),
  pg_statistic_ext: empty([["oid", O], ["stxrelid", O], ["stxname", N], ["stxnamespace", O], ["stxowner", O], ["stxstattarget", I4], ["stxkeys", T], ["stxkind", arrayOf(C)], ["stxexprs", T]]),
  pg_publication: empty([["oid", O], ["pubname", N], ["pubowner", O], ["puballtables", B], ["pubinsert", B], ["pubupdate", B], ["pubdelete", B], ["pubtruncate", B], ["pubviaroot", B]]),
  pg_publication_rel: empty([["oid", O], ["prpubid", O], ["prrelid", O], ["prqual", T], ["prattrs", arrayOf(I2)]]),
  pg_publication_namespace: empty([["oid", O], ["pnpubid", O], ["pnnspid", O]]),
  pg_subscription: empty([["oid", O], ["subdbid", O], ["subname", N], ["subowner", O], ["subenabled", B], ["subbinary", B], ["substream", C], ["subtwophasestate", C], ["subdisableonerr", B], ["subconninfo", T], ["subslotname", N], ["subsynccommit", T], ["subpublications", arrayOf(T)]]),
  pg_event_trigger: empty([["oid", O], ["evtname", N], ["evtevent", N], ["evtowner", O], ["evtfoid", Types.regproc], ["evtenabled", C], ["evttags", arrayOf(T)]]),
  pg_foreign_server: empty([["oid", O], ["srvname", N], ["srvowner", O], ["srvfdw", O], ["srvtype", T], ["srvversion", T], ["srvacl", arrayOf(T)], ["srvoptions", arrayOf(T)]]),
  pg_foreign_data_wrapper: empty([["oid", O], ["fdwname", N], ["fdwowner", O], ["fdwhandler", O], ["fdwvalidator", O], ["fdwacl", arrayOf(T)], ["fdwoptions", arrayOf(T)]]),
  pg_foreign_table: empty([["ftrelid", O], ["ftserver", O], ["ftoptions", arrayOf(T)]]),
  pg_user_mappings: empty([["umid", O], ["srvid", O], ["srvname", N], ["umuser", O], ["usename", N], ["umoptions", arrayOf(T)]]),
  // plpgsql: the one extension every PostgreSQL 15 database has (initdb installs it), with its OIDs.
  pg_extension: () => table([["oid", O], ["extname", N], ["extowner", O], ["extnamespace", O], ["extrelocatable", B], ["extversion", T], ["extconfig", arrayOf(O)], ["extcondition", arrayOf(T)]], [[PLPGSQL_EXTENSION_OID, "plpgsql", 10, 11, false, "1.0", null, null]]),
  pg_proc: empty([["oid", O], ["proname", N], ["pronamespace", O], ["proowner", O], ["prolang", O], ["procost", F4], ["prorows", F4], ["provariadic", O], ["prosupport", O], ["prokind", C], ["prosecdef", B], ["proleakproof", B], ["proisstrict", B], ["proretset", B], ["provolatile", C], ["proparallel", C], ["pronargs", I2], ["pronargdefaults", I2], ["prorettype", O], ["proargtypes", T], ["proallargtypes", arrayOf(O)], ["proargmodes", arrayOf(C)], ["proargnames", arrayOf(T)], ["prosrc", T], ["probin", T], ["proconfig", arrayOf(T)], ["proacl", arrayOf(T)]]),
  pg_aggregate: empty([["aggfnoid", Types.regproc], ["aggkind", C], ["aggnumdirectargs", I2]]),
  pg_operator: empty([["oid", O], ["oprname", N], ["oprnamespace", O], ["oprowner", O], ["oprkind", C], ["oprleft", O], ["oprright", O], ["oprresult", O], ["oprcode", Types.regproc]]),
  pg_conversion: empty([["oid", O], ["conname", N], ["connamespace", O], ["conowner", O], ["conforencoding", I4], ["contoencoding", I4], ["conproc", Types.regproc], ["condefault", B]]),
  pg_cast: empty([["oid", O], ["castsource", O], ["casttarget", O], ["castfunc", O], ["castcontext", C], ["castmethod", C]]),
  pg_default_acl: empty([["oid", O], ["defaclrole", O], ["defaclnamespace", O], ["defaclobjtype", C], ["defaclacl", arrayOf(T)]]),
  pg_ts_config: empty([["oid", O], ["cfgname", N], ["cfgnamespace", O], ["cfgowner", O], ["cfgparser", O]]),
  pg_locks: empty([["locktype", T], ["database", O], ["relation", O], ["pid", I4], ["mode", T], ["granted", B]]),
  pg_stat_activity: empty([["datid", O], ["datname", N], ["pid", I4], ["usename", N], ["application_name", T], ["state", T], ["query", T]]),
  pg_stat_user_tables: empty([["relid", O], ["schemaname", N], ["relname", N], ["seq_scan", I8], ["n_live_tup", I8]]),
  pg_am: () => table([["oid", O], ["amname", N], ["amhandler", Types.regproc], ["amtype", C]], [[2, "heap", 3, "t"], [403, "btree", 330, "i"], [405, "hash", 331, "i"]]),
  pg_language: () => table(
    [["oid", O], ["lanname", N], ["lanowner", O], ["lanispl", B], ["lanpltrusted", B], ["lanplcallfoid", O], ["laninline", O], ["lanvalidator", O], ["lanacl", arrayOf(T)]],
    [[12, "internal", 10, false, false, 0, 0, 2246, null], [13, "c", 10, false, false, 0, 0, 2247, null], [14, "sql", 10, false, true, 0, 0, 2248, null], [PLPGSQL_LANGUAGE_OID, "plpgsql", 10, true, true, 13560, 13561, 13562, null]],
  ),
  // Catalogs pg_dump reads (operator families, text search, ranges, transforms, large objects,
  // security labels): none of these objects can be created in Warren.
  pg_opfamily: empty([["oid", O], ["opfmethod", O], ["opfname", N], ["opfnamespace", O], ["opfowner", O]]),
  pg_amop: empty([["oid", O], ["amopfamily", O], ["amoplefttype", O], ["amoprighttype", O], ["amopstrategy", I2], ["amoppurpose", C], ["amopopr", O], ["amopmethod", O], ["amopsortfamily", O]]),
  pg_amproc: empty([["oid", O], ["amprocfamily", O], ["amproclefttype", O], ["amprocrighttype", O], ["amprocnum", I2], ["amproc", Types.regproc]]),
  pg_ts_parser: empty([["oid", O], ["prsname", N], ["prsnamespace", O], ["prsstart", Types.regproc], ["prstoken", Types.regproc], ["prsend", Types.regproc], ["prsheadline", Types.regproc], ["prslextype", Types.regproc]]),
  pg_ts_template: empty([["oid", O], ["tmplname", N], ["tmplnamespace", O], ["tmplinit", Types.regproc], ["tmpllexize", Types.regproc]]),
  pg_ts_dict: empty([["oid", O], ["dictname", N], ["dictnamespace", O], ["dictowner", O], ["dicttemplate", O], ["dictinitoption", T]]),
  pg_range: empty([["rngtypid", O], ["rngsubtype", O], ["rngmultitypid", O], ["rngcollation", O], ["rngsubopc", O], ["rngcanonical", Types.regproc], ["rngsubdiff", Types.regproc]]),
  pg_transform: empty([["oid", O], ["trftype", O], ["trflang", O], ["trffromsql", Types.regproc], ["trftosql", Types.regproc]]),
  pg_largeobject_metadata: empty([["oid", O], ["lomowner", O], ["lomacl", arrayOf(T)]]),
  pg_db_role_setting: empty([["setdatabase", O], ["setrole", O], ["setconfig", arrayOf(T)]]),
  pg_shseclabel: empty([["objoid", O], ["classoid", O], ["provider", T], ["label", T]]),
  pg_seclabel: empty([["objoid", O], ["classoid", O], ["objsubid", I4], ["provider", T], ["label", T]]),
  pg_seclabels: empty([["objoid", O], ["classoid", O], ["objsubid", I4], ["objtype", T], ["objnamespace", O], ["objname", T], ["provider", T], ["label", T]]),
};
