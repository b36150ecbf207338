// Joins. Equality conditions use a hash join (the right side is built into a hash table charged
// to the memory budget; the left side streams); other conditions use a nested loop over the
// materialised right side; LATERAL re-runs the right side for each left row.
import type { Expr, JoinType } from "../../bind/bound.ts";
import type { PlanNode } from "../plan-node.ts";
import { rowHashKey } from "../../types/compare.ts";
import { describeExpr } from "../describe-expr.ts";
import type { Datum } from "../../types/datum.ts";
import type { ExecContext } from "../context.ts";
import { compile, prepare, type Compiled, type Row } from "../eval.ts";
import { rowBytes } from "../memory.ts";
import { ChunkedList } from "../chunked-list.ts";
import { KeyMap } from "../key-map.ts";

function nulls(n: number): Row {
  return new Array<Datum>(n).fill(null);
}

async function materialize(node: PlanNode, ctx: ExecContext, what: string): Promise<Row[]> {
  const rows: Row[] = [];
  for await (const batch of node.run(ctx)) {
    let bytes = 0;
    for (const r of batch) {
      rows.push(r);
      bytes += rowBytes(r);
    }
    ctx.memory.reserve(bytes, what);
  }
  return rows;
}

/** Whether `row` satisfies `c` (no condition: always); awaits only when `c` has subqueries. */
function passesSync(c: Compiled | null, row: Row): boolean | null {
  if (c === null) return true;
  if (c.asyncParts.length > 0) return null;
  return c.fn(row) === true;
}

async function passes(c: Compiled | null, row: Row, ctx: ExecContext): Promise<boolean> {
  const quick = passesSync(c, row);
  if (quick !== null) return quick;
  await prepare(c!, row, ctx);
  return c!.fn(row) === true;
}

/** Joined rows gathered before they are handed on: bounds a batch however many rows match. */
const JOIN_BATCH_ROWS = 1024;

export interface HashKeys {
  /** Expressions over the left row; each has the same type as its right counterpart (hashed by it). */
  left: Expr[];
  /** Expressions over the right row alone (indexes rebased to the right side). */
  right: Expr[];
}

export function hashJoinOp(type: JoinType, left: PlanNode, right: PlanNode, keys: HashKeys, residual: Expr | null, leftWidth: number, rightWidth: number, estRows: number): PlanNode {
  return {
    name: `Hash ${type === "inner" ? "" : `${type[0]!.toUpperCase()}${type.slice(1)} `}Join`,
    details: [`Hash Cond: ${keys.left.map((l, i) => `(${describeExpr(l)} = ${describeExpr(keys.right[i]!)})`).join(" AND ")}`, ...(residual ? [`Join Filter: ${describeExpr(residual)}`] : [])],
    children: [left, right],
    estRows,
    async *run(ctx) {
      const types = keys.left.map((e) => e.type);
      const rk = keys.right.map((e) => compile(e, ctx).fn);
      const lk = keys.left.map((e) => compile(e, ctx).fn);
      const res = residual === null ? null : compile(residual, ctx);
      // Neither a Map nor an array: both grow by copying all they hold in one step (key-map.ts).
      const table = new KeyMap<Array<{ row: Row; matched: boolean }>>();
      const allRight = new ChunkedList<{ row: Row; matched: boolean }>();
      for await (const batch of right.run(ctx)) {
        let bytes = 0;
        for (const r of batch) {
          const entry = { row: r, matched: false };
          allRight.push(entry);
          bytes += rowBytes(r) + 32;
          const kv = rk.map((f) => f(r));
          if (kv.some((v) => v === null)) continue;
          const k = rowHashKey(kv, types);
          const list = table.get(k);
          if (list === undefined) table.set(k, [entry]);
          else list.push(entry);
        }
        ctx.memory.reserve(bytes, "hash join");
      }
      const budget = ctx.budget;
      let out: Row[] = [];
      for await (const batch of left.run(ctx)) {
        for (const l of batch) {
          const kv = lk.map((f) => f(l));
          const list = kv.some((v) => v === null) ? undefined : table.get(rowHashKey(kv, types));
          let matched = false;
          for (const e of list ?? []) {
            // One key may match a great many rows (a join on a constant column): count each.
            if (budget.charge(1)) await budget.pause();
            const joined = l.concat(e.row);
            if (!(await passes(res, joined, ctx))) continue;
            matched = true;
            e.matched = true;
            if (type === "semi") break;
            if (type !== "anti") out.push(joined);
            if (out.length >= JOIN_BATCH_ROWS) {
              yield out;
              out = [];
            }
          }
          if (type === "semi" && matched) out.push(l);
          else if (type === "anti" && !matched) out.push(l);
          else if (!matched && (type === "left" || type === "full")) out.push(l.concat(nulls(rightWidth)));
        }
        if (out.length > 0) {
          yield out;
          out = [];
        }
      }
      if (type === "right" || type === "full") {
        for (const e of allRight) {
          if (!e.matched) out.push([...nulls(leftWidth), ...e.row]);
          if (out.length >= JOIN_BATCH_ROWS) {
            yield out;
            out = [];
          }
        }
        if (out.length > 0) yield out;
      }
    },
  };
}

