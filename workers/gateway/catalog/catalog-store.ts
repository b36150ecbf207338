// Loads, caches, revalidates and writes a tenant's catalog in KV.
//
// Caching: one Catalog snapshot per tenant is shared by every session of the isolate. Revalidation
// is cheap: the first read request of each transaction carries one extra get of the catalog
// version key (txn.piggybackGet), so a point lookup stays one round trip. When the version moved,
// the statement stops before acting on anything it read (StaleCatalog), the catalog is reloaded at
// the transaction's snapshot and the statement runs again. A DDL transaction writes the version
// key, so two concurrent schema changes conflict at commit and one of them retries (40001).
import { PgError } from "../../../common/errors.ts";
import type { Txn } from "../txn/txn.ts";
import { Catalog } from "./catalog.ts";
import { decodeDescriptor, DESCRIPTOR_FORMAT, encodeDescriptor, FIRST_USER_DESC_ID, type Descriptor } from "./descriptors.ts";
import { decodeU64, encodeU64, type Keyspace } from "./keyspace.ts";
import { prefixEnd } from "../../../common/bytes.ts";
import { TEMP_TABLE_ID_MIN } from "../keys/doc.ts";

/** Thrown inside a read when the catalog the statement was planned with is no longer current. */
export class StaleCatalog extends Error {
  readonly version: number;
  constructor(version: number) {
    super(`catalog changed to version ${version}`);
    this.name = "StaleCatalog";
    this.version = version;
  }
}

const shared = new Map<number, Catalog>();
/** Loads started ahead of a tenant's first statement (catalog-prefetch.ts), by tenant id. */
const prefetching = new Map<number, Promise<unknown>>();

/**
 * Brings descriptors written in an older format (DESCRIPTOR_FORMAT) to the current one as they are
 * read. The SQL layer supplies it (sql/bind/stored-sql.ts): older formats hold parse trees, which
 * only it knows how to turn into SQL text. `prepare` runs before the first upgrade of a load.
 */
export interface DescriptorUpgrade {
  prepare(): Promise<void>;
  upgrade(d: Descriptor): Descriptor;
}

/** Drops the tenant's shared catalog snapshot (its gateway isolate is released or will serve others). */
export function forgetSharedCatalog(tenantId: number): void {
  shared.delete(tenantId);
  prefetching.delete(tenantId);
}

/**
 * Runs `load` (a CatalogStore.load of the tenant's catalog) unless the snapshot is cached or a
 * prefetch is already running; a session that finds no snapshot waits for it (prefetched()) rather
 * than sending the same read again. Resolves once the load is over (never rejects: a failed
 * prefetch only means the first statement loads the catalog itself).
 */
export function prefetchSharedCatalog(tenantId: number, load: () => Promise<unknown>): Promise<void> {
  if (shared.has(tenantId)) return Promise.resolve();
  let running = prefetching.get(tenantId);
  if (running === undefined) {
    running = load().finally(() => {
      if (prefetching.get(tenantId) === running) prefetching.delete(tenantId);
    });
    prefetching.set(tenantId, running);
  }
  return running.then(
    () => {},
    () => {},
  );
}

/**
 * One per session. The shared snapshot never holds temporary objects: each session lays its own
 * (its committed pg_temp_N schema and what is in it) over every catalog it hands out, and strips
 * them again before publishing a catalog to the other sessions.
 */
export class CatalogStore {
  readonly ks: Keyspace;
  readonly tenantId: number;
  /** The session's committed temporary descriptors. */
  private temp: readonly Descriptor[] = [];
  /** The last overlay made, so statements of a session with temporary objects share one. */
  private overlaid: { base: Catalog; catalog: Catalog } | null = null;

  private readonly upgrade: DescriptorUpgrade;

  constructor(tenantId: number, ks: Keyspace, upgrade: DescriptorUpgrade) {
    this.tenantId = tenantId;
    this.ks = ks;
    this.upgrade = upgrade;
  }

  /** Every descriptor of `descs` in the current format (the same array when all of them are). */
  private async current(descs: Descriptor[]): Promise<Descriptor[]> {
    if (descs.every((d) => d.format === DESCRIPTOR_FORMAT)) return descs;
    await this.upgrade.prepare();
    return descs.map((d) => this.upgrade.upgrade(d));
  }

  /** The session's temporary objects as of its last commit. */
  tempDescriptors(): readonly Descriptor[] {
    return this.temp;
  }

  /** A transaction of the session committed: these are its temporary objects now. */
  setTempDescriptors(temp: readonly Descriptor[]): void {
    this.temp = temp;
    this.overlaid = null;
  }

