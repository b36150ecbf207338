// An immutable snapshot of a tenant's catalog at one catalog version, with name lookup. DDL makes a
// new snapshot (`withChanges`) that the transaction uses until it commits; every statement checks
// that its snapshot is still the current one (catalog/catalog-store.ts).
import { PgError } from "../../../common/errors.ts";
import {
  type Descriptor,
  type IndexDesc,
  type RelationDesc,
  type SchemaDesc,
  type TableDesc,
  type TypeDesc,
  type FunctionDesc,
  INFORMATION_SCHEMA_ID,
  isTemp,
  PG_CATALOG_SCHEMA_ID,
  PUBLIC_SCHEMA_ID,
  TEMP_SCHEMA_ID,
} from "./descriptors.ts";

/** The alias of the session's temporary schema in names and in search_path. */
export const PG_TEMP_ALIAS = "pg_temp";

const BUILTIN_SCHEMAS: SchemaDesc[] = [
  { kind: "schema", id: PUBLIC_SCHEMA_ID, name: "public", version: 1 },
  { kind: "schema", id: PG_CATALOG_SCHEMA_ID, name: "pg_catalog", version: 1 },
  { kind: "schema", id: INFORMATION_SCHEMA_ID, name: "information_schema", version: 1 },
];

export class Catalog {
  readonly version: number;
  /** The session's temporary schema (pg_temp_N), when it has created one. */
  tempSchema: SchemaDesc | undefined;
  private readonly byId = new Map<number, Descriptor>();
  private readonly relByName = new Map<string, RelationDesc>();
  private readonly schemaByName = new Map<string, SchemaDesc>();
  private readonly indexByName = new Map<string, { table: TableDesc; index: IndexDesc }>();
  /** User-defined types by "schemaId.name" (pg_type names are apart from pg_class names). */
  private readonly typeByName = new Map<string, TypeDesc>();
  /** User-defined functions by "schemaId.name": every overload of that name. */
  private readonly functionsByName = new Map<string, FunctionDesc[]>();

  constructor(version: number, descs: Iterable<Descriptor>) {
    this.version = version;
    for (const s of BUILTIN_SCHEMAS) this.add(s);
    for (const d of descs) this.add(d);
  }

  private add(d: Descriptor): void {
    this.byId.set(d.id, d);
    if (d.kind === "schema") {
      this.schemaByName.set(d.name, d);
      if (d.id === TEMP_SCHEMA_ID) this.tempSchema = d;
    } else if (d.kind === "type") {
      this.typeByName.set(`${d.schemaId}.${d.name}`, d);
    } else if (d.kind === "function") {
      const key = `${d.schemaId}.${d.name}`;
      this.functionsByName.set(key, [...(this.functionsByName.get(key) ?? []), d]);
    } else {
      this.relByName.set(`${d.schemaId}.${d.name}`, d);
      if (d.kind === "table") {
        for (const ix of [d.primaryIndex, ...d.indexes]) {
          if (ix.name !== "") this.indexByName.set(`${d.schemaId}.${ix.name}`, { table: d, index: ix });
        }
      }
    }
  }

  get(id: number): Descriptor | undefined {
    return this.byId.get(id);
  }

  table(id: number): TableDesc {
    const d = this.byId.get(id);
    if (d === undefined || d.kind !== "table") throw new PgError("undefined_table", `relation with id ${id} does not exist`);
    return d;
  }

  descriptors(): Descriptor[] {
    return [...this.byId.values()].filter((d) => !BUILTIN_SCHEMAS.some((b) => b.id === d.id));
  }

  /** A schema by name; `pg_temp` is the session's temporary schema. */
  schema(name: string): SchemaDesc | undefined {
    if (name === PG_TEMP_ALIAS) return this.tempSchema;
    return this.schemaByName.get(name);
  }

  /** The session's temporary objects (its pg_temp_N schema and what is in it). */
  tempDescriptors(): Descriptor[] {
    return this.tempSchema === undefined ? [] : this.descriptors().filter(isTemp);
  }

  /** This catalog with the temporary objects replaced by `temp` (a session's overlay). */
  withTemp(temp: readonly Descriptor[]): Catalog {
    if (temp.length === 0 && this.tempSchema === undefined) return this;
    return new Catalog(this.version, [...this.descriptors().filter((d) => !isTemp(d)), ...temp]);
  }

  relationIn(schemaId: number, name: string): RelationDesc | undefined {
    return this.relByName.get(`${schemaId}.${name}`);
  }

  typeIn(schemaId: number, name: string): TypeDesc | undefined {
    return this.typeByName.get(`${schemaId}.${name}`);
  }

  /** Overloads of a user-defined function in one schema. */
  functionsIn(schemaId: number, name: string): FunctionDesc[] {
    return this.functionsByName.get(`${schemaId}.${name}`) ?? [];
  }

