// The per-table expressions every write evaluates: column defaults and CHECK constraints, bound
// from the descriptors' stored ASTs against the table's own columns.
import { PG_TEMP_ALIAS } from "../../catalog/catalog.ts";
import { isTemp, type TableDesc } from "../../catalog/descriptors.ts";
import type { PgNode } from "../parse/ast.ts";
import { typeOfStored } from "../types/type.ts";
import type { Binder } from "./binder.ts";
import type { Expr } from "./bound.ts";
import { bindExpr, coerce, coerceBool, ctxFor } from "./expr.ts";
import { Scope } from "./scope.ts";
import { tableScope } from "./dml.ts";
import { PgError } from "../../../../common/errors.ts";
import { forEachExpr } from "./rewrite.ts";
import { exprNode } from "./stored-sql.ts";

/** Whether an expression calls a volatile function (or reads session state) anywhere. */
function hasVolatile(e: Expr): boolean {
  let v = false;
  forEachExpr(e, (x) => {
    if ((x.kind === "call" && x.volatile) || x.kind === "special" || x.kind === "routine" || x.kind === "subquery") v = true;
  });
  return v;
}

export interface TableRules {
  /** Per column (table.columns order): its DEFAULT, or null (NULL, or a hidden row id). */
  defaults: Array<Expr | null>;
  checks: Array<{ name: string; expr: Expr }>;
  /** Per column: its generation expression over the row (GENERATED ALWAYS AS … STORED), or null. */
  generated: Array<Expr | null>;
  /** Per partial index (by index id): its predicate over the row (CREATE INDEX … WHERE). */
  indexPredicates: ReadonlyMap<number, Expr>;
}

/**
 * A serial column's default names its sequence without a schema (`nextval('t_id_seq')`), resolved
 * when it runs. Postgres binds the sequence itself; here the name is qualified with the schema the
 * table owns it in, so a temporary sequence of the same name (searched first) cannot stand in.
 */
function ownSequenceQualified(b: Binder, t: TableDesc, columnId: number, expr: PgNode): PgNode {
  const call = expr["FuncCall"] as PgNode | undefined;
  const fname = (call?.["funcname"] as Array<{ String?: { sval?: string } }> | undefined)?.map((n) => n.String?.sval).join(".");
  const arg = ((call?.["args"] as PgNode[] | undefined)?.[0]?.["A_Const"] as PgNode | undefined)?.["sval"] as { sval?: string } | undefined;
  if (fname !== "nextval" || arg?.sval === undefined || arg.sval.includes(".")) return expr;
  const seq = b.catalog.relationIn(t.schemaId, arg.sval);
  if (seq?.kind !== "sequence" || seq.ownedBy?.[0] !== t.id || seq.ownedBy[1] !== columnId) return expr;
  const schema = isTemp(seq) ? PG_TEMP_ALIAS : b.catalog.get(t.schemaId)?.name;
  if (schema === undefined) return expr;
  return { FuncCall: { ...call, args: [{ A_Const: { sval: { sval: `${schema}.${arg.sval}` } } }] } };
}

/** Each column's generation expression bound over the table's row (null for other columns). */
export function bindGeneratedColumns(b: Binder, t: TableDesc): Array<Expr | null> {
  const scope = new Scope(tableScope(t, t.name, 0, null), null);
  return t.columns.map((c) => {
    if (c.generated === undefined) return null;
    const e = bindExpr(b, exprNode(c.generated), ctxFor(scope, "column generation expressions"));
    if (hasVolatile(e)) throw new PgError("invalid_object_definition", "generation expression is not immutable");
    return coerce(b, e, typeOfStored(c.type));
  });
}

export function bindTableRules(b: Binder, t: TableDesc): TableRules {
  const empty = new Scope([], null);
  const defaults = t.columns.map((c) => {
    // A column of a domain without a DEFAULT of its own takes the domain's (or NULL), checked
    // against the domain's constraints as Postgres does: omitting a NOT NULL domain column fails.
    const dom = c.type.domain;
    const stored = c.defaultExpr ?? (dom !== undefined && !c.hidden ? dom.defaultExpr : null);
    const expr = stored !== null ? exprNode(stored) : dom !== undefined && !c.hidden ? { A_Const: { isnull: true } } : null;
    return expr === null ? null : coerce(b, bindExpr(b, ownSequenceQualified(b, t, c.id, expr), ctxFor(empty, "DEFAULT expressions")), typeOfStored(c.type));
  });
  const scope = new Scope(tableScope(t, t.name, 0, null), null);
  const checks = t.checks.map((ch) => ({ name: ch.name, expr: coerceBool(b, bindExpr(b, exprNode(ch.expr), ctxFor(scope, "check constraints")), "CHECK") }));
  return { defaults, checks, generated: bindGeneratedColumns(b, t), indexPredicates: bindIndexPredicates(b, t) };
}

/**
 * A partial index's predicate bound over the table's row, with Postgres's checks (CREATE INDEX
 * runs them; stored predicates passed them already): boolean, no subquery (0A000), no aggregate
 * or window function (42803 / 42P20), nothing volatile or session-dependent (42P17).
 */
export function bindIndexPredicate(b: Binder, t: TableDesc, pred: PgNode): Expr {
  let sub = false;
  const scope = new Scope(tableScope(t, t.name, 0, null), null);
  const e = coerceBool(b, bindExpr(b, pred, ctxFor(scope, "index predicates")), "WHERE");
  forEachExpr(e, (x) => {
    if (x.kind === "subquery") sub = true;
  });
  if (sub) throw new PgError("feature_not_supported", "cannot use subquery in index predicate");
  if (hasVolatile(e)) throw new PgError("invalid_object_definition", "functions in index predicate must be marked IMMUTABLE");
  return e;
}

/** The predicate of every partial index of `t`, by index id. */
export function bindIndexPredicates(b: Binder, t: TableDesc): Map<number, Expr> {
  const out = new Map<number, Expr>();
  for (const ix of t.indexes) if (ix.predicate !== undefined) out.set(ix.id, bindIndexPredicate(b, t, exprNode(ix.predicate)));
  return out;
}
