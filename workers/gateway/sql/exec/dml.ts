// Executes bound INSERT / UPDATE / DELETE. Source rows stream from the planned Rel; writes go to
// the transaction's buffer through TableWriter. UPDATE and DELETE first collect their target rows
// (bounded by the memory budget) so that rows they write are never read back by their own scan.
import { PgError } from "../../../../common/errors.ts";
import { keyString, prefixEnd } from "../../../../common/bytes.ts";
import { LockMode } from "../../../../common/kv-protocol/messages.ts";
import type { BoundDelete, BoundInsert, BoundUpdate, Returning } from "../bind/dml.ts";
import { DEFAULT_SENTINEL } from "../bind/dml.ts";
import type { TableRules } from "../bind/table-rules.ts";
import type { Expr, Rel } from "../bind/bound.ts";
import { forEachExpr } from "../bind/rewrite.ts";
import type { TableDesc } from "../../catalog/descriptors.ts";
import type { PlanNode } from "./plan-node.ts";
import type { Datum } from "../types/datum.ts";
import type { ExecContext } from "./context.ts";
import { compile, evalRow, type Row } from "./eval.ts";
import { rowBytes } from "./memory.ts";
import { TableWriter } from "./table-writer.ts";

export interface DmlResult {
  count: number;
  returned: Row[];
}

const INSERT_CHUNK_ROWS = 500;

async function project(ret: Returning | null, row: Row, ctx: ExecContext): Promise<Row | null> {
  if (ret === null) return null;
  const out: Row = [];
  for (const e of ret.exprs) out.push(await evalRow(compile(e, ctx), row, ctx));
  return out;
}

/**
 * How a DML statement's source query becomes operators: the planner, passed in by the caller
 * (the planner sits above the executor and builds its operators; exec never imports it).
 */
export type PlanRel = (rel: Rel) => PlanNode;

/** Does the table have a row trigger of this timing and event? */
function triggered(table: TableDesc, timing: "before" | "after", event: "insert" | "update" | "delete"): boolean {
  return (table.triggers ?? []).some((t) => t.timing === timing && t.events.includes(event));
}

/**
 * AFTER ROW triggers fire when the statement's rows are all written, in the order the rows were
 * (PostgreSQL queues them to the end of the statement too), so they see the statement's result.
 */
async function fireAfter(ctx: ExecContext, table: TableDesc, event: "insert" | "update" | "delete", rows: ReadonlyArray<{ oldRow: Row | null; newRow: Row | null }>): Promise<void> {
  for (const r of rows) await ctx.fireTriggers({ table, timing: "after", event, oldRow: r.oldRow, newRow: r.newRow });
}

/** Queues a row for AFTER triggers, counted against the statement's memory. */
function queueAfter(ctx: ExecContext, queue: Array<{ oldRow: Row | null; newRow: Row | null }>, oldRow: Row | null, newRow: Row | null): void {
  ctx.memory.reserve((oldRow === null ? 0 : rowBytes(oldRow)) + (newRow === null ? 0 : rowBytes(newRow)), "AFTER trigger queue");
  queue.push({ oldRow, newRow });
}

export async function runInsert(ins: BoundInsert, rules: TableRules, ctx: ExecContext, plan: PlanRel): Promise<DmlResult> {
  return insertRows(ins, rules, ctx, plan(ins.source).run(ctx));
}

/** What an INSERT writes into: the table, the positions its source columns fill, ON CONFLICT, RETURNING. */
export type InsertTarget = Pick<BoundInsert, "table" | "targets" | "onConflict" | "returning">;

/**
 * Writes source rows (batches of values for `ins.targets`, already of the columns' types) as
 * INSERT does: defaults for the other columns, BEFORE/AFTER row triggers, constraints, ON
 * CONFLICT, RETURNING. The source is a planned query (runInsert) or COPY FROM's rows (copy-rows.ts).
 */
