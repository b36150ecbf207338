// Choosing how to read one table under a filter. From the filter's conjuncts of the form
// `column op value` (value: a constant, parameter or outer-row reference), each index gets:
//   equalities on a prefix of its columns, then at most one range on the next column.
// Preference: primary key fully pinned (point get: one KV get, or one batched get for IN lists)
// > unique index fully pinned > longest pinned prefix (bounded scan) > full scan.
// The whole filter is still applied to the rows read, so the span only has to be a superset.
import type { ColumnDesc, IndexDesc, TableDesc } from "../../catalog/descriptors.ts";
import { compareBytes, concatBytes, prefixEnd } from "../../../../common/bytes.ts";
import type { Expr } from "../bind/bound.ts";
import { compile, prepare } from "../exec/eval.ts";
import type { ExecContext } from "../exec/context.ts";
import { rowHashKey } from "../types/compare.ts";
import type { Datum } from "../types/datum.ts";
import { typeOfStored, type SqlType } from "../types/type.ts";
import { encodeKeyDatum } from "../rowenc/datum-key.ts";
import { KeyWriter } from "../../keys/encoding.ts";
import { describeExpr } from "../exec/describe-expr.ts";
import { forEachExpr } from "../bind/rewrite.ts";
import { predicateImplied } from "../bind/predicate-implication.ts";
import type { SpanSpec } from "../exec/ops/scan.ts";

/** Bounded number of point keys or spans an IN list may expand to. */
const IN_LIST_KEYS_MAX = 1000;

type Op = "=" | "<" | "<=" | ">" | ">=";

interface Constraint {
  /** Position of the column in the scan's row (table.columns order). */
  pos: number;
  op: Op | "in";
  values: Expr[];
}

const FLIP: Record<Op, Op> = { "=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<=" };

/** An expression computable before reading the table: no columns of the current row. */
function rowIndependent(e: Expr): boolean {
  let ok = true;
  forEachExpr(e, (x) => {
    if (x.kind === "col" || x.kind === "subquery" || x.kind === "special" || x.kind === "routine" || (x.kind === "call" && x.volatile)) ok = false;
  });
  return ok;
}

export function constraintsOf(conjuncts: readonly Expr[], table: TableDesc): Constraint[] {
  const out: Constraint[] = [];
  for (const c of conjuncts) {
    if (c.kind === "call" && c.args.length === 2 && c.name in FLIP) {
      const [a, b] = c.args as [Expr, Expr];
      let col: Expr | null = null;
      let val: Expr | null = null;
      let op = c.name as Op;
      if (a.kind === "col" && rowIndependent(b)) {
        col = a;
        val = b;
      } else if (b.kind === "col" && rowIndependent(a)) {
        col = b;
        val = a;
        op = FLIP[op];
      }
      if (col === null || val === null || col.kind !== "col") continue;
      const column = table.columns[col.index];
      if (column === undefined || column.type.oid !== val.type.oid || column.type.oid !== col.type.oid) continue;
      out.push({ pos: col.index, op, values: [val] });
    } else if (c.kind === "inlist" && !c.negate && c.arg.kind === "col" && c.list.length <= IN_LIST_KEYS_MAX && c.list.every(rowIndependent)) {
      const column = table.columns[c.arg.index];
      if (column === undefined || column.type.oid !== c.arg.type.oid || !c.list.every((v) => v.type.oid === column.type.oid)) continue;
      out.push({ pos: c.arg.index, op: "in", values: [...c.list] });
    }
  }
  return out;
}

export interface AccessChoice {
  index: IndexDesc;
  /** Equality (or IN) constraints on the leading index columns. */
  eq: Constraint[];
  /** Range constraints on the next column. */
  range: Constraint[];
  /** Every index column pinned by equality. */
  full: boolean;
  estRows: number;
  describe: string[];
}

/**
 * `predicates`: each partial index's predicate (by index id); such an index is a candidate only
 * when the conjuncts imply its predicate (bind/predicate-implication.ts), since rows outside it
 * have no entry.
 */
export function chooseAccess(table: TableDesc, conjuncts: readonly Expr[], predicates: ReadonlyMap<number, Expr>): AccessChoice | null {
  const cons = constraintsOf(conjuncts, table);
  if (cons.length === 0) return null;
  const posOf = new Map(table.columns.map((c, i) => [c.id, i] as const));
  let best: AccessChoice | null = null;
  let bestScore = 0;
  for (const ix of [table.primaryIndex, ...table.indexes]) {
    if (ix.state === "write-only") continue;
    if (ix.predicate !== undefined) {
      const p = predicates.get(ix.id);
      if (p === undefined || !predicateImplied(p, conjuncts)) continue;
    }
    const eq: Constraint[] = [];
    let range: Constraint[] = [];
    for (const ic of ix.columns) {
      const p = posOf.get(ic.columnId)!;
      const e = cons.find((c) => c.pos === p && c.op === "=") ?? cons.find((c) => c.pos === p && c.op === "in");
      if (e !== undefined) {
        eq.push(e);
        continue;
      }
      range = cons.filter((c) => c.pos === p && c.op !== "=" && c.op !== "in");
      break;
    }
    if (eq.length === 0 && range.length === 0) continue;
    const full = eq.length === ix.columns.length;
    const keys = eq.reduce((n, c) => n * c.values.length, 1);
    const unique = ix.primary || ix.unique;
    // Higher is better: fully pinned unique > more pinned columns > a range > primary over secondary.
    const score = (full && unique ? 1000 : 0) + eq.length * 10 + (range.length > 0 ? 5 : 0) + (ix.primary ? 1 : 0);
    if (score > bestScore) {
      bestScore = score;
      const estRows = full && unique ? keys : eq.length > 0 ? keys * 10 : 100;
      best = { index: ix, eq, range, full, estRows, describe: [] };
    }
  }
  if (best !== null) {
    const names = table.columns.map((c) => c.name);
    const parts = [...best.eq, ...best.range].map((c) =>
      c.op === "in" ? `${names[c.pos]} = ANY (${c.values.map((v) => describeExpr(v)).join(", ")})` : `${names[c.pos]} ${c.op} ${describeExpr(c.values[0]!)}`,
    );
    best.describe = [`Index Cond: (${parts.join(" AND ")})`];
  }
  return best;
}

