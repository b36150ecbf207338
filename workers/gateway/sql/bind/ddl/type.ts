// CREATE TYPE … AS ENUM, ALTER TYPE … ADD VALUE and CREATE DOMAIN, bound: names as written, the
// labels, the domain's base type name and its constraints (expressions as stored SQL text).
// exec/ddl-type.ts resolves the names and checks them in PostgreSQL's order.
import { PgError } from "../../../../../common/errors.ts";
import { stringList, type PgNode } from "../../parse/ast.ts";
import { exprNode, storeExpr } from "../stored-sql.ts";
import { type TypeRef, typeRefOf } from "../type-ref.ts";

export interface CreateEnumCommand {
  readonly kind: "create-enum";
  readonly names: readonly string[];
  readonly labels: readonly string[];
}

export interface AlterEnumCommand {
  readonly kind: "alter-enum";
  readonly names: readonly string[];
  readonly newValue: string;
  /** RENAME VALUE (refused). */
  readonly renamesValue: boolean;
  /** ADD VALUE IF NOT EXISTS. */
  readonly ifNotExists: boolean;
  /** BEFORE / AFTER this label; null: at the end. */
  readonly neighbor: string | null;
  readonly after: boolean;
}

export type DomainConstraint =
  | { readonly kind: "not-null" }
  | { readonly kind: "null" }
  | { readonly kind: "default"; readonly expr: string }
  | { readonly kind: "check"; readonly name: string | null; readonly expr: string }
  /** UNIQUE, PRIMARY KEY, REFERENCES: not possible for domains (42601). */
  | { readonly kind: "key"; readonly what: "unique" | "primary key" | "foreign key" }
  | { readonly kind: "unsupported"; readonly contype: string };

export interface CreateDomainCommand {
  readonly kind: "create-domain";
  readonly names: readonly string[];
  readonly base: TypeRef;
  readonly constraints: readonly DomainConstraint[];
}

export function bindCreateEnum(stmt: PgNode): CreateEnumCommand {
  return { kind: "create-enum", names: stringList(stmt["typeName"] as PgNode[]), labels: stringList(stmt["vals"] as PgNode[] | undefined) };
}

export function bindAlterEnum(stmt: PgNode): AlterEnumCommand {
  const neighbor = stmt["newValNeighbor"] as string | undefined;
  return {
    kind: "alter-enum",
    names: stringList(stmt["typeName"] as PgNode[]),
    newValue: stmt["newVal"] as string,
    renamesValue: stmt["oldVal"] !== undefined,
    ifNotExists: stmt["skipIfNewValExists"] === true,
    neighbor: neighbor ?? null,
    after: stmt["newValIsAfter"] === true,
  };
}

function domainConstraint(c: PgNode): DomainConstraint {
  switch (c["contype"]) {
    case "CONSTR_NOTNULL":
      return { kind: "not-null" };
    case "CONSTR_NULL":
      return { kind: "null" };
    case "CONSTR_DEFAULT":
      return { kind: "default", expr: storeExpr(c["raw_expr"] as PgNode) };
    case "CONSTR_CHECK":
      return { kind: "check", name: (c["conname"] as string | undefined) ?? null, expr: storeExpr(c["raw_expr"] as PgNode) };
    case "CONSTR_UNIQUE":
      return { kind: "key", what: "unique" };
    case "CONSTR_PRIMARY":
      return { kind: "key", what: "primary key" };
    case "CONSTR_FOREIGN":
      return { kind: "key", what: "foreign key" };
    default:
      return { kind: "unsupported", contype: String(c["contype"]) };
  }
}

export function bindCreateDomain(stmt: PgNode): CreateDomainCommand {
  return {
    kind: "create-domain",
    names: stringList(stmt["domainname"] as PgNode[]),
    base: typeRefOf(stmt["typeName"] as PgNode),
    constraints: ((stmt["constraints"] as PgNode[] | undefined) ?? []).map((cn) => domainConstraint(cn["Constraint"] as PgNode)),
  };
}

function walkDomainExpr(n: unknown): void {
  if (Array.isArray(n)) {
    for (const x of n) walkDomainExpr(x);
    return;
  }
  if (n === null || typeof n !== "object") return;
  const o = n as PgNode;
  if (o["SubLink"] !== undefined) throw new PgError("feature_not_supported", "cannot use subquery in check constraint");
  const ref = o["ColumnRef"] as PgNode | undefined;
  if (ref !== undefined) {
    const names = (ref["fields"] as PgNode[]).map((f) => ((f["String"] as PgNode | undefined)?.["sval"] as string | undefined) ?? "*");
    if (names.length > 1) throw new PgError("undefined_table", `missing FROM-clause entry for table "${names[0]!}"`);
    if (names[0] !== "value") throw new PgError("undefined_column", `column "${names.join(".")}" does not exist`);
  }
  for (const v of Object.values(o)) walkDomainExpr(v);
}

/**
 * What Postgres refuses in a domain CHECK when the domain is created: a subquery (0A000) and any
 * column other than VALUE (42703). The rest is checked where the domain's values are coerced.
 */
export function checkDomainExpr(expr: string): void {
  walkDomainExpr(exprNode(expr));
}
