// The row work of one ALTER TABLE, done in one pass after every subcommand has changed the
// descriptor, as PostgreSQL's phase 3 does: each old row becomes a row of the new layout (columns
// added with a default get it, computed per row), NOT NULL and new CHECK constraints are checked
// on that row, it is written back when its bytes change (a new column's value, a new primary key),
// and the entries of new indexes are written with their uniqueness checked. New foreign keys are
// checked afterwards over the rows as written.
//
// Why one pass: each subcommand reads the rows as they were before the statement (operators read
// at the statement's snapshot), so two subcommands that each rewrote the rows would each start
// from the old ones and the second would drop what the first wrote. One pass over the old rows
// into the final layout does every subcommand's work at once, whatever their number and order.
import { PgError } from "../../../../common/errors.ts";
import { keyString, prefixEnd } from "../../../../common/bytes.ts";
import type { ForeignKeyDesc, IndexDesc, StoredSql, TableDesc } from "../../catalog/descriptors.ts";
import { formatText } from "../types/text-io.ts";
import type { ExecContext } from "./context.ts";
import { clearTableData } from "./ddl-drop.ts";
import type { Row } from "./eval.ts";
import type { RowTest } from "./index-predicate.ts";
import { primaryScan } from "./ops/scan.ts";
import { RowCodec } from "./row-codec.ts";

/** What the subcommands left for the row pass. */
export interface RowWork {
  /** Added columns whose existing rows take a default (column id → its stored expression). */
  readonly fills: Map<number, StoredSql>;
  /** Columns that became NOT NULL (SET NOT NULL, ADD COLUMN … NOT NULL, ADD PRIMARY KEY). */
  readonly notNull: Set<number>;
  /** New CHECK constraints (ADD CONSTRAINT, ADD COLUMN … CHECK). */
  readonly checks: Array<{ name: string; expr: StoredSql }>;
  /** New foreign keys (ADD CONSTRAINT, ADD COLUMN … REFERENCES). */
  readonly foreignKeys: ForeignKeyDesc[];
  /** ADD PRIMARY KEY: the rows move to the new key under a new data id. */
  rekey: boolean;
}

export function newRowWork(): RowWork {
  return { fills: new Map(), notNull: new Set(), checks: [], foreignKeys: [], rekey: false };
}

/** What the row pass needs from the session: binding against the statement's own changes. */
export interface AlterRowsEnv {
  ctx: ExecContext;
  /** A default expression compiled once, evaluated per row (nextval advances per row). */
  compileDefault(expr: StoredSql, typeOid: number, typmod: number): () => Promise<unknown>;
  /** A CHECK bound over `table`'s columns: throws 23514 for a row it rejects. */
  compileCheck(table: TableDesc, expr: StoredSql, name: string): (row: Row) => Promise<void>;
  /** `table`'s foreign keys checked for one row: throws 23503 for a missing referenced row. */
  foreignKeyCheck(table: TableDesc): (row: Row) => Promise<void>;
  /**
   * Which rows of `table` have an entry in `ix` (a partial index's predicate, bound and checked
   * here: 42703, 42P17, 0A000 as CREATE INDEX reports them; every row for a full index).
   */
  indexTest(table: TableDesc, ix: IndexDesc): RowTest;
}

/** Counts one row and returns to the event loop when due. */
async function rowDone(ctx: ExecContext): Promise<void> {
  if (ctx.budget.charge(1)) await ctx.budget.pause();
}

/**
 * Runs the row work of an ALTER TABLE that turned `before` into `after` (the caller has the
 * session bind against `after`). Nothing to do for a statement that only changed the catalog.
 */
export async function alterRows(env: AlterRowsEnv, before: TableDesc, after: TableDesc, work: RowWork): Promise<void> {
  const { ctx } = env;
  const newIndexes = after.indexes.filter((ix) => !before.indexes.some((b) => b.id === ix.id));
  const rewrite = work.rekey || work.fills.size > 0;
  if (rewrite || newIndexes.length > 0 || work.notNull.size > 0 || work.checks.length > 0) {
    await rowPass(env, before, after, work, newIndexes, rewrite);
  }
  if (work.foreignKeys.length > 0) {
    // Over the rows as this statement wrote them (new columns filled in), the referenced rows as
    // they are now: a self-reference finds the statement's own rows.
    const check = env.foreignKeyCheck({ ...after, foreignKeys: work.foreignKeys });
    const codec = new RowCodec(ctx.ks, after);
    for await (const page of ctx.txn.scan(codec.primaryPrefix, prefixEnd(codec.primaryPrefix), { statementSnapshot: false })) {
      for (const kv of page) {
        await rowDone(ctx);
        await check(codec.decode(kv.value));
      }
    }
  }
}

