// Schema changes other than CREATE TABLE: CREATE INDEX (with backfill of populated tables), ALTER
// TABLE, views, sequences, schemas; DROP and TRUNCATE live in ddl-drop.ts. Each returns the
// descriptors it changes; the session writes them with the catalog version bump in the same
// transaction.
import { PgError } from "../../../../common/errors.ts";
import { type ColumnDesc, type Descriptor, type IndexDesc, isTemp, isTempId, type SchemaDesc, type SequenceDesc, type TableDesc, type ViewDesc } from "../../catalog/descriptors.ts";
import { bindTypeName } from "../bind/expr.ts";
import { stringList, type PgNode } from "../parse/ast.ts";
import { Oid, storedTypeOf, Types, typeFromOid } from "../types/type.ts";
import { quoteIdent } from "../functions/string-functions.ts";
import type { ExecContext } from "./context.ts";
import { bump, newDataId, tableByName } from "./ddl-common.ts";
import { applySequenceOptions, createTable, creationTarget, type DdlChange, type DdlEnv, newSequence, nextvalAst, resolveFk } from "./ddl-create-table.ts";
import { clearIndexData, clearTableData, dropObjects, truncate } from "./ddl-drop.ts";
import type { Row } from "./eval.ts";
import { primaryScan } from "./ops/scan.ts";
import { RowCodec } from "./row-codec.ts";
import { keyString } from "../../../../common/bytes.ts";
import { formatText } from "../types/text-io.ts";
import type { RowTest } from "./index-predicate.ts";
import { exprNode, storeExpr, storeQuery } from "../bind/stored-sql.ts";
import type { CreateIndexCommand } from "../bind/ddl/index.ts";

export interface DdlExecEnv extends DdlEnv {
  ctx: ExecContext;
  /** The session's role: the tenant's one role, owner of every object (OWNER TO names it or nothing). */
  user: string;
  /** Rows and evaluation for CHECK validation and column defaults, bound by the session. */
  checkRows(table: TableDesc, check: PgNode, name: string): Promise<void>;
  evalDefault(table: TableDesc, expr: PgNode, typeOid: number, typmod: number): Promise<unknown>;
  validateFk(table: TableDesc, fkName: string): Promise<void>;
  /**
   * Which rows of `table` have an entry in `ix` (a partial index's predicate, bound and checked
   * here: 42703, 42P17, 0A000 as CREATE INDEX reports them; every row for a full index).
   */
  indexTest(table: TableDesc, ix: IndexDesc): RowTest;
}

/** Every row of `table`, batch by batch, each batch charged to the statement's budget. */
async function* tableRows(table: TableDesc, ctx: ExecContext): AsyncGenerator<Row[]> {
  for await (const batch of primaryScan(table, null, 0, null, false, []).run(ctx)) {
    if (ctx.budget.charge(batch.length + 1)) await ctx.budget.pause();
    yield batch;
  }
}

/** Counts one row of a rewrite (encoding, index entries) and returns to the event loop when due. */
async function rowDone(ctx: ExecContext): Promise<void> {
  if (ctx.budget.charge(1)) await ctx.budget.pause();
}

/**
 * Writes the entry of a new index for every row it covers (all, or those a partial index's
 * predicate accepts); 23505 when a unique index finds duplicates among them.
 */
async function backfillIndex(table: TableDesc, ix: IndexDesc, ctx: ExecContext, covers: RowTest): Promise<void> {
  const codec = new RowCodec(ctx.ks, { ...table, indexes: [...table.indexes, ix] });
  const seen = new Set<string>();
  for await (const batch of tableRows(table, ctx)) {
    for (const row of batch) {
      await rowDone(ctx);
      if (!covers(row)) continue;
      const e = codec.indexEntry(ix, row);
      if (ix.unique) {
        const k = keyString(e.key);
        const hasNull = ix.columns.some((c) => row[codec.position(c.columnId)] === null);
        if (!hasNull && seen.has(k)) {
          const cols = ix.columns.map((c) => codec.position(c.columnId));
          throw new PgError("unique_violation", `could not create unique index "${ix.name}"`, {
            detail: `Key (${cols.map((p) => table.columns[p]!.name).join(", ")})=(${cols.map((p) => formatText(row[p]!, codec.types[p]!, ctx.evalContext) ?? "null").join(", ")}) is duplicated.`,
            constraint: ix.name,
          });
        }
        if (!hasNull) seen.add(k);
        ctx.memory.reserve(k.length * 2 + 48, "unique index build");
      }
      ctx.txn.put(e.key, e.value);
    }
  }
}

function indexName(env: DdlEnv, table: TableDesc, cols: string[], unique: boolean): string {
  const base = `${table.name}_${cols.join("_")}_${unique ? "key" : "idx"}`;
  let n = base;
  for (let i = 1; env.catalog.indexIn(table.schemaId, n) !== undefined; i++) n = `${base}${i}`;
  return n;
}

/**
 * CREATE INDEX. Inside a transaction the index is filled in that transaction (bounded by the
 * transaction size). With `online`, only the write-only descriptor is made here: writes start
 * maintaining it at once and the session then fills it in chunks (sql/index-build.ts).
 */
