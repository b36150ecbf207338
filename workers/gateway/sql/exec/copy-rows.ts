// Executes COPY FROM's rows bound by bind/copy-rows.ts: each text field goes through its column's
// compiled cast (an untyped literal's input function, typmod and domain checks, with the
// session's TimeZone and DateStyle), then the rows are written by insertRows, the same path as
// INSERT (defaults, triggers, NOT NULL, CHECK, unique and foreign keys, index entries, intents
// flushed in chunks). No SQL text is parsed, bound or planned per batch.
import type { BoundCopyRows } from "../bind/copy-rows.ts";
import type { TableRules } from "../bind/table-rules.ts";
import type { ExecContext } from "./context.ts";
import { insertRows, type DmlResult } from "./dml.ts";
import { compile, evalRow, type Row } from "./eval.ts";

/** Rows converted per yield of the source (insertRows writes in its own chunks). */
const CONVERT_CHUNK_ROWS = 500;

export async function runCopyRows(bound: BoundCopyRows, rules: TableRules, ctx: ExecContext, rows: ReadonlyArray<ReadonlyArray<string | null>>): Promise<DmlResult> {
  const casts = bound.casts.map((e) => compile(e, ctx));
  async function* source(): AsyncGenerator<Row[]> {
    for (let at = 0; at < rows.length; at += CONVERT_CHUNK_ROWS) {
      const out: Row[] = [];
      for (const fields of rows.slice(at, at + CONVERT_CHUNK_ROWS)) {
        const row: Row = new Array(casts.length);
        // NULL goes through the cast too: a domain may refuse it (NOT NULL), as it refuses the INSERT's.
        for (let i = 0; i < casts.length; i++) row[i] = await evalRow(casts[i]!, fields as Row, ctx);
        out.push(row);
      }
      yield out;
    }
  }
  return insertRows(bound.insert, rules, ctx, source());
}
