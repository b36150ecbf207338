// Turns a bound Rel into a physical plan: access paths for table reads (point get, bounded index
// scan, secondary-index lookup, full scan with a row limit hint), hash or nested-loop joins, and
// the streaming / materialising operators for the rest.
import { PgError } from "../../../../common/errors.ts";
import type { Expr, Rel, RelVisitor } from "../bind/bound.ts";
import type { TableDesc } from "../../catalog/descriptors.ts";
import { visitRel } from "../bind/bound.ts";
import { aggregateOp } from "../exec/ops/aggregate.ts";
import { emptyOp, filterOp, limitOp, oneRowOp, projectOp, srfOp, valuesOp } from "../exec/ops/basic.ts";
import { cteScanOp } from "../exec/ops/cte.ts";
import { appendOp, distinctOp, setOp } from "../exec/ops/distinct.ts";
import { hashJoinOp, type HashKeys, nestedLoopOp } from "../exec/ops/join.ts";
import { indexScan, pointGet, primaryScan } from "../exec/ops/scan.ts";
import { sortOp } from "../exec/ops/sort.ts";
import { windowOp } from "../exec/ops/window.ts";
import { chooseAccess, indexSpans, pointKeys } from "./access-path.ts";
import type { PlanNode } from "../exec/plan-node.ts";
import { andOf, columnsOf, pushDown, shiftCols, splitAnd } from "./pushdown.ts";
import { reorderJoins } from "./join-order.ts";
import { lookupJoinOp } from "../exec/ops/lookup-join.ts";
import { compareDatums } from "../types/compare.ts";
import { Types, type SqlType } from "../types/type.ts";

/** Estimated rows of a table scan with no statistics. */
const DEFAULT_TABLE_ROWS = 1000;

export function plan(rel: Rel): PlanNode {
  const root = planRel(reorderJoins(pushDown(rel)), null);
  budgeted(root);
  return root;
}

/**
 * Makes every operator pass the statement's budget between batches: each batch is charged (its
 * rows, plus one for the batch) and checked against its deadline and cancel flag; when a slice of
 * work is done, the statement first returns to the event loop (exec/budget.ts). Every row flowing through
 * the plan is counted here; loops inside one operator that run long without producing a batch
 * (a cross join's inner loop, a sort's merge, a window partition) charge the budget themselves.
 */
function budgeted(node: PlanNode): void {
  for (const c of node.children) budgeted(c);
  const inner = node.run.bind(node);
  node.run = async function* (ctx) {
    const budget = ctx.budget;
    budget.check();
    for await (const batch of inner(ctx)) {
      // A batch may follow a wait (storage, a slow client) that let a cancel arrive or the
      // deadline pass without a pause being due: check at every batch (a flag and a clock read).
      if (budget.charge(batch.length + 1)) await budget.pause();
      else budget.check();
      yield batch;
    }
  };
}

/** `rowsHint`: how many rows the consumer will take at most (LIMIT directly above). */
function planRel(rel: Rel, rowsHint: number | null): PlanNode {
  const v: RelVisitor<PlanNode> = {
    scan: (r) => primaryScan(r.table, null, DEFAULT_TABLE_ROWS, rowsHint, false, []),
    values: (r) => valuesOp(r.rows),
    filter: (r) => planFilter(r.input, r.pred, rowsHint),
    project: (r) => {
      const child = planRel(r.input, rowsHint);
      return projectOp(child, r.exprs, child.estRows);
    },
    join: (r) => planJoin(r),
    aggregate: (r) => aggregateOp(planRel(r.input, null), r.groupBy, r.aggs, r.groupBy.length === 0 ? 1 : 100),
    window: (r) => windowOp(planRel(r.input, null), r.funcs),
    sort: (r) => tryOrderedRead(r, rowsHint) ?? sortOp(planRel(r.input, null), r.keys, r.cols.map((c) => c.name)),
    limit: (r) => {
      const hint = constInt(r.limit);
      const off = r.offset === null ? 0 : constInt(r.offset);
      const childHint = hint !== null && off !== null ? hint + off : null;
      return limitOp(planRel(r.input, childHint), r.limit, r.offset, hint ?? estimate(r.input));
    },
    distinct: (r) => distinctOp(planRel(r.input, null), r.on, r.cols.map((c) => c.type)),
    setop: (r) => setOp(r.op, r.all, planRel(r.left, null), planRel(r.right, null), r.cols.map((c) => c.type)),
    append: (r) => appendOp(r.inputs.map((i) => planRel(i, null))),
    cteref: (r) => cteScanOp(r.cte),
    srf: (r) => srfOp(r.name, r.args),
    one: () => oneRowOp(),
  };
  return visitRel(rel, v);
}