export function nestedLoopOp(type: JoinType, left: PlanNode, right: PlanNode, on: Expr | null, lateral: boolean, leftWidth: number, rightWidth: number, estRows: number): PlanNode {
  return {
    name: `Nested Loop${type === "inner" ? "" : ` ${type[0]!.toUpperCase()}${type.slice(1)} Join`}`,
    details: [...(on ? [`Join Filter: ${describeExpr(on)}`] : []), ...(lateral ? ["Lateral"] : [])],
    children: [left, right],
    estRows,
    run: (ctx) => (lateral ? lateralLoop(ctx) : materializedLoop(ctx)),
  };

  /** The right side materialised once; every left row meets every right row (charged one by one). */
  async function* materializedLoop(ctx: ExecContext): AsyncGenerator<Row[]> {
    const budget = ctx.budget;
    const cond = on === null ? null : compile(on, ctx);
    const rightRows = await materialize(right, ctx, "nested loop join");
    const matchedRight = type === "right" || type === "full" ? new Array<boolean>(rightRows.length).fill(false) : null;
    let out: Row[] = [];
    for await (const batch of left.run(ctx)) {
      for (const l of batch) {
        let matched = false;
        for (let i = 0; i < rightRows.length; i++) {
          // The inner loop of a cross join is where the work is: 1e5 × 1e5 rows never leave it.
          if (budget.charge(1)) await budget.pause();
          const joined = l.concat(rightRows[i]!);
          if (!(await passes(cond, joined, ctx))) continue;
          matched = true;
          if (matchedRight !== null) matchedRight[i] = true;
          if (type === "semi") break;
          if (type !== "anti") out.push(joined);
          if (out.length >= JOIN_BATCH_ROWS) {
            yield out;
            out = [];
          }
        }
        if (type === "semi" && matched) out.push(l);
        else if (type === "anti" && !matched) out.push(l);
        else if (!matched && (type === "left" || type === "full")) out.push(l.concat(nulls(rightWidth)));
        if (out.length >= JOIN_BATCH_ROWS) {
          yield out;
          out = [];
        }
      }
    }
    if (matchedRight !== null) {
      for (let i = 0; i < rightRows.length; i++) {
        if (!matchedRight[i]) out.push([...nulls(leftWidth), ...rightRows[i]!]);
        if (out.length >= JOIN_BATCH_ROWS) {
          yield out;
          out = [];
        }
      }
    }
    if (out.length > 0) yield out;
  }

  /**
   * LATERAL (and set-returning functions in the select list): the right side runs again for each
   * left row and streams, so `SELECT generate_series(1, 1e10)` never holds its rows.
   */
  async function* lateralLoop(ctx: ExecContext): AsyncGenerator<Row[]> {
    const cond = on === null ? null : compile(on, ctx);
    let out: Row[] = [];
    for await (const batch of left.run(ctx)) {
      for (const l of batch) {
        let matched = false;
        ctx.outerRows.push(l);
        const it = right.run(ctx);
        try {
          scan: for (;;) {
            const next = await it.next();
            if (next.done === true) break;
            for (const r of next.value) {
              const joined = l.concat(r);
              // The correlated row must be in place while the condition's subqueries run.
              if (!(await passes(cond, joined, ctx))) continue;
              matched = true;
              if (type === "semi" || type === "anti") break scan;
              out.push(joined);
            }
            if (out.length >= JOIN_BATCH_ROWS) {
              ctx.outerRows.pop();
              try {
                yield out;
              } finally {
                ctx.outerRows.push(l);
              }
              out = [];
            }
          }
        } finally {
          await it.return(undefined);
          ctx.outerRows.pop();
        }
        if (type === "semi" && matched) out.push(l);
        else if (type === "anti" && !matched) out.push(l);
        else if (!matched && (type === "left" || type === "full")) out.push(l.concat(nulls(rightWidth)));
        if (out.length >= JOIN_BATCH_ROWS) {
          yield out;
          out = [];
        }
      }
    }
    if (out.length > 0) yield out;
  }
}
