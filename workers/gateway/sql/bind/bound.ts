// The bound, typed form of a query: the small readonly node set every pass after the binder works
// on (planner, executor, EXPLAIN). Expressions refer to input columns by position; relations list
// their output columns. Passes switch exhaustively on `kind` (see exprKinds / relKinds), so a new
// node kind does not compile until every pass handles it.
import type { ColumnDesc, FunctionDesc, IndexDesc, TableDesc } from "../../catalog/descriptors.ts";
import type { Datum } from "../types/datum.ts";
import type { SqlType } from "../types/type.ts";

export type Expr =
  | { readonly kind: "const"; readonly type: SqlType; readonly value: Datum }
  | { readonly kind: "param"; readonly type: SqlType; readonly index: number }
  /** A column of the current input row. */
  | { readonly kind: "col"; readonly type: SqlType; readonly index: number }
  /** A column of an enclosing query's row (correlated subquery): `level` 1 is the nearest. */
  | { readonly kind: "outer"; readonly type: SqlType; readonly level: number; readonly index: number }
  | { readonly kind: "call"; readonly type: SqlType; readonly name: string; readonly args: readonly Expr[]; readonly fn: (args: Datum[]) => Datum; readonly strict: boolean; readonly volatile: boolean }
  | { readonly kind: "and" | "or"; readonly type: SqlType; readonly args: readonly Expr[] }
  | { readonly kind: "not"; readonly type: SqlType; readonly arg: Expr }
  | { readonly kind: "isnull"; readonly type: SqlType; readonly arg: Expr; readonly negate: boolean }
  | { readonly kind: "booltest"; readonly type: SqlType; readonly arg: Expr; readonly test: "true" | "false" | "unknown"; readonly negate: boolean }
  | { readonly kind: "case"; readonly type: SqlType; readonly whens: ReadonlyArray<{ readonly when: Expr; readonly then: Expr }>; readonly else: Expr }
  | { readonly kind: "coalesce"; readonly type: SqlType; readonly args: readonly Expr[] }
  | { readonly kind: "minmax"; readonly type: SqlType; readonly greatest: boolean; readonly args: readonly Expr[] }
  | { readonly kind: "cast"; readonly type: SqlType; readonly arg: Expr; readonly fn: (d: Datum) => Datum }
  /** x [NOT] IN (list): Postgres's three-valued semantics over `eq`. */
  | { readonly kind: "inlist"; readonly type: SqlType; readonly arg: Expr; readonly list: readonly Expr[]; readonly eq: (a: Datum, b: Datum) => boolean; readonly negate: boolean }
  /** IS [NOT] DISTINCT FROM. */
  | { readonly kind: "distinct"; readonly type: SqlType; readonly left: Expr; readonly right: Expr; readonly eq: (a: Datum, b: Datum) => boolean; readonly negate: boolean }
  | { readonly kind: "subquery"; readonly type: SqlType; readonly sub: Subquery }
  | { readonly kind: "array"; readonly type: SqlType; readonly elems: readonly Expr[] }
  /**
   * A value coerced to a domain (CREATE DOMAIN): `arg` (already of the base type) checked against
   * the domain's NOT NULL and CHECK constraints. Each check is bound over a one-column row holding
   * the value (VALUE is column 0), so it is not a child expression of this node.
   */
  | { readonly kind: "domain"; readonly type: SqlType; readonly arg: Expr; readonly domainName: string; readonly notNull: boolean; readonly checks: ReadonlyArray<{ readonly name: string; readonly expr: Expr }> }
  /** A session-dependent function evaluated by the executor (nextval, current_setting, …). */
  | { readonly kind: "special"; readonly type: SqlType; readonly name: SpecialFn; readonly args: readonly Expr[] }
  /**
   * A call of a user-defined function that runs statements (LANGUAGE plpgsql): the executor runs
   * it per row, asynchronously, through ExecContext.callRoutine. Arguments are already coerced to
   * the parameter types.
   */
  | { readonly kind: "routine"; readonly type: SqlType; readonly fn: FunctionDesc; readonly args: readonly Expr[] };

