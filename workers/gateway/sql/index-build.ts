// Building an index on a populated table outside an explicit transaction, in chunks, so the table
// may be larger than what one transaction can write:
//   1. (done by the CREATE INDEX statement) the index is added as write-only: from then on every
//      write maintains it and checks its uniqueness, while no read uses it;
//   2. the existing rows are scanned in chunks; each chunk writes its index entries in its own
//      transaction (a concurrent change to a chunk's rows makes that chunk's commit conflict, and
//      it is redone);
//   3. the index is made public. If a chunk finds a duplicate of a unique index, the index is
//      removed again and the statement fails with 23505.
import { PgError } from "../../../common/errors.ts";
import type { CatalogStore } from "../catalog/catalog-store.ts";
import { dataIdOf, type IndexDesc, type TableDesc } from "../catalog/descriptors.ts";
import { decodeU64, type Keyspace } from "../catalog/keyspace.ts";
import { bytesEqual, compareBytes, keyNext, keyString, prefixEnd } from "../../../common/bytes.ts";
import type { KvClient } from "../kv/kv-client.ts";
import { Txn } from "../txn/txn.ts";
import { RowCodec } from "./exec/row-codec.ts";
import { formatText } from "./types/text-io.ts";
import type { StatementBudget } from "./exec/budget.ts";
import type { RowTest } from "./exec/index-predicate.ts";

/** Rows per backfill transaction: each writes one entry per row; small commits keep conflicts with concurrent writers cheap to redo. */
const BACKFILL_CHUNK_ROWS = 2000;
/** Conflicting retries of one chunk before giving up (a table under heavy concurrent writes). */
const CHUNK_ATTEMPTS_MAX = 20;

interface Deps {
  kv: KvClient;
  store: CatalogStore;
  ks: Keyspace;
  /** The CREATE INDEX statement's budget: statement_timeout and cancel stop the backfill between chunks. */
  budget: StatementBudget;
  /** Which rows get an entry (a partial index's predicate), bound against the table each chunk reads. */
  covers: (table: TableDesc) => RowTest;
}

async function withRetries<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if (err instanceof PgError && err.code === "40001" && attempt < CHUNK_ATTEMPTS_MAX) continue;
      throw err;
    }
  }
}

async function current(d: Deps, txn: Txn, tableId: number, indexId: number): Promise<{ table: TableDesc; index: IndexDesc; version: number }> {
  const catalog = await d.store.load(txn);
  const table = catalog.get(tableId);
  const index = table?.kind === "table" ? table.indexes.find((i) => i.id === indexId) : undefined;
  if (table?.kind !== "table" || index === undefined) {
    throw new PgError("object_not_in_prerequisite_state", "the index being built was dropped concurrently");
  }
  return { table, index, version: catalog.version };
}

/** Rewrites the table descriptor (or drops the index) and bumps the catalog version, in one transaction. */
async function finish(d: Deps, tableId: number, indexId: number, keep: boolean): Promise<void> {
  await withRetries(async () => {
    const txn = new Txn(d.kv);
    const { table, version } = await current(d, txn, tableId, indexId);
    const stored = Number(decodeU64(await txn.get(d.ks.versionKey())));
    if (stored !== version) throw new PgError("serialization_failure", "catalog changed", { hint: "retry the transaction" });
    const indexes = keep
      ? table.indexes.map((i) => (i.id === indexId ? publicIndex(i) : i))
      : table.indexes.filter((i) => i.id !== indexId);
    if (!keep) {
      const p = d.ks.indexPrefix(dataIdOf(table), indexId);
      txn.clearRange(p, prefixEnd(p));
    }
    d.store.writeDescriptor(txn, { ...table, version: table.version + 1, indexes });
    d.store.writeVersion(txn, version + 1);
    await txn.commit();
  });
  // Let this isolate's sessions see the finished index at once.
  d.store.invalidate();
}

/** The index without its write-only state (everything else it carries, the predicate included, stays). */
function publicIndex(i: IndexDesc): IndexDesc {
  const { state, ...rest } = i;
  void state;
  return rest;
}

export async function buildIndexOnline(d: Deps, tableId: number, indexId: number): Promise<void> {
  try {
    let cursor: Uint8Array | null = null;
    for (;;) {
      const next: Uint8Array | null = await withRetries(async () => {
        const txn = new Txn(d.kv);
        txn.guard = d.budget;
        const { table, index } = await current(d, txn, tableId, indexId);
        const codec = new RowCodec(d.ks, table);
        // A TRUNCATE during the build moved the rows to a new span: start again at its beginning
        // (rows written since maintain the write-only index already; rewriting entries is harmless).
        const start = cursor !== null && compareBytes(cursor, codec.primaryPrefix) >= 0 ? cursor : codec.primaryPrefix;
        const end = prefixEnd(codec.primaryPrefix);
        const it = txn.scan(start, end, { rowsHint: BACKFILL_CHUNK_ROWS });
        const page = await it.next();
        await it.return(undefined);
        const rows = page.done ? [] : page.value;
        const covers = d.covers(table);
        const entries = rows
          .map((r) => ({ key: r.key, row: codec.decode(r.value) }))
          .filter((x) => covers(x.row))
          .map((x) => ({ ...x, entry: codec.indexEntry(index, x.row) }));
        if (index.unique) {
          const existing = await txn.getMany(entries.map((e) => e.entry.key));
          const seen = new Map<string, Uint8Array>();
          entries.forEach((e, i) => {
            const other = existing[i] ?? seen.get(keyString(e.entry.key)) ?? null;
            if (other !== null && !bytesEqual(other, e.entry.value)) {
              const cols = index.columns.map((c) => codec.position(c.columnId));
              throw new PgError("unique_violation", `could not create unique index "${index.name}"`, {
                detail: `Key (${cols.map((p) => table.columns[p]!.name).join(", ")})=(${cols.map((p) => formatText(e.row[p]!, codec.types[p]!) ?? "null").join(", ")}) is duplicated.`,
                constraint: index.name,
              });
            }
            seen.set(keyString(e.entry.key), e.entry.value);
          });
        }
        for (const e of entries) txn.put(e.entry.key, e.entry.value);
        txn.guard = null;
        await txn.commit();
        return rows.length < BACKFILL_CHUNK_ROWS ? null : keyNext(rows[rows.length - 1]!.key);
      });
      if (next === null) break;
      cursor = next;
      if (d.budget.charge(BACKFILL_CHUNK_ROWS)) await d.budget.pause();
    }
  } catch (err) {
    await finish(d, tableId, indexId, false).catch(() => undefined);
    throw err;
  }
  await finish(d, tableId, indexId, true);
}