export async function insertRows(ins: InsertTarget, rules: TableRules, ctx: ExecContext, source: AsyncIterable<Row[]>): Promise<DmlResult> {
  const w = new TableWriter(ctx, ins.table, rules);
  const before = triggered(ins.table, "before", "insert");
  const after = triggered(ins.table, "after", "insert");
  if ((before || after) && ins.onConflict !== null) {
    throw new PgError("feature_not_supported", `INSERT … ON CONFLICT into a table with triggers ("${ins.table.name}") is not supported`);
  }
  const afterQueue: Array<{ oldRow: Row | null; newRow: Row | null }> = [];
  const ncols = ins.table.columns.length;
  const returned: Row[] = [];
  let count = 0;
  const policy = ins.onConflict === null ? null : {
    targetCols: ins.onConflict.targetCols,
    targetWhere: ins.onConflict.targetWhere,
    resolve: async (existing: Row, proposed: Row): Promise<Row | null> => {
      const oc = ins.onConflict!;
      if (oc.action === "nothing") return null;
      const both = [...existing, ...proposed];
      if (oc.where !== null && (await evalRow(compile(oc.where, ctx), both, ctx)) !== true) return null;
      const next = existing.slice();
      for (const s of oc.sets) {
        const v = await evalRow(compile(s.expr, ctx), both, ctx);
        next[s.pos] = v === DEFAULT_SENTINEL ? await w.defaultFor(s.pos) : v;
      }
      return next;
    },
  };
  const flush = async (chunk: Row[]): Promise<void> => {
    const written = await w.insert(chunk, policy);
    count += written.length;
    if (after) for (const r of written) queueAfter(ctx, afterQueue, null, r);
    for (const r of written) {
      const p = await project(ins.returning, r, ctx);
      if (p !== null) returned.push(p);
    }
  };
  let chunk: Row[] = [];
  const provided = new Set(ins.targets);
  for await (const batch of source) {
    for (const src of batch) {
      let row: Row = new Array<Datum>(ncols).fill(null);
      for (let p = 0; p < ncols; p++) if (!provided.has(p)) row[p] = await w.defaultFor(p);
      for (let i = 0; i < ins.targets.length; i++) {
        const p = ins.targets[i]!;
        const v = src[i] ?? null;
        row[p] = v === DEFAULT_SENTINEL ? await w.defaultFor(p) : v;
      }
      if (before) {
        const r = await ctx.fireTriggers({ table: ins.table, timing: "before", event: "insert", oldRow: null, newRow: row });
        if (r === null) continue;
        row = r;
      }
      await w.validate(row);
      chunk.push(row);
      // Writing a row (encoding, index entries, constraint checks) is work of its own.
      if (ctx.budget.charge(1)) await ctx.budget.pause();
      if (chunk.length >= INSERT_CHUNK_ROWS) {
        await flush(chunk);
        chunk = [];
      }
    }
  }
  if (chunk.length > 0) await flush(chunk);
  await fireAfter(ctx, ins.table, "insert", afterQueue);
  return { count, returned };
}

/** Collects the target rows (table row first) of an UPDATE / DELETE, each once. */
async function collectTargets(source: BoundUpdate["source"], table: BoundUpdate["table"], ctx: ExecContext, what: string, plan: PlanRel): Promise<Row[]> {
  const rows: Row[] = [];
  const seen = new Set<string>();
  const codec = ctx.codec(table);
  // The target table's rows are locked as they are read (exclusive, as PostgreSQL's FOR UPDATE
  // row locks of UPDATE / DELETE): a concurrent writer of the same rows waits in the storage
  // node's queue instead of failing at commit, and reads them after this transaction commits.
  const before = ctx.txn.lockScope;
  ctx.txn.lockScope = { start: codec.primaryPrefix, end: prefixEnd(codec.primaryPrefix)!, mode: LockMode.exclusive };
  try {
    await collectInto(rows, seen, source, codec, ctx, what, plan);
  } finally {
    ctx.txn.lockScope = before;
  }
  return rows;
}

async function collectInto(rows: Row[], seen: Set<string>, source: BoundUpdate["source"], codec: ReturnType<ExecContext["codec"]>, ctx: ExecContext, what: string, plan: PlanRel): Promise<void> {
  for await (const batch of plan(source).run(ctx)) {
    let bytes = 0;
    for (const r of batch) {
      // With FROM / USING a target row can match several times; Postgres acts on it once. A
      // row's identity is its primary key in storage.
      const k = keyString(codec.primaryKey(r));
      if (seen.has(k)) continue;
      seen.add(k);
      rows.push(r);
      // The row and its identity in `seen` (a key string and a Set entry): both stay until the end.
      bytes += rowBytes(r) + 2 * k.length + 48;
    }
    ctx.memory.reserve(bytes, what);
  }
}

/** Whether an expression may read tables by itself (a subquery, a user function): it could read the rows the statement writes. */
function readsTables(e: Expr): boolean {
  let reads = false;
  forEachExpr(e, (x) => {
    if (x.kind === "subquery" || x.kind === "routine") reads = true;
  });
  return reads;
}

/**
 * Whether an UPDATE (sets non-empty) or DELETE (sets empty) may act on its rows as its scan
 * produces them instead of collecting them all first. Collecting is what keeps a statement from
 * reading back what it wrote (the Halloween problem) in general; streaming is safe when the
 * source is one scan of the target table (an optional WHERE with no subquery or user function)
 * and the statement writes nothing that scan could meet ahead of it:
 *  - UPDATE: no SET column is a column of any index (so every key written, of the row and of its
 *    index entries, is a key the scan has already passed, whichever index and direction the
 *    planner picks), the table has no partial index (a changed predicate column could add an
 *    entry ahead), no SET expression or CHECK reads tables;
 *  - DELETE: removes only keys already passed; no table references this one (a cascade could
 *    write rows ahead);
 *  - neither has row triggers (their functions may write anything).
 * Memory then stays bounded however many rows the statement touches (writes go to storage as
 * intents in chunks, txn/limits.ts), where collecting needs the rows in work_mem (53200 past it).
 */
