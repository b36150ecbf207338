// CREATE TABLE: columns and their types, serial/identity columns (with their sequences), and the
// constraints: PRIMARY KEY, NOT NULL, DEFAULT, UNIQUE, CHECK, FOREIGN KEY. A table without a
// primary key gets a hidden `rowid` column as its key.
import { quoteIdent } from "../functions/string-functions.ts";
import { PgError } from "../../../../common/errors.ts";
import { type Catalog, PG_TEMP_ALIAS } from "../../catalog/catalog.ts";
import { type ColumnDesc, type ForeignKeyDesc, type IndexDesc, isTempId, type SchemaDesc, type SequenceDesc, type TableDesc, TEMP_SCHEMA_ID } from "../../catalog/descriptors.ts";
import { bindTypeRef } from "../bind/expr.ts";
import { Oid, storedTypeOf, type SqlType, Types } from "../types/type.ts";
import { storedNextval } from "../bind/stored-sql.ts";
import { columnsNamedIn } from "../bind/column-refs.ts";
import type { ColumnDefinition, CreateTableCommand, ForeignKeyRef, OnCommit } from "../bind/ddl/create-table.ts";
import type { RelationName } from "../bind/ddl/names.ts";
import type { OptionArg, SequenceOption } from "../bind/ddl/sequence.ts";

export interface DdlEnv {
  catalog: Catalog;
  searchPath: readonly string[];
  allocateId(): Promise<number>;
  /** The session's temporary schema and ids (sql/temp-objects.ts). */
  temp: {
    schema(catalog: Catalog): { schema: SchemaDesc; created: boolean };
    allocateId(): number;
  };
  /** Binds a new table's generation expressions, so CREATE TABLE reports their errors (42703, 42P17). */
  bindGenerated?(t: TableDesc): void;
}

/** Where a new relation goes: its schema, whether it is temporary, and how its ids are made. */
export interface CreationTarget {
  schema: SchemaDesc;
  temp: boolean;
  /** The session's pg_temp_N schema when this creation makes it (it belongs in the change). */
  newSchemas: SchemaDesc[];
  allocateId(): Promise<number>;
}

/**
 * The schema of a new relation named `rel`, as Postgres decides it: CREATE TEMP
 * goes to the session's temporary schema (42P16 if another schema is named); an unqualified name
 * goes to the first schema of search_path, which may be pg_temp; `pg_temp.x` is temporary too.
 */
export function creationTarget(env: DdlEnv, rel: RelationName, forceTemp = false): CreationTarget {
  const schemaName = rel.schema ?? undefined;
  const tempSchema = env.catalog.tempSchema;
  const namesTemp = (n: string | undefined): boolean => n === PG_TEMP_ALIAS || (tempSchema !== undefined && n === tempSchema.name);
  let temp = forceTemp || rel.temp;
  if (temp && schemaName !== undefined && !namesTemp(schemaName)) {
    throw new PgError("invalid_table_definition", "cannot create temporary relation in non-temporary schema");
  }
  if (!temp) {
    if (schemaName !== undefined) temp = namesTemp(schemaName);
    else {
      // The first search_path entry that is pg_temp or an existing schema decides.
      const first = env.searchPath.find((n) => namesTemp(n) || env.catalog.schema(n) !== undefined);
      temp = first !== undefined && namesTemp(first);
    }
  }
  if (temp) {
    const { schema, created } = env.temp.schema(env.catalog);
    return { schema, temp: true, newSchemas: created ? [schema] : [], allocateId: async () => env.temp.allocateId() };
  }
  const names = schemaName !== undefined ? [schemaName, rel.name] : [rel.name];
  const schema = env.catalog.creationSchema(names, env.searchPath);
  return { schema, temp: false, newSchemas: [], allocateId: () => env.allocateId() };
}

