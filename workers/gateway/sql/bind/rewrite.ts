// Structural rewriting of bound expressions: one exhaustive table of how each kind's children are
// rebuilt, so every pass that transforms expressions (grouping, planning, remapping columns)
// shares it and a new kind cannot be forgotten.
import type { Expr, ExprVisitor } from "./bound.ts";
import { visitExpr } from "./bound.ts";

/** Rebuilds `e` with `f` applied to each direct child expression (not into subqueries). */
export function mapChildren(e: Expr, f: (c: Expr) => Expr): Expr {
  const v: ExprVisitor<Expr> = {
    const: (x) => x,
    param: (x) => x,
    col: (x) => x,
    outer: (x) => x,
    call: (x) => ({ ...x, args: x.args.map(f) }),
    and: (x) => ({ ...x, args: x.args.map(f) }),
    or: (x) => ({ ...x, args: x.args.map(f) }),
    not: (x) => ({ ...x, arg: f(x.arg) }),
    isnull: (x) => ({ ...x, arg: f(x.arg) }),
    booltest: (x) => ({ ...x, arg: f(x.arg) }),
    case: (x) => ({ ...x, whens: x.whens.map((w) => ({ when: f(w.when), then: f(w.then) })), else: f(x.else) }),
    coalesce: (x) => ({ ...x, args: x.args.map(f) }),
    minmax: (x) => ({ ...x, args: x.args.map(f) }),
    cast: (x) => ({ ...x, arg: f(x.arg) }),
    inlist: (x) => ({ ...x, arg: f(x.arg), list: x.list.map(f) }),
    distinct: (x) => ({ ...x, left: f(x.left), right: f(x.right) }),
    subquery: (x) => (x.sub.test === null ? x : { ...x, sub: { ...x.sub, test: f(x.sub.test) } }),
    array: (x) => ({ ...x, elems: x.elems.map(f) }),
    domain: (x) => ({ ...x, arg: f(x.arg) }),
    special: (x) => ({ ...x, args: x.args.map(f) }),
    routine: (x) => ({ ...x, args: x.args.map(f) }),
  };
  return visitExpr(e, v);
}

/** Post-order rewrite: children first, then `f` on the rebuilt node. */
export function mapExpr(e: Expr, f: (x: Expr) => Expr): Expr {
  return f(mapChildren(e, (c) => mapExpr(c, f)));
}

/** Every subexpression, pre-order. */
export function forEachExpr(e: Expr, f: (x: Expr) => void): void {
  f(e);
  mapChildren(e, (c) => {
    forEachExpr(c, f);
    return c;
  });
}
