// The SQL inside a PL/pgSQL function: expressions (`x > 1`, the right side of `x := …`) and
// statements (SELECT … INTO, PERFORM, INSERT / UPDATE / DELETE, FOR … IN query). Each text is
// parsed by the SQL parser (cached by text), bound with the function's variables visible as
// parameters (Binder.variables: a name the query's own scopes do not define becomes `$k` of this
// text, filled from the variable at each execution, as PL/pgSQL passes variables to its plans),
// and kept bound for the rest of the calling statement: a loop binds its body once.
//
// A bound form is valid for the catalog it was bound on and for the shapes of the record
// variables it reads (NEW of one table, the row of one FOR query). Each has its own execution
// context (parameters, subquery results) so that a FOR loop's query and its body never share one;
// a form in use (a recursive call evaluating the same expression) is not reused: a second is made.
import { PgError } from "../../../../common/errors.ts";
import type { Catalog } from "../../catalog/catalog.ts";
import { isTempId } from "../../catalog/descriptors.ts";
import type { Binder } from "../bind/binder.ts";
import type { Expr, OutputColumn, Rel } from "../bind/bound.ts";
import type { BoundDelete, BoundInsert, BoundUpdate } from "../bind/dml.ts";
import { bindEmbeddedStatement, bindEmbeddedValue } from "../bind/embedded-sql.ts";
import { coerce, coerceBool } from "../bind/expr.ts";
import { bindTableRules, type TableRules } from "../bind/table-rules.ts";
import type { ExecContext } from "../exec/context.ts";
import { runDelete, runInsert, runUpdate } from "../exec/dml.ts";
import { compile, evalRow, type Compiled, type Row } from "../exec/eval.ts";
import { MemoryAccount } from "../exec/memory.ts";
import type { StatementTree } from "../parse/ast.ts";
import type { PlExpr } from "../parse/plpgsql-tree.ts";
import { plan } from "../plan/planner.ts";
import type { StatementResult } from "../result.ts";
import type { Datum } from "../types/datum.ts";
import { Types, type SqlType } from "../types/type.ts";
import type { PlHost } from "./host.ts";
import type { PlRecord } from "./values.ts";

/** Where parameter k of a bound text reads its value: a variable, or one field of a record variable. */
export interface VarRef {
  readonly slot: number;
  /** Column of the record variable; -1 for a scalar variable. */
  readonly col: number;
}

/** Resolves a name the query does not define to a variable, recording what it reads. */
export type NameResolver = (names: readonly string[], location: number | undefined, reads: Reads) => Expr | null;

/** What a binding read from the function's variables. */
export class Reads {
  readonly refs: VarRef[] = [];
  /** Record variables read, with the shape they had (a new shape needs a new binding). */
  readonly shapes: Array<{ slot: number; cols: PlRecord["cols"] }> = [];

  param(slot: number, col: number, type: SqlType): Expr {
    let i = this.refs.findIndex((r) => r.slot === slot && r.col === col);
    if (i < 0) {
      i = this.refs.length;
      this.refs.push({ slot, col });
    }
    return { kind: "param", type, index: i };
  }
}

/** What a text binds to, by the way it is used. */
export type Use =
  /** A value of `type` (assignment, RETURN), or any type when null. */
  | { readonly kind: "value"; readonly type: SqlType | null }
  | { readonly kind: "condition" }
  /** A statement (its rows, if any). */
  | { readonly kind: "statement" };

type Bound =
  | { readonly kind: "value"; readonly expr: Expr }
  | { readonly kind: "query"; readonly rel: Rel }
  | { readonly kind: "insert"; readonly bound: BoundInsert; readonly rules: TableRules }
  | { readonly kind: "update"; readonly bound: BoundUpdate; readonly rules: TableRules }
  | { readonly kind: "delete"; readonly bound: BoundDelete; readonly rules: TableRules }
  | { readonly kind: "utility"; readonly statement: StatementTree };

/** The execution context of one bound text: the caller's, with parameters and subquery results of its own. */
class TextContext {
  readonly params: Datum[] = [];
  readonly ctx: ExecContext;
  private memory: MemoryAccount;

