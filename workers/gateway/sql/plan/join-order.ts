// Join ordering for trees of inner joins (FROM a, b, c … WHERE …). The written order may put two
// unrelated tables next to each other, which makes a cross product; instead the tables are joined
// greedily: start from the most restricted table, then always add a table connected to those
// already joined by an equality (a hash join), falling back to a cross join only when nothing
// connects. A final projection restores the column order the query was bound with.
import { mapRelInputs, type Expr, type OutputColumn, type Rel } from "../bind/bound.ts";
import { mapExpr } from "../bind/rewrite.ts";
import { andOf, columnsOf, splitAnd } from "./pushdown.ts";

interface Leaf {
  rel: Rel;
  /** Position of the leaf's first column in the original layout. */
  offset: number;
  width: number;
  filters: Expr[];
}

interface Conjunct {
  expr: Expr;
  leaves: Set<number>;
}

function isInnerJoin(r: Rel): r is Rel & { kind: "join" } {
  return r.kind === "join" && r.type === "inner" && !r.lateral;
}

function collect(r: Rel, offset: number, leaves: Leaf[], conds: Expr[]): void {
  if (isInnerJoin(r)) {
    collect(r.left, offset, leaves, conds);
    collect(r.right, offset + r.left.cols.length, leaves, conds);
    for (const c of splitAnd(r.on)) conds.push(shift(c, offset));
    return;
  }
  leaves.push({ rel: r, offset, width: r.cols.length, filters: [] });
}

function shift(e: Expr, by: number): Expr {
  return by === 0 ? e : mapExpr(e, (x) => (x.kind === "col" ? { ...x, index: x.index + by } : x));
}

function remap(e: Expr, map: Map<number, number>): Expr {
  return mapExpr(e, (x) => (x.kind === "col" ? { ...x, index: map.get(x.index)! } : x));
}

function leafOf(leaves: Leaf[], col: number): number {
  for (let i = 0; i < leaves.length; i++) {
    const l = leaves[i]!;
    if (col >= l.offset && col < l.offset + l.width) return i;
  }
  return -1;
}

function hasEqualityWithConstant(filters: Expr[]): boolean {
  return filters.some((f) => f.kind === "call" && f.name === "=" && f.args.some((a) => a.kind === "const"));
}

function isEquality(e: Expr): boolean {
  return e.kind === "call" && e.name === "=";
}

/** Reorders every maximal tree of inner joins in `rel` (recursively). */
export function reorderJoins(rel: Rel): Rel {
  if (rel.kind === "join" && isInnerJoin(rel)) return reorderTree(rel);
  return mapRelInputs(rel, reorderJoins);
}

function reorderTree(root: Rel & { kind: "join" }): Rel {
  const leaves: Leaf[] = [];
  const conds: Expr[] = [];
  collect(root, 0, leaves, conds);
  if (leaves.length < 3) {
    return { ...root, left: reorderJoins(root.left), right: reorderJoins(root.right) };
  }
  for (const l of leaves) l.rel = reorderJoins(l.rel);
  const multi: Conjunct[] = [];
  const unmovable: Expr[] = [];
  for (const c of conds) {
    const cols = columnsOf(c);
    if (cols === null) {
      unmovable.push(c);
      continue;
    }
    const ls = new Set([...cols].map((i) => leafOf(leaves, i)));
    if (ls.size === 1) {
      const li = [...ls][0]!;
      leaves[li]!.filters.push(shift(c, -leaves[li]!.offset));
    } else {
      multi.push({ expr: c, leaves: ls });
    }
  }
  // Greedy order: most restricted leaf first, then connected leaves (by equality) first.
  const order: number[] = [];
  const done = new Set<number>();
  const score = (i: number): number => (hasEqualityWithConstant(leaves[i]!.filters) ? 2 : leaves[i]!.filters.length > 0 ? 1 : 0);
  let first = 0;
  for (let i = 1; i < leaves.length; i++) if (score(i) > score(first)) first = i;
  order.push(first);
  done.add(first);
  while (order.length < leaves.length) {
    let pick = -1;
    let best = -1;
    for (let i = 0; i < leaves.length; i++) {
      if (done.has(i)) continue;
      const connects = multi.some((c) => c.leaves.has(i) && [...c.leaves].every((l) => l === i || done.has(l)) && isEquality(c.expr));
      const s = (connects ? 10 : 0) + score(i);
      if (s > best) {
        best = s;
        pick = i;
      }
    }
    order.push(pick);
    done.add(pick);
  }
  // Build the left-deep tree in that order.
  const leafRel = (i: number): Rel => {
    const l = leaves[i]!;
    const f = andOf(l.filters);
    return f === null ? l.rel : { kind: "filter", cols: l.rel.cols, input: l.rel, pred: f };
  };
  const map = new Map<number, number>();
  let cols: OutputColumn[] = [];
  const place = (i: number): void => {
    const l = leaves[i]!;
    for (let k = 0; k < l.width; k++) map.set(l.offset + k, cols.length + k);
    cols = [...cols, ...l.rel.cols];
  };
  let tree = leafRel(order[0]!);
  place(order[0]!);
  const joined = new Set([order[0]!]);
  const applied = new Set<Conjunct>();
  for (const i of order.slice(1)) {
    joined.add(i);
    const right = leafRel(i);
    place(i);
    const on: Expr[] = [];
    for (const c of multi) {
      if (applied.has(c) || ![...c.leaves].every((l) => joined.has(l))) continue;
      applied.add(c);
      on.push(remap(c.expr, map));
    }
    tree = { kind: "join", type: "inner", left: tree, right, on: andOf(on), lateral: false, cols };
  }
  // Restore the original column order for everything above. Conditions holding subqueries stay
  // above that projection: their correlated references use the original layout.
  const exprs: Expr[] = root.cols.map((c, orig) => ({ kind: "col", type: c.type, index: map.get(orig)! }));
  const projected: Rel = { kind: "project", cols: root.cols, input: tree, exprs };
  return unmovable.length === 0 ? projected : { kind: "filter", cols: root.cols, input: projected, pred: andOf(unmovable)! };
}
