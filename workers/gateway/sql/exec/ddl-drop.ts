// DROP TABLE / INDEX / VIEW / SEQUENCE / SCHEMA and TRUNCATE: catalog changes that return at once,
// whatever the size of the data.
//
// The data goes with a clearRange of its span (/<data id>/… of a table, /<data id>/<index id>/… of
// an index, /<data id>/… of a sequence's value). The clear commits with the catalog change, so a
// DROP or TRUNCATE rolled back (ROLLBACK, a failed statement, a conflict) keeps every row; once
// committed, the storage node deletes the span's versions in the background, in bounded steps
// that survive a restart (storage-node/README.md, "Clearing spans"). No key count limits it.
//
// TRUNCATE gives each table a new data id (dataIdOf, like PostgreSQL's new relfilenode): rows
// written after it, in the same transaction or later, go to a new empty span, so the old span can
// be removed whole without ever touching them. RESTART IDENTITY does the same for the owned
// sequences' values, so a rolled-back TRUNCATE … RESTART IDENTITY keeps the sequences too.
//
// What a transaction with an older snapshot sees: its reads of a cleared span fail with 40001
// (the node answers snapshot_too_old: it keeps no history of a cleared span), and so does its
// commit. It retries and then sees the new schema. PostgreSQL instead shows such a transaction an
// empty table after TRUNCATE (TRUNCATE is not MVCC-safe there); an error is the safer surprise.
import { PgError } from "../../../../common/errors.ts";
import { dataIdOf, type Descriptor, type IndexDesc, type SequenceDesc, type TableDesc, type ViewDesc } from "../../catalog/descriptors.ts";
import { prefixEnd } from "../../../../common/bytes.ts";
import type { ExecContext } from "./context.ts";
import { bump, newDataId, tableByName } from "./ddl-common.ts";
import type { DropCommand, TruncateCommand } from "../bind/ddl/drop.ts";
import type { DdlChange } from "./ddl-create-table.ts";
import type { DdlExecEnv } from "./ddl.ts";

/** Clears every row and index entry of a table (its current data span). */
export function clearTableData(table: TableDesc, ctx: ExecContext): void {
  const prefix = ctx.ks.tablePrefix(dataIdOf(table));
  ctx.txn.clearRange(prefix, prefixEnd(prefix));
}

/** Clears every entry of one index of a table. */
export function clearIndexData(table: TableDesc, ix: IndexDesc, ctx: ExecContext): void {
  const prefix = ctx.ks.indexPrefix(dataIdOf(table), ix.id);
  ctx.txn.clearRange(prefix, prefixEnd(prefix));
}

/** Clears a sequence's stored value (its whole data span: /<data id>/…). */
export function clearSequenceData(seq: SequenceDesc, ctx: ExecContext): void {
  const prefix = ctx.ks.tablePrefix(dataIdOf(seq));
  ctx.txn.clearRange(prefix, prefixEnd(prefix));
}

function replace(list: Descriptor[], d: Descriptor): void {
  const i = list.findIndex((x) => x.id === d.id);
  if (i >= 0) list[i] = d;
  else list.push(d);
}

export async function dropObjects(env: DdlExecEnv, cmd: DropCommand): Promise<DdlChange> {
  const { what, missingOk, cascade } = cmd;
  const changed: Descriptor[] = [];
  const removed: number[] = [];
  const tag = `DROP ${what.toUpperCase()}`;
  let cat = env.catalog;
  // The relations this statement drops: a view that reads only them does not stop it.
  const targets = new Set(what === "schema" || what === "index" ? [] : cmd.objects.flatMap((n) => cat.resolveRelation(n, env.searchPath)?.id ?? []));
  for (const names of cmd.objects) {
    if (what === "schema") {
      const s = cat.schema(names[0]!);
      if (s === undefined || s.id < 100) {
        if (s === undefined && missingOk) continue;
        if (s === undefined) throw new PgError("invalid_schema_name", `schema "${names[0]}" does not exist`);
        throw new PgError("dependent_objects_still_exist", `cannot drop schema ${s.name} because it is a system schema`);
      }
      const members = cat.descriptors().filter((d) => d.kind !== "schema" && d.schemaId === s.id);
      if (members.length > 0 && !cascade) {
        throw new PgError("dependent_objects_still_exist", `cannot drop schema ${s.name} because other objects depend on it`, { hint: "Use DROP ... CASCADE to drop the dependent objects too." });
      }
      for (const m of members) {
        if (m.kind === "table") clearTableData(m, env.ctx);
        if (m.kind === "sequence") clearSequenceData(m, env.ctx);
        removed.push(m.id);
      }
      removed.push(s.id);
      continue;
    }
    if (what === "index") {
      const found = cat.resolveIndex(names, env.searchPath);
      if (found === undefined) {
        if (missingOk) continue;
        throw new PgError("undefined_object", `index "${names.join(".")}" does not exist`);
      }
      if (found.index.primary) throw new PgError("dependent_objects_still_exist", `cannot drop index ${found.index.name} because constraint ${found.index.name} on table ${found.table.name} requires it`, { hint: `You can drop constraint ${found.index.name} on table ${found.table.name} instead.` });
      const t = (changed.find((d) => d.id === found.table.id) as TableDesc | undefined) ?? found.table;
      clearIndexData(t, found.index, env.ctx);
      const next = { ...bump(t), indexes: t.indexes.filter((i) => i.id !== found.index.id) };
      replace(changed, next);
      cat = cat.withChanges(cat.version, [next], []);
      continue;
    }
    const d = cat.resolveRelation(names, env.searchPath);
    const want = what;
    if (d === undefined) {
      if (missingOk) continue;
      throw new PgError("undefined_table", `${want} "${names.join(".")}" does not exist`);
    }
    if (d.kind !== want) throw new PgError("wrong_object_type", `"${d.name}" is not a ${want}`, { hint: `Use DROP ${d.kind.toUpperCase()} to remove a ${d.kind}.` });
    if (d.kind === "table" || d.kind === "view") {
      // Views that read it (directly or through other views) go with CASCADE, else stop the DROP.
      const dependents = dependentViews(env, cat, d, (id) => removed.includes(id) || targets.has(id));
      if (dependents.length > 0 && !cascade) {
        throw new PgError("dependent_objects_still_exist", `cannot drop ${d.kind} ${d.name} because other objects depend on it`, {
          detail: dependents.map((v) => `view ${v.view.name} depends on ${v.on.kind} ${v.on.name}`).join("\n"),
          hint: "Use DROP ... CASCADE to drop the dependent objects too.",
        });
      }
      for (const v of dependents) removed.push(v.view.id);
    }
    if (d.kind === "table") {
      for (const child of cat.referencing(d.id)) {
        if (child.id === d.id || removed.includes(child.id)) continue;
        const fk = child.foreignKeys.find((f) => f.refTableId === d.id)!;
        if (!cascade) {
          throw new PgError("dependent_objects_still_exist", `cannot drop table ${d.name} because other objects depend on it`, {
            detail: `constraint ${fk.name} on table ${child.name} depends on table ${d.name}`,
            hint: "Use DROP ... CASCADE to drop the dependent objects too.",
          });
        }
        const next = { ...bump(child), foreignKeys: child.foreignKeys.filter((f) => f.refTableId !== d.id) };
        replace(changed, next);
        cat = cat.withChanges(cat.version, [next], []);
      }
      clearTableData(d, env.ctx);
      for (const s of cat.descriptors()) {
        if (s.kind !== "sequence" || s.ownedBy?.[0] !== d.id || removed.includes(s.id)) continue;
        clearSequenceData(s, env.ctx);
        removed.push(s.id);
      }
    }
    if (d.kind === "sequence") clearSequenceData(d, env.ctx);
    removed.push(d.id);
  }
  return { changed: changed.filter((c) => !removed.includes(c.id)) as DdlChange["changed"], removed, tag };
}

