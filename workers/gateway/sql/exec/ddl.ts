// Schema changes other than CREATE TABLE: CREATE INDEX (with backfill of populated tables), ALTER
// TABLE, views, sequences, schemas; DROP and TRUNCATE live in ddl-drop.ts. Each returns the
// descriptors it changes; the session writes them with the catalog version bump in the same
// transaction.
import { PgError } from "../../../../common/errors.ts";
import { type ColumnDesc, type Descriptor, type IndexDesc, isTemp, isTempId, type SchemaDesc, type SequenceDesc, type StoredSql, type TableDesc, type ViewDesc } from "../../catalog/descriptors.ts";
import { bindTypeRef } from "../bind/expr.ts";
import type { AlterTableCommand } from "../bind/ddl/alter-table.ts";
import type { CreateTableCommand } from "../bind/ddl/create-table.ts";
import type { CreateViewCommand } from "../bind/ddl/view.ts";
import type { RoleSpec } from "../bind/ddl/names.ts";
import type { RenameCommand } from "../bind/ddl/rename.ts";
import type { CreateSchemaCommand } from "../bind/ddl/schema.ts";
import type { AlterSequenceCommand, CreateSequenceCommand, SequenceOption } from "../bind/ddl/sequence.ts";
import { columnsNamedIn, renameColumnIn } from "../bind/column-refs.ts";
import { Oid, storedTypeOf, Types, typeFromOid } from "../types/type.ts";
import { quoteIdent } from "../functions/string-functions.ts";
import type { ExecContext } from "./context.ts";
import { bump, newDataId, tableByName } from "./ddl-common.ts";
import { applySequenceOptions, createTable, creationTarget, type DdlChange, type DdlEnv, newSequence, optionNames, resolveFk } from "./ddl-create-table.ts";
import { clearIndexData, clearTableData, dropObjects, truncate } from "./ddl-drop.ts";
import type { Row } from "./eval.ts";
import { primaryScan } from "./ops/scan.ts";
import { RowCodec } from "./row-codec.ts";
import { keyString } from "../../../../common/bytes.ts";
import { formatText } from "../types/text-io.ts";
import type { RowTest } from "./index-predicate.ts";
import { storedNextval } from "../bind/stored-sql.ts";
import type { CreateIndexCommand } from "../bind/ddl/index.ts";

