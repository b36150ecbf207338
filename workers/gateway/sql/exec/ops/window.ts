// Window functions: the input is materialised (within the memory budget), each function's rows
// are ordered by PARTITION BY then ORDER BY, and values are computed per partition: ranking
// functions, lag/lead, first/last/nth_value, and aggregates over ROWS / RANGE frames.
import { PgError } from "../../../../../common/errors.ts";
import type { WindowCall } from "../../bind/bound.ts";
import { makeAccumulator } from "../../functions/aggregates.ts";
import type { PlanNode } from "../plan-node.ts";
import { compareDatums } from "../../types/compare.ts";
import type { EvalContext } from "../../types/context.ts";
import type { Datum } from "../../types/datum.ts";
import { compile, prepare, type Row } from "../eval.ts";
import { rowBytes } from "../memory.ts";
import { keyComparator, OUTPUT_BATCH_ROWS } from "./sort.ts";
import type { StatementBudget } from "../budget.ts";
import { sortInterruptibly } from "../interruptible-sort.ts";

export function windowOp(input: PlanNode, funcs: readonly WindowCall[]): PlanNode {
  return {
    name: "WindowAgg",
    details: [`Functions: ${funcs.map((f) => f.name).join(", ")}`],
    children: [input],
    estRows: input.estRows,
    async *run(ctx) {
      const rows: Row[] = [];
      for await (const batch of input.run(ctx)) {
        let bytes = 0;
        for (const r of batch) {
          rows.push(r);
          bytes += rowBytes(r);
        }
        ctx.memory.reserve(bytes, "window function input");
      }
      const budget = ctx.budget;
      const results: Datum[][] = funcs.map(() => new Array<Datum>(rows.length).fill(null));
      ctx.memory.reserve(funcs.length * rows.length * 8, "window function results");
      for (let fi = 0; fi < funcs.length; fi++) {
        const f = funcs[fi]!;
        const part = f.partitionBy.map((e) => compile(e, ctx));
        const ord = f.orderBy.map((k) => compile(k.expr, ctx));
        const args = f.args.map((e) => compile(e, ctx));
        for (const c of [...part, ...ord, ...args]) {
          if (c.asyncParts.length === 0) continue;
          for (const r of rows) {
            await prepare(c, r, ctx);
            if (budget.charge(1)) await budget.pause();
          }
        }
        // Each entry: partition values, order keys, original index. Partitions are runs of rows
        // equal by each PARTITION BY type's `=`, ordered (ascending, NULLs last) as Postgres's sort does.
        const entries: Entry[] = new Array(rows.length);
        let bytes = 0;
        for (let i = 0; i < rows.length; i++) {
          const r = rows[i]!;
          const e = { pv: part.map((c) => c.fn(r)), ok: ord.map((c) => c.fn(r)), i };
          entries[i] = e;
          bytes += rowBytes(e.pv) + rowBytes(e.ok) + 48;
          if (budget.charge(1)) await budget.pause();
        }
        ctx.memory.reserve(bytes, "window function input");
        const partTypes = f.partitionBy.map((e) => e.type);
        const cmpPartition = (a: Datum[], b: Datum[]): number => {
          for (let k = 0; k < partTypes.length; k++) {
            const c = compareDatums(a[k]!, b[k]!, partTypes[k]!);
            if (c !== 0) return c;
          }
          return 0;
        };
        const cmpOrder = keyComparator(f.orderBy, 0);
        const sorted = await sortInterruptibly(entries, (a, b) => cmpPartition(a.pv, b.pv) || cmpOrder(a.ok, b.ok) || a.i - b.i, budget);
        const out = results[fi]!;
        let s = 0;
        while (s < sorted.length) {
          let e = s;
          while (e < sorted.length && cmpPartition(sorted[e]!.pv, sorted[s]!.pv) === 0) e++;
          await computePartition(f, sorted.slice(s, e), rows, args.map((c) => c.fn), cmpOrder, out, ctx.evalContext, budget);
          s = e;
        }
      }
      for (let i = 0; i < rows.length; i += OUTPUT_BATCH_ROWS) {
        const batch: Row[] = [];
        for (let j = i; j < Math.min(rows.length, i + OUTPUT_BATCH_ROWS); j++) batch.push([...rows[j]!, ...results.map((res) => res[j]!)]);
        yield batch;
      }
    },
  };
}

type Entry = { pv: Datum[]; ok: Datum[]; i: number };

/**
 * Computes one function over one partition (rows in window order). Every row, and every row a
 * sliding frame re-aggregates, is charged to the budget: a frame of n rows over n rows is n² work.
 */
