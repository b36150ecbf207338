// Streaming row operators: filter, projection, limit, literal rows, generate_series, and the
// one-row source of a SELECT without FROM. None of them holds more than one batch.
import { PgError } from "../../../../../common/errors.ts";
import type { Expr } from "../../bind/bound.ts";
import type { PlanNode } from "../plan-node.ts";
import { Numeric } from "../../types/numeric.ts";
import type { Datum } from "../../types/datum.ts";
import type { ExecContext } from "../context.ts";
import { compile, prepare, type Row } from "../eval.ts";
import { describeExpr } from "../describe-expr.ts";
import { regexpMatches, regexpSplit } from "../../functions/regexp.ts";

const BATCH = 256;

export function filterOp(input: PlanNode, pred: Expr, estRows: number, names: readonly string[] = []): PlanNode {
  return {
    name: "Filter",
    details: [`Filter: ${describeExpr(pred, names)}`],
    children: [input],
    estRows,
    async *run(ctx) {
      const c = compile(pred, ctx);
      const f = c.fn;
      const needsPrep = c.asyncParts.length > 0;
      for await (const batch of input.run(ctx)) {
        const out: Row[] = [];
        for (const row of batch) {
          if (needsPrep) await prepare(c, row, ctx);
          if (f(row) === true) out.push(row);
        }
        if (out.length > 0) yield out;
      }
    },
  };
}

export function projectOp(input: PlanNode, exprs: readonly Expr[], estRows: number): PlanNode {
  return {
    name: "Project",
    details: [],
    children: [input],
    estRows,
    async *run(ctx) {
      const cs = exprs.map((e) => compile(e, ctx));
      const fns = cs.map((c) => c.fn);
      const preps = cs.filter((c) => c.asyncParts.length > 0);
      // A projection of plain columns is a cheap re-slicing of the row.
      const direct = exprs.every((e) => e.kind === "col") ? exprs.map((e) => (e as { index: number }).index) : null;
      for await (const batch of input.run(ctx)) {
        const out: Row[] = new Array(batch.length);
        for (let i = 0; i < batch.length; i++) {
          const row = batch[i]!;
          if (direct !== null) {
            const r: Row = new Array(direct.length);
            for (let j = 0; j < direct.length; j++) r[j] = row[direct[j]!] ?? null;
            out[i] = r;
            continue;
          }
          for (const p of preps) await prepare(p, row, ctx);
          const r: Row = new Array(fns.length);
          for (let j = 0; j < fns.length; j++) r[j] = fns[j]!(row);
          out[i] = r;
        }
        yield out;
      }
    },
  };
}

async function evalConst(e: Expr | null, ctx: ExecContext, what: string): Promise<bigint | null> {
  if (e === null) return null;
  const c = compile(e, ctx);
  await prepare(c, [], ctx);
  const v = c.fn([]);
  if (v === null) return null;
  const n = typeof v === "bigint" ? v : BigInt(v as number);
  if (n < 0n) throw new PgError(what === "LIMIT" ? "invalid_row_count_in_limit_clause" : "invalid_row_count_in_result_offset_clause", `${what} must not be negative`);
  return n;
}

export function limitOp(input: PlanNode, limit: Expr | null, offset: Expr | null, estRows: number): PlanNode {
  return {
    name: "Limit",
    details: [],
    children: [input],
    estRows,
    async *run(ctx) {
      const lim = await evalConst(limit, ctx, "LIMIT");
      let skip = Number((await evalConst(offset, ctx, "OFFSET")) ?? 0n);
      let left = lim === null ? Infinity : Number(lim);
      if (left === 0) return;
      const it = input.run(ctx);
      try {
        for await (const batch of it) {
          let b = batch;
          if (skip > 0) {
            if (b.length <= skip) {
              skip -= b.length;
              continue;
            }
            b = b.slice(skip);
            skip = 0;
          }
          if (b.length >= left) {
            yield b.slice(0, left);
            return;
          }
          left -= b.length;
          yield b;
        }
      } finally {
        await it.return(undefined);
      }
    },
  };
}

