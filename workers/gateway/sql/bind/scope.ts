// Name resolution: which input column a name refers to. A scope is the FROM clause's columns
// (with their table aliases); scopes chain outward for correlated subqueries.
import { PgError } from "../../../../common/errors.ts";
import type { SqlType } from "../types/type.ts";

export interface ScopeColumn {
  /** The table alias (or table name) the column belongs to; null for unnamed subquery columns. */
  readonly table: string | null;
  readonly name: string;
  readonly type: SqlType;
  /** Position in the input row. */
  readonly index: number;
  /** Hidden row id: reachable by name, not by `*`. */
  readonly hidden: boolean;
  /** The other side's copy of a JOIN … USING column: reachable only qualified (t.col, t.*). */
  readonly merged?: boolean;
  readonly tableId: number;
  readonly columnId: number;
  /**
   * The table column (descriptor ids) this scope column reads directly under its own name: set
   * for a table in FROM whose column no alias renames. ALTER TABLE … RENAME COLUMN follows the
   * references that resolve to it into views (bind/view-rename.ts).
   */
  readonly base?: { readonly tableId: number; readonly columnId: number };
}

export class Scope {
  readonly columns: ScopeColumn[];
  readonly parent: Scope | null;

  constructor(columns: ScopeColumn[], parent: Scope | null) {
    this.columns = columns;
    this.parent = parent;
  }

  /** Finds a column by [table.]name in this scope only; undefined if absent, 42702 if ambiguous. */
  find(table: string | null, name: string, location: number | undefined): ScopeColumn | undefined {
    let found: ScopeColumn | undefined;
    for (const c of this.columns) {
      if (c.name !== name) continue;
      if (table !== null && c.table !== table) continue;
      if (table === null && c.merged === true) continue;
      if (found !== undefined) {
        throw new PgError("ambiguous_column", `column reference "${name}" is ambiguous`, location !== undefined ? { position: location + 1 } : {});
      }
      found = c;
    }
    return found;
  }

  hasTable(table: string): boolean {
    return this.columns.some((c) => c.table === table);
  }

  /** The columns `table.*` (or `*` when table is null) expands to. */
  star(table: string | null): ScopeColumn[] {
    if (table === null) return this.columns.filter((c) => !c.hidden && c.merged !== true);
    // t.* is t's columns in t's own order (a JOIN … USING lists its merged columns first for `*` only).
    return this.columns.filter((c) => !c.hidden && c.table === table).sort((x, y) => x.index - y.index);
  }
}