/** ON COMMIT of CREATE TABLE, checked against the table's persistence. */
function onCommitOf(oncommit: OnCommit, temp: boolean): TableDesc["onCommit"] {
  if (oncommit === "noop") return undefined;
  if (!temp) throw new PgError("invalid_table_definition", "ON COMMIT can only be used on temporary tables");
  if (oncommit === "delete-rows") return "delete";
  if (oncommit === "drop") return "drop";
  return undefined;
}

export interface DdlChange {
  changed: Array<import("../../catalog/descriptors.ts").Descriptor>;
  removed: number[];
  tag: string;
  /** Work to do after descriptors are written (index backfill, data removal). */
  after?: () => Promise<void>;
}

/**
 * The name a serial or identity column's default gives its own sequence: qualified with the
 * table's schema, or with pg_temp for a temporary table (its pg_temp_N number is the session's).
 */
function ownSequenceName(target: CreationTarget, seqName: string): string {
  return `${quoteIdent(target.temp ? PG_TEMP_ALIAS : target.schema.name)}.${quoteIdent(seqName)}`;
}

/**
 * The sequence of an identity column: named `table_column_seq` in the table's schema, unless its
 * options say `SEQUENCE NAME [schema.]name` (drizzle-kit writes that for every identity column).
 * The sequence stays in the table's schema: Postgres 15 looks the owning table up in the schema
 * the name gives, so naming another schema fails there with 42P01 "relation "s.t" does not exist".
 */
function identitySequence(env: DdlEnv, target: CreationTarget, tableName: string, defaultName: string, opts: readonly SequenceOption[]): { schema: SchemaDesc; name: string; qualifiedName: string; options: SequenceOption[] } {
  const named = opts.find((o) => o.name === "sequence_name");
  const options = opts.filter((o) => o !== named);
  if (named === undefined) return { schema: target.schema, name: defaultName, qualifiedName: ownSequenceName(target, defaultName), options };
  const parts = optionNames(named.arg);
  const seqName = parts[parts.length - 1]!;
  if (parts.length === 1) return { schema: target.schema, name: seqName, qualifiedName: ownSequenceName(target, seqName), options };
  const schemaName = parts[parts.length - 2]!;
  const sameSchema = schemaName === target.schema.name || (target.temp && schemaName === PG_TEMP_ALIAS);
  if (!sameSchema) {
    if (env.catalog.schema(schemaName) === undefined) throw new PgError("invalid_schema_name", `schema "${schemaName}" does not exist`);
    throw new PgError("undefined_table", `relation "${schemaName}.${tableName}" does not exist`);
  }
  return { schema: target.schema, name: seqName, qualifiedName: ownSequenceName(target, seqName), options };
}

/** The bounds of a sequence's type (AS smallint | integer | bigint). */
function sequenceTypeBounds(type: SqlType): { min: string; max: string } {
  if (type.oid === Oid.int2) return { min: "-32768", max: "32767" };
  if (type.oid === Oid.int4) return { min: "-2147483648", max: "2147483647" };
  if (type.oid === Oid.int8) return { min: "-9223372036854775808", max: "9223372036854775807" };
  throw new PgError("invalid_parameter_value", "sequence type must be smallint, integer, or bigint");
}

/** The name list of OWNED BY / SEQUENCE NAME (empty for an argument of another kind). */
export function optionNames(arg: OptionArg): string[] {
  return arg.kind === "names" ? [...arg.names] : [];
}

export function newSequence(id: number, schemaId: number, name: string, type: SqlType, ownedBy: [number, number] | null, opts: readonly SequenceOption[] = []): SequenceDesc {
  // AS type (CREATE SEQUENCE … AS integer, as pg_dump writes a serial's sequence) bounds the values.
  const as = opts.find((d) => d.name === "as");
  const seqType = as === undefined ? type : as.arg.kind === "type" ? bindTypeRef(as.arg.type) : Types.int8;
  const bounds = sequenceTypeBounds(seqType);
  const seq: SequenceDesc = { kind: "sequence", id, name, schemaId, version: 1, start: "1", increment: "1", min: "1", max: bounds.max, cycle: false, ownedBy, typeOid: seqType.oid };
  applySequenceOptions(seq, opts, bounds.min);
  return seq;
}

