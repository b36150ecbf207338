// User-defined types: CREATE TYPE … AS ENUM, ALTER TYPE … ADD VALUE, DROP TYPE.
//
// An enum type is a TypeDesc (catalog/descriptors.ts): its labels and their sort orders
// (pg_enum.enumsortorder). Values are stored as their labels, and index keys order them by sort
// order (keys/datum-key.ts), so a label's sort order may never change once values may exist:
//   - CREATE TYPE numbers the labels 1, 2, 3, … as Postgres does;
//   - ADD VALUE 'x' appends with the largest order + 1; ADD VALUE 'x' BEFORE/AFTER 'y' takes the
//     midpoint between 'y' and its neighbour (Postgres does the same with float4 and renumbers
//     when it runs out of precision; renumbering here would reorder stored keys, so past the
//     precision of a float64 — about 50 insertions between the same two labels — it is refused);
//   - RENAME VALUE is refused (stored values hold the label itself).
// Every column of an enum type carries a copy of the labels (StoredType.enum): ALTER TYPE rewrites
// that copy in each such table in the same transaction.
import { PgError } from "../../../../common/errors.ts";
import type { Catalog } from "../../catalog/catalog.ts";
import type { TableDesc, TypeDesc } from "../../catalog/descriptors.ts";
import { relationOid } from "../../catalog/oids.ts";
import { bindTypeRef } from "../bind/expr.ts";
import { type AlterEnumCommand, checkDomainExpr, type CreateDomainCommand, type CreateEnumCommand } from "../bind/ddl/type.ts";
import { storedTypeOf } from "../types/type.ts";
import { sqlLimits } from "../limits.ts";
import { bump } from "./ddl-common.ts";
import type { DdlChange } from "./ddl-create-table.ts";
import type { DdlExecEnv } from "./ddl.ts";
import type { DropTypeCommand } from "../bind/ddl/drop.ts";

/** Postgres's NAMEDATALEN - 1: the longest label in bytes. */
const ENUM_LABEL_BYTES_MAX = 63;

function checkLabel(label: string): void {
  if (label.length === 0 || new TextEncoder().encode(label).length > ENUM_LABEL_BYTES_MAX) {
    throw new PgError("invalid_parameter_value", `invalid enum label "${label}"`, { detail: `Labels must be ${ENUM_LABEL_BYTES_MAX} bytes or less.` });
  }
}

function checkLabelCount(n: number): void {
  if (n > sqlLimits.enumLabelsMax) {
    throw new PgError("program_limit_exceeded", `an enum type may have at most ${sqlLimits.enumLabelsMax} labels`);
  }
}

/** A type named by `names`, or undefined. */
function typeByName(env: DdlExecEnv, names: readonly string[]): TypeDesc | undefined {
  return env.catalog.resolveType(names, env.searchPath);
}

export async function createEnum(env: DdlExecEnv, stmt: CreateEnumCommand): Promise<DdlChange> {
  const names = stmt.names;
  const name = names[names.length - 1]!;
  const schema = env.catalog.creationSchema(names, env.searchPath);
  // Every table has a row type of its name in Postgres, so a table's name is taken for types too.
  if (env.catalog.typeIn(schema.id, name) !== undefined || env.catalog.relationIn(schema.id, name) !== undefined) {
    throw new PgError("duplicate_object", `type "${name}" already exists`);
  }
  const labels = [...stmt.labels];
  checkLabelCount(labels.length);
  for (const l of labels) checkLabel(l);
  const id = await env.allocateId();
  const dup = labels.find((l, i) => labels.indexOf(l) !== i);
  if (dup !== undefined) throw new PgError("unique_violation", `duplicate key value violates unique constraint "pg_enum_typid_label_index"`, { detail: `Key (enumtypid, enumlabel)=(${relationOid(id)}, ${dup}) already exists.` });
  const d: TypeDesc = { kind: "type", id, name, schemaId: schema.id, version: 1, labels, sortOrders: labels.map((_, i) => i + 1) };
  return { changed: [d], removed: [], tag: "CREATE TYPE" };
}

