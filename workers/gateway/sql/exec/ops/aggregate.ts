// Hash aggregation: one accumulator set per group, built while the input streams by, so counting
// or summing a table of any size needs memory only for its groups (charged to the budget).
import { PgError } from "../../../../../common/errors.ts";
import type { AggCall, Expr } from "../../bind/bound.ts";
import { compareDatums, datumKey, rowKey } from "../../bridge/compare.ts";
import { formatText } from "../../bridge/text.ts";
import type { PlanNode } from "../../plan/plan-node.ts";
import type { Datum } from "../../types/datum.ts";
import { Numeric } from "../../types/numeric.ts";
import { Oid, type SqlType } from "../../types/type.ts";
import type { ExecContext } from "../context.ts";
import { compile, prepare, type Compiled, type Row } from "../eval.ts";
import { keyComparator } from "./sort.ts";
import type { StatementBudget } from "../budget.ts";
import { sortInterruptibly } from "../interruptible-sort.ts";
import { datumBytes, rowBytes } from "../memory.ts";
import { checkArrayLength, checkTextLength } from "../../functions/value-limits.ts";

export interface Accumulator {
  /** Adds one row's arguments; returns the bytes the accumulator now holds beyond before (memory account). */
  add(args: Datum[]): number;
  result(): Datum;
}

function toNumeric(d: Datum): Numeric {
  if (d instanceof Numeric) return d;
  return Numeric.fromInteger(d as number | bigint);
}

function jsonText(t: SqlType, d: Datum): string {
  if (d === null) return "null";
  if (t.oid === Oid.bool) return d ? "true" : "false";
  if (t.oid === Oid.json || t.oid === Oid.jsonb) return formatText(t, d) ?? "null";
  if ([Oid.int2, Oid.int4, Oid.int8, Oid.float4, Oid.float8, Oid.numeric].includes(t.oid as 21)) return formatText(t, d) ?? "null";
  return JSON.stringify(formatText(t, d));
}

/** string_agg joins its pieces into one flat string this often (bounds the per-piece overhead). */
const STRING_AGG_PIECES = 4096;