/** An option's number as text; "0" for an option given without one or with something else. */
function optInt(arg: OptionArg): string {
  return arg.kind === "number" ? arg.text : "0";
}

export function applySequenceOptions(seq: SequenceDesc, opts: readonly SequenceOption[], typeMin = "-9223372036854775808"): void {
  let startSet = false;
  for (const o of opts) {
    const name = o.name;
    const arg = o.arg;
    switch (name) {
      case "start":
        seq.start = optInt(arg);
        startSet = true;
        break;
      case "increment":
        seq.increment = optInt(arg);
        break;
      case "minvalue":
        if (arg.kind !== "none") seq.min = optInt(arg);
        break;
      case "maxvalue":
        if (arg.kind !== "none") seq.max = optInt(arg);
        break;
      case "cycle":
        seq.cycle = arg.kind === "bool" ? arg.value : true;
        break;
      case "cache":
      case "as":
      case "owned_by":
        break;
      default:
        throw new PgError("syntax_error", `option "${name}" not recognized`);
    }
  }
  if (BigInt(seq.increment) === 0n) throw new PgError("invalid_parameter_value", "INCREMENT must not be zero");
  if (BigInt(seq.increment) < 0n) {
    // A bound not given, or given as NO MINVALUE / NO MAXVALUE, takes a descending sequence's default.
    const given = (n: string): boolean => opts.some((o) => o.name === n && o.arg.kind !== "none");
    if (!given("maxvalue")) seq.max = "-1";
    if (!given("minvalue")) seq.min = typeMin;
    if (!startSet) seq.start = seq.max;
  } else if (!startSet) {
    seq.start = seq.min;
  }
  checkSequenceBounds(seq);
}

/** PostgreSQL's checks of a sequence's bounds and START (22023), in its order. */
export function checkSequenceBounds(seq: SequenceDesc): void {
  if (BigInt(seq.min) >= BigInt(seq.max)) throw new PgError("invalid_parameter_value", `MINVALUE (${seq.min}) must be less than MAXVALUE (${seq.max})`);
  if (BigInt(seq.start) < BigInt(seq.min)) throw new PgError("invalid_parameter_value", `START value (${seq.start}) cannot be less than MINVALUE (${seq.min})`);
  if (BigInt(seq.start) > BigInt(seq.max)) throw new PgError("invalid_parameter_value", `START value (${seq.start}) cannot be greater than MAXVALUE (${seq.max})`);
}

export function resolveFk(env: DdlEnv, table: TableDesc, fk: ForeignKeyRef, selfRef: boolean): ForeignKeyDesc {
  const parent = selfRef && fk.refTable[fk.refTable.length - 1] === table.name ? table : env.catalog.resolveRelation([...fk.refTable], env.searchPath);
  if (parent === undefined) throw new PgError("undefined_table", `relation "${fk.refTable.join(".")}" does not exist`);
  if (parent.kind !== "table") throw new PgError("wrong_object_type", `referenced relation "${parent.name}" is not a table`);
  // A stored table may never depend on one session's temporary table, nor the other way round.
  if (isTempId(table.id) !== isTempId(parent.id)) {
    throw new PgError("invalid_table_definition", isTempId(table.id) ? "constraints on temporary tables may reference only temporary tables" : "constraints on permanent tables may reference only permanent tables");
  }
  const colIds = fk.columns.map((n) => {
    const c = table.columns.find((x) => x.name === n);
    if (c === undefined) throw new PgError("undefined_column", `column "${n}" referenced in foreign key constraint does not exist`);
    return c.id;
  });
  let refIds: number[];
  if (fk.refColumns.length === 0) {
    if (parent.pkeyName === "") throw new PgError("invalid_foreign_key", `there is no primary key for referenced table "${parent.name}"`);
    refIds = parent.primaryIndex.columns.map((c) => c.columnId);
  } else {
    refIds = fk.refColumns.map((n) => {
      const c = parent.columns.find((x) => x.name === n);
      if (c === undefined) throw new PgError("undefined_column", `column "${n}" referenced in foreign key constraint does not exist`);
      return c.id;
    });
  }
  if (refIds.length !== colIds.length) throw new PgError("invalid_foreign_key", "number of referencing and referenced columns for foreign key disagree");
  // A partial unique index does not make its columns a key of the whole table (PostgreSQL: 42830).
  const hasUnique = [parent.primaryIndex, ...parent.indexes].some(
    (ix) => (ix.primary ? parent.pkeyName !== "" : ix.unique && ix.predicate === undefined) && ix.columns.length === refIds.length && ix.columns.every((c, i) => c.columnId === refIds[i]),
  );
  if (!hasUnique) throw new PgError("invalid_foreign_key", `there is no unique constraint matching given keys for referenced table "${parent.name}"`);
  return {
    name: fk.name ?? `${table.name}_${fk.columns.join("_")}_fkey`,
    columnIds: colIds,
    refTableId: parent.id,
    refColumnIds: refIds,
    onDelete: fk.onDelete,
    onUpdate: fk.onUpdate,
  };
}

