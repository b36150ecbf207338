// Joins. Equality conditions use a hash join (the right side is built into a hash table charged
// to the memory budget; the left side streams); other conditions use a nested loop over the
// materialised right side; LATERAL re-runs the right side for each left row.
import type { Expr, JoinType } from "../../bind/bound.ts";
import type { PlanNode } from "../../plan/plan-node.ts";
import { rowHashKey } from "../../types/compare.ts";
import { describeExpr } from "../../plan/describe.ts";
import type { Datum } from "../../types/datum.ts";
import type { ExecContext } from "../context.ts";
import { compile, prepare, type Compiled, type Row } from "../eval.ts";
import { rowBytes } from "../memory.ts";

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

async function passes(c: Compiled | null, row: Row, ctx: ExecContext): Promise<boolean> {
  if (c === null) return true;
  if (c.asyncParts.length > 0) await prepare(c, row, ctx);
  return c.fn(row) === true;
}

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
      const table = new Map<string, Array<{ row: Row; matched: boolean }>>();
      const allRight: Array<{ row: Row; matched: boolean }> = [];
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
      for await (const batch of left.run(ctx)) {
        const out: Row[] = [];
        for (const l of batch) {
          const kv = lk.map((f) => f(l));
          const list = kv.some((v) => v === null) ? undefined : table.get(rowHashKey(kv, types));
          let matched = false;
          for (const e of list ?? []) {
            const joined = [...l, ...e.row];
            if (!(await passes(res, joined, ctx))) continue;
            matched = true;
            e.matched = true;
            if (type === "semi") break;
            if (type !== "anti") out.push(joined);
          }
          if (type === "semi" && matched) out.push(l);
          else if (type === "anti" && !matched) out.push(l);
          else if (!matched && (type === "left" || type === "full")) out.push([...l, ...nulls(rightWidth)]);
        }
        if (out.length > 0) yield out;
      }
      if (type === "right" || type === "full") {
        const out: Row[] = [];
        for (const e of allRight) if (!e.matched) out.push([...nulls(leftWidth), ...e.row]);
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
    async *run(ctx) {
      const cond = on === null ? null : compile(on, ctx);
      const rightRows = lateral ? null : await materialize(right, ctx, "nested loop join");
      const matchedRight = rightRows === null ? null : new Array<boolean>(rightRows.length).fill(false);
      for await (const batch of left.run(ctx)) {
        const out: Row[] = [];
        for (const l of batch) {
          let rows = rightRows;
          if (rows === null) {
            ctx.outerRows.push(l);
            try {
              rows = [];
              for await (const b of right.run(ctx)) for (const r of b) rows.push(r);
            } finally {
              ctx.outerRows.pop();
            }
          }
          let matched = false;
          for (let i = 0; i < rows.length; i++) {
            const joined = [...l, ...rows[i]!];
            if (!(await passes(cond, joined, ctx))) continue;
            matched = true;
            if (matchedRight !== null) matchedRight[i] = true;
            if (type === "semi") break;
            if (type !== "anti") out.push(joined);
          }
          if (type === "semi" && matched) out.push(l);
          else if (type === "anti" && !matched) out.push(l);
          else if (!matched && (type === "left" || type === "full")) out.push([...l, ...nulls(rightWidth)]);
          if (out.length >= 1024) {
            yield out.splice(0, out.length);
          }
        }
        if (out.length > 0) yield out;
      }
      if ((type === "right" || type === "full") && rightRows !== null) {
        const out: Row[] = [];
        rightRows.forEach((r, i) => {
          if (!matchedRight![i]) out.push([...nulls(leftWidth), ...r]);
        });
        if (out.length > 0) yield out;
      }
    },
  };
}
