// A session's temporary objects: its pg_temp_N schema, the ids of what it creates there, and what
// happens to them at commit (ON COMMIT DELETE ROWS / DROP) and when the session ends.
//
// Where they live (sql/README.md, "Temporary tables"): descriptors in the session's catalog overlay
// (catalog/catalog-store.ts), rows in the session's LocalRange (kv/local-range.ts). Neither is
// ever written to storage, so nothing of them can be seen by another session or outlive this one.
import { PgError } from "../../../common/errors.ts";
import type { Catalog } from "../catalog/catalog.ts";
import { dataIdOf, type Descriptor, type SchemaDesc, type SequenceDesc, type TableDesc, TEMP_SCHEMA_ID } from "../catalog/descriptors.ts";
import type { Keyspace } from "../catalog/keyspace.ts";
import { TEMP_TABLE_ID_END, TEMP_TABLE_ID_MIN } from "../keys/doc.ts";
import { prefixEnd } from "../../../common/bytes.ts";
import type { Txn } from "../txn/txn.ts";

/** pg_temp_N numbers held by live sessions of this isolate (Postgres uses the backend's slot). */
const numbersInUse = new Set<number>();

export class TempObjects {
  private number: number | null = null;
  private nextId = TEMP_TABLE_ID_MIN;

  /** The session's temporary schema: the one in `catalog`, or a new pg_temp_N (to be added by the caller's change). */
  schema(catalog: Catalog): { schema: SchemaDesc; created: boolean } {
    if (catalog.tempSchema !== undefined) return { schema: catalog.tempSchema, created: false };
    if (this.number === null) {
      let n = 1;
      while (numbersInUse.has(n)) n++;
      numbersInUse.add(n);
      this.number = n;
    }
    return { schema: { kind: "schema", id: TEMP_SCHEMA_ID, name: `pg_temp_${this.number}`, version: 1 }, created: true };
  }

  /**
   * A descriptor id for a new temporary object. Never reused within the session, so nothing
   * cached by id (row codecs, sequence values) can be mistaken for a dropped object's.
   */
  allocateId(): number {
    if (this.nextId >= TEMP_TABLE_ID_END) {
      throw new PgError("program_limit_exceeded", `this session created more than ${TEMP_TABLE_ID_END - TEMP_TABLE_ID_MIN} temporary objects`, {
        hint: "Open a new session.",
      });
    }
    return this.nextId++;
  }

  /** The session ended: its pg_temp_N number is free for the next session. */
  release(): void {
    if (this.number !== null) numbersInUse.delete(this.number);
    this.number = null;
  }
}

/** Deletes every key of a temporary relation (rows, index entries, a sequence's value). */
function deleteData(txn: Txn, ks: Keyspace, d: TableDesc | SequenceDesc): void {
  const prefix = ks.tablePrefix(dataIdOf(d));
  txn.deleteRange(prefix, prefixEnd(prefix));
}

/**
 * ON COMMIT actions, applied to a transaction just before it commits: the rows of ON COMMIT
 * DELETE ROWS tables go, ON COMMIT DROP tables (with their sequences) go entirely. Returns the
 * catalog without the dropped tables (the same catalog when none is dropped). (Read-only
 * transactions may write temporary tables, so they get the same treatment.)
 */
export function applyOnCommit(catalog: Catalog, txn: Txn, ks: Keyspace): Catalog {
  const dropped: number[] = [];
  for (const d of catalog.tempDescriptors()) {
    if (d.kind !== "table" || d.onCommit === undefined) continue;
    deleteData(txn, ks, d);
    if (d.onCommit === "drop") dropped.push(d.id);
  }
  if (dropped.length === 0) return catalog;
  for (const d of catalog.tempDescriptors()) {
    if (d.kind === "sequence" && d.ownedBy !== null && dropped.includes(d.ownedBy[0])) {
      deleteData(txn, ks, d);
      dropped.push(d.id);
    }
  }
  return catalog.withChanges(catalog.version, [], dropped);
}

/** True when the transaction's catalog has temporary tables with an ON COMMIT action. */
export function hasOnCommitActions(temp: readonly Descriptor[]): boolean {
  return temp.some((d) => d.kind === "table" && d.onCommit !== undefined);
}