  constructor(base: ExecContext) {
    this.memory = new MemoryAccount(base.memory.budgetBytes);
    const self = this;
    const ctx: ExecContext = {
      txn: base.txn,
      get catalog() {
        return base.catalog;
      },
      ks: base.ks,
      evalContext: base.evalContext,
      get memory() {
        return self.memory;
      },
      budget: base.budget,
      params: this.params,
      outerRows: [],
      subquerySlots: new Map(),
      cteRows: new Map(),
      runRel: (rel) => plan(rel).run(ctx),
      special: (name, args) => base.special(name, args),
      callRoutine: (fn, args) => base.callRoutine(fn, args),
      fireTriggers: (call) => base.fireTriggers(call),
      nextSlot: () => base.nextSlot(),
      codec: (t) => base.codec(t),
      findReferencing: (child, fk, values) => base.findReferencing(child, fk, values),
      writerFor: (t) => base.writerFor(t),
      analyze: false,
    };
    this.ctx = ctx;
  }

  /** Before each execution: fresh subquery results and memory account. */
  reset(params: readonly Datum[]): void {
    this.params.length = 0;
    for (const p of params) this.params.push(p);
    this.ctx.subquerySlots.clear();
    this.ctx.cteRows.clear();
    this.ctx.outerRows.length = 0;
    this.memory = new MemoryAccount(this.memory.budgetBytes);
  }
}

export interface RowsResult {
  readonly cols: readonly OutputColumn[];
  readonly rows: Row[];
  /** Rows the statement processed (ROW_COUNT): written rows for DML. */
  readonly count: number;
}

/** One bound text with its context; `busy` while it runs. */
export class BoundText {
  readonly catalog: Catalog;
  readonly reads: Reads;
  private readonly bound: Bound;
  private readonly tc: TextContext;
  /** A value expression, compiled in this text's own context (its closures read that context). */
  private readonly compiled: Compiled | null;
  busy = false;

  constructor(catalog: Catalog, reads: Reads, bound: Bound, base: ExecContext) {
    this.catalog = catalog;
    this.reads = reads;
    this.bound = bound;
    this.tc = new TextContext(base);
    this.compiled = bound.kind === "value" ? compile(bound.expr, this.tc.ctx) : null;
  }

  /** Still valid for this catalog and these record variables? */
  fits(catalog: Catalog, recordAt: (slot: number) => PlRecord | null): boolean {
    return !this.busy && this.catalog === catalog && this.reads.shapes.every((s) => recordAt(s.slot)?.cols === s.cols);
  }

  /** The type of the value (a value expression) or of the first column (a query). */
  get valueType(): SqlType {
    if (this.bound.kind === "value") return this.bound.expr.type;
    if (this.bound.kind === "query") return this.bound.rel.cols[0]?.type ?? Types.unknown;
    return Types.unknown;
  }

  /** A SELECT (its rows need a destination: INTO, PERFORM, FOR). */
  get isQuery(): boolean {
    return this.bound.kind === "query";
  }

  get isValue(): boolean {
    return this.bound.kind === "value";
  }

  /** A value expression's value. */
  async value(params: readonly Datum[]): Promise<Datum> {
    const compiled = this.compiled;
    if (compiled === null) throw new PgError("internal_error", "PL/pgSQL: not a value expression");
    this.tc.reset(params);
    if (compiled.asyncParts.length === 0) return compiled.fn([]);
    const buffer = this.tc.ctx.txn.buffer;
    const outer = buffer.enterNestedStatement();
    try {
      return await evalRow(compiled, [], this.tc.ctx);
    } finally {
      buffer.leaveNestedStatement(outer);
    }
  }

