// Access paths over one table: point gets on the primary key, bounded (or full) scans of the
// primary index, and secondary-index scans that fetch just the rows they match with batched gets.
import type { IndexDesc, TableDesc } from "../../../catalog/descriptors.ts";
import { prefixEnd } from "../../../../../common/bytes.ts";
import type { PlanNode } from "../plan-node.ts";
import type { ExecContext } from "../context.ts";
import type { Row } from "../eval.ts";

/** A key span computed at run time (its bounds may depend on parameters or outer rows). */
export interface SpanSpec {
  start: Uint8Array;
  end: Uint8Array;
}

export type SpanFn = (ctx: ExecContext) => Promise<SpanSpec[] | null>;

function indexLabel(t: TableDesc, ix: IndexDesc): string {
  return ix.primary ? (t.pkeyName || `${t.name}_pkey`) : ix.name;
}

/** Full scan of the primary index, or of the given spans of it. */
export function primaryScan(table: TableDesc, spans: SpanFn | null, estRows: number, rowsHint: number | null, reverse: boolean, detail: string[]): PlanNode {
  return {
    name: spans === null ? "Seq Scan" : "Index Scan",
    details: [`Table: ${table.name}`, ...(spans === null ? [] : [`Index: ${indexLabel(table, table.primaryIndex)}`]), ...detail, ...(rowsHint !== null ? [`Limit hint: ${rowsHint}`] : [])],
    children: [],
    estRows,
    async *run(ctx) {
      const codec = ctx.codec(table);
      const prefix = codec.primaryPrefix;
      const list = spans === null ? [{ start: prefix, end: prefixEnd(prefix) }] : await spans(ctx);
      if (list === null) return;
      for (const s of reverse ? [...list].reverse() : list) {
        for await (const page of ctx.txn.scan(s.start, s.end, { reverse, statementSnapshot: true, ...(rowsHint !== null ? { rowsHint } : {}) })) {
          const out: Row[] = new Array(page.length);
          for (let i = 0; i < page.length; i++) out[i] = codec.decode(page[i]!.value);
          yield out;
        }
      }
    },
  };
}

/** Point gets of whole primary keys: all keys in one KV request. */
export function pointGet(table: TableDesc, keys: (ctx: ExecContext) => Promise<Uint8Array[] | null>, estRows: number, detail: string[]): PlanNode {
  return {
    name: "Point Get",
    details: [`Table: ${table.name}`, `Index: ${indexLabel(table, table.primaryIndex)}`, ...detail],
    children: [],
    estRows,
    async *run(ctx) {
      const ks = await keys(ctx);
      if (ks === null || ks.length === 0) return;
      const codec = ctx.codec(table);
      const values = await ctx.txn.getMany(ks, true);
      const out: Row[] = [];
      for (const v of values) if (v !== null) out.push(codec.decode(v));
      if (out.length > 0) yield out;
    },
  };
}

/**
 * Scans spans of a secondary index and fetches each matching row from the primary index; the
 * fetches of one index page go out as one batched read.
 */
export function indexScan(table: TableDesc, ix: IndexDesc, spans: SpanFn, estRows: number, rowsHint: number | null, reverse: boolean, detail: string[]): PlanNode {
  return {
    name: "Index Scan",
    details: [`Table: ${table.name}`, `Index: ${ix.name}`, ...detail, ...(rowsHint !== null ? [`Limit hint: ${rowsHint}`] : [])],
    children: [],
    estRows,
    async *run(ctx) {
      const codec = ctx.codec(table);
      const list = await spans(ctx);
      if (list === null) return;
      for (const s of reverse ? [...list].reverse() : list) {
        for await (const page of ctx.txn.scan(s.start, s.end, { reverse, statementSnapshot: true, ...(rowsHint !== null ? { rowsHint } : {}) })) {
          const keys = page.map((e) => codec.primaryKeyFromSuffix(e.value));
          const values = await ctx.txn.getMany(keys, true);
          const out: Row[] = [];
          for (const v of values) if (v !== null) out.push(codec.decode(v));
          if (out.length > 0) yield out;
        }
      }
    },
  };
}
