// Functions that answer from the catalog snapshot the statement was bound with: the pg_catalog
// helpers clients call in introspection queries (psql's describe commands, ORMs): visibility
// tests, pg_get_*def, object names and comments, sizes, privileges, and the advisory-lock functions (bound here, run by sql/advisory-locks.ts).
// Each closure keeps the binder's snapshot, the same one the statement executes against.
import { functionArguments, functionByOid, functionDef, functionResult } from "./function-def.ts";
import { PgError } from "../../../../common/errors.ts";
import { type Descriptor, isTemp, type ViewDesc } from "../../catalog/descriptors.ts";
import { descIdOfOid, indexOfOid, indexOid, namespaceOid, relationOid } from "../../catalog/oids.ts";
import type { Datum } from "../types/datum.ts";
import { arrayOf, formatType, isKnownTypeOid, isVectorType, Oid, typeFromOid, Types } from "../types/type.ts";
import type { Binder } from "./binder.ts";
import type { Expr } from "./bound.ts";
import { callExpr, coerce } from "./expr.ts";
import { parseQualifiedName } from "./reg-catalog.ts";
import { systemContext } from "./system-context.ts";
import { roleName } from "./system-tables/cluster.ts";
import { constraintRows } from "./system-tables/constraints.ts";
import { tables, userIndexes, type SystemContext } from "./system-tables/context.ts";
import { pgDescription } from "./system-tables/descriptions.ts";
import { indexDef } from "./system-tables/index-def.ts";
import { resolveExprRef } from "./system-tables/expr-ref.ts";
import { systemRelationByOid } from "./system-tables/index.ts";
import { SYSTEM_RELATION_OIDS } from "./system-tables/oids.ts";
import { emptyRelationSizes, type RelationSizes } from "./system-tables/sizes.ts";
import { triggerByOid, triggerDef } from "./system-tables/triggers.ts";
import { quoteIdent } from "../functions/string-functions.ts";

/** pg_database.encoding of the one encoding Warren speaks. */
const UTF8_ENCODING = 6;

const sizes: RelationSizes = emptyRelationSizes;

/** Whether `oid` is a user-defined type found by its bare name on the search path. */
function userTypeVisible(b: Binder, oid: number): boolean {
  const id = descIdOfOid(oid);
  const d = id === null ? undefined : b.catalog.get(id);
  return d?.kind === "type" && b.catalog.resolveType([d.name], b.searchPath)?.id === d.id;
}

/** format_type of a user-defined type: its name, schema-qualified unless its schema is on the search path. */
function userTypeName(b: Binder, oid: number): string {
  const id = descIdOfOid(oid);
  const d = id === null ? undefined : b.catalog.get(id);
  if (d?.kind !== "type") return "???";
  const visible = b.catalog.resolveType([d.name], b.searchPath)?.id === d.id;
  return visible ? quoteIdent(d.name) : `${quoteIdent(b.catalog.get(d.schemaId)?.name ?? "public")}.${quoteIdent(d.name)}`;
}

function relationOf(b: Binder, oid: Datum): Exclude<Descriptor, { kind: "schema" | "type" | "function" }> | undefined {
  const id = descIdOfOid(Number(oid));
  const d = id === null ? undefined : b.catalog.get(id);
  return d === undefined || d.kind === "schema" || d.kind === "type" || d.kind === "function" ? undefined : d;
}

/** The first relation (or index) an unqualified name finds on the search path is the visible one. */
function tableIsVisible(b: Binder, oid: number): boolean {
  if (systemRelationByOid(oid)?.[0] === "pg_catalog") return true;
  const rel = relationOf(b, oid);
  if (rel !== undefined) return b.catalog.resolveRelation([rel.name], b.searchPath)?.id === rel.id;
  const ix = indexOfOid(oid);
  if (ix === null) return false;
  const t = b.catalog.get(ix[0]);
  if (t?.kind !== "table") return false;
  const index = [t.primaryIndex, ...t.indexes].find((i) => i.id === ix[1]);
  if (index === undefined) return false;
  const name = index.primary ? t.pkeyName : index.name;
  const found = b.catalog.resolveIndex([name], b.searchPath);
  return found !== undefined && found.table.id === t.id && found.index.id === index.id && b.catalog.resolveRelation([name], b.searchPath) === undefined;
}