  /** `base` with the session's temporary objects (`temp`, by default the committed ones). */
  private overlay(base: Catalog, temp: readonly Descriptor[] = this.temp): Catalog {
    if (temp.length === 0) return base;
    if (temp !== this.temp) return base.withTemp(temp);
    if (this.overlaid?.base !== base) this.overlaid = { base, catalog: base.withTemp(temp) };
    return this.overlaid.catalog;
  }

  cached(): Catalog | undefined {
    const c = shared.get(this.tenantId);
    return c === undefined ? undefined : this.overlay(c);
  }

  /**
   * The snapshot a prefetch running now loads (catalog-prefetch.ts), once it has; undefined when
   * none runs or it failed. Like any cached snapshot it is checked against storage on use.
   */
  async prefetched(): Promise<Catalog | undefined> {
    const running = prefetching.get(this.tenantId);
    if (running === undefined) return undefined;
    await running.catch(() => undefined);
    return this.cached();
  }

  /** Forgets the cached snapshot (it was found stale): the next transaction loads the catalog. */
  invalidate(): void {
    shared.delete(this.tenantId);
  }

  publish(c: Catalog): void {
    const cur = shared.get(this.tenantId);
    // Never another session's temporary objects in the shared snapshot.
    if (cur === undefined || cur.version <= c.version) shared.set(this.tenantId, c.withTemp([]));
  }

  /**
   * Reads the whole catalog at the transaction's snapshot (one request: scan plus version get),
   * with the session's temporary objects: `temp` (those of the transaction's own catalog, when it
   * changed them), else the committed ones.
   */
  async load(txn: Txn, temp?: readonly Descriptor[]): Promise<Catalog> {
    let version = 0;
    txn.piggybackGet(this.ks.versionKey(), (v) => {
      version = Number(decodeU64(v));
    });
    const start = this.ks.descriptorsPrefix();
    const descs: Descriptor[] = [];
    for await (const page of txn.scan(start, prefixEnd(start))) {
      for (const row of page) descs.push(decodeDescriptor(row.value));
    }
    await txn.flushPiggyback();
    const c = new Catalog(version, await this.current(descs));
    // A catalog read from storage is authoritative for the cache, whatever was there.
    shared.set(this.tenantId, c);
    return this.overlay(c, temp);
  }

  /**
   * The catalog as this transaction sees it, its own uncommitted schema changes included (the
   * version and descriptors are read through the transaction's write buffer). Not cached.
   */
  async loadOwn(txn: Txn): Promise<Catalog> {
    const version = Number(decodeU64(await txn.get(this.ks.versionKey())));
    const start = this.ks.descriptorsPrefix();
    const descs: Descriptor[] = [];
    for await (const page of txn.scan(start, prefixEnd(start))) {
      for (const row of page) descs.push(decodeDescriptor(row.value));
    }
    return this.overlay(new Catalog(version, await this.current(descs)));
  }

  /** Arms the version check on the transaction's next read request. */
  armCheck(txn: Txn, planned: Catalog): void {
    txn.piggybackGet(this.ks.versionKey(), (v) => {
      const version = Number(decodeU64(v));
      if (version !== planned.version) throw new StaleCatalog(version);
    });
  }

  /** Allocates a descriptor id inside the transaction (a concurrent allocation conflicts at commit). */
  async allocateId(txn: Txn): Promise<number> {
    const cur = Number(decodeU64(await txn.get(this.ks.nextIdKey())));
    const id = Math.max(cur, FIRST_USER_DESC_ID);
    // Stored ids end where temporary ones begin (keys/doc.ts: both must fit 32-bit OIDs).
    if (id >= TEMP_TABLE_ID_MIN) {
      throw new PgError("program_limit_exceeded", `this database has used all ${TEMP_TABLE_ID_MIN} object ids`, { hint: "Object ids are not reused; contact the operator." });
    }
    txn.put(this.ks.nextIdKey(), encodeU64(BigInt(id + 1)));
    return id;
  }

  writeDescriptor(txn: Txn, d: Descriptor): void {
    txn.put(this.ks.descriptorKey(d.id), encodeDescriptor(d));
  }

  deleteDescriptor(txn: Txn, id: number): void {
    txn.del(this.ks.descriptorKey(id));
  }

  /** Writes the new catalog version; `next` must be the version the transaction read plus one. */
  writeVersion(txn: Txn, next: number): void {
    if (!Number.isSafeInteger(next) || next < 1) throw new PgError("internal_error", `bad catalog version ${next}`);
    txn.put(this.ks.versionKey(), encodeU64(BigInt(next)));
  }
}