export interface DdlExecEnv extends DdlEnv {
  ctx: ExecContext;
  /** The session's role: the tenant's one role, owner of every object (OWNER TO names it or nothing). */
  user: string;
  /** Rows and evaluation for CHECK validation and column defaults, bound by the session. */
  checkRows(table: TableDesc, check: StoredSql, name: string): Promise<void>;
  /** `added`: descriptors this statement makes, which the default may use (a serial column's sequence). */
  evalDefault(table: TableDesc, expr: StoredSql, typeOid: number, typmod: number, added: readonly Descriptor[]): Promise<unknown>;
  validateFk(table: TableDesc, fkName: string): Promise<void>;
  /** A view's query with a column of `table` renamed; null when the view does not read it (bind/view-rename.ts). */
  viewWithColumnRenamed(view: ViewDesc, table: TableDesc, column: ColumnDesc, newName: string): { query: StoredSql; columnNames: string[] } | null;
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

export async function createView(env: DdlExecEnv, cmd: CreateViewCommand): Promise<DdlChange> {
  const name = cmd.relation.name;
  const target = creationTarget(env, cmd.relation, cmd.readsTemp);
  const schema = target.schema;
  const existing = env.catalog.relationIn(schema.id, name);
  if (existing !== undefined && !(cmd.replace && existing.kind === "view")) {
    throw new PgError("duplicate_table", `relation "${name}" already exists`);
  }
  const view: ViewDesc = {
    kind: "view",
    id: existing?.id ?? (await target.allocateId()),
    name,
    schemaId: schema.id,
    version: (existing?.version ?? 0) + 1,
    query: cmd.query,
    columnNames: [...cmd.columnNames],
  };
  return { changed: [...target.newSchemas, view], removed: [], tag: "CREATE VIEW" };
}

export async function createSequence(env: DdlExecEnv, stmt: CreateSequenceCommand): Promise<DdlChange> {
  const name = stmt.relation.name;
  const target = creationTarget(env, stmt.relation);
  const schema = target.schema;
  if (env.catalog.relationIn(schema.id, name) !== undefined) {
    if (stmt.ifNotExists) return { changed: [], removed: [], tag: "CREATE SEQUENCE" };
    throw new PgError("duplicate_table", `relation "${name}" already exists`);
  }
  const options = stmt.options;
  const seq = newSequence(await target.allocateId(), schema.id, name, Types.int8, null, options);
  seq.ownedBy = sequenceOwnedBy(env, seq, options) ?? null;
  return { changed: [...target.newSchemas, seq], removed: [], tag: "CREATE SEQUENCE" };
}

export async function alterSequence(env: DdlExecEnv, stmt: AlterSequenceCommand): Promise<DdlChange> {
  const names = [...stmt.names];
  const d = env.catalog.resolveRelation(names, env.searchPath);
  if (d === undefined) {
    if (stmt.missingOk) return { changed: [], removed: [], tag: "ALTER SEQUENCE" };
    throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
  }
  if (d.kind !== "sequence") throw new PgError("wrong_object_type", `"${d.name}" is not a sequence`);
  const next: SequenceDesc = { ...bump(d) };
  const options = stmt.options;
  const changes = options.filter((o) => o.name !== "owned_by");
  if (changes.length > 0) {
    applySequenceOptions(next, changes);
    // ALTER SEQUENCE keeps the START it does not name (Postgres changes it only with START WITH).
    if (!changes.some((o) => o.name === "start")) next.start = d.start;
  }
  const ownedBy = sequenceOwnedBy(env, next, options);
  if (ownedBy !== undefined) next.ownedBy = ownedBy;
  return { changed: [next], removed: [], tag: "ALTER SEQUENCE" };
}

/**
 * OWNED BY table.column (the sequence goes when the column or table is dropped) or OWNED BY NONE
 * (null), with Postgres's checks; undefined when the options do not say.
 */
function sequenceOwnedBy(env: DdlEnv, seq: SequenceDesc, options: readonly SequenceOption[]): [number, number] | null | undefined {
  const opt = options.find((d) => d.name === "owned_by");
  if (opt === undefined) return undefined;
  const names = optionNames(opt.arg);
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
function checkNewOwner(env: DdlExecEnv, role: RoleSpec): void {
  if (role.kind === "current") return;
  if (role.name !== env.user) throw new PgError("undefined_object", `role "${role.name}" does not exist`);
}

export async function createSchema(env: DdlExecEnv, stmt: CreateSchemaCommand): Promise<DdlChange> {
  const name = stmt.name;
  if (name.startsWith("pg_")) {
    throw new PgError("reserved_name", `unacceptable schema name "${name}"`, { detail: 'The prefix "pg_" is reserved for system schemas.' });
  }
  if (env.catalog.schema(name) !== undefined) {
    if (stmt.ifNotExists) return { changed: [], removed: [], tag: "CREATE SCHEMA" };
    throw new PgError("duplicate_schema", `schema "${name}" already exists`);
  }
  const s: SchemaDesc = { kind: "schema", id: await env.allocateId(), name, version: 1 };
  return { changed: [s], removed: [], tag: "CREATE SCHEMA" };
}

export async function alterTable(env: DdlExecEnv, stmt: AlterTableCommand): Promise<DdlChange> {
  const names = [...stmt.table];
  const commands = stmt.actions;
  if (commands.every((c) => c.kind === "owner")) {
    // OWNER TO applies to every relation kind (pg_dump writes ALTER TABLE … OWNER TO for views
    // and sequences too).
    const d = env.catalog.resolveRelation(names, env.searchPath);
    if (d === undefined) {
      if (stmt.missingOk) return { changed: [], removed: [], tag: "ALTER TABLE" };
      throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`);
    }
    for (const c of commands) checkNewOwner(env, c.role);
    return { changed: [], removed: [], tag: stmt.relationKind === "view" ? "ALTER VIEW" : stmt.relationKind === "sequence" ? "ALTER SEQUENCE" : "ALTER TABLE" };
  }
  const t0 = tableByName(env, names, stmt.missingOk);
  if (t0 === null) return { changed: [], removed: [], tag: "ALTER TABLE" };
  let t: TableDesc = bump(t0);
  // A subcommand that rewrites the rows reads them as they were before the statement (its own
  // writes are not visible to it), so a second one would lose what the first wrote (or fail
  // with XX000 on the row's width). Until the rewrites are merged into one pass, a statement
  // may rewrite a populated table once; an empty one any number of times.
  let rowsRewritten = false;
  const refuseSecondRewrite = (): void => {
    if (rowsRewritten) {
      throw new PgError("feature_not_supported", `ALTER TABLE can rewrite the rows of "${t0.name}" only once per statement`, { hint: "Run the ADD COLUMN … DEFAULT / NOT NULL / UNIQUE and ADD PRIMARY KEY subcommands as separate ALTER TABLE statements." });
    }
  };
  const extra: Descriptor[] = [];
  for (const cmd of commands) {
    const findCol = (n: string) => {
      const c = t.columns.find((x) => x.name === n && !x.hidden);
      if (c === undefined) throw new PgError("undefined_column", `column "${n}" of relation "${t.name}" does not exist`);
      return c;
    };
    switch (cmd.kind) {
      case "add-column": {
        const def = cmd.column;
        if (t.columns.some((c) => c.name === def.name)) {
          if (cmd.ifNotExists) break;
          throw new PgError("duplicate_column", `column "${def.name}" of relation "${t.name}" already exists`);
        }
        // Reuse CREATE TABLE's column handling on a one-column table, then graft the column on.
        // The probe is created in the table's own schema, so a serial column's sequence lands
        // there too (and is temporary for a temporary table).
        const probeCommand: CreateTableCommand = {
          kind: "create-table",
          relation: { schema: isTempId(t.id) ? "pg_temp" : (env.catalog.get(t.schemaId)?.name ?? "public"), name: t.name, temp: false },
          ifNotExists: false,
          onCommit: "noop",
          inherits: false,
          elements: [{ kind: "column", column: def }],
          options: [],
        };
        const probe = await createTable({ ...env, allocateId: env.allocateId }, probeCommand).catch(async (err: unknown) => {
          if (err instanceof PgError && err.condition === "duplicate_table") {
            return createTable({ ...env, catalog: env.catalog.withChanges(env.catalog.version, [], [t.id]) }, probeCommand);
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
          refuseSecondRewrite();
          const rewrite = async (): Promise<void> => {
            const oldCodec = new RowCodec(env.ctx.ks, before);
            const newCodec = new RowCodec(env.ctx.ks, after);
            const added = after.indexes.slice(before.indexes.length).map((ix) => ({ ix, covers: env.indexTest(after, ix) }));
            for await (const batch of tableRows(before, env.ctx)) {
              for (const row of batch) {
                await rowDone(env.ctx);
                const v = col.defaultExpr === null ? null : await env.evalDefault(after, col.defaultExpr, col.type.oid, col.type.typmod, extra);
                if (v === null && !col.nullable) throw new PgError("not_null_violation", `column "${col.name}" of relation "${t.name}" contains null values`);
                const nr = [...row, v] as Row;
                env.ctx.txn.put(newCodec.primaryKey(nr), newCodec.encodeValue(nr));
                for (const { ix, covers } of added) {
                  if (!covers(nr)) continue;
                  const e = newCodec.indexEntry(ix, nr);
                  env.ctx.txn.put(e.key, e.value);
                }
                void oldCodec;
                rowsRewritten = true;
              }
            }
          };
          await rewrite();
        }
        break;
      }
      case "drop-column": {
        const c = t.columns.find((x) => x.name === cmd.column && !x.hidden);
        if (c === undefined) {
          if (cmd.missingOk) break;
          throw new PgError("undefined_column", `column "${cmd.column}" of relation "${t.name}" does not exist`);
        }
        if (t.primaryIndex.columns.some((ic) => ic.columnId === c.id) && t.pkeyName !== "") {
          throw new PgError("dependent_objects_still_exist", `cannot drop column ${c.name} of table ${t.name} because other objects depend on it`, { detail: `constraint ${t.pkeyName} on table ${t.name} depends on column ${c.name}` });
        }
        // Rows keep the dropped column's bytes (decoding skips unknown column ids, as Postgres
        // keeps a dropped attribute's data): no rewrite. Indexes on it go whole.
        const dropIx = t.indexes.filter((ix) => ix.columns.some((ic) => ic.columnId === c.id) || (ix.predicate !== undefined && columnsNamedIn(ix.predicate).includes(c.name)));
        for (const ix of dropIx) clearIndexData(t, ix, env.ctx);
        t = {
          ...t,
          columns: t.columns.filter((x) => x.id !== c.id),
          indexes: t.indexes.filter((ix) => !dropIx.includes(ix)),
          foreignKeys: t.foreignKeys.filter((f) => !f.columnIds.includes(c.id)),
        };
        break;
      }
      case "set-default": {
        const c = findCol(cmd.column);
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? { ...x, defaultExpr: cmd.expr } : x)) };
        break;
      }
      case "set-not-null": {
        const c = findCol(cmd.column);
        const codec = new RowCodec(env.ctx.ks, t0);
        const p = codec.position(c.id);
        for await (const batch of tableRows(t0, env.ctx)) {
          if (batch.some((r) => r[p] === null)) throw new PgError("not_null_violation", `column "${c.name}" of relation "${t.name}" contains null values`);
        }
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? { ...x, nullable: false } : x)) };
        break;
      }
      case "drop-not-null": {
        const c = findCol(cmd.column);
        if (t.primaryIndex.columns.some((ic) => ic.columnId === c.id) && t.pkeyName !== "") throw new PgError("invalid_table_definition", `column "${c.name}" is in a primary key`);
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? { ...x, nullable: true } : x)) };
        break;
      }
      case "alter-type": {
        const c = findCol(cmd.column);
        const type = bindTypeRef(cmd.type, env);
        if (type.oid !== c.type.oid) throw new PgError("feature_not_supported", "changing a column's type is only supported for the same base type (e.g. varchar(n) length)");
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? { ...x, type: storedTypeOf(type) } : x)) };
        break;
      }
      case "add-constraint": {
        const con = cmd.constraint;
        switch (con.kind) {
          case "primary-key": {
            const keys = con.columns;
            if (t.pkeyName !== "") throw new PgError("invalid_table_definition", `multiple primary keys for table "${t.name}" are not allowed`);
            const cols = keys.map((k) => findCol(k));
            const pkName = con.name ?? `${t.name}_pkey`;
            const next: TableDesc = {
              ...t,
              columns: t.columns.map((x) => (cols.some((c) => c.id === x.id) ? { ...x, nullable: false } : x)),
              primaryIndex: { id: t.nextIndexId, name: pkName, unique: true, primary: true, columns: cols.map((c) => ({ columnId: c.id, desc: false })) },
              nextIndexId: t.nextIndexId + 1,
              pkeyName: pkName,
              // The rewritten rows go to a new span; the old one is cleared whole (rekeyTable).
              dataId: await newDataId(env, t),
            };
            refuseSecondRewrite();
            if (await rekeyTable(t0, next, env.ctx, env.indexTest)) rowsRewritten = true;
            // The hidden row id is no longer needed: existing rows were rewritten without it.
            t = { ...next, columns: next.columns.filter((c) => !c.hidden) };
            break;
          }
          case "unique": {
            const keys = con.columns;
            const cols = keys.map((k) => findCol(k));
            const ix: IndexDesc = { id: t.nextIndexId, name: con.name ?? indexName(env, t, [...keys], true), unique: true, primary: false, columns: cols.map((c) => ({ columnId: c.id, desc: false })), constraint: true };
            await backfillIndex(t0, ix, env.ctx, env.indexTest(t0, ix));
            t = { ...t, indexes: [...t.indexes, ix], nextIndexId: t.nextIndexId + 1 };
            break;
          }
          case "check": {
            const name = con.name ?? `${t.name}_check`;
            await env.checkRows(t, con.expr, name);
            t = { ...t, checks: [...t.checks, { name, expr: con.expr }] };
            break;
          }
          case "foreign-key": {
            const fk = resolveFk(env, t, con.fk, true);
            t = { ...t, foreignKeys: [...t.foreignKeys, fk] };
            await env.validateFk(t, fk.name);
            break;
          }
          case "unsupported":
            throw new PgError("feature_not_supported", `ADD CONSTRAINT ${con.contype} is not supported`);
        }
        break;
      }
      case "drop-constraint": {
        const n = cmd.name;
        if (t.checks.some((c) => c.name === n)) t = { ...t, checks: t.checks.filter((c) => c.name !== n) };
        else if (t.foreignKeys.some((f) => f.name === n)) t = { ...t, foreignKeys: t.foreignKeys.filter((f) => f.name !== n) };
        else if (t.indexes.some((ix) => ix.name === n && ix.unique)) {
          const ix = t.indexes.find((x) => x.name === n)!;
          clearIndexData(t, ix, env.ctx);
          t = { ...t, indexes: t.indexes.filter((x) => x !== ix) };
        } else if (!cmd.missingOk) {
          throw new PgError("undefined_object", `constraint "${n}" of relation "${t.name}" does not exist`);
        }
        break;
      }
      case "storage-options":
        break;
      case "owner":
        checkNewOwner(env, cmd.role);
        break;
      case "add-identity": {
        const c = findCol(cmd.column);
        const added = await addIdentity(env, t, c, cmd.always, cmd.options);
        t = { ...t, columns: t.columns.map((x) => (x.id === c.id ? added.column : x)) };
        extra.push(added.sequence);
        break;
      }
      case "unsupported":
        throw new PgError("feature_not_supported", `ALTER TABLE ${cmd.subcommand} is not supported`);
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
async function addIdentity(env: DdlExecEnv, t: TableDesc, c: ColumnDesc, always: boolean, options: readonly SequenceOption[]): Promise<{ column: ColumnDesc; sequence: SequenceDesc }> {
  // The type is checked first (Postgres checks it when it analyses the statement).
  if (c.type.oid !== Oid.int2 && c.type.oid !== Oid.int4 && c.type.oid !== Oid.int8) {
    throw new PgError("invalid_parameter_value", `identity column type must be smallint, integer, or bigint`);
  }
  if (c.identity !== "") throw new PgError("object_not_in_prerequisite_state", `column "${c.name}" of relation "${t.name}" is already an identity column`);
  if (c.defaultExpr !== null) throw new PgError("object_not_in_prerequisite_state", `column "${c.name}" of relation "${t.name}" already has a default value`);
  if (c.nullable) throw new PgError("object_not_in_prerequisite_state", `column "${c.name}" of relation "${t.name}" must be declared NOT NULL before identity can be added`);
  const nameOpt = options.find((d) => d.name === "sequence_name");
  const seqNames = nameOpt === undefined ? [] : optionNames(nameOpt.arg);
  const seqName = seqNames.length > 0 ? seqNames[seqNames.length - 1]! : `${t.name}_${c.name}_seq`;
  const schema = seqNames.length > 1 ? env.catalog.schema(seqNames[seqNames.length - 2]!) : env.catalog.get(t.schemaId);
  if (schema === undefined || schema.kind !== "schema") throw new PgError("invalid_schema_name", `schema "${seqNames[seqNames.length - 2] ?? ""}" does not exist`);
  if (schema.id !== t.schemaId) throw new PgError("object_not_in_prerequisite_state", "sequence must be in same schema as table it is linked to");
  if (env.catalog.relationIn(schema.id, seqName) !== undefined) throw new PgError("duplicate_table", `relation "${seqName}" already exists`);
  const rest = options.filter((o) => o.name !== "sequence_name");
  const sequence = newSequence(await env.allocateId(), schema.id, seqName, typeFromOid(c.type.oid, -1), [t.id, c.id], rest);
  const column: ColumnDesc = { ...c, identity: always ? "a" : "d", defaultExpr: storedNextval(`${quoteIdent(schema.name)}.${quoteIdent(seqName)}`) };
  return { column, sequence };
}

/**
 * Rewrites every row under a new primary key (ADD PRIMARY KEY on a populated table), streaming:
 * one page of old rows at a time, so memory does not grow with the table (the transaction sends
 * its writes to storage as intents when its buffer is full). Duplicates are found per page: within
 * the page, and against the rows already written (one batched read of the page's new keys, which
 * sees the transaction's own writes, buffered or flushed).
 */
async function rekeyTable(before: TableDesc, after: TableDesc, ctx: ExecContext, indexTest: DdlExecEnv["indexTest"]): Promise<boolean> {
  let rows = false;
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
    if (batch.length > 0) rows = true;
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
  return rows;
}

export function renameObject(env: DdlExecEnv, cmd: RenameCommand): DdlChange {
  const newName = cmd.newName;
  if (cmd.target === "column") {
    const t = tableByName(env, cmd.relation, cmd.missingOk);
    if (t === null) return { changed: [], removed: [], tag: "ALTER TABLE" };
    const old = cmd.column!;
    const c = t.columns.find((x) => x.name === old && !x.hidden);
    if (c === undefined) throw new PgError("undefined_column", `column "${old}" does not exist`);
    if (t.columns.some((x) => x.name === newName)) throw new PgError("duplicate_column", `column "${newName}" of relation "${t.name}" already exists`);
    // The table's own expressions name its columns: partial-index predicates, CHECK constraints and
    // generation expressions follow the rename (parsed, renamed, stored again), as PostgreSQL's,
    // bound by column number, do. (A default cannot name a column.) So do the views that read it.
    const indexes = t.indexes.map((ix) => (ix.predicate === undefined ? ix : { ...ix, predicate: renameColumnIn(ix.predicate, old, newName) }));
    const checks = t.checks.map((k) => ({ ...k, expr: renameColumnIn(k.expr, old, newName) }));
    const columns = t.columns.map((x) => {
      const named = x.id === c.id ? { ...x, name: newName } : x;
      return named.generated === undefined ? named : { ...named, generated: renameColumnIn(named.generated, old, newName) };
    });
    const views: ViewDesc[] = [];
    for (const d of env.catalog.descriptors()) {
      if (d.kind !== "view") continue;
      const renamed = env.viewWithColumnRenamed(d, t, c, newName);
      if (renamed !== null) views.push({ ...bump(d), ...renamed });
    }
    return { changed: [{ ...bump(t), columns, indexes, checks }, ...views], removed: [], tag: "ALTER TABLE" };
  }
  if (cmd.target === "table" || cmd.target === "view" || cmd.target === "sequence") {
    const d = env.catalog.resolveRelation([...cmd.relation], env.searchPath);
    if (d === undefined) {
      if (cmd.missingOk) return { changed: [], removed: [], tag: "ALTER TABLE" };
      throw new PgError("undefined_table", `relation "${cmd.relation.join(".")}" does not exist`);
    }
    if (env.catalog.relationIn(d.schemaId, newName) !== undefined) throw new PgError("duplicate_table", `relation "${newName}" already exists`);
    return { changed: [{ ...bump(d), name: newName }], removed: [], tag: cmd.target === "table" ? "ALTER TABLE" : cmd.target === "view" ? "ALTER VIEW" : "ALTER SEQUENCE" };
  }
  if (cmd.target === "index") {
    const found = env.catalog.resolveIndex([...cmd.relation], env.searchPath);
    if (found === undefined) throw new PgError("undefined_object", `index "${cmd.relation.join(".")}" does not exist`);
    const t = found.table;
    return { changed: [{ ...bump(t), indexes: t.indexes.map((i) => (i.id === found.index.id ? { ...i, name: newName } : i)) }], removed: [], tag: "ALTER INDEX" };
  }
  throw new PgError("feature_not_supported", `renaming ${cmd.objectType} is not supported`);
}

/** A CREATE INDEX whose entries are filled after its statement (sql/index-build.ts). */
export interface OnlineIndexBuild {
  tableId: number;
  indexId: number;
  /** Which rows get an entry, bound against the table as the build finds it. */
  covers: (table: TableDesc) => RowTest;
}

export { createTable, dropObjects, Oid, truncate };