export async function createIndex(env: DdlExecEnv, cmd: CreateIndexCommand, online = false): Promise<DdlChange & { built?: OnlineIndexBuild }> {
  const table = tableByName(env, cmd.table, false)!;
  const cols = cmd.columns.map((e) => {
    if (e.name === null) throw new PgError("feature_not_supported", "indexes on expressions are not supported");
    const c = table.columns.find((x) => x.name === e.name && !x.hidden);
    if (c === undefined) throw new PgError("undefined_column", `column "${e.name}" does not exist`);
    return { columnId: c.id, desc: e.desc, name: c.name };
  });
  const unique = cmd.unique;
  // An option that changes what an index treats as equal must not be dropped silently.
  if (cmd.nullsNotDistinct) {
    throw new PgError("feature_not_supported", "UNIQUE NULLS NOT DISTINCT is not supported");
  }
  // An unnamed CREATE UNIQUE INDEX is named …_idx, as in PostgreSQL (…_key is for UNIQUE constraints).
  const name = cmd.name ?? indexName(env, table, cols.map((c) => c.name), false);
  if (env.catalog.indexIn(table.schemaId, name) !== undefined || env.catalog.relationIn(table.schemaId, name) !== undefined) {
    if (cmd.ifNotExists) return { changed: [], removed: [], tag: "CREATE INDEX" };
    throw new PgError("duplicate_table", `relation "${name}" already exists`);
  }
  const ix: IndexDesc = { id: table.nextIndexId, name, unique, primary: false, columns: cols.map((c) => ({ columnId: c.columnId, desc: c.desc })) };
  if (cmd.predicate !== null) ix.predicate = cmd.predicate;
  // Binding the predicate checks it (unknown column, volatile function, subquery) before anything is written.
  const covers = env.indexTest(table, ix);
  // A temporary table's rows are in session memory and bounded: it is indexed in this transaction.
  if (isTemp(table)) online = false;
  if (online) ix.state = "write-only";
  const next: TableDesc = { ...bump(table), indexes: [...table.indexes, ix], nextIndexId: table.nextIndexId + 1 };
  if (online) return { changed: [next], removed: [], tag: "CREATE INDEX", built: { tableId: table.id, indexId: ix.id, covers: (t) => env.indexTest(t, ix) } };
  await backfillIndex(table, ix, env.ctx, covers);
  return { changed: [next], removed: [], tag: "CREATE INDEX" };
}

/** True when `query` names a temporary relation (a view over one is temporary itself, as in Postgres). */
function readsTempRelation(env: DdlEnv, query: unknown): boolean {
  if (env.catalog.tempSchema === undefined || query === null || typeof query !== "object") return false;
  if (Array.isArray(query)) return query.some((q) => readsTempRelation(env, q));
  const o = query as PgNode;
  const rv = o["RangeVar"] as PgNode | undefined;
  if (rv !== undefined) {
    const names = rv["schemaname"] ? [rv["schemaname"] as string, rv["relname"] as string] : [rv["relname"] as string];
    const d = env.catalog.resolveRelation(names, env.searchPath);
    if (d !== undefined && isTemp(d)) return true;
  }
  return Object.values(o).some((v) => readsTempRelation(env, v));
}

/** The names of every WITH query in `node` (a RangeVar naming one is not a relation). */
function cteNames(node: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(node)) for (const n of node) cteNames(n, out);
  else if (node !== null && typeof node === "object") {
    const cte = (node as PgNode)["CommonTableExpr"] as PgNode | undefined;
    if (cte !== undefined) out.add(cte["ctename"] as string);
    for (const v of Object.values(node as PgNode)) cteNames(v, out);
  }
  return out;
}

/**
 * A copy of a view's query whose unqualified relation names carry the schema they resolve to now,
 * as Postgres binds a view to its relations when it is created: the view keeps reading them
 * whatever the search_path of a later session (pg_dump reads view definitions with an empty one).
 */
function qualifyRelations(env: DdlEnv, node: unknown, ctes: Set<string>): unknown {
  if (Array.isArray(node)) return node.map((n) => qualifyRelations(env, n, ctes));
  if (node === null || typeof node !== "object") return node;
  const out: PgNode = {};
  for (const [k, v] of Object.entries(node as PgNode)) out[k] = qualifyRelations(env, v, ctes);
  const rv = out["RangeVar"] as PgNode | undefined;
  if (rv !== undefined && rv["schemaname"] === undefined && !ctes.has(rv["relname"] as string)) {
    const d = env.catalog.resolveRelation([rv["relname"] as string], env.searchPath);
    if (d !== undefined && !isTemp(d)) {
      const schema = env.catalog.get(d.schemaId);
      if (schema !== undefined) out["RangeVar"] = { ...rv, schemaname: schema.name };
    }
  }
  return out;
}