export type SpecialFn =
  | "nextval"
  | "currval"
  | "setval"
  | "pg_sequence_last_value"
  /** `SELECT … FROM seq`: its last_value and is_called columns. */
  | "sequence_last_value"
  | "sequence_is_called"
  | "current_setting"
  | "set_config"
  | "lastval"
  | "unique_rowid"
  | "pg_backend_pid"
  | "pg_cancel_backend"
  | "pg_terminate_backend"
  | "pg_sleep"
  | "pg_sleep_for"
  | "pg_sleep_until"
  | AdvisoryLockFn;

/** The advisory-lock functions (sql/advisory-locks.ts). */
export type AdvisoryLockFn =
  | "pg_advisory_lock"
  | "pg_advisory_lock_shared"
  | "pg_try_advisory_lock"
  | "pg_try_advisory_lock_shared"
  | "pg_advisory_xact_lock"
  | "pg_advisory_xact_lock_shared"
  | "pg_try_advisory_xact_lock"
  | "pg_try_advisory_xact_lock_shared"
  | "pg_advisory_unlock"
  | "pg_advisory_unlock_shared"
  | "pg_advisory_unlock_all";

export type ExprKind = Expr["kind"];

export interface Subquery {
  /** "scalar": one value; "exists"; "any"/"all": `test op ANY/ALL (sub)`; "array": ARRAY(sub). */
  readonly mode: "scalar" | "exists" | "any" | "all" | "array";
  readonly rel: Rel;
  /** For any/all: the left operand and the comparison applied to each row's first column. */
  readonly test: Expr | null;
  readonly cmp: ((a: Datum, b: Datum) => Datum) | null;
  /** True when the subquery refers to columns of an enclosing query. */
  readonly correlated: boolean;
  /** Slot of this subquery in the statement's subquery cache. */
  readonly id: number;
}

export interface OutputColumn {
  readonly name: string;
  readonly type: SqlType;
  /** Source table and attribute, for RowDescription (0 when computed). */
  readonly tableId: number;
  readonly columnId: number;
}

export interface SortKey {
  readonly expr: Expr;
  readonly desc: boolean;
  readonly nullsFirst: boolean;
}

export interface AggCall {
  readonly name: string;
  readonly args: readonly Expr[];
  readonly distinct: boolean;
  readonly star: boolean;
  readonly filter: Expr | null;
  readonly orderBy: readonly SortKey[];
  readonly type: SqlType;
  /** Argument types after coercion, for the accumulator. */
  readonly argTypes: readonly SqlType[];
}

export interface WindowCall {
  readonly name: string;
  readonly args: readonly Expr[];
  readonly partitionBy: readonly Expr[];
  readonly orderBy: readonly SortKey[];
  /** The window frame (Postgres's default: RANGE UNBOUNDED PRECEDING to CURRENT ROW, i.e. through the last peer). */
  readonly frame: WindowFrame;
  readonly type: SqlType;
  readonly aggregate: AggCall | null;
}

export interface FrameBound {
  readonly kind: "unbounded" | "current" | "preceding" | "following";
  /** Row count for `n PRECEDING` / `n FOLLOWING` (ROWS frames), a constant. */
  readonly offset: number;
}

export interface WindowFrame {
  readonly rows: boolean;
  readonly start: FrameBound;
  readonly end: FrameBound;
}

export type JoinType = "inner" | "left" | "right" | "full" | "semi" | "anti";

