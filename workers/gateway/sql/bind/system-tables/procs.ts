// pg_proc: one row per user-defined function (CREATE FUNCTION). Built-in functions have no rows
// here: clients look those up by name, not through pg_proc.
import { BOOTSTRAP_SUPERUSER_OID, namespaceOid, relationOid } from "../../../catalog/oids.ts";
import type { Datum } from "../../types/datum.ts";
import { arrayOf, Types } from "../../types/type.ts";
import { B, C, F4, I2, N, O, T, table, type SystemContext, type SystemTable } from "./context.ts";
import { PLPGSQL_LANGUAGE_OID } from "./empty.ts";

/** pg_language OIDs of PostgreSQL 15: sql is fixed; plpgsql is what initdb gives it. */
const LANGUAGE_OID = { sql: 14, plpgsql: PLPGSQL_LANGUAGE_OID } as const;

/** The OID a parameter or result type shows: the domain's for a domain, else the type's. */
function typeOidOf(t: { oid: number; domain?: { typeId: number } }): number {
  return t.domain !== undefined ? relationOid(t.domain.typeId) : t.oid;
}

export function pgProc(x: SystemContext): SystemTable {
  const rows: Datum[][] = x.catalog.functions().map((f) => [
    relationOid(f.id), f.name, namespaceOid(f.schemaId), BOOTSTRAP_SUPERUSER_OID, LANGUAGE_OID[f.language], 100, 0, 0, 0, "f", false, false, f.strict, false, f.volatility, "u",
    f.argTypes.length, 0, typeOidOf(f.returnType), f.argTypes.map(typeOidOf).join(" "), null, null, f.argNames.some((n) => n !== "") ? f.argNames : null, null, null, f.body, null, null, null, null,
  ]);
  return table(
    [["oid", O], ["proname", N], ["pronamespace", O], ["proowner", O], ["prolang", O], ["procost", F4], ["prorows", F4], ["provariadic", O], ["prosupport", Types.regproc], ["prokind", C], ["prosecdef", B], ["proleakproof", B], ["proisstrict", B], ["proretset", B], ["provolatile", C], ["proparallel", C], ["pronargs", I2], ["pronargdefaults", I2], ["prorettype", O], ["proargtypes", T], ["proallargtypes", arrayOf(O)], ["proargmodes", arrayOf(C)], ["proargnames", arrayOf(T)], ["proargdefaults", T], ["protrftypes", arrayOf(O)], ["prosrc", T], ["probin", T], ["prosqlbody", T], ["proconfig", arrayOf(T)], ["proacl", arrayOf(T)]],
    rows,
  );
}
