// Functions that answer from the catalog snapshot the statement was bound with: the pg_catalog
// helpers clients call in introspection queries (pg_table_is_visible, format_type,
// pg_get_indexdef, …) and advisory-lock stand-ins. Each closure keeps the binder's snapshot, the
// same one the statement executes against.
import { PgError } from "../../../../common/errors.ts";
import { isTemp, type TableDesc } from "../../catalog/descriptors.ts";
import { descIdOfOid, indexOfOid, namespaceOid } from "../../catalog/oids.ts";
import type { Datum } from "../types/datum.ts";
import { arrayOf, formatType, isKnownTypeOid, Oid, typeFromOid, Types } from "../types/type.ts";
import type { Binder } from "./binder.ts";
import type { Expr } from "./bound.ts";
import { callExpr, coerce } from "./expr.ts";
import { indexDef } from "./system-tables.ts";

function tableOf(b: Binder, oid: Datum): TableDesc | null {
  const id = descIdOfOid(Number(oid));
  const d = id === null ? undefined : b.catalog.get(id);
  return d?.kind === "table" ? d : null;
}

export function bindCatalogFunction(b: Binder, name: string, args: Expr[]): Expr | null {
  const oidArg = (i: number): Expr => coerce(args[i]!, Types.oid);
  switch (name) {
    case "pg_table_is_visible":
      // Visible: the relation an unqualified reference to its name finds (so a temporary table
      // hides a stored one of the same name, as in Postgres).
      return callExpr(name, Types.bool, [oidArg(0)], ([oid]) => {
        const id = descIdOfOid(Number(oid));
        const d = id === null ? undefined : b.catalog.get(id);
        if (d === undefined || d.kind === "schema") {
          const ix = indexOfOid(Number(oid));
          const t = ix === null ? undefined : b.catalog.get(ix[0]);
          if (t?.kind !== "table") return ix !== null;
          return b.catalog.searchSchemas(b.searchPath).some((s) => s.id === t.schemaId);
        }
        return b.catalog.resolveRelation([d.name], b.searchPath)?.id === d.id;
      });
    case "pg_my_temp_schema":
      return callExpr(name, Types.oid, [], () => (b.catalog.tempSchema === undefined ? 0 : namespaceOid(b.catalog.tempSchema.id)), false);
    case "format_type":
      return callExpr(name, Types.text, [oidArg(0), coerce(args[1] ?? { kind: "const", type: Types.int4, value: null }, Types.int4)], ([oid, mod]) =>
        isKnownTypeOid(Number(oid)) ? formatType(typeFromOid(Number(oid), mod === null ? -1 : (mod as number))) : "???", false);
    case "pg_get_userbyid":
      return callExpr(name, Types.name, [oidArg(0)], () => b.user);
    case "pg_encoding_to_char":
      return callExpr(name, Types.name, [coerce(args[0]!, Types.int4)], () => "UTF8");
    case "current_schemas":
      // The temporary schema (when the session has one) and pg_catalog are searched first unless
      // search_path names them; current_schemas(true) lists them too.
      return callExpr(name, arrayOf(Types.name), [coerce(args[0]!, Types.bool)], ([implicit]) => {
        const explicit = b.searchPath.map((n) => b.catalog.schema(n)?.name).filter((n): n is string => n !== undefined);
        if (implicit !== true) return explicit;
        const temp = b.catalog.tempSchema?.name;
        return [...(temp !== undefined && !explicit.includes(temp) ? [temp] : []), ...(explicit.includes("pg_catalog") ? [] : ["pg_catalog"]), ...explicit];
      });
    case "pg_get_expr":
      return callExpr(name, Types.text, args.slice(0, 1).map((a) => coerce(a, Types.text)), ([e]) => e ?? null);
    case "pg_get_indexdef":
      return callExpr(name, Types.text, [oidArg(0)], ([oid]) => {
        const ix = indexOfOid(Number(oid));
        if (ix === null) return null;
        const t = b.catalog.get(ix[0]);
        if (t?.kind !== "table") return null;
        const found = [t.primaryIndex, ...t.indexes].find((i) => i.id === ix[1]);
        return found === undefined ? null : indexDef(t, found);
      }, true);
    case "pg_get_constraintdef":
      return callExpr(name, Types.text, [oidArg(0)], () => null, true);
    case "obj_description":
    case "col_description":
    case "shobj_description":
      return callExpr(name, Types.text, args, () => null, false);
    case "pg_get_serial_sequence":
      return callExpr(name, Types.text, [coerce(args[0]!, Types.text), coerce(args[1]!, Types.text)], ([tn, cn]) => {
        const t = b.catalog.resolveRelation((tn as string).split("."), b.searchPath);
        if (t === undefined) throw new PgError("undefined_table", `relation "${tn as string}" does not exist`);
        for (const d of b.catalog.descriptors()) {
          if (d.kind === "sequence" && d.ownedBy?.[0] === t.id && t.kind === "table" && t.columns.find((c) => c.id === d.ownedBy![1])?.name === cn) {
            // Postgres names the session's own temporary schema pg_temp here.
            return `${isTemp(d) ? "pg_temp" : (b.catalog.get(d.schemaId)?.name ?? "public")}.${d.name}`;
          }
        }
        return null;
      });
    case "pg_relation_is_publishable":
    case "pg_is_in_recovery":
      return callExpr(name, Types.bool, [], () => false, false);
    case "has_table_privilege":
    case "has_schema_privilege":
    case "has_database_privilege":
    case "has_column_privilege":
    case "pg_try_advisory_lock":
    case "pg_try_advisory_xact_lock":
    case "pg_advisory_unlock":
      return callExpr(name, Types.bool, [], () => true, false);
    case "pg_advisory_lock":
    case "pg_advisory_xact_lock":
    case "pg_advisory_unlock_all":
      // No lock manager: session locks are granted at once (callers use them to serialise
      // migrations; Warren's transactions are serializable anyway).
      return callExpr(name, Types.void, [], () => "", false);
    case "pg_total_relation_size":
    case "pg_relation_size":
    case "pg_table_size":
      return callExpr(name, Types.int8, [oidArg(0)], () => 0n);
    case "pg_postmaster_start_time":
      return callExpr(name, Types.timestamptz, [], () => 0n, false);
    case "txid_current":
      return callExpr(name, Types.int8, [], () => BigInt(Date.now()), false, true);
  }
  void tableOf;
  void Oid;
  return null;
}
