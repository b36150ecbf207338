// Hash aggregation: one accumulator set per group, built while the input streams by, so counting
// or summing a table of any size needs memory only for its groups (charged to the budget).
import type { AggCall, Expr } from "../../bind/bound.ts";
import { makeAccumulator, type Accumulator } from "../../functions/aggregates.ts";
import type { PlanNode } from "../plan-node.ts";
import { rowHashKey } from "../../types/compare.ts";
import type { EvalContext } from "../../types/context.ts";
import type { Datum } from "../../types/datum.ts";
import type { SqlType } from "../../types/type.ts";
import type { ExecContext } from "../context.ts";
import { compile, prepare, type Compiled, type Row } from "../eval.ts";
import { keyComparator } from "./sort.ts";
import type { StatementBudget } from "../budget.ts";
import { sortInterruptibly } from "../interruptible-sort.ts";
import { datumBytes, rowBytes } from "../memory.ts";
import { KeyMap } from "../key-map.ts";
import { KeySet } from "../key-set.ts";
import { checkArrayLength, checkTextLength } from "../../functions/value-limits.ts";

/** Feeds one aggregate call: FILTER, DISTINCT and ORDER BY handled around the accumulator. */
/**
 * Heap a group costs beyond its key row and key string: its { key, states } object and the states
 * array. And one aggregate's state: the AggState object and its accumulator (an object of closures
 * over their own context). Estimates from V8's object sizes, set after a GROUP BY of count(*) and
 * sum() charged 64 MiB was seen holding over 129 MiB of live heap with 64 and 96 (see
 * types/datum-size.ts for what that does to an isolate).
 */
const GROUP_BYTES = 120;
const AGG_STATE_BYTES = 256;

class AggState {
  private readonly acc: Accumulator;
  /** DISTINCT: the argument tuples seen (typed arrays, not a Set: key-set.ts says why). */
  private readonly seen: KeySet | null;
  private readonly ordered: Array<{ args: Datum[]; keys: Datum[] }> | null;
  private readonly call: AggCall;
  /** Types of the (coerced) arguments: DISTINCT tells argument tuples apart by their `=`. */
  private readonly argTypes: readonly SqlType[];

  constructor(call: AggCall, ctx: EvalContext, argTypes: readonly SqlType[]) {
    this.call = call;
    this.argTypes = argTypes;
    this.acc = makeAccumulator(call, ctx);
    this.seen = call.distinct ? new KeySet() : null;
    this.ordered = call.orderBy.length > 0 ? [] : null;
  }

  /** Adds one row; returns the bytes now held beyond before (charged to the memory account). */
  add(args: Datum[], keys: Datum[]): number {
    let bytes = 0;
    if (this.seen !== null) {
      const before = this.seen.heldBytes;
      if (!this.seen.add(rowHashKey(args, this.argTypes))) return 0;
      bytes += this.seen.heldBytes - before;
    }
    if (this.ordered !== null) {
      this.ordered.push({ args, keys });
      return bytes + rowBytes(args) + rowBytes(keys) + 32;
    }
    return bytes + (this.acc.add(args) ?? 0);
  }

  /** The aggregate's value; an ORDER BY inside the call sorts its rows first, interruptibly. */
  async result(budget: StatementBudget): Promise<Datum> {
    if (this.ordered !== null) {
      const cmp = keyComparator(this.call.orderBy, 0);
      const sorted = await sortInterruptibly(this.ordered, (x, y) => cmp(x.keys, y.keys), budget);
      for (const o of sorted) {
        this.acc.add(o.args);
        if (budget.charge(1)) await budget.pause();
      }
      this.ordered.length = 0;
    }
    return this.acc.result();
  }
}

interface CompiledAgg {
  call: AggCall;
  args: Compiled[];
  filter: Compiled | null;
  orderKeys: Compiled[];
}

export function aggregateOp(input: PlanNode, groupBy: readonly Expr[], aggs: readonly AggCall[], estRows: number): PlanNode {
  return {
    name: groupBy.length === 0 ? "Aggregate" : "HashAggregate",
    details: aggs.length > 0 ? [`Aggregates: ${aggs.map((a) => `${a.name}${a.distinct ? " DISTINCT" : ""}`).join(", ")}`] : [],
    children: [input],
    estRows,
    async *run(ctx: ExecContext) {
      const keyFns = groupBy.map((g) => compile(g, ctx));
      const keyTypes = groupBy.map((g) => g.type);
      const compiled: CompiledAgg[] = aggs.map((a) => ({
        call: a,
        args: a.args.map((x) => compile(x, ctx)),
        filter: a.filter === null ? null : compile(a.filter, ctx),
        orderKeys: a.orderBy.map((k) => compile(k.expr, ctx)),
      }));
      const all = [...keyFns, ...compiled.flatMap((c) => [...c.args, ...(c.filter ? [c.filter] : []), ...c.orderKeys])];
      const preps = all.filter((c) => c.asyncParts.length > 0);
      // Not a Map: a Map rehashes all its groups in one step as it grows (key-map.ts).
      const groups = new KeyMap<{ key: Row; states: AggState[] }>();
      // One array of argument types per aggregate, shared by every group's state.
      const argTypes = aggs.map((a) => a.args.map((e) => e.type));
      const newStates = (): AggState[] => aggs.map((a, i) => new AggState(a, ctx.evalContext, argTypes[i]!));
      const single = groupBy.length === 0 ? { key: [] as Row, states: newStates() } : null;
      for await (const batch of input.run(ctx)) {
        let bytes = 0;
        for (const row of batch) {
          for (const p of preps) await prepare(p, row, ctx);
          let g = single;
          if (g === null) {
            const key = keyFns.map((k) => k.fn(row));
            const k = rowHashKey(key, keyTypes);
            const before = groups.size;
            g = groups.getOrSet(k, () => ({ key, states: newStates() }));
            if (groups.size > before) bytes += GROUP_BYTES + rowBytes(key) + k.length * 2 + aggs.length * AGG_STATE_BYTES;
          }
          for (let i = 0; i < compiled.length; i++) {
            const c = compiled[i]!;
            if (c.filter !== null && c.filter.fn(row) !== true) continue;
            bytes += g.states[i]!.add(c.args.map((x) => x.fn(row)), c.orderKeys.map((x) => x.fn(row)));
          }
        }
        if (bytes > 0) ctx.memory.reserve(bytes, "aggregation");
      }
      const budget = ctx.budget;
      if (single !== null) {
        const values: Datum[] = [];
        for (const st of single.states) values.push(await st.result(budget));
        yield [values];
        return;
      }
      let out: Row[] = [];
      for (const g of groups.values()) {
        const values: Datum[] = [...g.key];
        for (const st of g.states) values.push(await st.result(budget));
        out.push(values);
        if (out.length >= 1024) {
          yield out;
          out = [];
        }
      }
      if (out.length > 0) yield out;
    },
  };
}