export function valuesOp(rows: ReadonlyArray<readonly Expr[]>): PlanNode {
  return {
    name: "Values Scan",
    details: [],
    children: [],
    estRows: rows.length,
    async *run(ctx) {
      for (let i = 0; i < rows.length; i += BATCH) {
        const out: Row[] = [];
        for (const r of rows.slice(i, i + BATCH)) {
          const row: Row = [];
          for (const e of r) {
            const c = compile(e, ctx);
            if (c.asyncParts.length > 0) await prepare(c, [], ctx);
            row.push(c.fn([]));
          }
          out.push(row);
        }
        yield out;
      }
    },
  };
}

export function oneRowOp(): PlanNode {
  return {
    name: "Result",
    details: [],
    children: [],
    estRows: 1,
    async *run() {
      yield [[]];
    },
  };
}

export function emptyOp(name: string): PlanNode {
  return {
    name,
    details: ["One-Time Filter: false"],
    children: [],
    estRows: 0,
    async *run() {
      // No rows.
    },
  };
}

export function srfOp(name: string, args: readonly Expr[]): PlanNode {
  return {
    name: "Function Scan",
    details: [`Function: ${name}`],
    children: [],
    estRows: 1000,
    async *run(ctx) {
      const vals: Datum[] = [];
      for (const a of args) {
        const c = compile(a, ctx);
        await prepare(c, [], ctx);
        vals.push(c.fn([]));
      }
      if (name === "unnest" && vals.length > 1) {
        // Several arrays in lockstep (select-list SRFs, unnest(a, b)): NULL pads the shorter ones
        // and a NULL array counts as empty.
        const arrays = vals.map((v) => (v === null ? [] : (v as Datum[])));
        const n = Math.max(...arrays.map((a) => a.length));
        for (let i = 0; i < n; i += BATCH) {
          const batch: Row[] = [];
          for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(arrays.map((a) => a[j] ?? null));
          yield batch;
        }
        return;
      }
      if (vals.some((v) => v === null)) return;
      if (name === "regexp_matches" || name === "regexp_split_to_table") {
        const [s, p, f] = vals as [string, string, string | undefined];
        const rows = name === "regexp_matches" ? regexpMatches(s, p, f ?? null) : regexpSplit(s, p, f ?? null);
        for (let i = 0; i < rows.length; i += BATCH) yield rows.slice(i, i + BATCH).map((v) => [v]);
        return;
      }
      if (name === "unnest") {
        const arr = vals[0] as Datum[];
        for (let i = 0; i < arr.length; i += BATCH) yield arr.slice(i, i + BATCH).map((v) => [v]);
        return;
      }
      const [start, stop, step] = vals;
      if (start instanceof Numeric) {
        const st = (step as Numeric | undefined) ?? Numeric.fromInteger(1);
        if (st.sign() === 0) throw new PgError("invalid_parameter_value", "step size cannot equal zero");
        let batch: Row[] = [];
        for (let v = start; st.sign() > 0 ? v.compare(stop as Numeric) <= 0 : v.compare(stop as Numeric) >= 0; v = v.add(st)) {
          batch.push([v]);
          if (batch.length >= BATCH) {
            yield batch;
            batch = [];
          }
        }
        if (batch.length > 0) yield batch;
        return;
      }
      const big = typeof start === "bigint";
      let v = BigInt(start as number | bigint);
      const e = BigInt(stop as number | bigint);
      const s = step === undefined ? 1n : BigInt(step as number | bigint);
      if (s === 0n) throw new PgError("invalid_parameter_value", "step size cannot equal zero");
      let batch: Row[] = [];
      for (; s > 0n ? v <= e : v >= e; v += s) {
        batch.push([big ? v : Number(v)]);
        if (batch.length >= BATCH) {
          yield batch;
          batch = [];
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}