  /**
   * Runs a statement; returns its rows (a query's, or DML's RETURNING) up to `rowsMax`, and the
   * count of rows it processed. Runs as a statement of its own (sees every write made before it).
   */
  async rows(params: readonly Datum[], rowsMax: number, host: PlHost): Promise<RowsResult> {
    this.tc.reset(params);
    const ctx = this.tc.ctx;
    const buffer = ctx.txn.buffer;
    const outer = buffer.enterNestedStatement();
    try {
      const b = this.bound;
      switch (b.kind) {
        case "value":
          return { cols: [{ name: "?column?", type: b.expr.type, tableId: 0, columnId: 0 }], rows: [[await evalRow(this.compiled!, [], ctx)]], count: 1 };
        case "query": {
          const rows: Row[] = [];
          let count = 0;
          for await (const batch of plan(b.rel).run(ctx)) {
            for (const r of batch) {
              count++;
              if (rows.length < rowsMax) rows.push(r);
            }
            if (rows.length >= rowsMax && rowsMax !== Infinity) break;
            ctx.memory.reserve(batch.length * 64, "PL/pgSQL query rows");
          }
          return { cols: b.rel.cols, rows, count };
        }
        case "insert":
        case "update":
        case "delete": {
          const t = b.bound.table;
          if (ctx.txn.readOnly && !isTempId(t.id)) throw new PgError("read_only_sql_transaction", `cannot execute ${b.kind.toUpperCase()} in a read-only transaction`);
          const res = b.kind === "insert" ? await runInsert(b.bound, b.rules, ctx, plan) : b.kind === "update" ? await runUpdate(b.bound, b.rules, ctx, plan) : await runDelete(b.bound, b.rules, ctx, plan);
          return { cols: b.bound.returning?.cols ?? [], rows: res.returned.slice(0, rowsMax), count: res.count };
        }
        case "utility": {
          const r: StatementResult = await host.runUtility(b.statement);
          return { cols: [], rows: [], count: r.rowCount ?? 0 };
        }
      }
    } finally {
      buffer.leaveNestedStatement(outer);
    }
  }
}

/**
 * Converts a value to a variable's type the way PL/pgSQL assigns: the assignment cast, else
 * through text (so `int := '12'::text` works, and a timestamp into an int fails with 22P02).
 */
export function assignCoerce(b: Binder, e: Expr, t: SqlType): Expr {
  try {
    return coerce(b, e, t);
  } catch (err) {
    if (!(err instanceof PgError) || err.condition !== "cannot_coerce") throw err;
    return coerce(b, coerce(b, e, Types.text, true), t, true);
  }
}

/** The text after the target of an assignment (`x := e`, `rec.f = e`): `e`. */
export function assignmentSource(query: string): string {
  let i = 0;
  const n = query.length;
  while (i < n) {
    const c = query[i]!;
    if (c === '"') {
      i = query.indexOf('"', i + 1) + 1;
      if (i === 0) break;
    } else if (/[\s.\w$\u0080-\uffff]/.test(c)) i++;
    else if (c === "[") throw new PgError("feature_not_supported", "assignment to an array element or slice is not supported");
    else break;
  }
  if (query.startsWith(":=", i)) return query.slice(i + 2);
  if (query[i] === "=") return query.slice(i + 1);
  throw new PgError("syntax_error", `could not read the assignment "${query}"`);
}

/** Binds one embedded text. */
export async function bindText(text: PlExpr, use: Use, host: PlHost, resolve: NameResolver): Promise<BoundText> {
  const catalog = host.catalog();
  const reads = new Reads();
  const b = host.binder();
  b.variables = (names, location) => resolve(names, location, reads);
  let bound: Bound;
  if (use.kind === "statement") {
    const st = await bindEmbeddedStatement(b, text.query);
    switch (st.kind) {
      case "query":
      case "utility":
        bound = st;
        break;
      case "insert":
        bound = { kind: "insert", bound: st.bound, rules: bindTableRules(b, st.bound.table) };
        break;
      case "update":
        bound = { kind: "update", bound: st.bound, rules: bindTableRules(b, st.bound.table) };
        break;
      case "delete":
        bound = { kind: "delete", bound: st.bound, rules: bindTableRules(b, st.bound.table) };
        break;
    }
    return new BoundText(catalog, reads, bound, host.ctx);
  }
  const source = text.mode === "assign" ? assignmentSource(text.query) : text.query;
  const v = await bindEmbeddedValue(b, source);
  if (v.kind === "value") {
    let e = v.expr;
    if (use.kind === "condition") e = coerceBool(b, e, "IF");
    else if (use.type !== null) e = assignCoerce(b, e, use.type);
    return new BoundText(catalog, reads, { kind: "value", expr: e }, host.ctx);
  }
  // `x := count(*) FROM t` and the like: a query whose one row is the value.
  const rel = v.rel;
  if (rel.cols.length !== 1) throw new PgError("syntax_error", `query "SELECT ${source}" returned ${rel.cols.length} columns`);
  return new BoundText(catalog, reads, { kind: "query", rel }, host.ctx);
}
