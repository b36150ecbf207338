// Logical rewrites before access paths are chosen: WHERE conjuncts move down to the join input
// they refer to (so a filter on one table is applied at its scan, where an index may serve it),
// and conjuncts spanning both inputs of an inner join become its join condition (where a hash
// join can use the equalities).
import { mapRelInputs, type Expr, type Rel } from "../bind/bound.ts";
import { forEachExpr, mapExpr } from "../bind/rewrite.ts";
import { Types } from "../types/type.ts";

export function splitAnd(e: Expr | null): Expr[] {
  if (e === null) return [];
  if (e.kind === "and") return e.args.flatMap(splitAnd);
  if (e.kind === "const" && e.value === true) return [];
  return [e];
}

export function andOf(es: Expr[]): Expr | null {
  if (es.length === 0) return null;
  if (es.length === 1) return es[0]!;
  return { kind: "and", type: Types.bool, args: es };
}

/** The input column positions an expression reads, or null when it cannot be moved (subqueries, session functions). */
export function columnsOf(e: Expr): Set<number> | null {
  const cols = new Set<number>();
  let movable = true;
  forEachExpr(e, (x) => {
    if (x.kind === "col") cols.add(x.index);
    else if (x.kind === "subquery" || x.kind === "special" || x.kind === "routine" || (x.kind === "call" && x.volatile)) movable = false;
  });
  return movable ? cols : null;
}

export function shiftCols(e: Expr, by: number): Expr {
  return mapExpr(e, (x) => (x.kind === "col" ? { ...x, index: x.index + by } : x));
}

function pushInto(rel: Rel, conds: Expr[]): Rel {
  if (conds.length === 0) return rel;
  if (rel.kind === "filter") return pushInto(rel.input, [...splitAnd(rel.pred), ...conds]);
  if (rel.kind === "join") {
    const leftWidth = rel.left.cols.length;
    const leftConds: Expr[] = [];
    const rightConds: Expr[] = [];
    const stay: Expr[] = [];
    for (const c of conds) {
      const cols = columnsOf(c);
      if (cols === null || rel.lateral) {
        stay.push(c);
        continue;
      }
      const all = [...cols];
      const leftOnly = all.every((i) => i < leftWidth);
      const rightOnly = all.every((i) => i >= leftWidth);
      if (leftOnly && (rel.type === "inner" || rel.type === "left")) leftConds.push(c);
      else if (rightOnly && all.length > 0 && (rel.type === "inner" || rel.type === "right")) rightConds.push(shiftCols(c, -leftWidth));
      else stay.push(c);
    }
    const left = pushInto(rel.left, leftConds);
    const right = pushInto(rel.right, rightConds);
    if (rel.type === "inner") {
      // Conditions over both sides join them.
      const on = andOf([...splitAnd(rel.on), ...stay]);
      return { ...rel, left, right, on };
    }
    const joined: Rel = { ...rel, left, right };
    const rest = andOf(stay);
    return rest === null ? joined : { kind: "filter", cols: rel.cols, input: joined, pred: rest };
  }
  const pred = andOf(conds)!;
  return { kind: "filter", cols: rel.cols, input: rel, pred };
}

/** Applies pushdown throughout a Rel tree. */
export function pushDown(rel: Rel): Rel {
  switch (rel.kind) {
    case "filter":
      return pushInto(pushDown(rel.input), splitAnd(rel.pred));
    case "join": {
      const left = pushDown(rel.left);
      const right = pushDown(rel.right);
      if (rel.type === "inner" && rel.on !== null && !rel.lateral) {
        // ON conditions of an inner join may move into its inputs too.
        return pushInto({ ...rel, left, right, on: null }, splitAnd(rel.on));
      }
      return { ...rel, left, right };
    }
    default:
      return mapRelInputs(rel, pushDown);
  }
}