function viewByOid(b: Binder, oid: number): ViewDesc | undefined {
  const d = relationOf(b, oid);
  return d?.kind === "view" ? d : undefined;
}

function viewDefinition(x: SystemContext, v: ViewDesc | undefined, pretty: boolean): string | null {
  return v === undefined ? null : (x.viewDef?.(v, pretty) ?? null);
}

/** The table's own bytes plus its indexes', as pg_total_relation_size adds them. */
function indexesBytes(b: Binder, oid: number): bigint {
  const t = relationOf(b, oid);
  if (t?.kind !== "table") return 0n;
  let sum = 0n;
  for (const ix of userIndexes(t)) if (!ix.primary) sum += sizes.relationBytes(indexOid(t.id, ix.id));
  return sum;
}

function databaseBytes(b: Binder): bigint {
  let sum = 0n;
  for (const t of tables(b.catalog)) sum += sizes.relationBytes(relationOid(t.id)) + indexesBytes(b, relationOid(t.id));
  return sum;
}

/** PostgreSQL 15's acldefault(): the owner's privileges on an object kind, plus PUBLIC's where it has any. */
function aclDefault(kind: string, owner: string): string[] {
  const ownerPrivileges: Record<string, string> = { c: "", r: "arwdDxt", s: "rwU", d: "CTc", f: "X", l: "U", L: "rw", n: "UC", t: "C", F: "U", S: "U", T: "U" };
  const publicPrivileges: Record<string, string> = { d: "Tc", f: "X", l: "U", T: "U" };
  const own = ownerPrivileges[kind];
  if (own === undefined) throw new PgError("internal_error", `unrecognized object type abbreviation: ${kind}`);
  const who = quoteIdent(owner);
  const items = [...(publicPrivileges[kind] !== undefined ? [`=${publicPrivileges[kind]}/${who}`] : []), ...(own !== "" ? [`${who}=${own}/${who}`] : [])];
  return items;
}

