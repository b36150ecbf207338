// COPY FROM's rows bound without SQL text. pgwire's COPY used to send every batch as
// `INSERT INTO t (cols) OVERRIDING SYSTEM VALUE VALUES ($1, …), …` with untyped text parameters,
// which parsed, bound and planned a statement of up to 30,000 parameters per batch and evaluated
// one expression tree per value. This binds the same thing once per batch for the table: the
// target columns and, per column, the cast an untyped literal gets on its way into that column
// (the same `coerce` an INSERT's `$n` gets: input function, typmod, domain checks), so the
// executor converts each text field with one compiled cast and writes the rows through the same
// insert path as INSERT (exec/dml.ts insertRows: defaults, triggers, constraints).
import { Types } from "../types/type.ts";
import type { Binder } from "./binder.ts";
import type { Expr } from "./bound.ts";
import { checkIdentityTargets, columnPosition, resolveTable, tableColumnTypes, type BoundInsert } from "./dml.ts";
import { coerce } from "./expr.ts";

/** The relation and columns of `COPY table [(columns)] FROM STDIN`, as pgwire resolved them. */
export interface CopyRowsTarget {
  relation: { schema: string | undefined; name: string };
  /** The columns COPY fills, in the order of the data's fields. */
  columns: readonly string[];
}

export interface BoundCopyRows {
  insert: Pick<BoundInsert, "table" | "targets" | "onConflict" | "returning">;
  /** Per field: the untyped text (column `i` of a row of strings) cast to its column's type. */
  casts: Expr[];
}

export function bindCopyRows(b: Binder, target: CopyRowsTarget): BoundCopyRows {
  const rv = { relname: target.relation.name, ...(target.relation.schema === undefined ? {} : { schemaname: target.relation.schema }) };
  const table = resolveTable(b, rv);
  const types = tableColumnTypes(table);
  const targets = target.columns.map((name) => columnPosition(table, name, undefined));
  // COPY writes the values it is given, identity columns included (OVERRIDING SYSTEM VALUE), but
  // not into generated columns: the same check the INSERT gets.
  checkIdentityTargets(table, targets, { kind: "one", cols: [] }, "OVERRIDING_SYSTEM_VALUE");
  const casts = targets.map((p, i) => coerce(b, { kind: "col", type: Types.unknown, index: i }, types[p]!));
  return { insert: { table, targets, onConflict: null, returning: null }, casts };
}
