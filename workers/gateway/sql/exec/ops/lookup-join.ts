// Lookup join: for each batch of left rows, the right table's rows are fetched by primary key —
// all keys of the batch in one KV read — instead of scanning the right table. Used when the
// join's equalities pin the right table's whole primary key and the left side is small.
import type { TableDesc } from "../../../catalog/descriptors.ts";
import type { Expr, JoinType } from "../../bind/bound.ts";
import { concatBytes, keyString } from "../../../../../common/bytes.ts";
import type { PlanNode } from "../plan-node.ts";
import { describeExpr } from "../describe-expr.ts";
import type { Datum } from "../../types/datum.ts";
import { compile, prepare, type Row } from "../eval.ts";

export function lookupJoinOp(
  type: JoinType,
  left: PlanNode,
  table: TableDesc,
  /** Per primary-key column, in key order: the expression over the left row giving its value. */
  leftKeys: readonly Expr[],
  /** A filter on the right row alone (the right side's own WHERE conditions), or null. */
  rightFilter: Expr | null,
  /** Conditions over the joined row beyond the key equalities, or null. */
  residual: Expr | null,
  rightWidth: number,
  estRows: number,
): PlanNode {
  return {
    name: `Lookup ${type === "left" ? "Left " : ""}Join`,
    details: [`Table: ${table.name}`, `Lookup Cond: (${leftKeys.map((k) => describeExpr(k)).join(", ")})`, ...(rightFilter ? [`Filter: ${describeExpr(rightFilter, table.columns.map((c) => c.name))}`] : []), ...(residual ? [`Join Filter: ${describeExpr(residual)}`] : [])],
    children: [left],
    estRows,
    async *run(ctx) {
      const codec = ctx.codec(table);
      const keyFns = leftKeys.map((e) => compile(e, ctx).fn);
      const rf = rightFilter === null ? null : compile(rightFilter, ctx);
      const res = residual === null ? null : compile(residual, ctx);
      for await (const batch of left.run(ctx)) {
        const keyOf: Array<string | null> = [];
        const unique = new Map<string, Uint8Array>();
        for (const l of batch) {
          const vals: Datum[] = keyFns.map((f) => f(l));
          if (vals.some((v) => v === null)) {
            keyOf.push(null);
            continue;
          }
          const key = concatBytes([codec.primaryPrefix, codec.encodeValues(table.primaryIndex, vals)]);
          const ks = keyString(key);
          keyOf.push(ks);
          unique.set(ks, key);
        }
        const keys = [...unique.keys()];
        const values = await ctx.txn.getMany(keys.map((k) => unique.get(k)!), true);
        const found = new Map<string, Row>();
        keys.forEach((k, i) => {
          const v = values[i];
          if (v !== null && v !== undefined) found.set(k, codec.decode(v));
        });
        const out: Row[] = [];
        for (let i = 0; i < batch.length; i++) {
          const l = batch[i]!;
          const ks = keyOf[i];
          let r = ks === null || ks === undefined ? undefined : found.get(ks);
          if (r !== undefined && rf !== null) {
            if (rf.asyncParts.length > 0) await prepare(rf, r, ctx);
            if (rf.fn(r) !== true) r = undefined;
          }
          let joined: Row | null = r === undefined ? null : l.concat(r);
          if (joined !== null && res !== null) {
            if (res.asyncParts.length > 0) await prepare(res, joined, ctx);
            if (res.fn(joined) !== true) joined = null;
          }
          if (joined !== null) out.push(joined);
          else if (type === "left") out.push(l.concat(new Array<Datum>(rightWidth).fill(null)));
        }
        if (out.length > 0) yield out;
      }
    },
  };
}