export function bindCatalogFunction(b: Binder, name: string, args: Expr[]): Expr | null {
  const oidArg = (i: number): Expr => coerce(b, args[i]!, Types.oid);
  // Size functions take regclass, so a relation name in quotes works ('t'), as in Postgres.
  const relArg = (i: number): Expr => coerce(b, coerce(b, args[i]!, Types.regclass), Types.oid);
  const x = (): SystemContext => systemContext(b);
  switch (name) {
    case "pg_table_is_visible":
      return callExpr(name, Types.bool, [oidArg(0)], ([oid]) => tableIsVisible(b, Number(oid)));
    case "pg_type_is_visible":
      // Every type lives in pg_catalog, which is always searched.
      return callExpr(name, Types.bool, [oidArg(0)], ([oid]) => isKnownTypeOid(Number(oid)) || userTypeVisible(b, Number(oid)));
    case "pg_typeof": {
      // The argument's type as resolved here (the argument itself is still evaluated, for its effects).
      if (args.length !== 1) return null;
      const oid = args[0]!.type.oid;
      return callExpr(name, Types.regtype, args, () => oid, false);
    }
    case "pg_function_is_visible":
      // A user-defined function is visible when looking its name up on the search path finds it
      // (built-in functions all live in pg_catalog, which is always searched).
      return callExpr(name, Types.bool, [oidArg(0)], ([oid]) => {
        const f = functionByOid(b.catalog, Number(oid));
        return f === undefined ? true : b.catalog.resolveFunctions([f.name], b.searchPath).some((x) => x.id === f.id);
      });
    case "pg_operator_is_visible":
    case "pg_collation_is_visible":
    case "pg_conversion_is_visible":
    case "pg_ts_config_is_visible":
      // Only built-in objects exist, all in pg_catalog.
      return callExpr(name, Types.bool, [oidArg(0)], () => true);
    case "pg_my_temp_schema":
      return callExpr(name, Types.oid, [], () => (b.catalog.tempSchema === undefined ? 0 : namespaceOid(b.catalog.tempSchema.id)), false);
    case "format_type":
      return callExpr(name, Types.text, [oidArg(0), coerce(b, args[1] ?? { kind: "const", type: Types.int4, value: null }, Types.int4)], ([oid, mod]) =>
        oid === null ? null : isKnownTypeOid(Number(oid)) ? formatType(typeFromOid(Number(oid), mod === null ? -1 : (mod as number))) : userTypeName(b, Number(oid)), false);
    case "pg_get_userbyid":
      return callExpr(name, Types.name, [oidArg(0)], ([oid]) => roleName(b, Number(oid)));
    case "pg_encoding_to_char":
      return callExpr(name, Types.name, [coerce(b, args[0]!, Types.int4)], ([e]) => (e === UTF8_ENCODING ? "UTF8" : ""));
    case "pg_char_to_encoding":
      return callExpr(name, Types.int4, [coerce(b, args[0]!, Types.name)], ([e]) => (String(e).toUpperCase().replace("-", "") === "UTF8" ? UTF8_ENCODING : -1));
    case "current_schemas":
      // The temporary schema (when the session has one) and pg_catalog are searched first unless
      // search_path names them; current_schemas(true) lists them too.
      return callExpr(name, arrayOf(Types.name), [coerce(b, args[0]!, Types.bool)], ([implicit]) => {
        const explicit = b.searchPath.map((n) => b.catalog.schema(n)?.name).filter((n): n is string => n !== undefined);
        if (implicit !== true) return explicit;
        const temp = b.catalog.tempSchema?.name;
        return [...(temp !== undefined && !explicit.includes(temp) ? [temp] : []), ...(explicit.includes("pg_catalog") ? [] : ["pg_catalog"]), ...explicit];
      });
    case "pg_get_expr":
      // pg_get_expr(expr, relation [, pretty]): adbin, conbin and indpred name a stored expression
      // (expr-ref.ts), printed fully parenthesised unless pretty, as ruleutils does.
      return callExpr(name, Types.text, [coerce(b, args[0]!, Types.text), ...args.slice(1, 3).map((a, i) => coerce(b, a, i === 0 ? Types.oid : Types.bool))], ([e, , pretty]) =>
        e === null ? null : (resolveExprRef(x(), e as string, pretty === true) ?? (e as string)));
    case "pg_get_indexdef":
      // pg_get_indexdef(index [, column, pretty]): column 0 is the whole statement; pretty leaves
      // the table unqualified when its schema is on the search path (Postgres: when it is visible).
      return callExpr(name, Types.text, [oidArg(0), ...args.slice(1, 2).map((a) => coerce(b, a, Types.int4)), ...args.slice(2, 3).map((a) => coerce(b, a, Types.bool))], ([oid, column, pretty]) => {
        const ix = indexOfOid(Number(oid));
        if (ix === null) return null;
        const t = b.catalog.get(ix[0]);
        if (t?.kind !== "table") return null;
        const found = [t.primaryIndex, ...t.indexes].find((i) => i.id === ix[1]);
        if (found === undefined) return null;
        const col = (column as number | null | undefined) ?? 0;
        if (col === 0) {
          const visible = pretty === true && b.searchPath.some((n) => b.catalog.schema(n)?.id === t.schemaId);
          return indexDef(x(), t, found, !visible, pretty === true);
        }
        const key = found.columns[col - 1];
        return key === undefined ? null : quoteIdent(t.columns.find((c) => c.id === key.columnId)?.name ?? "?");
      });
    case "pg_get_constraintdef":
      // pg_get_constraintdef(oid [, pretty]): psql asks for pretty text, pg_dump for the plain one.
      return callExpr(name, Types.text, [oidArg(0), ...args.slice(1, 2).map((a) => coerce(b, a, Types.bool))], ([oid, pretty]) => {
        const row = constraintRows(x()).find((r) => r.oid === Number(oid));
        return row === undefined ? null : pretty === true ? row.def : row.plainDef;
      });
    case "pg_get_viewdef": {
      // pg_get_viewdef(view) prints plain text (pg_dump, pg_views); a second argument, pretty
      // (boolean) or a wrap column (integer, which implies pretty), asks for psql's form.
      const arg = args[0]!;
      const second = args[1];
      const prettyArg = second === undefined ? [] : [second.type.oid === Oid.bool || second.type.oid === Oid.unknown ? coerce(b, second, Types.bool) : coerce(b, second, Types.int4)];
      const isPretty = (p: Datum | undefined): boolean => p === true || typeof p === "number";
      if (arg.type.oid === Oid.unknown || arg.type.oid === Oid.text) {
        return callExpr(name, Types.text, [coerce(b, arg, Types.text), ...prettyArg], ([n, p]) => {
          const rel = b.catalog.resolveRelation(parseQualifiedName(n as string), b.searchPath);
          if (rel === undefined) throw new PgError("undefined_table", `relation "${n as string}" does not exist`);
          return viewDefinition(x(), rel.kind === "view" ? rel : undefined, isPretty(p));
        });
      }
      return callExpr(name, Types.text, [oidArg(0), ...prettyArg], ([oid, p]) => viewDefinition(x(), viewByOid(b, Number(oid)), isPretty(p)));
    }
    case "pg_get_functiondef":
    case "pg_get_function_arguments":
    case "pg_get_function_identity_arguments":
    case "pg_get_function_result":
      return callExpr(name, Types.text, [oidArg(0)], ([oid]) => {
        const f = functionByOid(b.catalog, Number(oid));
        if (f === undefined) return null;
        return name === "pg_get_functiondef" ? functionDef(b.catalog, f) : name === "pg_get_function_result" ? functionResult(f) : functionArguments(f);
      });
    case "pg_get_triggerdef":
      return callExpr(name, Types.text, [oidArg(0), ...args.slice(1, 2).map((a) => coerce(b, a, Types.bool))], ([oid, pretty]) => {
        const found = triggerByOid(b.catalog, Number(oid));
        return found === undefined ? null : triggerDef(b.catalog, b.searchPath, found.table, found.trigger, pretty === true);
      });
    case "pg_get_function_sqlbody":
    case "pg_get_ruledef":
    case "pg_get_statisticsobjdef_columns":
    case "pg_get_partkeydef":
    case "pg_get_partition_constraintdef":
      // No SQL-standard function bodies, rules, extended statistics or partitioned tables
      // exist: every OID names nothing, and Postgres returns NULL for those. (pg_get_ruledef takes
      // a second argument, pretty.)
      return callExpr(name, Types.text, [oidArg(0), ...args.slice(1, 2).map((a) => coerce(b, a, Types.bool))], () => null);
    case "acldefault":
      // The privileges an object of this kind has before any GRANT/REVOKE (pg_dump compares an
      // object's ACL with it). Warren has no aclitem type: the items are text, as aclitem prints.
      return callExpr(name, arrayOf(Types.text), [coerce(b, args[0]!, Types.char), oidArg(1)], ([kind, owner]) => aclDefault(kind as string, roleName(b, Number(owner)) ?? ""));
    case "obj_description":
    case "col_description":
    case "shobj_description": {
      if (name === "shobj_description") return callExpr(name, Types.text, args, () => null, false);
      const classOid = name === "col_description" ? SYSTEM_RELATION_OIDS["pg_class"]! : null;
      const sub = name === "col_description" ? coerce(b, args[1]!, Types.int4) : args[1] === undefined ? null : coerce(b, args[1], Types.name);
      return callExpr(name, Types.text, [oidArg(0), ...(sub === null ? [] : [sub])], ([oid, second]) => {
        const wantClass = classOid ?? (second === undefined || second === null ? null : SYSTEM_RELATION_OIDS[second as string] ?? -1);
        const subId = name === "col_description" ? (second as number) : 0;
        for (const row of pgDescription(x()).rows) {
          if (row[0] === Number(oid) && (wantClass === null || row[1] === wantClass) && row[2] === subId) return row[3]!;
        }
        return null;
      });
    }
    case "pg_get_serial_sequence":
      return callExpr(name, Types.text, [coerce(b, args[0]!, Types.text), coerce(b, args[1]!, Types.text)], ([tn, cn]) => {
        const t = b.catalog.resolveRelation(parseQualifiedName(tn as string), b.searchPath);
        if (t === undefined) throw new PgError("undefined_table", `relation "${tn as string}" does not exist`);
        if (t.kind !== "table") return null;
        const col = t.columns.find((c) => c.name === cn);
        if (col === undefined) throw new PgError("undefined_column", `column "${cn as string}" of relation "${t.name}" does not exist`);
        for (const d of b.catalog.descriptors()) {
          if (d.kind === "sequence" && d.ownedBy?.[0] === t.id && d.ownedBy[1] === col.id) {
            // Postgres names the session's own temporary schema pg_temp here.
            return `${isTemp(d) ? "pg_temp" : quoteIdent(b.catalog.get(d.schemaId)?.name ?? "public")}.${quoteIdent(d.name)}`;
          }
        }
        return null;
      });
    case "pg_relation_size":
    case "pg_table_size":
      return callExpr(name, Types.int8, [relArg(0), ...args.slice(1, 2).map((a) => coerce(b, a, Types.text))], ([oid]) => (relationOf(b, oid!) !== undefined || indexOfOid(Number(oid)) !== null ? sizes.relationBytes(Number(oid)) : null));
    case "pg_indexes_size":
      return callExpr(name, Types.int8, [relArg(0)], ([oid]) => (relationOf(b, oid!) !== undefined ? indexesBytes(b, Number(oid)) : null));
    case "pg_total_relation_size":
      return callExpr(name, Types.int8, [relArg(0)], ([oid]) => (relationOf(b, oid!) !== undefined ? sizes.relationBytes(Number(oid)) + indexesBytes(b, Number(oid)) : null));
    case "pg_database_size": {
      const arg = args[0]!;
      const byName = arg.type.oid === Oid.unknown || arg.type.oid === Oid.text || arg.type.oid === Oid.name;
      return callExpr(name, Types.int8, [coerce(b, arg, byName ? Types.name : Types.oid)], ([db]) => {
        if (byName && db !== b.database) throw new PgError("invalid_catalog_name", `database "${db as string}" does not exist`);
        return databaseBytes(b);
      });
    }
    case "pg_relation_is_publishable":
    case "pg_is_in_recovery":
      return callExpr(name, Types.bool, args, () => false, false);
    case "has_table_privilege":
    case "has_schema_privilege":
    case "has_database_privilege":
    case "has_column_privilege":
    case "has_sequence_privilege":
    case "has_function_privilege":
    case "has_type_privilege":
    case "has_any_column_privilege":
    case "has_tablespace_privilege":
    case "has_language_privilege":
    case "pg_has_role":
      // The tenant's one role owns every object in its database.
      return callExpr(name, Types.bool, args, () => true, false);
    case "pg_advisory_lock":
    case "pg_advisory_lock_shared":
    case "pg_try_advisory_lock":
    case "pg_try_advisory_lock_shared":
    case "pg_advisory_xact_lock":
    case "pg_advisory_xact_lock_shared":
    case "pg_try_advisory_xact_lock":
    case "pg_try_advisory_xact_lock_shared":
    case "pg_advisory_unlock":
    case "pg_advisory_unlock_shared":
    case "pg_advisory_unlock_all": {
      // Real locks on the storage node, per tenant (sql/advisory-locks.ts). Keys: one bigint, or
      // two integers (a separate key space, as in PostgreSQL); unlock_all takes none.
      const counts = name === "pg_advisory_unlock_all" ? [0] : [1, 2];
      if (!counts.includes(args.length)) {
        throw new PgError("undefined_function", `function ${name}(${args.map((a) => formatType(a.type)).join(", ")}) does not exist`, {
          hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
        });
      }
      const type = name.startsWith("pg_try_") || name.startsWith("pg_advisory_unlock") ? (name === "pg_advisory_unlock_all" ? Types.void : Types.bool) : Types.void;
      return { kind: "special", type, name, args: args.map((a) => coerce(b, a, args.length === 1 ? Types.int8 : Types.int4)) };
    }
    case "array_lower":
    case "array_upper":
    case "array_dims": {
      // int2vector / oidvector (pg_index.indkey, pg_proc.proargtypes) are subscripted from 0;
      // resolved as anyarray they would become int2[] / oid[], which start at 1.
      const v = args[0];
      if (v === undefined || !isVectorType(v.type) || args.length !== (name === "array_dims" ? 1 : 2)) break;
      if (name === "array_dims") return callExpr(name, Types.text, [v], ([a]) => ((a as Datum[]).length > 0 ? `[0:${(a as Datum[]).length - 1}]` : null));
      return callExpr(name, Types.int4, [v, coerce(b, args[1]!, Types.int4)], ([a, d]) => {
        const n = (a as Datum[]).length;
        if (d !== 1 || n === 0) return null;
        return name === "array_lower" ? 0 : n - 1;
      });
    }
    case "pg_postmaster_start_time":
      return callExpr(name, Types.timestamptz, [], () => 0n, false);
    case "txid_current":
      return callExpr(name, Types.int8, [], () => BigInt(Date.now()), false, true);
    case "pg_my_temp_schema":
      return callExpr(name, Types.oid, [], () => 0, false);
    case "pg_is_other_temp_schema":
      return callExpr(name, Types.bool, [oidArg(0)], () => false);
  }
  return null;
}