/**
 * CREATE DOMAIN name AS base [DEFAULT e] [NOT NULL | NULL] [[CONSTRAINT c] CHECK (e)]…: a
 * TypeDesc whose `domain` holds the base type and the constraints. Values are stored as the base
 * type; a column of the domain keeps a copy of the constraints (StoredType.domain) and every
 * coercion to the domain (assignment, cast) checks them (bind/expr.ts coerceToDomain). Unnamed
 * checks are named as Postgres names them: <domain>_check, <domain>_check1, …
 * ALTER DOMAIN is not supported, so the copies never go stale.
 */
export async function createDomain(env: DdlExecEnv, stmt: CreateDomainCommand): Promise<DdlChange> {
  const names = stmt.names;
  const name = names[names.length - 1]!;
  const schema = env.catalog.creationSchema(names, env.searchPath);
  if (env.catalog.typeIn(schema.id, name) !== undefined || env.catalog.relationIn(schema.id, name) !== undefined) {
    throw new PgError("duplicate_object", `type "${name}" already exists`);
  }
  const baseType = bindTypeRef(stmt.base, env);
  if (baseType.elem !== undefined) throw new PgError("feature_not_supported", "domains over array types are not supported");
  if (baseType.domain !== undefined) throw new PgError("feature_not_supported", "domains over other domains are not supported", { hint: `Declare the domain over ${baseType.name} and repeat the constraints of ${baseType.domain.name}.` });
  let notNull = false;
  let sawNull = false;
  let defaultExpr: string | null = null;
  const checks: Array<{ name: string; expr: string }> = [];
  const used = new Set<string>();
  for (const c of stmt.constraints) {
    switch (c.kind) {
      case "not-null":
        if (sawNull) throw new PgError("syntax_error", "conflicting NULL/NOT NULL constraints");
        notNull = true;
        break;
      case "null":
        if (notNull) throw new PgError("syntax_error", "conflicting NULL/NOT NULL constraints");
        sawNull = true;
        break;
      case "default":
        if (defaultExpr !== null) throw new PgError("syntax_error", "multiple default expressions");
        defaultExpr = c.expr;
        break;
      case "check": {
        let cname = c.name;
        if (cname === null) {
          cname = `${name}_check`;
          for (let i = 1; used.has(cname); i++) cname = `${name}_check${i}`;
        } else if (used.has(cname)) {
          throw new PgError("duplicate_object", `constraint "${cname}" for domain "${name}" already exists`);
        }
        used.add(cname);
        checkDomainExpr(c.expr);
        checks.push({ name: cname, expr: c.expr });
        break;
      }
      case "key":
        throw new PgError("syntax_error", `${c.what} constraints not possible for domains`);
      case "unsupported":
        throw new PgError("feature_not_supported", `constraint ${c.contype} is not supported on domains`);
    }
  }
  if (checks.length > sqlLimits.domainChecksMax) throw new PgError("program_limit_exceeded", `a domain may have at most ${sqlLimits.domainChecksMax} CHECK constraints`);
  const id = await env.allocateId();
  const d: TypeDesc = { kind: "type", id, name, schemaId: schema.id, version: 1, labels: [], sortOrders: [], domain: { base: storedTypeOf(baseType), notNull, checks, defaultExpr } };
  return { changed: [d], removed: [], tag: "CREATE DOMAIN" };
}

/** The sort order of a new label placed before or after `neighbor` (or at the end). */
function newSortOrder(t: TypeDesc, neighbor: string | undefined, after: boolean): number {
  if (neighbor === undefined) return t.sortOrders.length === 0 ? 1 : Math.max(...t.sortOrders) + 1;
  const i = t.labels.indexOf(neighbor);
  if (i < 0) throw new PgError("invalid_parameter_value", `"${neighbor}" is not an existing enum label`);
  const at = t.sortOrders[i]!;
  const others = t.sortOrders.filter((o) => (after ? o > at : o < at));
  const next = others.length === 0 ? at + (after ? 1 : -1) : after ? Math.min(...others) : Math.max(...others);
  const mid = (at + next) / 2;
  if (mid === at || mid === next) {
    throw new PgError("program_limit_exceeded", `no room for a new label ${after ? "after" : "before"} "${neighbor}" in enum ${t.name}`, {
      hint: "Too many labels were inserted at this place; recreate the type.",
    });
  }
  return mid;
}