export type Rel =
  /** Every column of a table (`table.columns` order); the planner picks the access path. */
  | {
      readonly kind: "scan";
      readonly cols: readonly OutputColumn[];
      readonly table: TableDesc;
      readonly alias: string;
      /**
       * The predicate of each partial index of the table, by index id, over this scan's row: the
       * planner reads a partial index only when the filter implies its predicate. Absent (scans
       * made outside the binder's FROM and DML paths): partial indexes are not read.
       */
      readonly indexPredicates?: ReadonlyMap<number, Expr>;
    }
  | { readonly kind: "values"; readonly cols: readonly OutputColumn[]; readonly rows: ReadonlyArray<readonly Expr[]> }
  | { readonly kind: "filter"; readonly cols: readonly OutputColumn[]; readonly input: Rel; readonly pred: Expr }
  | { readonly kind: "project"; readonly cols: readonly OutputColumn[]; readonly input: Rel; readonly exprs: readonly Expr[] }
  | { readonly kind: "join"; readonly cols: readonly OutputColumn[]; readonly type: JoinType; readonly left: Rel; readonly right: Rel; readonly on: Expr | null; readonly lateral: boolean }
  | { readonly kind: "aggregate"; readonly cols: readonly OutputColumn[]; readonly input: Rel; readonly groupBy: readonly Expr[]; readonly aggs: readonly AggCall[] }
  | { readonly kind: "window"; readonly cols: readonly OutputColumn[]; readonly input: Rel; readonly funcs: readonly WindowCall[] }
  | { readonly kind: "sort"; readonly cols: readonly OutputColumn[]; readonly input: Rel; readonly keys: readonly SortKey[] }
  | { readonly kind: "limit"; readonly cols: readonly OutputColumn[]; readonly input: Rel; readonly limit: Expr | null; readonly offset: Expr | null }
  | { readonly kind: "distinct"; readonly cols: readonly OutputColumn[]; readonly input: Rel; readonly on: readonly Expr[] | null }
  /** INTERSECT / EXCEPT [ALL]. UNION is `append` (under `distinct` unless ALL). */
  | { readonly kind: "setop"; readonly cols: readonly OutputColumn[]; readonly op: "intersect" | "except"; readonly all: boolean; readonly left: Rel; readonly right: Rel }
  /** UNION ALL of any number of inputs (a chain of UNIONs is one append, not a nest of them). */
  | { readonly kind: "append"; readonly cols: readonly OutputColumn[]; readonly inputs: readonly Rel[] }
  /** A reference to a WITH query, materialised once per statement. */
  | { readonly kind: "cteref"; readonly cols: readonly OutputColumn[]; readonly cte: CteDef }
  /** generate_series and other set-returning functions in FROM. */
  | { readonly kind: "srf"; readonly cols: readonly OutputColumn[]; readonly name: string; readonly args: readonly Expr[] }
  /** One row with no columns (SELECT without FROM). */
  | { readonly kind: "one"; readonly cols: readonly OutputColumn[] };

export type RelKind = Rel["kind"];

export interface CteDef {
  readonly name: string;
  readonly id: number;
  /** Non-recursive: the query. Recursive: `rel` is the anchor and `recursive` the step. */
  rel: Rel;
  recursive: Rel | null;
  readonly unionAll: boolean;
  cols: OutputColumn[];
}

/** A secondary index together with its table, as the planner sees it. */
export interface IndexRef {
  readonly table: TableDesc;
  readonly index: IndexDesc;
  readonly columns: readonly ColumnDesc[];
}

/** Exhaustive handler tables: a missing kind is a compile error in every pass that uses them. */
export type ExprVisitor<R> = { readonly [K in ExprKind]: (e: Expr & { readonly kind: K }) => R };
export type RelVisitor<R> = { readonly [K in RelKind]: (r: Rel & { readonly kind: K }) => R };

export function visitExpr<R>(e: Expr, v: ExprVisitor<R>): R {
  return (v[e.kind] as (x: Expr) => R)(e);
}

export function visitRel<R>(r: Rel, v: RelVisitor<R>): R {
  return (v[r.kind] as (x: Rel) => R)(r);
}

/**
 * The same Rel with `f` applied to each direct input (none for leaves). Rewriting passes handle
 * the kinds they care about and leave the rest to this one exhaustive switch, so a new kind is
 * added here once rather than in every pass.
 */
export function mapRelInputs(rel: Rel, f: (input: Rel) => Rel): Rel {
  switch (rel.kind) {
    case "filter":
    case "project":
    case "aggregate":
    case "window":
    case "sort":
    case "limit":
    case "distinct":
      return { ...rel, input: f(rel.input) } as Rel;
    case "join":
    case "setop":
      return { ...rel, left: f(rel.left), right: f(rel.right) };
    case "append":
      return { ...rel, inputs: rel.inputs.map(f) };
    case "scan":
    case "values":
    case "cteref":
    case "srf":
    case "one":
      return rel;
  }
}
