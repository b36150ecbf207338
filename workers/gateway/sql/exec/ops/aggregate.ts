// Hash aggregation: one accumulator set per group, built while the input streams by, so counting
// or summing a table of any size needs memory only for its groups (charged to the budget).
import { PgError } from "../../../../../common/errors.ts";
import type { AggCall, Expr } from "../../bind/bound.ts";
import { datumToJson, datumToJsonText } from "../../functions/json-functions.ts";
import type { PlanNode } from "../../plan/plan-node.ts";
import { compareDatums, rowHashKey } from "../../types/compare.ts";
import type { EvalContext } from "../../types/context.ts";
import { Jsonb, type Datum, type JsonValue } from "../../types/datum.ts";
import { Numeric } from "../../types/numeric.ts";
import { Oid, type SqlType } from "../../types/type.ts";
import type { ExecContext } from "../context.ts";
import { compile, prepare, type Compiled, type Row } from "../eval.ts";
import { keyComparator } from "./sort.ts";

export interface Accumulator {
  add(args: Datum[]): void;
  result(): Datum;
}

function toNumeric(d: Datum): Numeric {
  if (d instanceof Numeric) return d;
  return Numeric.fromInteger(d as number | bigint);
}

/** A fresh accumulator for one aggregate call; `ctx` gives json_agg its time zone. */
export function makeAccumulator(a: AggCall, ctx: EvalContext): Accumulator {
  const inType = a.argTypes[0];
  switch (a.name) {
    case "count": {
      let n = 0n;
      return { add: (args) => { if (a.star || args[0] !== null) n++; }, result: () => n };
    }
    case "sum": {
      if (inType?.oid === Oid.int2 || inType?.oid === Oid.int4) {
        let s: bigint | null = null;
        return { add: ([v = null]) => { if (v !== null) s = (s ?? 0n) + BigInt(v as number); }, result: () => s };
      }
      if (inType?.oid === Oid.int8 || inType?.oid === Oid.numeric) {
        let s: Numeric | null = null;
        let bigSum: bigint | null = null;
        return {
          add: ([v = null]) => {
            if (v === null) return;
            if (typeof v === "bigint") bigSum = (bigSum ?? 0n) + v;
            else s = s === null ? toNumeric(v) : s.add(toNumeric(v));
          },
          result: () => {
            if (bigSum === null) return s;
            const b = Numeric.fromInteger(bigSum);
            return s === null ? b : s.add(b);
          },
        };
      }
      let s: number | null = null;
      return { add: ([v = null]) => { if (v !== null) s = (s ?? 0) + (v as number); }, result: () => (s === null ? null : inType?.oid === Oid.float4 ? Math.fround(s) : s) };
    }
    case "avg": {
      if (a.type.oid === Oid.numeric) {
        let s: Numeric | null = null;
        let n = 0;
        return {
          add: ([v = null]) => {
            if (v === null) return;
            s = s === null ? toNumeric(v) : s.add(toNumeric(v));
            n++;
          },
          result: () => (s === null ? null : s.div(Numeric.fromInteger(n))),
        };
      }
      let s = 0;
      let n = 0;
      return { add: ([v = null]) => { if (v !== null) { s += v as number; n++; } }, result: () => (n === 0 ? null : s / n) };
    }
    case "stddev":
    case "stddev_samp":
    case "stddev_pop":
    case "variance":
    case "var_samp":
    case "var_pop": {
      const xs: number[] = [];
      return {
        add: ([v = null]) => { if (v !== null) xs.push(v instanceof Numeric ? v.toNumber() : Number(v)); },
        result: () => {
          const pop = a.name.endsWith("_pop");
          const n = xs.length;
          if (n === 0 || (!pop && n === 1)) return null;
          const mean = xs.reduce((p, x) => p + x, 0) / n;
          const ss = xs.reduce((p, x) => p + (x - mean) * (x - mean), 0);
          const variance = ss / (pop ? n : n - 1);
          const r = a.name.startsWith("stddev") ? Math.sqrt(variance) : variance;
          return a.type.oid === Oid.numeric ? Numeric.of(Numeric.fromFloat(r).value, 16) : r;
        },
      };
    }
    case "min":
    case "max": {
      const sign = a.name === "min" ? -1 : 1;
      const t = inType!;
      // Of equal values (1.0 and 1.00, 0 and -0, '1 mon' and '30 days') Postgres's smaller/larger
      // functions keep the later one, except bpchar's, which keep the earlier.
      const keepEarlier = t.oid === Oid.bpchar;
      let best: Datum = null;
      return {
        add: ([v = null]) => {
          if (v === null) return;
          const c = best === null ? 1 : compareDatums(v, best, t) * sign;
          if (c > 0 || (c === 0 && !keepEarlier)) best = v;
        },
        result: () => best,
      };
    }
    case "bool_and": {
      let r: boolean | null = null;
      return { add: ([v = null]) => { if (v !== null) r = (r ?? true) && (v as boolean); }, result: () => r };
    }
    case "bool_or": {
      let r: boolean | null = null;
      return { add: ([v = null]) => { if (v !== null) r = (r ?? false) || (v as boolean); }, result: () => r };
    }
    case "string_agg": {
      const parts: string[] = [];
      let any = false;
      return {
        add: ([v = null, sep = null]) => {
          if (v === null) return;
          if (any) parts.push(sep === null ? "" : (sep as string));
          parts.push(v as string);
          any = true;
        },
        result: () => (any ? parts.join("") : null),
      };
    }
    case "array_agg": {
      const out: Datum[] = [];
      let any = false;
      return { add: ([v = null]) => { out.push(v ?? null); any = true; }, result: () => (any ? out : null) };
    }
    case "json_agg": {
      const out: string[] = [];
      return {
        add: ([v = null]) => { out.push(datumToJsonText(v, inType!, ctx.timeZone)); },
        result: () => (out.length === 0 ? null : `[${out.join(", ")}]`),
      };
    }
    case "jsonb_agg": {
      const out: JsonValue[] = [];
      return {
        add: ([v = null]) => { out.push(datumToJson(v, inType!, ctx.timeZone)); },
        result: () => (out.length === 0 ? null : new Jsonb(out)),
      };
    }
  }
  throw new PgError("feature_not_supported", `aggregate ${a.name} is not supported`);
}

