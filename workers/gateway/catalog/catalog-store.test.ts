// CatalogStore over the in-memory KV through real transactions: what DDL writes is what the next
// load reads, the version check catches a schema change made after a statement was planned, id
// allocation is transactional, and the shared snapshot never carries a session's temporary objects.
import { describe, expect, it } from "vitest";
import { KvClient } from "../kv/kv-client.ts";
import { MemoryKv } from "../kv/memory-kv.ts";
import { TEMP_TABLE_ID_MIN } from "../keys/doc.ts";
import { Txn } from "../txn/txn.ts";
import { CatalogStore, forgetSharedCatalog, prefetchSharedCatalog, StaleCatalog } from "./catalog-store.ts";
import { FIRST_USER_DESC_ID, PUBLIC_SCHEMA_ID, TEMP_SCHEMA_ID, type Descriptor, type SchemaDesc, type TableDesc } from "./descriptors.ts";
import { Keyspace } from "./keyspace.ts";
import { descriptorUpgrade } from "../sql/bind/stored-sql.ts";

let nextTenant = 5000;

function table(id: number, name: string, schemaId = PUBLIC_SCHEMA_ID): TableDesc {
  return {
    kind: "table", id, name, version: 1, schemaId,
    columns: [{ id: 1, name: "id", type: { oid: 23, typmod: -1 }, nullable: false, defaultExpr: null, hidden: false, identity: "" }],
    nextColumnId: 2,
    primaryIndex: { id: 1, name: `${name}_pkey`, unique: true, primary: true, columns: [{ columnId: 1, desc: false }] },
    indexes: [], nextIndexId: 2, checks: [], foreignKeys: [], pkeyName: `${name}_pkey`, options: {},
  };
}

function setup() {
  const tenantId = nextTenant++;
  const kv = new KvClient(new MemoryKv());
  const store = () => new CatalogStore(tenantId, new Keyspace(tenantId), descriptorUpgrade);
  return { tenantId, kv, store };
}

/** One DDL transaction: allocate an id, write a table under it, bump the version. */
async function createTable(kv: KvClient, store: CatalogStore, name: string, version: number): Promise<number> {
  const txn = new Txn(kv);
  const id = await store.allocateId(txn);
  store.writeDescriptor(txn, table(id, name));
  store.writeVersion(txn, version);
  await txn.commit();
  return id;
}