export async function createView(env: DdlExecEnv, stmt: PgNode, validate: (q: PgNode) => void): Promise<DdlChange> {
  const rv = stmt["view"] as PgNode;
  const name = rv["relname"] as string;
  validate(stmt["query"] as PgNode);
  const query = qualifyRelations(env, stmt["query"] as PgNode, cteNames(stmt["query"], new Set())) as PgNode;
  const target = creationTarget(env, rv, readsTempRelation(env, query));
  const schema = target.schema;
  const existing = env.catalog.relationIn(schema.id, name);
  if (existing !== undefined && !(stmt["replace"] === true && existing.kind === "view")) {
    throw new PgError("duplicate_table", `relation "${name}" already exists`);
  }
  const view: ViewDesc = {
    kind: "view",
    id: existing?.id ?? (await target.allocateId()),
    name,
    schemaId: schema.id,
    version: (existing?.version ?? 0) + 1,
    query: storeQuery(query),
    columnNames: stringList(stmt["aliases"] as PgNode[] | undefined),
  };
  return { changed: [...target.newSchemas, view], removed: [], tag: "CREATE VIEW" };
}

export async function createSequence(env: DdlExecEnv, stmt: PgNode): Promise<DdlChange> {
  const rv = stmt["sequence"] as PgNode;
  const name = rv["relname"] as string;
  const target = creationTarget(env, rv);
  const schema = target.schema;
  if (env.catalog.relationIn(schema.id, name) !== undefined) {
    if (stmt["if_not_exists"] === true) return { changed: [], removed: [], tag: "CREATE SEQUENCE" };
    throw new PgError("duplicate_table", `relation "${name}" already exists`);
  }
  const options = (stmt["options"] as PgNode[] | undefined) ?? [];
  const seq = newSequence(await target.allocateId(), schema.id, name, Types.int8, null, options);
  seq.ownedBy = sequenceOwnedBy(env, seq, options) ?? null;
  return { changed: [...target.newSchemas, seq], removed: [], tag: "CREATE SEQUENCE" };
}

export async function alterSequence(env: DdlExecEnv, stmt: PgNode): Promise<DdlChange> {
  const rv = stmt["sequence"] as PgNode;
  const names = rv["schemaname"] ? [rv["schemaname"] as string, rv["relname"] as string] : [rv["relname"] as string];
  const d = env.catalog.resolveRelation(names, env.searchPath);
  if (d === undefined) {
    if (stmt["missing_ok"] === true) return { changed: [], removed: [], tag: "ALTER SEQUENCE" };
    throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
  }
  if (d.kind !== "sequence") throw new PgError("wrong_object_type", `"${d.name}" is not a sequence`);
  const next: SequenceDesc = { ...bump(d) };
  const options = (stmt["options"] as PgNode[] | undefined) ?? [];
  const changes = options.filter((o) => (o["DefElem"] as PgNode)["defname"] !== "owned_by");
  if (changes.length > 0) {
    applySequenceOptions(next, changes);
    // ALTER SEQUENCE keeps the START it does not name (Postgres changes it only with START WITH).
    if (!changes.some((o) => (o["DefElem"] as PgNode)["defname"] === "start")) next.start = d.start;
  }
  const ownedBy = sequenceOwnedBy(env, next, options);
  if (ownedBy !== undefined) next.ownedBy = ownedBy;
  return { changed: [next], removed: [], tag: "ALTER SEQUENCE" };
}

/**
 * OWNED BY table.column (the sequence goes when the column or table is dropped) or OWNED BY NONE
 * (null), with Postgres's checks; undefined when the options do not say.
 */
function sequenceOwnedBy(env: DdlEnv, seq: SequenceDesc, options: PgNode[]): [number, number] | null | undefined {
  const opt = options.map((o) => o["DefElem"] as PgNode).find((d) => d["defname"] === "owned_by");
  if (opt === undefined) return undefined;
  const names = stringList(((opt["arg"] as PgNode)["List"] as PgNode)["items"] as PgNode[]);
  if (names.length === 1 && names[0] === "none") return null;
  if (names.length < 2) throw new PgError("invalid_parameter_value", "invalid OWNED BY option", { hint: "Specify OWNED BY table.column or OWNED BY NONE." });
  const column = names[names.length - 1]!;
  const t = env.catalog.resolveRelation(names.slice(0, -1), env.searchPath);
  if (t === undefined) throw new PgError("undefined_table", `relation "${names.slice(0, -1).join(".")}" does not exist`);
  if (t.kind !== "table") throw new PgError("wrong_object_type", `sequence cannot be owned by relation "${t.name}"`, { detail: `This operation is not supported for ${t.kind === "view" ? "views" : "sequences"}.` });
  if (t.schemaId !== seq.schemaId) throw new PgError("object_not_in_prerequisite_state", "sequence must be in same schema as table it is linked to");
  const c = t.columns.find((x) => x.name === column && !x.hidden);
  if (c === undefined) throw new PgError("undefined_column", `column "${column}" of relation "${t.name}" does not exist`);
  return [t.id, c.id];
}

/**
 * ALTER TABLE/VIEW/SEQUENCE … OWNER TO role. A tenant has one role, which owns everything: naming
 * it changes nothing; any other name is a role that does not exist.
 */
