// DISTINCT, DISTINCT ON and the set operations: UNION [ALL] (an append, under DISTINCT unless
// ALL), INTERSECT / EXCEPT [ALL]. Each keeps a hash set of the rows it has seen, charged to the
// statement's memory budget.
import type { Expr } from "../../bind/bound.ts";
import type { PlanNode } from "../plan-node.ts";
import { rowHashKey } from "../../types/compare.ts";
import type { SqlType } from "../../types/type.ts";
import { compile, type Row } from "../eval.ts";
import { KeyMap } from "../key-map.ts";
import { KeySet } from "../key-set.ts";

/** `types`: the row's column types; rows are the same when every column is equal by its type's `=`. */
export function distinctOp(input: PlanNode, on: readonly Expr[] | null, types: readonly SqlType[]): PlanNode {
  const keyTypes = on?.map((e) => e.type) ?? types;
  return {
    name: on === null ? "HashAggregate (DISTINCT)" : "Unique (DISTINCT ON)",
    details: [],
    children: [input],
    estRows: input.estRows,
    async *run(ctx) {
      // Typed arrays, not a Set: a Set rehashes all its keys at once as it grows (key-set.ts).
      const seen = new KeySet();
      const fns = on?.map((e) => compile(e, ctx).fn) ?? null;
      for await (const batch of input.run(ctx)) {
        const out: Row[] = [];
        const before = seen.heldBytes;
        for (const row of batch) {
          if (seen.add(rowHashKey(fns === null ? row : fns.map((f) => f(row)), keyTypes))) out.push(row);
        }
        ctx.memory.reserve(seen.heldBytes - before, "DISTINCT");
        if (out.length > 0) yield out;
      }
    },
  };
}

/** UNION ALL: each input's rows in turn (EXPLAIN: Append, as in Postgres). */
export function appendOp(inputs: readonly PlanNode[]): PlanNode {
  return {
    name: "Append",
    details: [],
    children: [...inputs],
    estRows: inputs.reduce((n, i) => n + i.estRows, 0),
    async *run(ctx) {
      for (const input of inputs) yield* input.run(ctx);
    },
  };
}

/** `types`: the output column types (both sides are already cast to them, up to typmod). */
export function setOp(op: "union" | "intersect" | "except", all: boolean, left: PlanNode, right: PlanNode, types: readonly SqlType[]): PlanNode {
  const rowKey = (row: Row): string => rowHashKey(row, types);
  const name = `${op === "union" ? (all ? "Append" : "HashSetOp Union") : op === "intersect" ? "HashSetOp Intersect" : "HashSetOp Except"}${all && op !== "union" ? " All" : ""}`;
  return {
    name,
    details: [],
    children: [left, right],
    estRows: left.estRows,
    async *run(ctx) {
      // INTERSECT / EXCEPT: count the right side's rows, then stream the left side against them.
      const counts = new KeyMap<number>();
      for await (const batch of right.run(ctx)) {
        let bytes = 0;
        for (const row of batch) {
          const k = rowKey(row);
          const c = counts.get(k);
          if (c === undefined) bytes += k.length * 2 + 48;
          counts.set(k, (c ?? 0) + 1);
        }
        ctx.memory.reserve(bytes, op.toUpperCase());
      }
      const emitted = new KeySet();
      for await (const batch of left.run(ctx)) {
        const out: Row[] = [];
        for (const row of batch) {
          const k = rowKey(row);
          const c = counts.get(k) ?? 0;
          if (op === "intersect") {
            if (all) {
              if (c > 0) {
                counts.set(k, c - 1);
                out.push(row);
              }
            } else if (c > 0 && !emitted.has(k)) {
              emitted.add(k);
              out.push(row);
            }
          } else if (all) {
            if (c > 0) counts.set(k, c - 1);
            else out.push(row);
          } else if (c === 0 && !emitted.has(k)) {
            emitted.add(k);
            out.push(row);
          }
        }
        if (out.length > 0) yield out;
      }
    },
  };
}
