// The in-memory catalog snapshot (catalog.ts): name resolution as Postgres does it (search_path,
// the session's temporary schema first), the temporary overlay, and snapshots with changes; plus
// the OID mapping clients see (oids.ts) and the catalog's keys (keyspace.ts).
import { describe, expect, it } from "vitest";
import { compareBytes, prefixEnd } from "../../../common/bytes.ts";
import { tenantSpan } from "../../../common/tenant-prefix.ts";
import { TEMP_TABLE_ID_END, TEMP_TABLE_ID_MIN } from "../keys/doc.ts";
import { Catalog, PG_TEMP_ALIAS } from "./catalog.ts";
import { PUBLIC_SCHEMA_ID, TEMP_SCHEMA_ID, type Descriptor, type SchemaDesc, type TableDesc, type TypeDesc } from "./descriptors.ts";
import { decodeI64, decodeU64, encodeI64, encodeU64, Keyspace } from "./keyspace.ts";
import { CONSTRAINTS_PER_TABLE_MAX, constraintOid, descIdOfOid, ENUM_LABELS_MAX, enumLabelOid, FIRST_NORMAL_OID, INDEX_ID_MAX, indexOfOid, indexOid, namespaceOid, relationOid } from "./oids.ts";

function table(id: number, name: string, schemaId = PUBLIC_SCHEMA_ID, extra: Partial<TableDesc> = {}): TableDesc {
  return {
    kind: "table", id, name, version: 1, schemaId,
    columns: [{ id: 1, name: "id", type: { oid: 23, typmod: -1 }, nullable: false, defaultExpr: null, hidden: false, identity: "" }],
    nextColumnId: 2,
    primaryIndex: { id: 1, name: `${name}_pkey`, unique: true, primary: true, columns: [{ columnId: 1, desc: false }] },
    indexes: [], nextIndexId: 2, checks: [], foreignKeys: [], pkeyName: `${name}_pkey`, options: {},
    ...extra,
  };
}
const schema = (id: number, name: string): SchemaDesc => ({ kind: "schema", id, name, version: 1 });
const enumType = (id: number, name: string, schemaId = PUBLIC_SCHEMA_ID): TypeDesc => ({ kind: "type", id, name, version: 1, schemaId, labels: ["a"], sortOrders: [1] });
const tempSchema = (): SchemaDesc => schema(TEMP_SCHEMA_ID, "pg_temp_3");

describe("Catalog name resolution", () => {
  const app = schema(100, "app");
  const cat = new Catalog(7, [app, table(101, "t"), table(102, "t", app.id), table(103, "only_app", app.id), enumType(104, "mood")]);

  it("has the built-in schemas and the stored descriptors, but lists only the stored ones", () => {
    expect(cat.version).toBe(7);
    expect(cat.schema("public")?.id).toBe(PUBLIC_SCHEMA_ID);
    expect(cat.schema("pg_catalog")).toBeDefined();
    expect(cat.descriptors().map((d) => d.id).sort()).toEqual([100, 101, 102, 103, 104]);
  });

  it("searches the search_path in order; a qualified name looks in its schema only", () => {
    expect(cat.resolveRelation(["t"], ["public", "app"])?.id).toBe(101);
    expect(cat.resolveRelation(["t"], ["app", "public"])?.id).toBe(102);
    expect(cat.resolveRelation(["only_app"], ["public"])).toBeUndefined();
    expect(cat.resolveRelation(["app", "only_app"], ["public"])?.id).toBe(103);
    expect(cat.resolveRelation(["nosuch", "t"], ["public"])).toBeUndefined();
    expect(cat.resolveRelation(["t"], ["nosuch", "app"])?.id).toBe(102); // a missing schema is skipped
  });

  it("indexes and types live in their own namespaces", () => {
    expect(cat.resolveIndex(["t_pkey"], ["app"])?.table.id).toBe(102);
    expect(cat.resolveType(["mood"], ["public"])?.id).toBe(104);
    expect(cat.resolveRelation(["mood"], ["public"])).toBeUndefined();
  });

  it("creates in the first existing schema of the search_path; 3F000 when there is none", () => {
    expect(cat.creationSchema(["x"], ["nosuch", "app"]).id).toBe(100);
    expect(cat.creationSchema(["public", "x"], ["app"]).id).toBe(PUBLIC_SCHEMA_ID);
    expect(() => cat.creationSchema(["x"], ["nosuch"])).toThrow(expect.objectContaining({ code: "3F000" }));
    expect(() => cat.creationSchema(["nosuch", "x"], ["public"])).toThrow(expect.objectContaining({ code: "3F000" }));
  });

  it("table(id) refuses an id that is not a table with 42P01", () => {
    expect(cat.table(101).name).toBe("t");
    expect(() => cat.table(104)).toThrow(expect.objectContaining({ code: "42P01" }));
    expect(() => cat.table(999)).toThrow(expect.objectContaining({ code: "42P01" }));
  });

  it("finds the tables whose foreign keys reference a table", () => {
    const child = table(110, "child", PUBLIC_SCHEMA_ID, {
      foreignKeys: [{ name: "fk", columnIds: [1], refTableId: 101, refColumnIds: [1], onDelete: "a", onUpdate: "a" }],
    });
    const c = new Catalog(1, [table(101, "t"), child]);
    expect(c.referencing(101).map((t) => t.id)).toEqual([110]);
    expect(c.referencing(110)).toEqual([]);
  });
});