function checkNewOwner(env: DdlExecEnv, cmd: PgNode): void {
  const role = cmd["newowner"] as PgNode | undefined;
  const name = role?.["rolename"] as string | undefined;
  const kind = role?.["roletype"] as string | undefined;
  if (kind === "ROLESPEC_CURRENT_USER" || kind === "ROLESPEC_SESSION_USER" || kind === "ROLESPEC_CURRENT_ROLE") return;
  if (name !== env.user) throw new PgError("undefined_object", `role "${name ?? ""}" does not exist`);
}

export async function createSchema(env: DdlExecEnv, stmt: PgNode): Promise<DdlChange> {
  const name = stmt["schemaname"] as string;
  if (name.startsWith("pg_")) {
    throw new PgError("reserved_name", `unacceptable schema name "${name}"`, { detail: 'The prefix "pg_" is reserved for system schemas.' });
  }
  if (env.catalog.schema(name) !== undefined) {
    if (stmt["if_not_exists"] === true) return { changed: [], removed: [], tag: "CREATE SCHEMA" };
    throw new PgError("duplicate_schema", `schema "${name}" already exists`);
  }
  const s: SchemaDesc = { kind: "schema", id: await env.allocateId(), name, version: 1 };
  return { changed: [s], removed: [], tag: "CREATE SCHEMA" };
}