/**
 * The views that read `d`, each with the relation it reads it through (`d` or another of them),
 * nearest first, as PostgreSQL's DETAIL lists them. `gone`: relations already dropped.
 */
function dependentViews(env: DdlExecEnv, cat: DdlExecEnv["catalog"], d: Descriptor, gone: (id: number) => boolean): Array<{ view: ViewDesc; on: { kind: string; name: string } }> {
  const reads = new Map<number, ReadonlySet<number>>();
  for (const v of cat.descriptors()) {
    if (v.kind !== "view" || v.id === d.id || gone(v.id)) continue;
    const r = env.viewReads(v);
    if (r.has(d.id)) reads.set(v.id, r);
  }
  const views = cat.descriptors().filter((v): v is ViewDesc => v.kind === "view" && reads.has(v.id));
  // A view reads `d` directly unless another dependent view it reads reads `d` itself.
  const via = (v: ViewDesc): Descriptor => views.find((w) => w.id !== v.id && reads.get(v.id)!.has(w.id) && !views.some((x) => x.id !== w.id && x.id !== v.id && reads.get(v.id)!.has(x.id) && reads.get(x.id)!.has(w.id))) ?? d;
  const depth = (v: ViewDesc): number => views.filter((w) => reads.get(v.id)!.has(w.id)).length;
  return views.sort((a, b) => depth(a) - depth(b)).map((v) => {
    const on = via(v);
    return { view: v, on: { kind: on.kind === "view" ? "view" : "table", name: on.name } };
  });
}

/**
 * TRUNCATE [TABLE] [ONLY] t [, …] [RESTART IDENTITY | CONTINUE IDENTITY] [CASCADE | RESTRICT].
 * Every named table (and, with CASCADE, every table referencing one of them by a foreign key,
 * transitively) gets a new, empty data span; the old spans are cleared. Without CASCADE a table
 * referencing a truncated one must be truncated too (0A000, as PostgreSQL).
 */
export async function truncate(env: DdlExecEnv, cmd: TruncateCommand): Promise<DdlChange> {
  const targets = new Map<number, TableDesc>();
  for (const names of cmd.tables) {
    const t = tableByName(env, names, false)!;
    targets.set(t.id, t);
  }
  if (cmd.cascade) {
    const queue = [...targets.values()];
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      for (const child of env.catalog.referencing(t.id)) {
        if (targets.has(child.id)) continue;
        targets.set(child.id, child);
        queue.push(child);
      }
    }
  } else {
    for (const t of targets.values()) {
      const child = env.catalog.referencing(t.id).find((c) => !targets.has(c.id));
      if (child !== undefined) {
        throw new PgError("feature_not_supported", "cannot truncate a table referenced in a foreign key constraint", {
          detail: `Table "${child.name}" references "${t.name}".`,
          hint: `Truncate table "${child.name}" at the same time, or use TRUNCATE ... CASCADE.`,
        });
      }
    }
  }
  const restartIdentity = cmd.restartIdentity;
  const changed: DdlChange["changed"] = [];
  for (const t of targets.values()) {
    clearTableData(t, env.ctx);
    changed.push({ ...bump(t), dataId: await newDataId(env, t) });
    if (!restartIdentity) continue;
    for (const s of env.catalog.descriptors()) {
      if (s.kind !== "sequence" || s.ownedBy?.[0] !== t.id) continue;
      clearSequenceData(s, env.ctx);
      changed.push({ ...bump(s), dataId: await newDataId(env, s) });
    }
  }
  return { changed, removed: [], tag: "TRUNCATE TABLE" };
}