async function rowPass(env: AlterRowsEnv, before: TableDesc, after: TableDesc, work: RowWork, newIndexes: IndexDesc[], rewrite: boolean): Promise<void> {
  const { ctx } = env;
  const oldCodec = new RowCodec(ctx.ks, before);
  const newCodec = new RowCodec(ctx.ks, after);
  const source = after.columns.map((c) => (before.columns.some((b) => b.id === c.id) ? oldCodec.position(c.id) : -1));
  const defaults = after.columns.map((c) => {
    const expr = work.fills.get(c.id);
    return expr === undefined ? null : env.compileDefault(expr, c.type.oid, c.type.typmod);
  });
  const notNull = after.columns.flatMap((c, p) => (work.notNull.has(c.id) ? [p] : []));
  const checks = work.checks.map((k) => env.compileCheck(after, k.expr, k.name));
  // A new primary key moves every row, so every index gets its entries again under the new key.
  const indexes = (work.rekey ? after.indexes : newIndexes).map((ix) => ({ ix, covers: env.indexTest(after, ix), seen: newIndexes.includes(ix) && ix.unique ? new Set<string>() : null }));
  const describe = (ix: IndexDesc, row: Row): string => {
    const cols = ix.columns.map((c) => newCodec.position(c.columnId));
    return `Key (${cols.map((p) => after.columns[p]!.name).join(", ")})=(${cols.map((p) => formatText(row[p]!, newCodec.types[p]!, ctx.evalContext) ?? "null").join(", ")}) is duplicated.`;
  };
  for await (const batch of primaryScan(before, null, 0, null, false, []).run(ctx)) {
    if (ctx.budget.charge(batch.length + 1)) await ctx.budget.pause();
    const page: Array<{ row: Row; key: Uint8Array }> = [];
    const pageKeys = new Set<string>();
    for (const old of batch) {
      await rowDone(ctx);
      const row: Row = new Array(source.length);
      for (let i = 0; i < source.length; i++) {
        const fill = defaults[i];
        row[i] = source[i]! >= 0 ? old[source[i]!]! : fill !== null && fill !== undefined ? ((await fill()) as Row[number]) : null;
      }
      for (const p of notNull) {
        if (row[p] === null) throw new PgError("not_null_violation", `column "${after.columns[p]!.name}" of relation "${after.name}" contains null values`, { table: after.name, column: after.columns[p]!.name });
      }
      for (const check of checks) await check(row);
      if (work.rekey) {
        const key = newCodec.primaryKey(row);
        const k = keyString(key);
        if (pageKeys.has(k)) throw new PgError("unique_violation", `could not create unique index "${after.pkeyName}"`, { detail: describe(after.primaryIndex, row) });
        pageKeys.add(k);
        page.push({ row, key });
      } else if (rewrite) {
        ctx.txn.put(newCodec.primaryKey(row), newCodec.encodeValue(row));
      }
      for (const { ix, covers, seen } of indexes) {
        if (!covers(row)) continue;
        const e = newCodec.indexEntry(ix, row);
        if (seen !== null && !ix.columns.some((c) => row[newCodec.position(c.columnId)] === null)) {
          const k = keyString(e.key);
          if (seen.has(k)) throw new PgError("unique_violation", `could not create unique index "${ix.name}"`, { detail: describe(ix, row), constraint: ix.name });
          seen.add(k);
          ctx.memory.reserve(k.length * 2 + 48, "unique index build");
        }
        ctx.txn.put(e.key, e.value);
      }
    }
    if (work.rekey) {
      // Duplicates across pages: the keys already written (buffered or flushed) are read back.
      const existing = await ctx.txn.getMany(page.map((p) => p.key));
      for (let i = 0; i < page.length; i++) {
        if (existing[i] !== null) throw new PgError("unique_violation", `could not create unique index "${after.pkeyName}"`, { detail: describe(after.primaryIndex, page[i]!.row) });
        ctx.txn.put(page[i]!.key, newCodec.encodeValue(page[i]!.row));
      }
    }
    await ctx.txn.maybeFlush();
  }
  // The new key's rows live under their own data id: the old span goes whole, with no tombstone
  // per row. (Cleared after the scan: a buffered clear hides the old rows from the scan.)
  if (work.rekey) clearTableData(before, ctx);
}