export async function alterTable(env: DdlExecEnv, stmt: PgNode): Promise<DdlChange> {
  const rv = stmt["relation"] as PgNode;
  const names = rv["schemaname"] ? [rv["schemaname"] as string, rv["relname"] as string] : [rv["relname"] as string];
  const commands = (stmt["cmds"] as PgNode[]).map((c) => c["AlterTableCmd"] as PgNode);
  if (commands.every((c) => c["subtype"] === "AT_ChangeOwner")) {
    // OWNER TO applies to every relation kind (pg_dump writes ALTER TABLE … OWNER TO for views
    // and sequences too).
    const d = env.catalog.resolveRelation(names, env.searchPath);
    if (d === undefined) {
      if (stmt["missing_ok"] === true) return { changed: [], removed: [], tag: "ALTER TABLE" };
      throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
    }
    for (const c of commands) checkNewOwner(env, c);
    return { changed: [], removed: [], tag: stmt["objtype"] === "OBJECT_VIEW" ? "ALTER VIEW" : stmt["objtype"] === "OBJECT_SEQUENCE" ? "ALTER SEQUENCE" : "ALTER TABLE" };
  }
  const t0 = tableByName(env, names, stmt["missing_ok"] === true);
  if (t0 === null) return { changed: [], removed: [], tag: "ALTER TABLE" };
  let t: TableDesc = bump(t0);
  const extra: Descriptor[] = [];
  for (const cmdNode of stmt["cmds"] as PgNode[]) {
    const cmd = cmdNode["AlterTableCmd"] as PgNode;
    const sub = cmd["subtype"] as string;
    const colName = cmd["name"] as string | undefined;
    const findCol = (n: string) => {
      const c = t.columns.find((x) => x.name === n && !x.hidden);
      if (c === undefined) throw new PgError("undefined_column", `column "${n}" of relation "${t.name}" does not exist`);
      return c;
    };
    switch (sub) {
      case "AT_AddColumn": {
        const def = (cmd["def"] as PgNode)["ColumnDef"] as PgNode;
        if (t.columns.some((c) => c.name === def["colname"])) {
          if (cmd["missing_ok"] === true) break;
          throw new PgError("duplicate_column", `column "${def["colname"] as string}" of relation "${t.name}" already exists`);
        }
        // Reuse CREATE TABLE's column handling on a one-column table, then graft the column on.
        // The probe is created in the table's own schema, so a serial column's sequence lands
        // there too (and is temporary for a temporary table).
        const probeRelation = { relname: t.name, schemaname: isTempId(t.id) ? "pg_temp" : (env.catalog.get(t.schemaId)?.name ?? "public") };
        const probe = await createTable({ ...env, allocateId: env.allocateId }, { relation: probeRelation, tableElts: [{ ColumnDef: def }] , if_not_exists: false } as PgNode).catch(async (err: unknown) => {
          if (err instanceof PgError && err.condition === "duplicate_table") {
            return createTable({ ...env, catalog: env.catalog.withChanges(env.catalog.version, [], [t.id]) }, { relation: probeRelation, tableElts: [{ ColumnDef: def }] } as PgNode);
          }
          throw err;
        });
        const probeTable = probe.changed[0] as TableDesc;
        const col = { ...probeTable.columns[0]!, id: t.nextColumnId };
        // Existing rows would need the expression computed into them (a table rewrite).
        if (col.generated !== undefined) throw new PgError("feature_not_supported", "ALTER TABLE … ADD COLUMN … GENERATED ALWAYS AS … STORED is not supported; recreate the table");
        if (probeTable.pkeyName !== "") throw new PgError("feature_not_supported", "ADD COLUMN … PRIMARY KEY is not supported; use ADD PRIMARY KEY");
        for (const s of probe.changed.slice(1) as SequenceDesc[]) extra.push({ ...s, ownedBy: [t.id, col.id] });
        t = { ...t, columns: [...t.columns, col], nextColumnId: t.nextColumnId + 1 };
        if (probeTable.indexes.length > 0) {
          const ix: IndexDesc = { ...probeTable.indexes[0]!, id: t.nextIndexId, columns: [{ columnId: col.id, desc: false }] };
          t = { ...t, indexes: [...t.indexes, ix], nextIndexId: t.nextIndexId + 1 };
        }
        t = { ...t, checks: [...t.checks, ...probeTable.checks] };
        const fks = probeTable.foreignKeys.map((f) => ({ ...f, columnIds: [col.id] }));
        t = { ...t, foreignKeys: [...t.foreignKeys, ...fks] };
        // Existing rows take the default (or NULL, which needs no rewrite).
        if (col.defaultExpr !== null || !col.nullable || probeTable.indexes.length > 0) {
          const before = t0;
          const after = t;
          const rewrite = async (): Promise<void> => {
            const oldCodec = new RowCodec(env.ctx.ks, before);
            const newCodec = new RowCodec(env.ctx.ks, after);
            const added = after.indexes.slice(before.indexes.length).map((ix) => ({ ix, covers: env.indexTest(after, ix) }));
            for await (const batch of tableRows(before, env.ctx)) {
              for (const row of batch) {
                await rowDone(env.ctx);
                const v = col.defaultExpr === null ? null : await env.evalDefault(after, exprNode(col.defaultExpr), col.type.oid, col.type.typmod);
                if (v === null && !col.nullable) throw new PgError("not_null_violation", `column "${col.name}" of relation "${t.name}" contains null values`);
                const nr = [...row, v] as Row;
                env.ctx.txn.put(newCodec.primaryKey(nr), newCodec.encodeValue(nr));
                for (const { ix, covers } of added) {
                  if (!covers(nr)) continue;
                  const e = newCodec.indexEntry(ix, nr);
                  env.ctx.txn.put(e.key, e.value);
                }
                void oldCodec;
              }
            }
          };
          await rewrite();
        }
        break;
      }
      case "AT_DropColumn": {
        const c = t.columns.find((x) => x.name === colName && !x.hidden);
        if (c === undefined) {
          if (cmd["missing_ok"] === true) break;
          throw new PgError("undefined_column", `column "${colName}" of relation "${t.name}" does not exist`);
        }
        if (t.primaryIndex.columns.some((ic) => ic.columnId === c.id) && t.pkeyName !== "") {
          throw new PgError("dependent_objects_still_exist", `cannot drop column ${c.name} of table ${t.name} because other objects depend on it`, { detail: `constraint ${t.pkeyName} on table ${t.name} depends on column ${c.name}` });
        }
        // Rows keep the dropped column's bytes (decoding skips unknown column ids, as Postgres
        // keeps a dropped attribute's data): no rewrite. Indexes on it go whole.
        const dropIx = t.indexes.filter((ix) => ix.columns.some((ic) => ic.columnId === c.id) || (ix.predicate !== undefined && namesColumn(exprNode(ix.predicate), c.name)));
        for (const ix of dropIx) clearIndexData(t, ix, env.ctx);
        t = {
          ...t,
          columns: t.columns.filter((x) => x.id !== c.id),
          indexes: t.indexes.filter((ix) => !dropIx.includes(ix)),
          foreignKeys: t.foreignKeys.filter((f) => !f.columnIds.includes(c.id)),
        };
        break;
      }
      case "AT_ColumnDefault": {
        const c = findCol(colName!);
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? { ...x, defaultExpr: cmd["def"] === undefined ? null : storeExpr(cmd["def"] as PgNode) } : x)) };
        break;
      }
      case "AT_SetNotNull": {
        const c = findCol(colName!);
        const codec = new RowCodec(env.ctx.ks, t0);
        const p = codec.position(c.id);
        for await (const batch of tableRows(t0, env.ctx)) {
          if (batch.some((r) => r[p] === null)) throw new PgError("not_null_violation", `column "${c.name}" of relation "${t.name}" contains null values`);
        }
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? { ...x, nullable: false } : x)) };
        break;
      }
      case "AT_DropNotNull": {
        const c = findCol(colName!);
        if (t.primaryIndex.columns.some((ic) => ic.columnId === c.id) && t.pkeyName !== "") throw new PgError("invalid_table_definition", `column "${c.name}" is in a primary key`);
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? { ...x, nullable: true } : x)) };
        break;
      }
      case "AT_AlterColumnType": {
        const c = findCol(colName!);
        const def = (cmd["def"] as PgNode)["ColumnDef"] as PgNode;
        const type = bindTypeName(def["typeName"] as PgNode, env);
        if (type.oid !== c.type.oid) throw new PgError("feature_not_supported", "changing a column's type is only supported for the same base type (e.g. varchar(n) length)");
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? { ...x, type: storedTypeOf(type) } : x)) };
        break;
      }
      case "AT_AddConstraint": {
        const con = (cmd["def"] as PgNode)["Constraint"] as PgNode;
        const keys = stringList(con["keys"] as PgNode[] | undefined);
        switch (con["contype"] as string) {
          case "CONSTR_PRIMARY": {
            if (t.pkeyName !== "") throw new PgError("invalid_table_definition", `multiple primary keys for table "${t.name}" are not allowed`);
            const cols = keys.map((k) => findCol(k));
            const pkName = (con["conname"] as string | undefined) ?? `${t.name}_pkey`;
            const next: TableDesc = {
              ...t,
              columns: t.columns.map((x) => (cols.some((c) => c.id === x.id) ? { ...x, nullable: false } : x)),
              primaryIndex: { id: t.nextIndexId, name: pkName, unique: true, primary: true, columns: cols.map((c) => ({ columnId: c.id, desc: false })) },
              nextIndexId: t.nextIndexId + 1,
              pkeyName: pkName,
              // The rewritten rows go to a new span; the old one is cleared whole (rekeyTable).
              dataId: await newDataId(env, t),
            };
            await rekeyTable(t0, next, env.ctx, env.indexTest);
            // The hidden row id is no longer needed: existing rows were rewritten without it.
            t = { ...next, columns: next.columns.filter((c) => !c.hidden) };
            break;
          }
          case "CONSTR_UNIQUE": {
            const cols = keys.map((k) => findCol(k));
            const ix: IndexDesc = { id: t.nextIndexId, name: (con["conname"] as string | undefined) ?? indexName(env, t, keys, true), unique: true, primary: false, columns: cols.map((c) => ({ columnId: c.id, desc: false })), constraint: true };
            await backfillIndex(t0, ix, env.ctx, env.indexTest(t0, ix));
            t = { ...t, indexes: [...t.indexes, ix], nextIndexId: t.nextIndexId + 1 };
            break;
          }
          case "CONSTR_CHECK": {
            const name = (con["conname"] as string | undefined) ?? `${t.name}_check`;
            await env.checkRows(t, con["raw_expr"] as PgNode, name);
            t = { ...t, checks: [...t.checks, { name, expr: storeExpr(con["raw_expr"] as PgNode) }] };
            break;
          }
          case "CONSTR_FOREIGN": {
            const pk = con["pktable"] as PgNode;
            const fk = resolveFk(env, t, {
              name: (con["conname"] as string | undefined) ?? null,
              cols: stringList(con["fk_attrs"] as PgNode[] | undefined),
              refNames: pk["schemaname"] ? [pk["schemaname"] as string, pk["relname"] as string] : [pk["relname"] as string],
              refCols: stringList(con["pk_attrs"] as PgNode[] | undefined),
              onDelete: ((con["fk_del_action"] as string | undefined) ?? "a") as "a",
              onUpdate: ((con["fk_upd_action"] as string | undefined) ?? "a") as "a",
            }, true);
            t = { ...t, foreignKeys: [...t.foreignKeys, fk] };
            await env.validateFk(t, fk.name);
            break;
          }
          default:
            throw new PgError("feature_not_supported", `ADD CONSTRAINT ${String(con["contype"])} is not supported`);
        }
        break;
      }
      case "AT_DropConstraint": {
        const n = colName!;
        if (t.checks.some((c) => c.name === n)) t = { ...t, checks: t.checks.filter((c) => c.name !== n) };
        else if (t.foreignKeys.some((f) => f.name === n)) t = { ...t, foreignKeys: t.foreignKeys.filter((f) => f.name !== n) };
        else if (t.indexes.some((ix) => ix.name === n && ix.unique)) {
          const ix = t.indexes.find((x) => x.name === n)!;
          clearIndexData(t, ix, env.ctx);
          t = { ...t, indexes: t.indexes.filter((x) => x !== ix) };
        } else if (cmd["missing_ok"] !== true) {
          throw new PgError("undefined_object", `constraint "${n}" of relation "${t.name}" does not exist`);
        }
        break;
      }
      case "AT_SetRelOptions":
      case "AT_ResetRelOptions":
        break;
      case "AT_ChangeOwner":
        checkNewOwner(env, cmd);
        break;
      case "AT_AddIdentity": {
        const c = findCol(colName!);
        const added = await addIdentity(env, t, c, (cmd["def"] as PgNode)["Constraint"] as PgNode);
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? added.column : x)) };
        extra.push(added.sequence);
        break;
      }
      default:
        throw new PgError("feature_not_supported", `ALTER TABLE ${sub.replace("AT_", "")} is not supported`);
    }
  }
  return { changed: [t, ...extra] as DdlChange["changed"], removed: [], tag: "ALTER TABLE" };
}