describe("Catalog temporary objects", () => {
  const base = new Catalog(3, [table(101, "t")]);
  const temp: Descriptor[] = [tempSchema(), table(TEMP_TABLE_ID_MIN, "t", TEMP_SCHEMA_ID)];

  it("the session's temporary schema is searched first unless search_path names it", () => {
    const c = base.withTemp(temp);
    expect(c.resolveRelation(["t"], ["public"])?.id).toBe(TEMP_TABLE_ID_MIN);
    expect(c.resolveRelation(["t"], ["public", PG_TEMP_ALIAS])?.id).toBe(101);
    expect(c.resolveRelation([PG_TEMP_ALIAS, "t"], ["public"])?.id).toBe(TEMP_TABLE_ID_MIN);
    // Not a creation target unless named.
    expect(c.creationSchema(["x"], ["public"]).id).toBe(PUBLIC_SCHEMA_ID);
  });

  it("withTemp replaces the overlay and withTemp([]) removes it; the base is unchanged", () => {
    const c = base.withTemp(temp);
    expect(c.tempDescriptors().map((d) => d.id).sort()).toEqual([TEMP_SCHEMA_ID, TEMP_TABLE_ID_MIN]);
    expect(c.version).toBe(3);
    const stripped = c.withTemp([]);
    expect(stripped.tempDescriptors()).toEqual([]);
    expect(stripped.resolveRelation(["t"], ["public"])?.id).toBe(101);
    expect(base.tempDescriptors()).toEqual([]);
    expect(base.withTemp([])).toBe(base); // nothing to strip: the same snapshot
  });
});

describe("Catalog.withChanges", () => {
  it("replaces, adds and removes descriptors in a new snapshot at the new version", () => {
    const c1 = new Catalog(1, [table(101, "a"), table(102, "b")]);
    const c2 = c1.withChanges(2, [table(101, "a2"), table(103, "c")], [102]);
    expect(c2.version).toBe(2);
    expect(c2.descriptors().map((d) => d.name).sort()).toEqual(["a2", "c"]);
    expect(c2.resolveRelation(["a"], ["public"])).toBeUndefined();
    expect(c2.resolveRelation(["b"], ["public"])).toBeUndefined();
    expect(c1.resolveRelation(["b"], ["public"])?.id).toBe(102); // snapshots are immutable
    expect(c2.schema("public")?.id).toBe(PUBLIC_SCHEMA_ID);
  });
});

