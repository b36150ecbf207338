// Expression evaluation. A bound Expr compiles once into a synchronous closure over a row; rows
// are plain arrays of datums. Subqueries need storage, which is asynchronous, so an expression
// that contains them is prepared per row first (`prepare`): each subquery's result is computed
// (correlated ones per outer row, the rest once per statement) into a slot the closure reads.
import { PgError } from "../../../../common/errors.ts";
import { compareDatums } from "../types/compare.ts";
import type { Expr, ExprVisitor, SpecialFn, Subquery } from "../bind/bound.ts";
import { visitExpr } from "../bind/bound.ts";
import type { Datum } from "../types/datum.ts";
import type { FunctionDesc } from "../../catalog/descriptors.ts";
import type { ExecContext } from "./context.ts";

export type Row = Datum[];
export type RowFn = (row: Row) => Datum;

/** Parts of an expression that need storage or the session, computed per row by `prepare`. */
export type AsyncPart =
  | { readonly kind: "sub"; readonly sub: Subquery }
  | { readonly kind: "special"; readonly slot: number; readonly name: SpecialFn; readonly args: readonly RowFn[] }
  | { readonly kind: "routine"; readonly slot: number; readonly fn: FunctionDesc; readonly args: readonly RowFn[] };

export interface Compiled {
  readonly fn: RowFn;
  /** What must be prepared before `fn` runs on a row; empty for most expressions. */
  readonly asyncParts: readonly AsyncPart[];
}

/** A subquery result: the value, or an error raised only if the value is actually used. */
type SlotValue = { ok: true; value: Datum | Datum[] } | { ok: false; error: unknown };

function truthy(d: Datum): boolean {
  return d === true;
}

export function compile(e: Expr, ctx: ExecContext): Compiled {
  const parts: AsyncPart[] = [];
  const fn = compileNode(e, ctx, parts);
  return { fn, asyncParts: parts };
}

function slotRead(ctx: ExecContext, id: number): Datum | Datum[] {
  const s = ctx.subquerySlots.get(id) as SlotValue | undefined;
  if (s === undefined) throw new PgError("internal_error", `subquery ${id} was not prepared`);
  if (!s.ok) throw s.error;
  return s.value;
}