async function computePartition(
  f: WindowCall,
  part: Entry[],
  rows: Row[],
  args: Array<(r: Row) => Datum>,
  cmp: (a: Datum[], b: Datum[]) => number,
  out: Datum[],
  evalCtx: EvalContext,
  budget: StatementBudget,
): Promise<void> {
  const n = part.length;
  // Peer groups: runs of equal ORDER BY values.
  const peerEnd = new Array<number>(n);
  for (let j = n - 1; j >= 0; j--) {
    peerEnd[j] = j + 1 < n && cmp(part[j]!.ok, part[j + 1]!.ok) === 0 ? peerEnd[j + 1]! : j;
    if (budget.charge(1)) await budget.pause();
  }
  const peerStart = new Array<number>(n);
  for (let j = 0; j < n; j++) {
    peerStart[j] = j > 0 && cmp(part[j - 1]!.ok, part[j]!.ok) === 0 ? peerStart[j - 1]! : j;
    if (budget.charge(1)) await budget.pause();
  }
  const arg = (k: number, j: number): Datum => args[k]!(rows[part[j]!.i]!);
  switch (f.name) {
    case "row_number":
      for (let j = 0; j < n; j++) {
        out[part[j]!.i] = BigInt(j + 1);
        if (budget.charge(1)) await budget.pause();
      }
      return;
    case "rank":
    case "dense_rank":
    case "percent_rank":
    case "cume_dist": {
      let rank = 1;
      let dense = 1;
      for (let j = 0; j < n; j++) {
        if (j > 0 && cmp(part[j - 1]!.ok, part[j]!.ok) !== 0) {
          rank = j + 1;
          dense++;
        }
        const p = part[j]!;
        if (f.name === "rank") out[p.i] = BigInt(rank);
        else if (f.name === "dense_rank") out[p.i] = BigInt(dense);
        else if (f.name === "percent_rank") out[p.i] = n > 1 ? (rank - 1) / (n - 1) : 0;
        else out[p.i] = (peerEnd[j]! + 1) / n;
        if (budget.charge(1)) await budget.pause();
      }
      return;
    }
    case "ntile": {
      const buckets = arg(0, 0) as number;
      if (buckets === null || buckets <= 0) throw new PgError("invalid_argument_for_ntile_function", "argument of ntile must be greater than zero");
      const per = Math.floor(n / buckets);
      const extra = n % buckets;
      let j = 0;
      for (let b = 1; b <= buckets && j < n; b++) {
        const size = per + (b <= extra ? 1 : 0);
        for (let k = 0; k < size && j < n; k++) out[part[j++]!.i] = b;
      }
      return;
    }
    case "lag":
    case "lead":
      for (let j = 0; j < n; j++) {
        const off = args.length > 1 ? (arg(1, j) as number) : 1;
        const t = f.name === "lag" ? j - off : j + off;
        out[part[j]!.i] = t >= 0 && t < n ? arg(0, t) : args.length > 2 ? arg(2, j) : null;
        if (budget.charge(1)) await budget.pause();
      }
      return;
    case "first_value":
    case "last_value":
    case "nth_value":
      for (let j = 0; j < n; j++) {
        const s = Math.max(0, frameStart(f, j, peerStart));
        const e = Math.min(n - 1, frameEnd(f, j, n, peerEnd));
        const k = f.name === "first_value" ? s : f.name === "last_value" ? e : s + (arg(1, j) as number) - 1;
        out[part[j]!.i] = s <= e && k >= s && k <= e ? arg(0, k) : null;
        if (budget.charge(1)) await budget.pause();
      }
      return;
  }
  if (f.aggregate === null) throw new PgError("feature_not_supported", `window function ${f.name} is not supported`);
  const agg = f.aggregate;
  const argsAt = (j: number): Datum[] => args.map((_, k) => arg(k, j));
  if (f.frame.start.kind === "unbounded") {
    // Frames that start at the partition's first row grow monotonically: add rows as the end moves.
    const acc = makeAccumulator(agg, evalCtx);
    let added = 0;
    for (let j = 0; j < n; j++) {
      const end = Math.min(n - 1, frameEnd(f, j, n, peerEnd));
      while (added <= end) acc.add(argsAt(added++));
      out[part[j]!.i] = acc.result();
      if (budget.charge(1)) await budget.pause();
    }
    return;
  }
  // Sliding frames: each row's frame aggregated on its own (O(rows × frame width)).
  for (let j = 0; j < n; j++) {
    const acc = makeAccumulator(agg, evalCtx);
    const s = frameStart(f, j, peerStart);
    const e = frameEnd(f, j, n, peerEnd);
    for (let x = Math.max(0, s); x <= Math.min(n - 1, e); x++) {
      acc.add(argsAt(x));
      if (budget.charge(1)) await budget.pause();
    }
    out[part[j]!.i] = acc.result();
  }
}

function frameStart(f: WindowCall, j: number, peerStart: number[]): number {
  const b = f.frame.start;
  if (b.kind === "unbounded") return 0;
  if (b.kind === "current") return f.frame.rows ? j : peerStart[j]!;
  return b.kind === "preceding" ? j - b.offset : j + b.offset;
}

function frameEnd(f: WindowCall, j: number, n: number, peerEnd: number[]): number {
  const b = f.frame.end;
  if (b.kind === "unbounded") return n - 1;
  if (b.kind === "current") return f.frame.rows ? j : peerEnd[j]!;
  return b.kind === "preceding" ? j - b.offset : j + b.offset;
}