/**
 * A generation expression may use only the table's ordinary columns (Postgres: 42P17 for another
 * generated column); the rest (types, immutability of functions) is checked when it is bound.
 */
function checkGenerationExpressions(columns: readonly ColumnDesc[]): void {
  const generated = new Set(columns.filter((c) => c.generated !== undefined).map((c) => c.name));
  for (const c of columns) {
    if (c.generated === undefined) continue;
    const bad = columnsNamedIn(c.generated).find((r) => generated.has(r));
    if (bad !== undefined) throw new PgError("invalid_object_definition", `cannot use generated column "${bad}" in column generation expression`, { detail: "A generated column cannot reference another generated column." });
  }
}

/**
 * One column of a new table: its type (serial types make an integer column with its own
 * sequence), nullability, default, identity and generation expression; the constraints that
 * name other things (keys, checks, references) are the caller's. Sequences made go to `sequences`.
 */
async function columnOf(env: DdlEnv, target: CreationTarget, tableName: string, tableId: number, columnId: number, def: ColumnDefinition, columns: readonly ColumnDesc[], sequences: SequenceDesc[]): Promise<ColumnDesc> {
  const colname = def.name;
  if (columns.some((c) => c.name === colname)) throw new PgError("duplicate_column", `column "${colname}" specified more than once`);
  const serialKind = def.serial ?? undefined;
  const type = serialKind ?? bindTypeRef(def.type, env);
  const col: ColumnDesc = { id: columnId, name: colname, type: storedTypeOf(type), nullable: true, defaultExpr: null, hidden: false, identity: "" };
  if (serialKind !== undefined) {
    const seqName = `${tableName}_${colname}_seq`;
    sequences.push(newSequence(await target.allocateId(), target.schema.id, seqName, serialKind, [tableId, col.id]));
    col.defaultExpr = storedNextval(ownSequenceName(target, seqName));
    col.nullable = false;
  }
  for (const c of def.constraints) {
    switch (c.kind) {
      case "not-null":
        col.nullable = false;
        break;
      case "default":
        col.defaultExpr = c.expr;
        break;
      case "identity": {
        const own = identitySequence(env, target, tableName, `${tableName}_${colname}_seq`, c.options);
        sequences.push(newSequence(await target.allocateId(), own.schema.id, own.name, type, [tableId, col.id], own.options));
        col.defaultExpr = storedNextval(own.qualifiedName);
        col.nullable = false;
        col.identity = c.always ? "a" : "d";
        break;
      }
      case "generated":
        if (col.generated !== undefined) throw new PgError("syntax_error", `multiple generation clauses specified for column "${colname}" of table "${tableName}"`);
        col.generated = c.expr;
        break;
      default:
        break;
    }
  }
  if (col.generated !== undefined && col.defaultExpr !== null) {
    throw new PgError("syntax_error", `both ${col.identity !== "" ? "identity" : "default"} and generation expression specified for column "${colname}" of table "${tableName}"`);
  }
  return col;
}

