// What executing one statement needs: the transaction, the catalog snapshot and keyspace, the
// statement's memory account, correlated-row stack, subquery results, materialised WITH queries,
// and the session services that functions such as nextval() and current_setting() reach.
import type { Catalog } from "../../catalog/catalog.ts";
import type { ForeignKeyDesc, FunctionDesc, TableDesc } from "../../catalog/descriptors.ts";
import type { Keyspace } from "../../catalog/keyspace.ts";
import type { Txn } from "../../txn/txn.ts";
import type { Rel, SpecialFn } from "../bind/bound.ts";
import type { EvalContext } from "../types/context.ts";
import type { Datum } from "../types/datum.ts";
import type { MemoryAccount } from "./memory.ts";
import type { StatementBudget } from "./budget.ts";
import { RowCodec } from "./row-codec.ts";
import type { Row } from "./eval.ts";
import type { TableWriter } from "./table-writer.ts";

/** One row event on a table with triggers (TableWriter asks before and after writing the row). */
export interface RowTriggerEvent {
  readonly table: TableDesc;
  readonly timing: "before" | "after";
  readonly event: "insert" | "update" | "delete";
  readonly oldRow: Row | null;
  readonly newRow: Row | null;
}

export interface ExecContext {
  readonly txn: Txn;
  readonly catalog: Catalog;
  readonly ks: Keyspace;
  /** The statement's time zone and transaction time (values printed in messages, json_agg). */
  readonly evalContext: EvalContext;
  readonly memory: MemoryAccount;
  /** Deadline, cancel flag and cooperative yielding: operators charge work and pause when due. */
  readonly budget: StatementBudget;
  readonly params: readonly Datum[];
  /** Rows of enclosing queries, innermost last (correlated subqueries, LATERAL). */
  readonly outerRows: Row[];
  readonly subquerySlots: Map<number, unknown>;
  /** Materialised WITH queries by CteDef id. */
  readonly cteRows: Map<number, Row[]>;
  /** Runs a bound relation (subqueries, CTEs) through the planner. */
  runRel(rel: Rel): AsyncGenerator<Row[]>;
  /** Session-dependent functions (sequences, settings), computed per row before evaluation. */
  special(name: SpecialFn, args: Datum[]): Promise<Datum>;
  /** Runs a user-defined function that executes statements (LANGUAGE plpgsql) with its arguments. */
  callRoutine(fn: FunctionDesc, args: Datum[]): Promise<Datum>;
  /**
   * Fires the table's row triggers for one event. BEFORE: the row to write (as the triggers left
   * it) or null to skip the row; AFTER: the answer is not used.
   */
  fireTriggers(call: RowTriggerEvent): Promise<Row | null>;
  /** A fresh slot number for per-row prepared values (kept apart from subquery ids). */
  nextSlot(): number;
  codec(table: TableDesc): RowCodec;
  /** Rows of `child` whose foreign key `fk` holds `values` (cascades and RESTRICT checks). */
  findReferencing(child: TableDesc, fk: ForeignKeyDesc, values: Datum[]): Promise<Row[]>;
  /** A writer for another table (cascading foreign-key actions). */
  writerFor(table: TableDesc): Promise<TableWriter>;
  /** Set by EXPLAIN ANALYZE: operators record actual rows and time. */
  readonly analyze: boolean;
}

/** Row codecs by table id and descriptor version (a new version replaces the old entry). */
export function codecCache(ks: Keyspace): (t: TableDesc) => RowCodec {
  const cache = new Map<number, RowCodec>();
  return (t) => {
    let c = cache.get(t.id);
    if (c === undefined || c.table !== t) {
      c = c !== undefined && c.table.version === t.version && sameShape(c.table, t) ? c : new RowCodec(ks, t);
      cache.set(t.id, c);
    }
    return c;
  };
}

/**
 * The same layout (data id, columns, their types, indexes): a descriptor re-read from storage. Versions
 * alone do not prove it — a rolled-back schema change can reuse a version number.
 */
function sameShape(a: TableDesc, b: TableDesc): boolean {
  const layout = (t: TableDesc): string => JSON.stringify([t.dataId ?? t.id, t.columns.map((c) => [c.id, c.type]), t.primaryIndex, t.indexes]);
  return layout(a) === layout(b);
}