function compileNode(e: Expr, ctx: ExecContext, parts: AsyncPart[]): RowFn {
  const c = (x: Expr): RowFn => compileNode(x, ctx, parts);
  const v: ExprVisitor<RowFn> = {
    const: (x) => {
      const val = x.value;
      return () => val;
    },
    param: (x) => {
      const i = x.index;
      return () => ctx.params[i] ?? null;
    },
    col: (x) => {
      const i = x.index;
      return (row) => row[i] ?? null;
    },
    outer: (x) => {
      const level = x.level;
      const i = x.index;
      return () => {
        const r = ctx.outerRows[ctx.outerRows.length - level];
        if (r === undefined) throw new PgError("internal_error", "correlated reference outside its subquery");
        return r[i] ?? null;
      };
    },
    call: (x) => {
      const args = x.args.map(c);
      const f = x.fn;
      const n = args.length;
      if (x.strict) {
        if (n === 1) {
          const a0 = args[0]!;
          return (row) => {
            const a = a0(row);
            return a === null ? null : f([a]);
          };
        }
        if (n === 2) {
          const a0 = args[0]!;
          const a1 = args[1]!;
          return (row) => {
            const a = a0(row);
            if (a === null) return null;
            const b = a1(row);
            return b === null ? null : f([a, b]);
          };
        }
        return (row) => {
          const vals: Datum[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const a = args[i]!(row);
            if (a === null) return null;
            vals[i] = a;
          }
          return f(vals);
        };
      }
      return (row) => f(args.map((a) => a(row)));
    },
    and: (x) => {
      const args = x.args.map(c);
      return (row) => {
        let sawNull = false;
        for (const a of args) {
          const r = a(row);
          if (r === false) return false;
          if (r === null) sawNull = true;
        }
        return sawNull ? null : true;
      };
    },
    or: (x) => {
      const args = x.args.map(c);
      return (row) => {
        let sawNull = false;
        for (const a of args) {
          const r = a(row);
          if (r === true) return true;
          if (r === null) sawNull = true;
        }
        return sawNull ? null : false;
      };
    },
    not: (x) => {
      const a = c(x.arg);
      return (row) => {
        const r = a(row);
        return r === null ? null : !r;
      };
    },
    isnull: (x) => {
      const a = c(x.arg);
      const neg = x.negate;
      return (row) => (a(row) === null) !== neg;
    },
    booltest: (x) => {
      const a = c(x.arg);
      const { test, negate } = x;
      return (row) => {
        const r = a(row);
        const is = test === "unknown" ? r === null : test === "true" ? r === true : r === false;
        return is !== negate;
      };
    },
    case: (x) => {
      const whens = x.whens.map((w) => [c(w.when), c(w.then)] as const);
      const els = c(x.else);
      return (row) => {
        for (const [w, t] of whens) if (truthy(w(row))) return t(row);
        return els(row);
      };
    },
    coalesce: (x) => {
      const args = x.args.map(c);
      return (row) => {
        for (const a of args) {
          const r = a(row);
          if (r !== null) return r;
        }
        return null;
      };
    },
    minmax: (x) => {
      const args = x.args.map(c);
      const g = x.greatest;
      const t = x.type;
      return (row) => {
        let best: Datum = null;
        for (const a of args) {
          const r = a(row);
          if (r === null) continue;
          if (best === null || (g ? compareDatums(r, best, t) > 0 : compareDatums(r, best, t) < 0)) best = r;
        }
        return best;
      };
    },
    cast: (x) => {
      const a = c(x.arg);
      const f = x.fn;
      return (row) => {
        const r = a(row);
        return r === null ? null : f(r);
      };
    },
    domain: (x) => {
      const a = c(x.arg);
      const checks = x.checks.map((ch) => ({ name: ch.name, fn: compileNode(ch.expr, ctx, parts) }));
      const name = x.domainName;
      const notNull = x.notNull;
      return (row) => {
        const v = a(row);
        if (v === null && notNull) throw new PgError("not_null_violation", `domain ${name} does not allow null values`);
        for (const ch of checks) {
          if (ch.fn([v]) === false) throw new PgError("check_violation", `value for domain ${name} violates check constraint "${ch.name}"`, { constraint: ch.name });
        }
        return v;
      };
    },
    inlist: (x) => {
      const a = c(x.arg);
      const list = x.list.map(c);
      const eq = x.eq;
      const neg = x.negate;
      // Constant lists become a set lookup.
      if (x.list.every((l) => l.kind === "const")) {
        const vals = x.list.map((l) => (l as { value: Datum }).value);
        const hasNull = vals.some((v) => v === null);
        const nonNull = vals.filter((v) => v !== null);
        return (row) => {
          const v = a(row);
          if (v === null) return nonNull.length === 0 && !hasNull ? neg : null;
          for (const l of nonNull) if (eq(v, l)) return !neg;
          return hasNull ? null : neg;
        };
      }
      return (row) => {
        const v = a(row);
        let sawNull = false;
        for (const l of list) {
          const lv = l(row);
          if (lv === null || v === null) {
            sawNull = true;
            continue;
          }
          if (eq(v, lv)) return !neg;
        }
        return sawNull ? null : neg;
      };
    },
    distinct: (x) => {
      const l = c(x.left);
      const r = c(x.right);
      const eq = x.eq;
      const neg = x.negate;
      return (row) => {
        const a = l(row);
        const b = r(row);
        const same = a === null || b === null ? a === b : eq(a, b);
        return neg ? same : !same;
      };
    },
    subquery: (x) => {
      const sub = x.sub;
      parts.push({ kind: "sub", sub });
      const id = sub.id;
      switch (sub.mode) {
        case "scalar":
        case "exists":
          return () => slotRead(ctx, id) as Datum;
        case "array":
          return () => slotRead(ctx, id) as Datum[];
        case "any":
        case "all": {
          const test = c(sub.test!);
          const cmp = sub.cmp!;
          const all = sub.mode === "all";
          return (row) => {
            const vals = slotRead(ctx, id) as Datum[];
            if (vals.length === 0) return all;
            const t = test(row);
            let sawNull = false;
            for (const v of vals) {
              const r = t === null || v === null ? null : cmp(t, v);
              if (r === null) sawNull = true;
              else if (all && r === false) return false;
              else if (!all && r === true) return true;
            }
            return sawNull ? null : all;
          };
        }
      }
    },
    array: (x) => {
      const elems = x.elems.map(c);
      return (row) => elems.map((e2) => e2(row));
    },
    special: (x) => {
      const slot = ctx.nextSlot();
      parts.push({ kind: "special", slot, name: x.name, args: x.args.map(c) });
      return () => slotRead(ctx, slot) as Datum;
    },
    routine: (x) => {
      const slot = ctx.nextSlot();
      parts.push({ kind: "routine", slot, fn: x.fn, args: x.args.map(c) });
      return () => slotRead(ctx, slot) as Datum;
    },
  };
  return visitExpr(e, v);
}