/**
 * ALTER COLUMN … ADD GENERATED {ALWAYS | BY DEFAULT} AS IDENTITY [(SEQUENCE NAME s, options)]:
 * the column gets its own sequence (named by SEQUENCE NAME, else table_column_seq in the table's
 * schema), as CREATE TABLE gives an identity column. Postgres's checks: the column must be NOT
 * NULL, have no default and not be an identity column already, and be smallint, integer or bigint.
 */
async function addIdentity(env: DdlExecEnv, t: TableDesc, c: ColumnDesc, con: PgNode): Promise<{ column: ColumnDesc; sequence: SequenceDesc }> {
  // The type is checked first (Postgres checks it when it analyses the statement).
  if (c.type.oid !== Oid.int2 && c.type.oid !== Oid.int4 && c.type.oid !== Oid.int8) {
    throw new PgError("invalid_parameter_value", `identity column type must be smallint, integer, or bigint`);
  }
  if (c.identity !== "") throw new PgError("object_not_in_prerequisite_state", `column "${c.name}" of relation "${t.name}" is already an identity column`);
  if (c.defaultExpr !== null) throw new PgError("object_not_in_prerequisite_state", `column "${c.name}" of relation "${t.name}" already has a default value`);
  if (c.nullable) throw new PgError("object_not_in_prerequisite_state", `column "${c.name}" of relation "${t.name}" must be declared NOT NULL before identity can be added`);
  const options = (con["options"] as PgNode[] | undefined) ?? [];
  const nameOpt = options.map((o) => o["DefElem"] as PgNode).find((d) => d["defname"] === "sequence_name");
  const seqNames = nameOpt === undefined ? [] : stringList(((nameOpt["arg"] as PgNode)["List"] as PgNode)["items"] as PgNode[]);
  const seqName = seqNames.length > 0 ? seqNames[seqNames.length - 1]! : `${t.name}_${c.name}_seq`;
  const schema = seqNames.length > 1 ? env.catalog.schema(seqNames[seqNames.length - 2]!) : env.catalog.get(t.schemaId);
  if (schema === undefined || schema.kind !== "schema") throw new PgError("invalid_schema_name", `schema "${seqNames[seqNames.length - 2] ?? ""}" does not exist`);
  if (schema.id !== t.schemaId) throw new PgError("object_not_in_prerequisite_state", "sequence must be in same schema as table it is linked to");
  if (env.catalog.relationIn(schema.id, seqName) !== undefined) throw new PgError("duplicate_table", `relation "${seqName}" already exists`);
  const rest = options.filter((o) => (o["DefElem"] as PgNode)["defname"] !== "sequence_name");
  const sequence = newSequence(await env.allocateId(), schema.id, seqName, typeFromOid(c.type.oid, -1), [t.id, c.id], rest);
  const column: ColumnDesc = { ...c, identity: con["generated_when"] === "a" ? "a" : "d", defaultExpr: storeExpr(nextvalAst(`${quoteIdent(schema.name)}.${quoteIdent(seqName)}`)) };
  return { column, sequence };
}