export async function createTable(env: DdlEnv, cmd: CreateTableCommand): Promise<DdlChange> {
  const name = cmd.relation.name;
  const target = creationTarget(env, cmd.relation);
  const schema = target.schema;
  const onCommit = onCommitOf(cmd.onCommit, target.temp);
  const existing = env.catalog.relationIn(schema.id, name);
  if (existing !== undefined && cmd.ifNotExists) return { changed: [], removed: [], tag: "CREATE TABLE" };
  if (cmd.inherits) throw new PgError("feature_not_supported", "table inheritance is not supported");
  const id = await target.allocateId();
  const columns: ColumnDesc[] = [];
  const sequences: SequenceDesc[] = [];
  let pkCols: readonly string[] | null = null;
  let pkName: string | null = null;
  const uniques: Array<{ name: string | null; cols: readonly string[] }> = [];
  const checks: Array<{ name: string | null; expr: string; col: string | null }> = [];
  const fks: ForeignKeyRef[] = [];
  let nextColumnId = 1;
  for (const elt of cmd.elements) {
    if (elt.kind === "column") {
      const col = await columnOf(env, target, name, id, nextColumnId++, elt.column, columns, sequences);
      for (const c of elt.column.constraints) {
        switch (c.kind) {
          case "primary-key":
            if (pkCols !== null) throw new PgError("invalid_table_definition", `multiple primary keys for table "${name}" are not allowed`);
            pkCols = [col.name];
            pkName = c.name;
            break;
          case "unique":
            uniques.push({ name: c.name, cols: [col.name] });
            break;
          case "check":
            checks.push({ name: c.name, expr: c.expr, col: col.name });
            break;
          case "foreign-key":
            fks.push(c.fk);
            break;
          default:
            break;
        }
      }
      columns.push(col);
    } else if (elt.kind === "constraint") {
      const body = elt.constraint;
      switch (body.kind) {
        case "primary-key":
          if (pkCols !== null) throw new PgError("invalid_table_definition", `multiple primary keys for table "${name}" are not allowed`);
          pkCols = body.columns;
          pkName = body.name;
          break;
        case "unique":
          uniques.push({ name: body.name, cols: body.columns });
          break;
        case "check":
          checks.push({ name: body.name, expr: body.expr, col: null });
          break;
        case "foreign-key":
          fks.push(body.fk);
          break;
        case "unsupported":
          throw new PgError("feature_not_supported", `constraint ${body.contype} is not supported`);
      }
    } else {
      throw new PgError("feature_not_supported", `${elt.node} in CREATE TABLE is not supported`);
    }
  }
  const colId = (n: string): number => {
    const c = columns.find((x) => x.name === n);
    if (c === undefined) throw new PgError("undefined_column", `column "${n}" named in key does not exist`);
    return c.id;
  };
  let primaryIndex: IndexDesc;
  let pkeyName = "";
  if (pkCols !== null) {
    const cols: readonly string[] = pkCols;
    const ids = cols.map(colId);
    for (const c of columns) if (ids.includes(c.id)) c.nullable = false;
    pkeyName = pkName ?? `${name}_pkey`;
    primaryIndex = { id: 1, name: pkeyName, unique: true, primary: true, columns: ids.map((id) => ({ columnId: id, desc: false })) };
  } else {
    const rowid: ColumnDesc = { id: nextColumnId++, name: "rowid", type: { oid: Oid.int8, typmod: -1 }, nullable: false, defaultExpr: null, hidden: true, identity: "" };
    columns.push(rowid);
    primaryIndex = { id: 1, name: "", unique: true, primary: true, columns: [{ columnId: rowid.id, desc: false }] };
  }
  const indexes: IndexDesc[] = [];
  let nextIndexId = 2;
  for (const u of uniques) {
    const cols = u.cols.map(colId);
    if (primaryIndex.columns.length === cols.length && primaryIndex.columns.every((c, i) => c.columnId === cols[i]) && pkeyName !== "") continue;
    indexes.push({ id: nextIndexId++, name: u.name ?? `${name}_${u.cols.join("_")}_key`, unique: true, primary: false, columns: cols.map((c) => ({ columnId: c, desc: false })), constraint: true });
  }
  // PostgreSQL finds the name taken only after it has checked the columns, their types and the
  // keys' column names (42701, 42704, 42703 come first), and before CHECK and REFERENCES.
  if (existing !== undefined) throw new PgError("duplicate_table", `relation "${name}" already exists`);
  const checkDescs = checks.map((c, i) => ({
    name: c.name ?? (c.col !== null ? `${name}_${c.col}_check` : `${name}_check${i === 0 ? "" : i}`),
    expr: c.expr,
  }));
  checkGenerationExpressions(columns);
  const table: TableDesc = {
    kind: "table",
    id,
    name,
    schemaId: schema.id,
    version: 1,
    columns,
    nextColumnId,
    primaryIndex,
    indexes,
    nextIndexId,
    checks: checkDescs,
    foreignKeys: [],
    pkeyName,
    options: {},
  };
  if (onCommit !== undefined) table.onCommit = onCommit;
  if (columns.some((c) => c.generated !== undefined)) env.bindGenerated?.(table);
  table.foreignKeys = fks.map((fk) => resolveFk(env, table, fk, true));
  for (const o of cmd.options) table.options[o.name] = optInt(o.value);
  return { changed: [...target.newSchemas, table, ...sequences], removed: [], tag: "CREATE TABLE" };
}