/** Computes the subquery slots an expression needs for `row` (the row is the outer row). */
export async function prepare(compiled: Compiled, row: Row, ctx: ExecContext): Promise<void> {
  for (const part of compiled.asyncParts) {
    if (part.kind === "special") {
      const value = await ctx.special(part.name, part.args.map((a) => a(row)));
      ctx.subquerySlots.set(part.slot, { ok: true, value } satisfies SlotValue);
      continue;
    }
    if (part.kind === "routine") {
      // Every async part of an expression is computed before the expression runs, so a call in a
      // CASE branch not taken runs too: its error is raised only if its value is used (as for
      // subqueries), and its writes are undone then, as if it had not run.
      const mark = ctx.txn.buffer.mark();
      let slot: SlotValue;
      try {
        slot = { ok: true, value: await ctx.callRoutine(part.fn, part.args.map((a) => a(row))) };
      } catch (err) {
        if (!(err instanceof PgError) || ctx.txn.status !== "open" || err.condition === "query_canceled") throw err;
        ctx.txn.buffer.rollbackTo(mark);
        slot = { ok: false, error: err };
      }
      ctx.subquerySlots.set(part.slot, slot);
      continue;
    }
    const sub = part.sub;
    if (!sub.correlated && ctx.subquerySlots.has(sub.id)) continue;
    let slot: SlotValue;
    try {
      slot = { ok: true, value: await runSubquery(sub, row, ctx) };
    } catch (err) {
      if (!(err instanceof PgError)) throw err;
      slot = { ok: false, error: err };
    }
    ctx.subquerySlots.set(sub.id, slot);
  }
}

/** Evaluates a compiled expression on one row, preparing its asynchronous parts first. */
export async function evalRow(compiled: Compiled, row: Row, ctx: ExecContext): Promise<Datum> {
  if (compiled.asyncParts.length > 0) await prepare(compiled, row, ctx);
  return compiled.fn(row);
}

async function runSubquery(sub: Subquery, row: Row, ctx: ExecContext): Promise<Datum | Datum[]> {
  ctx.outerRows.push(row);
  try {
    const stream = ctx.runRel(sub.rel);
    if (sub.mode === "exists") {
      for await (const batch of stream) if (batch.length > 0) return true;
      return false;
    }
    if (sub.mode === "scalar") {
      let value: Datum = null;
      let seen = 0;
      for await (const batch of stream) {
        for (const r of batch) {
          if (++seen > 1) throw new PgError("cardinality_violation", "more than one row returned by a subquery used as an expression");
          value = r[0] ?? null;
        }
      }
      return value;
    }
    const out: Datum[] = [];
    for await (const batch of stream) for (const r of batch) out.push(r[0] ?? null);
    ctx.memory.reserve(out.length * 16, "subquery result");
    return out;
  } finally {
    ctx.outerRows.pop();
  }
}

/** Evaluates a predicate on a row: true only for SQL TRUE. */
export function isTrue(d: Datum): boolean {
  return d === true;
}
