// The binder's shared state for one statement: catalog snapshot, search path, parameters, WITH
// queries in scope, and numbering of subqueries. Expression binding lives in expr.ts, query
// binding in select.ts.
import { PgError } from "../../../../common/errors.ts";
import type { Catalog } from "../../catalog/catalog.ts";
import type { CteDef, Expr } from "./bound.ts";
import type { Scope, ScopeColumn } from "./scope.ts";
import type { PgNode } from "../parse/ast.ts";
import { sqlLimits } from "../limits.ts";
import type { EvalContext } from "../types/context.ts";
import type { SqlType } from "../types/type.ts";
import type { SettingRow } from "./system-tables/context.ts";

export interface BindOptions {
  catalog: Catalog;
  /**
   * The statement's time zone and transaction time: casts and operators the binder resolves (and
   * constants it folds) evaluate in it, so each statement's closures keep the context it was bound in.
   */
  evalContext: EvalContext;
  searchPath: readonly string[];
  /** Positional parameters in text form ($1 is params[0]); null is SQL NULL. */
  params: ReadonlyArray<string | null>;
  user?: string;
  database?: string;
  /** The session's settings as pg_settings lists them. */
  settings?: () => SettingRow[];
}

/** Resolves a name to a PL/pgSQL variable (see Binder.variables); `location` for error positions. */
export type VariableResolver = (names: readonly string[], location: number | undefined) => Expr | null;

export class Binder {
  readonly catalog: Catalog;
  readonly evalContext: EvalContext;
  readonly searchPath: readonly string[];
  readonly params: ReadonlyArray<string | null>;
  readonly user: string;
  readonly database: string;
  readonly settings: (() => SettingRow[]) | undefined;
  /** WITH queries visible at the current point, innermost last. */
  readonly ctes: CteDef[] = [];
  private nextSubqueryId = 0;
  private nextCteId = 0;
  depth = 0;
  /** Subqueries being bound, innermost last: a column found in `outer` or above correlates them. */
  readonly boundaries: Array<{ outer: Scope; correlated: boolean }> = [];
  /** Set when binding for Describe: the declared parameter types (undefined = infer). */
  describing: Array<SqlType | undefined> | null = null;
  /** Relation ids the statement reads (for the catalog freshness check and EXPLAIN). */
  readonly usedTables = new Set<number>();
  /**
   * Names the statement's own scopes do not define: a PL/pgSQL function's variables (plpgsql/).
   * Called with a column reference's names (or `$n` for a parameter): an expression reading the
   * variable, or null when no variable has that name.
   */
  variables: VariableResolver | null = null;
  /**
   * Told of every column reference (the ColumnRef node's body) and the scope column it resolved
   * to: how ALTER TABLE … RENAME COLUMN finds the references of a view that read the column.
   */
  columnRefSeen: ((ref: PgNode, column: ScopeColumn) => void) | null = null;

  constructor(o: BindOptions) {
    this.catalog = o.catalog;
    this.evalContext = o.evalContext;
    this.searchPath = o.searchPath;
    this.params = o.params;
    this.user = o.user ?? "warren";
    this.database = o.database ?? "defaultdb";
    this.settings = o.settings;
  }

  subqueryId(): number {
    return this.nextSubqueryId++;
  }

  cteId(): number {
    return this.nextCteId++;
  }

  findCte(name: string): CteDef | undefined {
    for (let i = this.ctes.length - 1; i >= 0; i--) if (this.ctes[i]!.name === name) return this.ctes[i];
    return undefined;
  }

  /** Marks every subquery being bound that lies inside the scope where a column was found. */
  noteOuterReference(found: Scope): void {
    for (const bd of this.boundaries) {
      for (let s: Scope | null = bd.outer; s !== null; s = s.parent) {
        if (s === found) {
          bd.correlated = true;
          break;
        }
      }
    }
  }

  enter(): void {
    if (++this.depth > sqlLimits.nestingDepthMax) {
      throw new PgError("statement_too_complex", "stack depth limit exceeded", {
        hint: `the query nests expressions and subqueries more than ${sqlLimits.nestingDepthMax} levels deep`,
      });
    }
  }

  leave(): void {
    this.depth--;
  }
}

export function pos(location: unknown): { position?: number } {
  return typeof location === "number" && location >= 0 ? { position: location + 1 } : {};
}