/** A fresh accumulator for one aggregate call. */
export function makeAccumulator(a: AggCall): Accumulator {
  const inType = a.argTypes[0];
  switch (a.name) {
    case "count": {
      let n = 0n;
      return { add: (args) => { if (a.star || args[0] !== null) n++; return 0; }, result: () => n };
    }
    case "sum": {
      if (inType?.oid === Oid.int2 || inType?.oid === Oid.int4) {
        let s: bigint | null = null;
        return { add: ([v = null]) => { if (v !== null) s = (s ?? 0n) + BigInt(v as number); return 0; }, result: () => s };
      }
      if (inType?.oid === Oid.int8 || inType?.oid === Oid.numeric) {
        let s: Numeric | null = null;
        let bigSum: bigint | null = null;
        return {
          add: ([v = null]) => {
            if (v === null) return 0;
            if (typeof v === "bigint") bigSum = (bigSum ?? 0n) + v;
            else s = s === null ? toNumeric(v) : s.add(toNumeric(v));
            return 0;
          },
          result: () => {
            if (bigSum === null) return s;
            const b = Numeric.fromInteger(bigSum);
            return s === null ? b : s.add(b);
          },
        };
      }
      let s: number | null = null;
      return { add: ([v = null]) => { if (v !== null) s = (s ?? 0) + (v as number); return 0; }, result: () => (s === null ? null : inType?.oid === Oid.float4 ? Math.fround(s) : s) };
    }
    case "avg": {
      if (a.type.oid === Oid.numeric) {
        let s: Numeric | null = null;
        let n = 0;
        return {
          add: ([v = null]) => {
            if (v === null) return 0;
            s = s === null ? toNumeric(v) : s.add(toNumeric(v));
            n++;
            return 0;
          },
          result: () => (s === null ? null : s.div(Numeric.fromInteger(n))),
        };
      }
      let s = 0;
      let n = 0;
      return { add: ([v = null]) => { if (v !== null) { s += v as number; n++; } return 0; }, result: () => (n === 0 ? null : s / n) };
    }
    case "stddev":
    case "stddev_samp":
    case "stddev_pop":
    case "variance":
    case "var_samp":
    case "var_pop": {
      // Postgres's float8_accum (Youngs-Cramer): count, sum and sum of squared deviations, so
      // memory stays constant however many rows are aggregated.
      let n = 0;
      let sx = 0;
      let sxx = 0;
      return {
        add: ([v = null]) => {
          if (v === null) return 0;
          const x = v instanceof Numeric ? v.toNumber() : Number(v);
          n += 1;
          sx += x;
          if (n > 1) {
            const t = x * n - sx;
            sxx += (t * t) / (n * (n - 1));
          }
          return 0;
        },
        result: () => {
          const pop = a.name.endsWith("_pop");
          if (n === 0 || (!pop && n === 1)) return null;
          const variance = sxx / (pop ? n : n - 1);
          const r = a.name.startsWith("stddev") ? Math.sqrt(variance) : variance;
          return a.type.oid === Oid.numeric ? Numeric.of(Numeric.fromFloat(r).value, 16) : r;
        },
      };
    }
    case "min":
    case "max": {
      const sign = a.name === "min" ? -1 : 1;
      let best: Datum = null;
      return {
        add: ([v = null]) => {
          if (v === null) return 0;
          if (best === null || compareDatums(v, best) * sign > 0) best = v;
          return 0;
        },
        result: () => best,
      };
    }
    case "bool_and": {
      let r: boolean | null = null;
      return { add: ([v = null]) => { if (v !== null) r = (r ?? true) && (v as boolean); return 0; }, result: () => r };
    }
    case "bool_or": {
      let r: boolean | null = null;
      return { add: ([v = null]) => { if (v !== null) r = (r ?? false) || (v as boolean); return 0; }, result: () => r };
    }
    case "string_agg": {
      // Pieces are joined into flat chunks every STRING_AGG_PIECES, so what is held is the text
      // itself (charged at 2 bytes a character), not one string object per row.
      const chunks: string[] = [];
      let pieces: string[] = [];
      let any = false;
      let chars = 0;
      return {
        add: ([v = null, sep = null]) => {
          if (v === null) return 0;
          const glue = any && sep !== null ? (sep as string) : "";
          chars += glue.length + (v as string).length;
          // The bound on one text value, before the pieces are kept (Postgres: 54000 at 1 GB).
          checkTextLength(chars, "string_agg result");
          if (glue !== "") pieces.push(glue);
          pieces.push(v as string);
          any = true;
          if (pieces.length >= STRING_AGG_PIECES) {
            chunks.push(pieces.join(""));
            pieces = [];
          }
          return 2 * (glue.length + (v as string).length);
        },
        result: () => (any ? chunks.join("") + pieces.join("") : null),
      };
    }
    case "array_agg": {
      const out: Datum[] = [];
      let any = false;
      return {
        add: ([v = null]) => {
          checkArrayLength(out.length + 1);
          out.push(v ?? null);
          any = true;
          return datumBytes(v ?? null) + 8;
        },
        result: () => (any ? out : null),
      };
    }
    case "json_agg":
    case "jsonb_agg": {
      const out: string[] = [];
      let chars = 2;
      return {
        add: ([v = null]) => {
          const t = jsonText(inType!, v ?? null);
          chars += t.length + (out.length > 0 ? 2 : 0);
          checkTextLength(chars, `${a.name} result`);
          out.push(t);
          return 2 * t.length + 24;
        },
        result: () => (out.length === 0 ? null : a.name === "json_agg" ? `[${out.join(", ")}]` : `[${out.join(", ")}]`),
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

  constructor(call: AggCall) {
    this.call = call;
    this.acc = makeAccumulator(call);
    this.seen = call.distinct ? new Set() : null;
    this.ordered = call.orderBy.length > 0 ? [] : null;
  }

  /** Adds one row; returns the bytes now held beyond before (charged to the memory account). */
  add(args: Datum[], keys: Datum[]): number {
    let bytes = 0;
    if (this.seen !== null) {
      const k = args.length === 1 ? datumKey(args[0]!) : rowKey(args);
      if (this.seen.has(k)) return 0;
      this.seen.add(k);
      bytes += 2 * k.length + 48;
    }
    if (this.ordered !== null) {
      this.ordered.push({ args, keys });
      return bytes + rowBytes(args) + rowBytes(keys) + 32;
    }
    return bytes + this.acc.add(args);
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
      const compiled: CompiledAgg[] = aggs.map((a) => ({
        call: a,
        args: a.args.map((x) => compile(x, ctx)),
        filter: a.filter === null ? null : compile(a.filter, ctx),
        orderKeys: a.orderBy.map((k) => compile(k.expr, ctx)),
      }));
      const all = [...keyFns, ...compiled.flatMap((c) => [...c.args, ...(c.filter ? [c.filter] : []), ...c.orderKeys])];
      const preps = all.filter((c) => c.asyncParts.length > 0);
      const groups = new Map<string, { key: Row; states: AggState[] }>();
      const single = groupBy.length === 0 ? { key: [] as Row, states: aggs.map((a) => new AggState(a)) } : null;
      for await (const batch of input.run(ctx)) {
        let bytes = 0;
        for (const row of batch) {
          for (const p of preps) await prepare(p, row, ctx);
          let g = single;
          if (g === null) {
            const key = keyFns.map((k) => k.fn(row));
            const k = rowKey(key);
            g = groups.get(k) ?? null;
            if (g === null) {
              g = { key, states: aggs.map((a) => new AggState(a)) };
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
