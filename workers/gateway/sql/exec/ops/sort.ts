// ORDER BY: collects its input (within the statement's memory budget: past it, 53200) and sorts
// with Postgres's NULL placement, returning to the event loop while it sorts (interruptible-sort.ts).
import type { SortKey } from "../../bind/bound.ts";
import { compareDatums } from "../../types/compare.ts";
import type { PlanNode } from "../plan-node.ts";
import type { Datum } from "../../types/datum.ts";
import { compile, prepare, type Row } from "../eval.ts";
import { rowBytes } from "../memory.ts";
import type { ExecContext } from "../context.ts";
import { describeExpr } from "../describe-expr.ts";
import { sortInterruptibly } from "../interruptible-sort.ts";

export type RowComparator = (a: Row, b: Row) => number;

/** Compares rows by precomputed key columns (keys appended at the end of each row), each by its type's order. */
export function keyComparator(keys: readonly SortKey[], offset: number): RowComparator {
  const n = keys.length;
  const types = keys.map((k) => k.expr.type);
  return (a, b) => {
    for (let i = 0; i < n; i++) {
      const k = keys[i]!;
      const x = a[offset + i] as Datum;
      const y = b[offset + i] as Datum;
      if (x === null || y === null) {
        if (x === y) continue;
        // NULLs sort as larger than any value unless NULLS FIRST.
        return (x === null) === k.nullsFirst ? -1 : 1;
      }
      const c = compareDatums(x, y, types[i]!);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  };
}

export async function sortRows(rows: AsyncIterable<Row[]>, keys: readonly SortKey[], ctx: ExecContext, what: string): Promise<Row[]> {
  const cs = keys.map((k) => compile(k.expr, ctx));
  const all: Row[] = [];
  let width = -1;
  for await (const batch of rows) {
    let bytes = 0;
    for (const row of batch) {
      if (width < 0) width = row.length;
      for (const c of cs) if (c.asyncParts.length > 0) await prepare(c, row, ctx);
      // Made at its final length: a copy grown by push() keeps ~16 spare slots (211 bytes a
      // one-column row measured in Node, against 74 at its length).
      const ext = new Array<Datum>(row.length + cs.length);
      for (let i = 0; i < row.length; i++) ext[i] = row[i]!;
      for (let i = 0; i < cs.length; i++) ext[row.length + i] = cs[i]!.fn(row);
      all.push(ext);
      // The row, plus its slot in the merge buffer.
      bytes += rowBytes(ext) + 8;
    }
    ctx.memory.reserve(bytes, what);
  }
  const cmp = keyComparator(keys, width < 0 ? 0 : width);
  const sorted = await sortInterruptibly(all, cmp, ctx.budget);
  if (width >= 0) for (const r of sorted) r.length = width;
  return sorted;
}

/** Rows per output batch of operators that emit materialised rows (sort, window, CTE scan). */
export const OUTPUT_BATCH_ROWS = 1024;

export function sortOp(input: PlanNode, keys: readonly SortKey[], names: readonly string[]): PlanNode {
  return {
    name: "Sort",
    details: [`Sort Key: ${keys.map((k) => `${describeExpr(k.expr, names)}${k.desc ? " DESC" : ""}${k.nullsFirst !== k.desc ? (k.nullsFirst ? " NULLS FIRST" : " NULLS LAST") : ""}`).join(", ")}`],
    children: [input],
    estRows: input.estRows,
    async *run(ctx) {
      const rows = await sortRows(input.run(ctx), keys, ctx, "sort");
      for (let i = 0; i < rows.length; i += OUTPUT_BATCH_ROWS) yield rows.slice(i, i + OUTPUT_BATCH_ROWS);
    },
  };
}
