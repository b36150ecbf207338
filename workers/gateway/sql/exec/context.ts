// What executing one statement needs: the transaction, the catalog snapshot and keyspace, the
// statement's memory account, correlated-row stack, subquery results, materialised WITH queries,
// and the session services that functions such as nextval() and current_setting() reach.
import type { Catalog } from "../../catalog/catalog.ts";
import type { ForeignKeyDesc, TableDesc } from "../../catalog/descriptors.ts";
import type { Keyspace } from "../../catalog/keyspace.ts";
import type { Txn } from "../../txn/txn.ts";
import type { Rel, SpecialFn } from "../bind/bound.ts";
import type { Datum } from "../types/datum.ts";
import type { MemoryAccount } from "./memory.ts";
import { RowCodec } from "./row-codec.ts";
import type { Row } from "./eval.ts";
import type { TableWriter } from "./table-writer.ts";

export interface ExecContext {
  readonly txn: Txn;
  readonly catalog: Catalog;
  readonly ks: Keyspace;
  readonly memory: MemoryAccount;
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

export function codecCache(ks: Keyspace): (t: TableDesc) => RowCodec {
  const cache = new Map<string, RowCodec>();
  return (t) => {
    const k = `${t.id}.${t.version}`;
    let c = cache.get(k);
    if (c === undefined) {
      c = new RowCodec(ks, t);
      cache.set(k, c);
    }
    return c;
  };
}