function constInt(e: Expr | null): number | null {
  if (e === null || e.kind !== "const" || e.value === null) return null;
  const n = Number(e.value as number | bigint);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

function estimate(r: Rel): number {
  switch (r.kind) {
    case "one":
      return 1;
    case "values":
      return r.rows.length;
    case "limit":
      return constInt(r.limit) ?? estimate(r.input);
    case "filter":
      return Math.max(1, Math.round(estimate(r.input) / 3));
    case "aggregate":
      return r.groupBy.length === 0 ? 1 : 100;
    case "project":
    case "sort":
    case "distinct":
    case "window":
      return estimate(r.input);
    case "join":
      return estimate(r.left) * (r.on === null ? estimate(r.right) : 1);
    case "append":
      return r.inputs.reduce((n, i) => n + estimate(i), 0);
    default:
      return DEFAULT_TABLE_ROWS;
  }
}

function planFilter(input: Rel, pred: Expr, rowsHint: number | null): PlanNode {
  if (pred.kind === "const" && (pred.value === false || pred.value === null)) return emptyOp("Result");
  if (input.kind === "scan") return planTableRead(input, pred, false, rowsHint).node;
  const child = planRel(input, null);
  return filterOp(child, pred, Math.max(1, Math.round(child.estRows / 3)), input.cols.map((c) => c.name));
}

/**
 * Reads a table under an optional filter through the best access path. `ordered` reports
 * whether rows come out in primary-key order (reversed when `reverse`): true for point gets
 * and primary-index scans, false for secondary-index scans.
 */
function planTableRead(scan: Rel & { kind: "scan" }, pred: Expr | null, reverse: boolean, rowsHint: number | null): { node: PlanNode; ordered: boolean } {
  const table = scan.table;
  if (pred === null) return { node: primaryScan(table, null, DEFAULT_TABLE_ROWS, rowsHint, reverse, []), ordered: true };
  const conjuncts = splitAnd(pred);
  const names = table.columns.map((c) => c.name);
  const choice = chooseAccess(table, conjuncts, scan.indexPredicates ?? new Map());
  let access: PlanNode;
  let ordered = true;
  if (choice === null) {
    // A filter above a full scan may need many rows per result row: no hint.
    access = primaryScan(table, null, DEFAULT_TABLE_ROWS, null, reverse, []);
  } else if (choice.index.primary && choice.full) {
    access = pointGet(table, (ctx) => pointKeys(table, choice, ctx), choice.estRows, choice.describe);
    // An IN list yields its keys in list order, not key order.
    ordered = !choice.eq.some((c) => c.op === "in");
  } else if (choice.index.primary) {
    access = primaryScan(table, (ctx) => indexSpans(table, choice, ctx), choice.estRows, null, reverse, choice.describe);
  } else {
    access = indexScan(table, choice.index, (ctx) => indexSpans(table, choice, ctx), choice.estRows, null, reverse, choice.describe);
    ordered = false;
  }
  const node = filterOp(access, pred, Math.max(1, Math.min(access.estRows, choice === null ? DEFAULT_TABLE_ROWS / 3 : access.estRows)), names);
  return { node, ordered };
}

/**
 * ORDER BY on a leading prefix of the primary key (all ascending or all descending) over a
 * table read: the primary index already yields that order, so the sort is dropped and a LIMIT
 * above can stop the scan after its rows. Returns null when the shape does not fit.
 */
function tryOrderedRead(r: Rel & { kind: "sort" }, rowsHint: number | null): PlanNode | null {
  const projects: Array<Rel & { kind: "project" }> = [];
  let cur: Rel = r.input;
  while (cur.kind === "project") {
    projects.push(cur);
    cur = cur.input;
  }
  let pred: Expr | null = null;
  if (cur.kind === "filter") {
    pred = cur.pred;
    cur = cur.input;
  }
  if (cur.kind !== "scan") return null;
  const table = cur.table;
  // Map each sort key down through the projections to a scan column.
  const positions: number[] = [];
  for (const k of r.keys) {
    let e: Expr = k.expr;
    for (const p of projects) {
      if (e.kind !== "col") return null;
      e = p.exprs[e.index]!;
    }
    if (e.kind !== "col") return null;
    positions.push(e.index);
  }
  const pk = table.primaryIndex.columns.map((c) => table.columns.findIndex((col) => col.id === c.columnId));
  if (positions.length === 0 || positions.length > pk.length || !positions.every((p, i) => p === pk[i])) return null;
  const desc = r.keys[0]!.desc;
  if (!r.keys.every((k) => k.desc === desc)) return null;
  const read = planTableRead(cur, pred, desc, pred === null ? rowsHint : null);
  if (!read.ordered) return null;
  let node = read.node;
  for (let i = projects.length - 1; i >= 0; i--) node = projectOp(node, projects[i]!.exprs, node.estRows);
  return node;
}

/** Left sides estimated at most this many rows join by primary-key lookups rather than a hash of the right table. */
const LOOKUP_JOIN_LEFT_ROWS_MAX = 1000;

/**
 * A lookup join when the right side is a table read (optionally filtered) whose whole primary
 * key is pinned by the join's equalities, and the left side is small.
 */
function tryLookupJoin(r: Rel & { kind: "join" }, left: PlanNode, keys: HashKeys, residual: Expr[], rw: number): PlanNode | null {
  if ((r.type !== "inner" && r.type !== "left") || left.estRows >= LOOKUP_JOIN_LEFT_ROWS_MAX) return null;
  let right: Rel = r.right;
  let rightFilter: Expr | null = null;
  if (right.kind === "filter") {
    rightFilter = right.pred;
    right = right.input;
  }
  if (right.kind !== "scan") return null;
  const table = right.table;
  const leftKeys: Expr[] = [];
  const extra: Expr[] = [];
  for (const ic of table.primaryIndex.columns) {
    const pos = table.columns.findIndex((c) => c.id === ic.columnId);
    const i = keys.right.findIndex((e) => e.kind === "col" && e.index === pos && e.type.oid === table.columns[pos]!.type.oid);
    if (i < 0 || keys.left[i]!.type.oid !== table.columns[pos]!.type.oid) return null;
    leftKeys.push(keys.left[i]!);
  }
  // Equalities not used as key parts stay as join conditions over the joined row.
  keys.right.forEach((e, i) => {
    if (!leftKeys.includes(keys.left[i]!)) {
      const type = keys.left[i]!.type;
      extra.push({ kind: "call", type: Types.bool, name: "=", args: [keys.left[i]!, shiftCols(e, r.left.cols.length)], fn: ([a, b]) => compareDatums(a!, b!, type) === 0, strict: true, volatile: false });
    }
  });
  const est = Math.max(1, left.estRows);
  return lookupJoinOp(r.type, left, table, leftKeys, rightFilter, andOf([...extra, ...residual]), rw, est);
}

/**
 * Whether `a = b` can be a hash key: both sides of one type (up to typmod), so that hashing each
 * side by that type's key (types/compare.ts hashKey) agrees with the operator. Every `=` the
 * binder resolves is between operands of one type; anything else stays a join filter.
 */
function hashable(a: SqlType, b: SqlType): boolean {
  return a.oid === b.oid && a.elem?.oid === b.elem?.oid;
}

function planJoin(r: Rel & { kind: "join" }): PlanNode {
  const left = planRel(r.left, null);
  const right = planRel(r.right, null);
  const lw = r.left.cols.length;
  const rw = r.right.cols.length;
  const est = Math.max(1, r.on === null ? left.estRows * right.estRows : Math.max(left.estRows, right.estRows));
  if (r.lateral) return nestedLoopOp(r.type, left, right, r.on, true, lw, rw, est);
  const keys: HashKeys = { left: [], right: [] };
  const residual: Expr[] = [];
  for (const c of splitAnd(r.on)) {
    if (c.kind === "call" && c.name === "=" && c.args.length === 2 && hashable(c.args[0]!.type, c.args[1]!.type)) {
      const [a, b] = c.args as [Expr, Expr];
      const ca = columnsOf(a);
      const cb = columnsOf(b);
      if (ca !== null && cb !== null && ca.size > 0 && cb.size > 0) {
        const aLeft = [...ca].every((i) => i < lw);
        const aRight = [...ca].every((i) => i >= lw);
        const bLeft = [...cb].every((i) => i < lw);
        const bRight = [...cb].every((i) => i >= lw);
        if (aLeft && bRight) {
          keys.left.push(a);
          keys.right.push(shiftCols(b, -lw));
          continue;
        }
        if (aRight && bLeft) {
          keys.left.push(b);
          keys.right.push(shiftCols(a, -lw));
          continue;
        }
      }
    }
    residual.push(c);
  }
  if (keys.left.length > 0) {
    const lookup = tryLookupJoin(r, left, keys, residual, rw);
    if (lookup !== null) return lookup;
    return hashJoinOp(r.type, left, right, keys, andOf(residual), lw, rw, est);
  }
  if (r.type === "full" && r.on !== null) {
    throw new PgError("feature_not_supported", "FULL JOIN is only supported with merge-joinable or hash-joinable join conditions");
  }
  return nestedLoopOp(r.type, left, right, r.on, false, lw, rw, est);
}