  /** Every user-defined function. */
  functions(): FunctionDesc[] {
    return [...this.functionsByName.values()].flat();
  }

  /**
   * The overloads [schema.]name resolves to: the named schema's, or those of the first schema on
   * the search path that has any (built-in functions are tried by the caller first).
   */
  resolveFunctions(names: readonly string[], searchPath: readonly string[]): FunctionDesc[] {
    if (names.length >= 2) {
      const s = this.schema(names[names.length - 2]!);
      return s === undefined ? [] : this.functionsIn(s.id, names[names.length - 1]!);
    }
    for (const s of this.searchSchemas(searchPath)) {
      const f = this.functionsIn(s.id, names[0]!);
      if (f.length > 0) return f;
    }
    return [];
  }

  /** Every user-defined type. */
  types(): TypeDesc[] {
    return [...this.typeByName.values()];
  }

  /**
   * Resolves [schema.]name to a user-defined type; undefined when there is none. Unqualified
   * names are searched as Postgres searches types: pg_catalog's built-in types come first (the
   * caller tries those before asking here), then the search_path's schemas.
   */
  resolveType(names: readonly string[], searchPath: readonly string[]): TypeDesc | undefined {
    if (names.length >= 2) {
      const s = this.schema(names[names.length - 2]!);
      return s === undefined ? undefined : this.typeIn(s.id, names[names.length - 1]!);
    }
    for (const s of this.searchSchemas(searchPath)) {
      const t = this.typeIn(s.id, names[0]!);
      if (t !== undefined) return t;
    }
    return undefined;
  }

  indexIn(schemaId: number, name: string): { table: TableDesc; index: IndexDesc } | undefined {
    return this.indexByName.get(`${schemaId}.${name}`);
  }

  /**
   * Schemas searched for an unqualified relation name, as Postgres searches them: the session's
   * temporary schema first unless search_path names it (as pg_temp or pg_temp_N) elsewhere, then
   * the search_path's existing schemas in order.
   */
  searchSchemas(searchPath: readonly string[]): SchemaDesc[] {
    const out: SchemaDesc[] = [];
    const temp = this.tempSchema;
    if (temp !== undefined && !searchPath.some((n) => n === PG_TEMP_ALIAS || n === temp.name)) out.push(temp);
    for (const n of searchPath) {
      const s = this.schema(n);
      if (s !== undefined && !out.includes(s)) out.push(s);
    }
    return out;
  }

  /** Resolves [schema.]name to a relation; undefined when it does not exist. */
  resolveRelation(names: readonly string[], searchPath: readonly string[]): RelationDesc | undefined {
    if (names.length >= 2) {
      const s = this.schema(names[names.length - 2]!);
      return s === undefined ? undefined : this.relationIn(s.id, names[names.length - 1]!);
    }
    for (const s of this.searchSchemas(searchPath)) {
      const r = this.relationIn(s.id, names[0]!);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  resolveIndex(names: readonly string[], searchPath: readonly string[]): { table: TableDesc; index: IndexDesc } | undefined {
    if (names.length >= 2) {
      const s = this.schema(names[names.length - 2]!);
      return s === undefined ? undefined : this.indexIn(s.id, names[names.length - 1]!);
    }
    for (const s of this.searchSchemas(searchPath)) {
      const r = this.indexIn(s.id, names[0]!);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /**
   * The schema new objects go to: the named one, else the first existing schema the search_path
   * names (the implicitly searched temporary schema is not a creation target, as in Postgres).
   */
  creationSchema(names: readonly string[], searchPath: readonly string[]): SchemaDesc {
    if (names.length >= 2) {
      const n = names[names.length - 2]!;
      const s = this.schema(n);
      if (s === undefined) throw new PgError("invalid_schema_name", `schema "${n}" does not exist`);
      return s;
    }
    for (const n of searchPath) {
      const s = this.schema(n);
      if (s !== undefined) return s;
    }
    throw new PgError("invalid_schema_name", "no schema has been selected to create in");
  }

  /** Tables whose foreign keys reference `tableId`. */
  referencing(tableId: number): TableDesc[] {
    const out: TableDesc[] = [];
    for (const d of this.byId.values()) {
      if (d.kind === "table" && d.foreignKeys.some((fk) => fk.refTableId === tableId)) out.push(d);
    }
    return out;
  }

  /** A new snapshot with descriptors replaced or added, and some removed. */
  withChanges(version: number, changed: Descriptor[], removedIds: number[]): Catalog {
    const keep = new Map(this.byId);
    for (const id of removedIds) keep.delete(id);
    for (const d of changed) keep.set(d.id, d);
    for (const b of BUILTIN_SCHEMAS) keep.delete(b.id);
    return new Catalog(version, keep.values());
  }
}
