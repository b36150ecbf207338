// Executes bound INSERT / UPDATE / DELETE. Source rows stream from the planned Rel; writes go to
// the transaction's buffer through TableWriter. UPDATE and DELETE first collect their target rows
// (bounded by the memory budget) so that rows they write are never read back by their own scan.
import { PgError } from "../../../../common/errors.ts";
import { keyString, prefixEnd } from "../../../../common/bytes.ts";
import { LockMode } from "../../../../common/kv-protocol/messages.ts";
import type { BoundDelete, BoundInsert, BoundUpdate, Returning } from "../bind/dml.ts";
import { DEFAULT_SENTINEL } from "../bind/dml.ts";
import type { TableRules } from "../bind/table-rules.ts";
import type { Rel } from "../bind/bound.ts";
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

export async function runInsert(ins: BoundInsert, rules: TableRules, ctx: ExecContext, plan: PlanRel): Promise<DmlResult> {
  const w = new TableWriter(ctx, ins.table, rules);
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
    for (const r of written) {
      const p = await project(ins.returning, r, ctx);
      if (p !== null) returned.push(p);
    }
  };
  let chunk: Row[] = [];
  const provided = new Set(ins.targets);
  for await (const batch of plan(ins.source).run(ctx)) {
    for (const src of batch) {
      const row: Row = new Array<Datum>(ncols).fill(null);
      for (let p = 0; p < ncols; p++) if (!provided.has(p)) row[p] = await w.defaultFor(p);
      for (let i = 0; i < ins.targets.length; i++) {
        const p = ins.targets[i]!;
        const v = src[i] ?? null;
        row[p] = v === DEFAULT_SENTINEL ? await w.defaultFor(p) : v;
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

export async function runUpdate(up: BoundUpdate, rules: TableRules, ctx: ExecContext, plan: PlanRel): Promise<DmlResult> {
  const w = new TableWriter(ctx, up.table, rules);
  const width = up.table.columns.length;
  const targets = await collectTargets(up.source, up.table, ctx, "UPDATE", plan);
  const sets = up.sets.map((s) => ({ pos: s.pos, c: compile(s.expr, ctx) }));
  const returned: Row[] = [];
  for (const full of targets) {
    if (ctx.budget.charge(1)) await ctx.budget.pause();
    const oldRow = full.slice(0, width);
    const newRow = oldRow.slice();
    for (const s of sets) {
      const v = await evalRow(s.c, full, ctx);
      newRow[s.pos] = v === DEFAULT_SENTINEL ? await w.defaultFor(s.pos) : v;
    }
    await w.validate(newRow);
    await w.update(oldRow, newRow);
    const p = await project(up.returning, [...newRow, ...full.slice(width)], ctx);
    if (p !== null) returned.push(p);
  }
  return { count: targets.length, returned };
}

export async function runDelete(del: BoundDelete, rules: TableRules, ctx: ExecContext, plan: PlanRel): Promise<DmlResult> {
  const w = new TableWriter(ctx, del.table, rules);
  const width = del.table.columns.length;
  const targets = await collectTargets(del.source, del.table, ctx, "DELETE", plan);
  const returned: Row[] = [];
  for (const full of targets) {
    if (ctx.budget.charge(1)) await ctx.budget.pause();
    await w.delete(full.slice(0, width));
    const p = await project(del.returning, full, ctx);
    if (p !== null) returned.push(p);
  }
  return { count: targets.length, returned };
}

export function assertWritable(readOnly: boolean, what: string): void {
  if (readOnly) throw new PgError("read_only_sql_transaction", `cannot execute ${what} in a read-only transaction`);
}