function streamable(table: TableDesc, source: Rel, sets: ReadonlyArray<{ pos: number; expr: Expr }>, rules: TableRules, ctx: ExecContext): boolean {
  const scan = source.kind === "filter" ? source.input : source;
  if (scan.kind !== "scan" || scan.table.id !== table.id) return false;
  if (source.kind === "filter" && readsTables(source.pred)) return false;
  if ((table.triggers ?? []).length > 0) return false;
  if (sets.length === 0) return ctx.catalog.referencing(table.id).length === 0;
  if (rules.indexPredicates.size > 0) return false;
  if (sets.some((x) => readsTables(x.expr)) || rules.checks.some((c) => readsTables(c.expr))) return false;
  const indexed = new Set<number>();
  for (const ix of [table.primaryIndex, ...table.indexes]) for (const c of ix.columns) indexed.add(table.columns.findIndex((col) => col.id === c.columnId));
  return !sets.some((x) => indexed.has(x.pos));
}

/**
 * The target rows of an UPDATE / DELETE in batches: streamed from the scan when `stream` (locking
 * each page's rows as it is read, as collectTargets does), else collected first.
 */
async function* targetBatches(stream: boolean, source: Rel, table: TableDesc, ctx: ExecContext, what: string, plan: PlanRel): AsyncGenerator<Row[]> {
  if (!stream) {
    yield await collectTargets(source, table, ctx, what, plan);
    return;
  }
  const codec = ctx.codec(table);
  const before = ctx.txn.lockScope;
  ctx.txn.lockScope = { start: codec.primaryPrefix, end: prefixEnd(codec.primaryPrefix)!, mode: LockMode.exclusive };
  try {
    yield* plan(source).run(ctx);
  } finally {
    ctx.txn.lockScope = before;
  }
}

export async function runUpdate(up: BoundUpdate, rules: TableRules, ctx: ExecContext, plan: PlanRel): Promise<DmlResult> {
  const w = new TableWriter(ctx, up.table, rules);
  const width = up.table.columns.length;
  const stream = up.sets.length > 0 && streamable(up.table, up.source, up.sets, rules, ctx);
  const sets = up.sets.map((s) => ({ pos: s.pos, c: compile(s.expr, ctx) }));
  const returned: Row[] = [];
  const before = triggered(up.table, "before", "update");
  const after = triggered(up.table, "after", "update");
  const afterQueue: Array<{ oldRow: Row | null; newRow: Row | null }> = [];
  let count = 0;
  for await (const batch of targetBatches(stream, up.source, up.table, ctx, "UPDATE", plan)) for (const full of batch) {
    if (ctx.budget.charge(1)) await ctx.budget.pause();
    const oldRow = full.slice(0, width);
    let newRow = oldRow.slice();
    for (const s of sets) {
      const v = await evalRow(s.c, full, ctx);
      newRow[s.pos] = v === DEFAULT_SENTINEL ? await w.defaultFor(s.pos) : v;
    }
    if (before) {
      const r = await ctx.fireTriggers({ table: up.table, timing: "before", event: "update", oldRow, newRow });
      if (r === null) continue;
      newRow = r;
    }
    await w.validate(newRow);
    await w.update(oldRow, newRow);
    count++;
    if (after) queueAfter(ctx, afterQueue, oldRow, newRow);
    const p = await project(up.returning, [...newRow, ...full.slice(width)], ctx);
    if (p !== null) returned.push(p);
  }
  await fireAfter(ctx, up.table, "update", afterQueue);
  return { count, returned };
}

export async function runDelete(del: BoundDelete, rules: TableRules, ctx: ExecContext, plan: PlanRel): Promise<DmlResult> {
  const w = new TableWriter(ctx, del.table, rules);
  const width = del.table.columns.length;
  const stream = streamable(del.table, del.source, [], rules, ctx);
  const returned: Row[] = [];
  const before = triggered(del.table, "before", "delete");
  const after = triggered(del.table, "after", "delete");
  const afterQueue: Array<{ oldRow: Row | null; newRow: Row | null }> = [];
  let count = 0;
  for await (const batch of targetBatches(stream, del.source, del.table, ctx, "DELETE", plan)) for (const full of batch) {
    if (ctx.budget.charge(1)) await ctx.budget.pause();
    const oldRow = full.slice(0, width);
    if (before && (await ctx.fireTriggers({ table: del.table, timing: "before", event: "delete", oldRow, newRow: null })) === null) continue;
    await w.delete(oldRow);
    count++;
    if (after) queueAfter(ctx, afterQueue, oldRow, null);
    const p = await project(del.returning, full, ctx);
    if (p !== null) returned.push(p);
  }
  await fireAfter(ctx, del.table, "delete", afterQueue);
  return { count, returned };
}

export function assertWritable(readOnly: boolean, what: string): void {
  if (readOnly) throw new PgError("read_only_sql_transaction", `cannot execute ${what} in a read-only transaction`);
}