describe("OIDs", () => {
  it("relation and index OIDs round-trip and never collide", () => {
    for (const id of [0, 1, 100, TEMP_TABLE_ID_MIN]) {
      expect(relationOid(id)).toBe(FIRST_NORMAL_OID + id);
      expect(descIdOfOid(relationOid(id))).toBe(id);
      expect(indexOfOid(relationOid(id))).toBeNull();
    }
    for (const [t, i] of [[100, 1], [100, INDEX_ID_MAX], [TEMP_TABLE_ID_MIN, 2]] as const) {
      expect(indexOfOid(indexOid(t, i))).toEqual([t, i]);
      expect(descIdOfOid(indexOid(t, i))).toBeNull();
    }
    expect(descIdOfOid(FIRST_NORMAL_OID - 1)).toBeNull();
    // Postgres's oid is 32-bit unsigned: the last slot of the last block still fits.
    expect(constraintOid(TEMP_TABLE_ID_END - 1, CONSTRAINTS_PER_TABLE_MAX - 1)).toBeLessThan(2 ** 32);
    expect(indexOfOid(constraintOid(100, 0))).toBeNull();
    expect(indexOid(100, INDEX_ID_MAX)).toBeLessThan(constraintOid(100, 0));
    expect(constraintOid(100, CONSTRAINTS_PER_TABLE_MAX - 1)).toBeLessThan(indexOid(101, 0));
  });

  // Index OIDs of temporary tables (ids from 2,000,000) once reached the block where pg_enum label
  // OIDs started, and high enum ids ran past 2^32; each descriptor now owns one block (oids.ts).
  it("index OIDs of temporary tables stay clear of pg_enum OIDs", () => {
    // Enum 150 and 1,999,999 (a descriptor is a table or an enum, never both: ids are unique).
    const labels = new Set([150, TEMP_TABLE_ID_MIN - 1].flatMap((id) => [0, 1, ENUM_LABELS_MAX - 1].map((i) => enumLabelOid(id, i))));
    for (const t of [100, 101, TEMP_TABLE_ID_MIN, TEMP_TABLE_ID_MIN + 100, TEMP_TABLE_ID_END - 1]) {
      for (const i of [1, 2, INDEX_ID_MAX]) expect(labels.has(indexOid(t, i))).toBe(false);
      for (const n of [0, CONSTRAINTS_PER_TABLE_MAX - 1]) expect(labels.has(constraintOid(t, n))).toBe(false);
    }
    for (const l of labels) expect(l).toBeLessThan(2 ** 32);
  });

  it("built-in schemas keep Postgres's namespace OIDs", () => {
    expect(namespaceOid(11)).toBe(11);
    expect(namespaceOid(PUBLIC_SCHEMA_ID)).toBe(2200);
    expect(namespaceOid(100)).toBe(FIRST_NORMAL_OID + 100);
  });
});

describe("Keyspace", () => {
  const ks = new Keyspace(42);
  const span = tenantSpan(42);
  const inSpan = (k: Uint8Array, s: { start: Uint8Array; end: Uint8Array }) => compareBytes(k, s.start) >= 0 && compareBytes(k, s.end) < 0;

  it("every catalog key is inside the tenant's span; descriptor keys inside the descriptors span, the version key outside it", () => {
    const descs = { start: ks.descriptorsPrefix(), end: prefixEnd(ks.descriptorsPrefix()) };
    for (const k of [ks.versionKey(), ks.nextIdKey(), ks.descriptorKey(100), ks.sequenceKey(100), ks.tablePrefix(100), ks.indexPrefix(100, 2)]) expect(inSpan(k, span)).toBe(true);
    expect(inSpan(ks.descriptorKey(100), descs)).toBe(true);
    expect(inSpan(ks.descriptorKey(TEMP_TABLE_ID_MIN - 1), descs)).toBe(true);
    expect(inSpan(ks.versionKey(), descs)).toBe(false);
    expect(inSpan(ks.nextIdKey(), descs)).toBe(false);
    expect(inSpan(ks.indexPrefix(100, 2), { start: ks.tablePrefix(100), end: prefixEnd(ks.tablePrefix(100)) })).toBe(true);
  });

  it("descriptor keys sort by id", () => {
    expect(compareBytes(ks.descriptorKey(100), ks.descriptorKey(101))).toBeLessThan(0);
    expect(compareBytes(ks.descriptorKey(255), ks.descriptorKey(256))).toBeLessThan(0);
  });

  it("u64 and i64 values round-trip big-endian; a missing u64 reads as 0", () => {
    expect(Array.from(encodeU64(258n))).toEqual([0, 0, 0, 0, 0, 0, 1, 2]);
    expect(decodeU64(encodeU64(2n ** 64n - 1n))).toBe(2n ** 64n - 1n);
    expect(decodeU64(null)).toBe(0n);
    for (const v of [-(2n ** 63n), -1n, 0n, 2n ** 63n - 1n]) expect(decodeI64(encodeI64(v))).toBe(v);
  });
});
