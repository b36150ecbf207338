// When a query's conditions imply a partial index's predicate (CREATE INDEX … WHERE), so that every
// row the query can return has an entry in that index: the planner may then read the index, and
// ON CONFLICT (cols) WHERE … may take it as its arbiter. The proof is the simple one Postgres's
// predtest.c starts with, per conjunct of the predicate:
//   - an identical conjunct among the query's (same operator or function, same columns, equal
//     constants and parameters), or
//   - `col IS NOT NULL`, implied by a strict operator with that column on one side
//     (`col = $1`, `col > 5`: a NULL column would make it NULL, never true).
// Anything else is "not proven" and the index is not used, which is always safe.
import { compareDatums } from "../types/compare.ts";
import type { Expr } from "./bound.ts";

/** Conjuncts of an AND tree (a lone expression is its own single conjunct). */
export function conjunctsOf(e: Expr): Expr[] {
  return e.kind === "and" ? e.args.flatMap(conjunctsOf) : [e];
}

function sameList(a: readonly Expr[], b: readonly Expr[]): boolean {
  return a.length === b.length && a.every((x, i) => sameExpr(x, b[i]!));
}

/** Structural equality of two bound expressions over the same input row. */
export function sameExpr(a: Expr, b: Expr): boolean {
  if (a.kind !== b.kind || a.type.oid !== b.type.oid) return false;
  switch (a.kind) {
    case "const": {
      const bv = (b as typeof a).value;
      if (a.value === null || bv === null) return a.value === bv;
      return compareDatums(a.value, bv, a.type) === 0;
    }
    case "param":
    case "col":
      return a.index === (b as typeof a).index;
    case "call":
      return a.name === (b as typeof a).name && !a.volatile && sameList(a.args, (b as typeof a).args);
    case "and":
    case "or":
    case "coalesce":
      return sameList(a.args, (b as typeof a).args);
    case "not":
      return sameExpr(a.arg, (b as typeof a).arg);
    case "isnull":
      return a.negate === (b as typeof a).negate && sameExpr(a.arg, (b as typeof a).arg);
    case "booltest":
      return a.negate === (b as typeof a).negate && a.test === (b as typeof a).test && sameExpr(a.arg, (b as typeof a).arg);
    case "cast":
      return a.type.typmod === b.type.typmod && sameExpr(a.arg, (b as typeof a).arg);
    case "inlist":
      return a.negate === (b as typeof a).negate && sameExpr(a.arg, (b as typeof a).arg) && sameList(a.list, (b as typeof a).list);
    case "distinct":
      return a.negate === (b as typeof a).negate && sameExpr(a.left, (b as typeof a).left) && sameExpr(a.right, (b as typeof a).right);
    default:
      // CASE, arrays, domains, subqueries, session functions: not compared (never proven equal).
      return false;
  }
}

const STRICT_COMPARISONS = new Set(["=", "<", "<=", ">", ">=", "<>"]);

/** `c` is true only when `col` is not NULL. */
function impliesNotNull(c: Expr, col: Expr): boolean {
  if (c.kind === "call" && c.strict && STRICT_COMPARISONS.has(c.name) && c.args.length === 2) return c.args.some((a) => sameExpr(a, col));
  if (c.kind === "inlist" && !c.negate) return sameExpr(c.arg, col);
  if (c.kind === "isnull" && c.negate) return sameExpr(c.arg, col);
  return false;
}

/** Whether the conjuncts `given` (all true for a row) prove `predicate` true for that row. */
export function predicateImplied(predicate: Expr, given: readonly Expr[]): boolean {
  return conjunctsOf(predicate).every((p) => given.some((g) => sameExpr(g, p)) || (p.kind === "isnull" && p.negate && given.some((g) => impliesNotNull(g, p.arg))));
}
