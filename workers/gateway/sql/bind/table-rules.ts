// The per-table expressions every write evaluates: column defaults and CHECK constraints, bound
// from the descriptors' stored ASTs against the table's own columns.
import type { TableDesc } from "../../catalog/descriptors.ts";
import { typeFromOid } from "../types/type.ts";
import type { Binder } from "./binder.ts";
import type { Expr } from "./bound.ts";
import { bindExpr, coerce, coerceBool, ctxFor } from "./expr.ts";
import { Scope } from "./scope.ts";
import { tableScope } from "./dml.ts";

export interface TableRules {
  /** Per column (table.columns order): its DEFAULT, or null (NULL, or a hidden row id). */
  defaults: Array<Expr | null>;
  checks: Array<{ name: string; expr: Expr }>;
}

export function bindTableRules(b: Binder, t: TableDesc): TableRules {
  const empty = new Scope([], null);
  const defaults = t.columns.map((c) =>
    c.defaultExpr === null ? null : coerce(b, bindExpr(b, c.defaultExpr, ctxFor(empty, "DEFAULT expressions")), typeFromOid(c.type.oid, c.type.typmod)),
  );
  const scope = new Scope(tableScope(t, t.name, 0, null), null);
  const checks = t.checks.map((ch) => ({ name: ch.name, expr: coerceBool(b, bindExpr(b, ch.expr, ctxFor(scope, "check constraints")), "CHECK") }));
  return { defaults, checks };
}