/**
 * Rewrites every row under a new primary key (ADD PRIMARY KEY on a populated table), streaming:
 * one page of old rows at a time, so memory does not grow with the table (the transaction sends
 * its writes to storage as intents when its buffer is full). Duplicates are found per page: within
 * the page, and against the rows already written (one batched read of the page's new keys, which
 * sees the transaction's own writes, buffered or flushed).
 */
async function rekeyTable(before: TableDesc, after: TableDesc, ctx: ExecContext, indexTest: DdlExecEnv["indexTest"]): Promise<void> {
  const oldCodec = new RowCodec(ctx.ks, before);
  const afterNoHidden: TableDesc = { ...after, columns: after.columns.filter((c) => !c.hidden) };
  const newCodec = new RowCodec(ctx.ks, afterNoHidden);
  const covering = afterNoHidden.indexes.map((ix) => indexTest(afterNoHidden, ix));
  const keep = afterNoHidden.columns.map((c) => oldCodec.position(c.id));
  const duplicate = (nr: Row): PgError =>
    new PgError("unique_violation", `could not create unique index "${after.pkeyName}"`, {
      detail: `Key (${afterNoHidden.primaryIndex.columns.map((c) => afterNoHidden.columns[newCodec.position(c.columnId)]!.name).join(", ")})=(${afterNoHidden.primaryIndex.columns.map((c) => formatText(nr[newCodec.position(c.columnId)]!, newCodec.types[newCodec.position(c.columnId)]!, ctx.evalContext)).join(", ")}) is duplicated.`,
    });
  for await (const batch of tableRows(before, ctx)) {
    const page: Array<{ nr: Row; k: Uint8Array }> = [];
    const seen = new Set<string>();
    for (const r of batch) {
      await rowDone(ctx);
      const nr = keep.map((p) => r[p]!);
      for (const ic of afterNoHidden.primaryIndex.columns) {
        if (nr[newCodec.position(ic.columnId)] === null) {
          throw new PgError("not_null_violation", `column "${afterNoHidden.columns[newCodec.position(ic.columnId)]!.name}" of relation "${after.name}" contains null values`);
        }
      }
      const k = newCodec.primaryKey(nr);
      const ks = keyString(k);
      if (seen.has(ks)) throw duplicate(nr);
      seen.add(ks);
      page.push({ nr, k });
    }
    const existing = await ctx.txn.getMany(page.map((p) => p.k));
    for (let i = 0; i < page.length; i++) {
      const { nr, k } = page[i]!;
      if (existing[i] !== null) throw duplicate(nr);
      ctx.txn.put(k, newCodec.encodeValue(nr));
      for (const [i, ix] of afterNoHidden.indexes.entries()) {
        if (!covering[i]!(nr)) continue;
        const e = newCodec.indexEntry(ix, nr);
        ctx.txn.put(e.key, e.value);
      }
    }
    await ctx.txn.maybeFlush();
  }
  // `after` has its own data id: the old span goes whole, with no tombstone per row. (Cleared
  // after the scan: a buffered clear hides the old rows from the transaction's own reads.)
  clearTableData(before, ctx);
}