/** Feeds one aggregate call: FILTER, DISTINCT and ORDER BY handled around the accumulator. */
class AggState {
  private readonly acc: Accumulator;
  private readonly seen: Set<string> | null;
  private readonly ordered: Array<{ args: Datum[]; keys: Datum[] }> | null;
  private readonly call: AggCall;
  /** Types of the (coerced) arguments: DISTINCT tells argument tuples apart by their `=`. */
  private readonly argTypes: readonly SqlType[];

  constructor(call: AggCall, ctx: EvalContext) {
    this.call = call;
    this.argTypes = call.args.map((e) => e.type);
    this.acc = makeAccumulator(call, ctx);
    this.seen = call.distinct ? new Set() : null;
    this.ordered = call.orderBy.length > 0 ? [] : null;
  }

  add(args: Datum[], keys: Datum[]): number {
    if (this.seen !== null) {
      const k = rowHashKey(args, this.argTypes);
      if (this.seen.has(k)) return 0;
      this.seen.add(k);
    }
    if (this.ordered !== null) {
      this.ordered.push({ args, keys });
      return 64;
    }
    this.acc.add(args);
    return this.call.name === "array_agg" || this.call.name === "string_agg" || this.call.name.startsWith("json") ? 32 : 0;
  }

  result(): Datum {
    if (this.ordered !== null) {
      const cmp = keyComparator(this.call.orderBy, 0);
      this.ordered.sort((x, y) => cmp(x.keys, y.keys));
      for (const o of this.ordered) this.acc.add(o.args);
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
      const groups = new Map<string, { key: Row; states: AggState[] }>();
      const single = groupBy.length === 0 ? { key: [] as Row, states: aggs.map((a) => new AggState(a, ctx.evalContext)) } : null;
      for await (const batch of input.run(ctx)) {
        let bytes = 0;
        for (const row of batch) {
          for (const p of preps) await prepare(p, row, ctx);
          let g = single;
          if (g === null) {
            const key = keyFns.map((k) => k.fn(row));
            const k = rowHashKey(key, keyTypes);
            g = groups.get(k) ?? null;
            if (g === null) {
              g = { key, states: aggs.map((a) => new AggState(a, ctx.evalContext)) };
              groups.set(k, g);
              bytes += 64 + k.length * 2 + aggs.length * 96;
            }
          }
          for (let i = 0; i < compiled.length; i++) {
            const c = compiled[i]!;
            if (c.filter !== null && c.filter.fn(row) !== true) continue;
            bytes += g.states[i]!.add(c.args.map((x) => x.fn(row)), c.orderKeys.map((x) => x.fn(row)));
          }
        }
        if (bytes > 0) ctx.memory.reserve(bytes, "aggregation");
      }
      if (single !== null) {
        yield [single.states.map((s) => s.result())];
        return;
      }
      let out: Row[] = [];
      for (const g of groups.values()) {
        out.push([...g.key, ...g.states.map((s) => s.result())]);
        if (out.length >= 1024) {
          yield out;
          out = [];
        }
      }
      if (out.length > 0) yield out;
    },
  };
}