async function evalValues(exprs: readonly Expr[], ctx: ExecContext): Promise<Datum[]> {
  const out: Datum[] = [];
  for (const e of exprs) {
    const c = compile(e, ctx);
    if (c.asyncParts.length > 0) await prepare(c, [], ctx);
    out.push(c.fn([]));
  }
  return out;
}

/**
 * Cartesian product of the equality values (IN lists expand), without NULLs (they match nothing)
 * and without repeats: values equal by the column type's `=` (1.0 and 1.00, 'a' and 'a ' as
 * bpchar) name the same key. `types`: the table's column types by position.
 */
async function eqTuples(eq: readonly Constraint[], ctx: ExecContext, types: readonly SqlType[]): Promise<Datum[][]> {
  let tuples: Datum[][] = [[]];
  for (let i = 0; i < eq.length; i++) {
    const c = eq[i]!;
    const vals = (await evalValues(c.values, ctx)).filter((v) => v !== null);
    const tupleTypes = eq.slice(0, i + 1).map((x) => types[x.pos]!);
    const seen = new Set<string>();
    const next: Datum[][] = [];
    for (const t of tuples) {
      for (const v of vals) {
        const tuple = [...t, v];
        const k = rowHashKey(tuple, tupleTypes);
        if (seen.has(k)) continue;
        seen.add(k);
        next.push(tuple);
      }
    }
    tuples = next;
  }
  return tuples;
}

/** Full primary keys for a point get (null: no key can match). */
export async function pointKeys(table: TableDesc, choice: AccessChoice, ctx: ExecContext): Promise<Uint8Array[] | null> {
  const codec = ctx.codec(table);
  const tuples = await eqTuples(choice.eq, ctx, codec.types);
  if (tuples.length === 0) return null;
  return tuples.map((t) => concatBytes([codec.primaryPrefix, codec.encodeValues(choice.index, t)]));
}

/** Key spans of the chosen index (null: no row can match). */
export async function indexSpans(table: TableDesc, choice: AccessChoice, ctx: ExecContext): Promise<SpanSpec[] | null> {
  const codec = ctx.codec(table);
  const prefix = codec.indexPrefix(choice.index);
  const tuples = await eqTuples(choice.eq, ctx, codec.types);
  if (tuples.length === 0) return null;
  const spans: SpanSpec[] = [];
  const rangeCol = choice.index.columns[choice.eq.length];
  for (const t of tuples) {
    const base = concatBytes([prefix, codec.encodeValues(choice.index, t)]);
    let start = base;
    let end = prefixEnd(base);
    if (rangeCol !== undefined && choice.range.length > 0) {
      const type = typeOfStored(table.columns[choice.range[0]!.pos]!.type);
      for (const r of choice.range) {
        const v = (await evalValues(r.values, ctx))[0] ?? null;
        if (v === null) return null;
        const enc = new KeyWriter(16);
        encodeKeyDatum(enc, v, type, rangeCol.desc ? "desc" : "asc");
        const at = concatBytes([base, enc.finish()]);
        // On a DESC column the byte order is reversed: a lower bound on the value bounds the end.
        const lowerBound = (r.op === ">" || r.op === ">=") !== rangeCol.desc;
        const inclusive = r.op === ">=" || r.op === "<=";
        if (lowerBound) {
          const s = inclusive ? at : prefixEnd(at);
          if (compareBytes(s, start) > 0) start = s;
        } else {
          const e = inclusive ? prefixEnd(at) : at;
          if (compareBytes(e, end) < 0) end = e;
        }
      }
      // NULLs sort last ascending (first descending) and may fall inside an open-ended span; the
      // filter above the scan drops them.
    }
    if (compareBytes(start, end) < 0) spans.push({ start, end });
  }
  // Key order, so a scan over several spans (IN lists) still yields rows in index order.
  spans.sort((a, b) => compareBytes(a.start, b.start));
  return spans;
}

export function columnsOfIndex(table: TableDesc, ix: IndexDesc): ColumnDesc[] {
  return ix.columns.map((c) => table.columns.find((col) => col.id === c.columnId)!);
}