describe("CatalogStore", () => {
  it("an empty tenant loads version 0 with no stored descriptors", async () => {
    const { kv, store } = setup();
    const c = await store().load(new Txn(kv));
    expect(c.version).toBe(0);
    expect(c.descriptors()).toEqual([]);
    expect(c.schema("public")).toBeDefined();
  });

  it("what a DDL transaction writes, another session's load reads; ids start at FIRST_USER_DESC_ID and grow", async () => {
    const { kv, store } = setup();
    const a = store();
    const id1 = await createTable(kv, a, "one", 1);
    const id2 = await createTable(kv, a, "two", 2);
    expect(id1).toBe(FIRST_USER_DESC_ID);
    expect(id2).toBe(id1 + 1);
    const c = await store().load(new Txn(kv));
    expect(c.version).toBe(2);
    expect(c.resolveRelation(["two"], ["public"])?.id).toBe(id2);
    // Deleting a descriptor removes it from the next load.
    const txn = new Txn(kv);
    a.deleteDescriptor(txn, id1);
    a.writeVersion(txn, 3);
    await txn.commit();
    const after = await store().load(new Txn(kv));
    expect(after.descriptors().map((d) => d.id)).toEqual([id2]);
  });

  it("loadOwn sees the transaction's own uncommitted changes; load at its snapshot does not", async () => {
    const { kv, store } = setup();
    const s = store();
    const txn = new Txn(kv);
    const id = await s.allocateId(txn);
    s.writeDescriptor(txn, table(id, "mine"));
    s.writeVersion(txn, 1);
    const own = await s.loadOwn(txn);
    expect(own.version).toBe(1);
    expect(own.resolveRelation(["mine"], ["public"])?.id).toBe(id);
    const other = await store().load(new Txn(kv));
    expect(other.resolveRelation(["mine"], ["public"])).toBeUndefined();
  });

  it("two transactions allocating ids concurrently: the second commit conflicts (40001)", async () => {
    const { kv, store } = setup();
    const s = store();
    const t1 = new Txn(kv);
    const t2 = new Txn(kv);
    const id1 = await s.allocateId(t1);
    const id2 = await s.allocateId(t2);
    expect(id1).toBe(id2); // same snapshot, same counter
    await t1.commit();
    await expect(t2.commit()).rejects.toMatchObject({ code: "40001" });
  });

  it("armCheck: a schema change committed after planning stops the next read with StaleCatalog", async () => {
    const { kv, store } = setup();
    const s = store();
    await createTable(kv, s, "one", 1);
    const planned = await s.load(new Txn(kv));
    await createTable(kv, store(), "two", 2); // another session's DDL
    const txn = new Txn(kv);
    s.armCheck(txn, planned);
    await expect(txn.get(new Keyspace(s.tenantId).descriptorKey(1))).rejects.toBeInstanceOf(StaleCatalog);
    // Unchanged catalog: the same check passes.
    const current = await s.load(new Txn(kv));
    const ok = new Txn(kv);
    s.armCheck(ok, current);
    await expect(ok.get(new Keyspace(s.tenantId).descriptorKey(1))).resolves.toBeNull();
  });

  it("writeVersion refuses a version that is not a positive integer (XX000)", () => {
    const { kv, store } = setup();
    const txn = new Txn(kv);
    expect(() => store().writeVersion(txn, 0)).toThrow(expect.objectContaining({ code: "XX000" }));
    expect(() => store().writeVersion(txn, 1.5)).toThrow(expect.objectContaining({ code: "XX000" }));
  });

  it("the shared snapshot never holds a session's temporary objects; each session sees its own", async () => {
    const { kv, store } = setup();
    const a = store();
    const b = store();
    await createTable(kv, a, "t", 1);
    const tempSchema: SchemaDesc = { kind: "schema", id: TEMP_SCHEMA_ID, name: "pg_temp_1", version: 1 };
    const temp: Descriptor[] = [tempSchema, table(TEMP_TABLE_ID_MIN, "scratch", TEMP_SCHEMA_ID)];
    a.setTempDescriptors(temp);
    const seenByA = await a.load(new Txn(kv));
    expect(seenByA.resolveRelation(["scratch"], ["public"])?.id).toBe(TEMP_TABLE_ID_MIN);
    a.publish(seenByA);
    expect(a.cached()?.resolveRelation(["scratch"], ["public"])?.id).toBe(TEMP_TABLE_ID_MIN);
    expect(b.cached()?.resolveRelation(["scratch"], ["public"])).toBeUndefined();
    expect(b.cached()?.resolveRelation(["t"], ["public"])).toBeDefined();
    // An older catalog never replaces a newer shared one.
    const older = seenByA.withChanges(0, [], []);
    b.publish(older);
    expect(b.cached()?.version).toBe(1);
    b.invalidate();
    expect(a.cached()).toBeUndefined();
  });

  it("a prefetch loads the shared snapshot once; a session that finds none waits for it instead of loading again", async () => {
    const { tenantId, kv, store } = setup();
    await createTable(kv, store(), "t", 1);
    let loads = 0;
    let finish!: () => void;
    const gate = new Promise<void>((r) => (finish = r));
    const load = async () => {
      loads++;
      await gate;
      const txn = new Txn(kv, { readOnly: true });
      await store().load(txn);
      await txn.rollback();
    };
    const first = prefetchSharedCatalog(tenantId, load);
    const second = prefetchSharedCatalog(tenantId, load);
    expect(loads).toBe(1);
    expect(store().cached()).toBeUndefined();
    const waited = store().prefetched();
    finish();
    const c = await waited;
    expect(c?.version).toBe(1);
    expect(c?.resolveRelation(["t"], ["public"])).toBeDefined();
    await Promise.all([first, second]);
    // Cached now: a further prefetch does nothing; none running: prefetched() answers at once.
    await prefetchSharedCatalog(tenantId, load);
    expect(loads).toBe(1);
    forgetSharedCatalog(tenantId);
    expect(await store().prefetched()).toBeUndefined();
    expect(store().cached()).toBeUndefined();
  });

  it("a failed prefetch leaves no snapshot and does not reject; the session loads the catalog itself", async () => {
    const { tenantId, store } = setup();
    await prefetchSharedCatalog(tenantId, async () => {
      throw new Error("storage unreachable");
    });
    expect(await store().prefetched()).toBeUndefined();
    expect(store().cached()).toBeUndefined();
  });
});
