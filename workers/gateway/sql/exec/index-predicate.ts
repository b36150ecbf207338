// Which rows a partial index (CREATE INDEX … WHERE) holds: those for which its predicate is true
// (false and NULL leave the row out, as in Postgres). Every writer of index entries asks here —
// TableWriter for DML, the CREATE INDEX backfills and the ALTER TABLE rewrites — so an entry
// exists exactly for the covered rows and uniqueness is checked among them alone.
import type { IndexDesc } from "../../catalog/descriptors.ts";
import { PgError } from "../../../../common/errors.ts";
import type { Expr } from "../bind/bound.ts";
import type { ExecContext } from "./context.ts";
import { compile, type Row } from "./eval.ts";

export type RowTest = (row: Row) => boolean;

/** A full index: every row has an entry. */
export const everyRow: RowTest = () => true;

/**
 * The predicate compiled to a synchronous test. Predicates are immutable expressions over the
 * row (bindIndexPredicate refuses subqueries and session functions), so nothing in them waits.
 */
export function predicateTest(e: Expr, ctx: ExecContext): RowTest {
  const c = compile(e, ctx);
  if (c.asyncParts.length > 0) throw new PgError("internal_error", "an index predicate needs asynchronous evaluation");
  return (row) => c.fn(row) === true;
}

/** Tests by index id for the indexes of a table that have a predicate; other indexes cover every row. */
export function indexTests(predicates: ReadonlyMap<number, Expr>, ctx: ExecContext): (ix: IndexDesc) => RowTest {
  const tests = new Map<number, RowTest>();
  for (const [id, e] of predicates) tests.set(id, predicateTest(e, ctx));
  return (ix) => tests.get(ix.id) ?? everyRow;
}