export function renameObject(env: DdlExecEnv, stmt: PgNode): DdlChange {
  const type = stmt["renameType"] as string;
  const newName = stmt["newname"] as string;
  const rv = stmt["relation"] as PgNode | undefined;
  if (type === "OBJECT_COLUMN") {
    const t = tableByName(env, [rv!["relname"] as string], stmt["missing_ok"] === true);
    if (t === null) return { changed: [], removed: [], tag: "ALTER TABLE" };
    const old = stmt["subname"] as string;
    const c = t.columns.find((x) => x.name === old && !x.hidden);
    if (c === undefined) throw new PgError("undefined_column", `column "${old}" does not exist`);
    if (t.columns.some((x) => x.name === newName)) throw new PgError("duplicate_column", `column "${newName}" of relation "${t.name}" already exists`);
    // Partial index predicates name columns: they follow the rename (parsed, renamed, stored again).
    const indexes = t.indexes.map((ix) => (ix.predicate === undefined ? ix : { ...ix, predicate: storeExpr(renameColumnRefs(exprNode(ix.predicate), old, newName) as PgNode) }));
    return { changed: [{ ...bump(t), columns: t.columns.map((x) => (x.id === c.id ? { ...x, name: newName } : x)), indexes }], removed: [], tag: "ALTER TABLE" };
  }
  if (type === "OBJECT_TABLE" || type === "OBJECT_VIEW" || type === "OBJECT_SEQUENCE") {
    const d = env.catalog.resolveRelation([rv!["relname"] as string], env.searchPath);
    if (d === undefined) {
      if (stmt["missing_ok"] === true) return { changed: [], removed: [], tag: "ALTER TABLE" };
      throw new PgError("undefined_table", `relation "${rv!["relname"] as string}" does not exist`);
    }
    if (env.catalog.relationIn(d.schemaId, newName) !== undefined) throw new PgError("duplicate_table", `relation "${newName}" already exists`);
    return { changed: [{ ...bump(d), name: newName }], removed: [], tag: type === "OBJECT_TABLE" ? "ALTER TABLE" : type === "OBJECT_VIEW" ? "ALTER VIEW" : "ALTER SEQUENCE" };
  }
  if (type === "OBJECT_INDEX") {
    const found = env.catalog.resolveIndex([rv!["relname"] as string], env.searchPath);
    if (found === undefined) throw new PgError("undefined_object", `index "${rv!["relname"] as string}" does not exist`);
    const t = found.table;
    return { changed: [{ ...bump(t), indexes: t.indexes.map((i) => (i.id === found.index.id ? { ...i, name: newName } : i)) }], removed: [], tag: "ALTER INDEX" };
  }
  throw new PgError("feature_not_supported", `renaming ${type.replace("OBJECT_", "").toLowerCase()} is not supported`);
}

/** A CREATE INDEX whose entries are filled after its statement (sql/index-build.ts). */
export interface OnlineIndexBuild {
  tableId: number;
  indexId: number;
  /** Which rows get an entry, bound against the table as the build finds it. */
  covers: (table: TableDesc) => RowTest;
}

/** The field list of a ColumnRef naming one column: [name] or [table, name]. */
function columnRefName(node: PgNode): string | null {
  const ref = node["ColumnRef"] as PgNode | undefined;
  if (ref === undefined) return null;
  const fields = (ref["fields"] as PgNode[]).map((f) => (f["String"] as PgNode | undefined)?.["sval"] as string | undefined);
  const last = fields[fields.length - 1];
  return last === undefined ? null : last;
}

/** Whether an expression tree refers to column `name`. */
function namesColumn(node: unknown, name: string): boolean {
  if (Array.isArray(node)) return node.some((n) => namesColumn(n, name));
  if (node === null || typeof node !== "object") return false;
  if (columnRefName(node as PgNode) === name) return true;
  return Object.values(node as PgNode).some((v) => namesColumn(v, name));
}

/** A copy of a stored expression with column `from` renamed `to`. */
function renameColumnRefs(node: unknown, from: string, to: string): unknown {
  if (Array.isArray(node)) return node.map((n) => renameColumnRefs(n, from, to));
  if (node === null || typeof node !== "object") return node;
  const ref = (node as PgNode)["ColumnRef"] as PgNode | undefined;
  if (ref !== undefined && columnRefName(node as PgNode) === from) {
    const fields = ref["fields"] as PgNode[];
    return { ColumnRef: { ...ref, fields: [...fields.slice(0, -1), { String: { sval: to } }] } };
  }
  return Object.fromEntries(Object.entries(node as PgNode).map(([k, v]) => [k, renameColumnRefs(v, from, to)]));
}

export { createTable, dropObjects, nextvalAst, Oid, truncate };