/**
 * CREATE TABLE … AS / SELECT … INTO: a table (with a hidden row id) whose columns are a query's
 * output columns. `rel` is the new table's name (TEMP said or not), `oncommit` its ON COMMIT.
 */
export async function createTableFromColumns(env: DdlEnv, rel: RelationName, cols: Array<{ name: string; type: SqlType }>, ifNotExists: boolean, oncommit: OnCommit): Promise<DdlChange & { table: TableDesc | null }> {
  const name = rel.name;
  const target = creationTarget(env, rel);
  const schema = target.schema;
  const onCommit = onCommitOf(oncommit, target.temp);
  if (env.catalog.relationIn(schema.id, name) !== undefined) {
    if (ifNotExists) return { changed: [], removed: [], tag: "CREATE TABLE AS", table: null };
    throw new PgError("duplicate_table", `relation "${name}" already exists`);
  }
  const seen = new Set<string>();
  const columns: ColumnDesc[] = cols.map((c, i) => {
    if (seen.has(c.name)) throw new PgError("duplicate_column", `column "${c.name}" specified more than once`);
    seen.add(c.name);
    const t = c.type.oid === Oid.unknown ? Types.text : c.type;
    return { id: i + 1, name: c.name, type: storedTypeOf(t), nullable: true, defaultExpr: null, hidden: false, identity: "" };
  });
  const rowid: ColumnDesc = { id: columns.length + 1, name: "rowid", type: { oid: Oid.int8, typmod: -1 }, nullable: false, defaultExpr: null, hidden: true, identity: "" };
  const table: TableDesc = {
    kind: "table",
    id: await target.allocateId(),
    name,
    schemaId: schema.id,
    version: 1,
    columns: [...columns, rowid],
    nextColumnId: columns.length + 2,
    primaryIndex: { id: 1, name: "", unique: true, primary: true, columns: [{ columnId: rowid.id, desc: false }] },
    indexes: [],
    nextIndexId: 2,
    checks: [],
    foreignKeys: [],
    pkeyName: "",
    options: {},
  };
  if (onCommit !== undefined) table.onCommit = onCommit;
  return { changed: [...target.newSchemas, table], removed: [], tag: "CREATE TABLE AS", table };
}

/** True for the session's temporary schema (its objects are temporary). */
export function isTempSchema(s: SchemaDesc): boolean {
  return s.id === TEMP_SCHEMA_ID;
}