export async function alterEnum(env: DdlExecEnv, stmt: AlterEnumCommand): Promise<DdlChange> {
  const names = stmt.names;
  const t = typeByName(env, names);
  if (t === undefined) throw new PgError("undefined_object", `type "${names.join(".")}" does not exist`);
  const newVal = stmt.newValue;
  if (stmt.renamesValue) {
    throw new PgError("feature_not_supported", "ALTER TYPE … RENAME VALUE is not supported", { hint: "Stored values hold the label itself; add the new label and update the rows instead." });
  }
  checkLabel(newVal);
  if (t.labels.includes(newVal)) {
    if (stmt.ifNotExists) return { changed: [], removed: [], tag: "ALTER TYPE" };
    throw new PgError("duplicate_object", `enum label "${newVal}" already exists`);
  }
  checkLabelCount(t.labels.length + 1);
  const order = newSortOrder(t, stmt.neighbor ?? undefined, stmt.after);
  const next: TypeDesc = { ...bump(t), labels: [...t.labels, newVal], sortOrders: [...t.sortOrders, order] };
  return { changed: [next, ...columnsRetyped(env.catalog, next)], removed: [], tag: "ALTER TYPE" };
}

/** Every table with a column of type `t`, its columns' copy of the labels replaced by t's. */
function columnsRetyped(catalog: Catalog, t: TypeDesc): TableDesc[] {
  const oid = typeOid(t);
  const out: TableDesc[] = [];
  for (const d of catalog.descriptors()) {
    if (d.kind !== "table" || !d.columns.some((c) => c.type.oid === oid)) continue;
    out.push({
      ...bump(d),
      columns: d.columns.map((c) => (c.type.oid === oid ? { ...c, type: { ...c.type, enum: { ...c.type.enum!, labels: [...t.labels], sortOrders: [...t.sortOrders] } } } : c)),
    });
  }
  return out;
}

/** Columns that use type `t`: "column c of table x". */
function dependents(catalog: Catalog, t: TypeDesc): string[] {
  const oid = typeOid(t);
  const out: string[] = [];
  for (const d of catalog.descriptors()) {
    if (d.kind !== "table") continue;
    for (const c of d.columns) if ((c.type.oid === oid && c.type.domain === undefined) || c.type.domain?.typeId === t.id) out.push(`column ${c.name} of table ${d.name}`);
  }
  return out;
}

export async function dropTypes(env: DdlExecEnv, cmd: DropTypeCommand): Promise<DdlChange> {
  const { missingOk } = cmd;
  const removed: number[] = [];
  for (const names of cmd.types) {
    const t = typeByName(env, names);
    if (t === undefined) {
      if (missingOk) continue;
      throw new PgError("undefined_object", `type "${names.join(".")}" does not exist`);
    }
    const deps = dependents(env.catalog, t);
    if (deps.length > 0) {
      // CASCADE would drop those columns in Postgres; here the columns must be dropped first.
      throw new PgError("dependent_objects_still_exist", `cannot drop type ${t.name} because other objects depend on it`, {
        detail: deps.map((d) => `${d} depends on type ${t.name}`).join("\n"),
        hint: cmd.cascade ? "Drop the dependent columns first: DROP TYPE … CASCADE does not drop columns here." : "Use DROP ... CASCADE to drop the dependent objects too.",
      });
    }
    if (cmd.domain && t.domain === undefined) throw new PgError("wrong_object_type", `"${t.name}" is not a domain`);
    const usedBy = env.catalog.types().filter((o) => o.domain?.base.domain?.typeId === t.id);
    if (usedBy.length > 0) {
      throw new PgError("dependent_objects_still_exist", `cannot drop type ${t.name} because other objects depend on it`, { detail: usedBy.map((o) => `type ${o.name} depends on type ${t.name}`).join("\n") });
    }
    removed.push(t.id);
  }
  return { changed: [], removed, tag: cmd.domain ? "DROP DOMAIN" : "DROP TYPE" };
}

/** pg_type.oid of a user-defined type (the same mapping as relations: descriptor ids are unique). */
export function typeOid(t: TypeDesc): number {
  return relationOid(t.id);
}
