// How one table's rows become keys and values (`table` is the table's data id, dataIdOf: its
// descriptor id until a TRUNCATE or rewrite gives it a fresh span):
//   primary index (id 1):  /table/1/<pk columns>            → every column (value encoding)
//   unique index:          /table/<ix>/<index columns>      → pk suffix   (NULL in a column: + pk suffix)
//   non-unique index:      /table/<ix>/<index columns><pk>  → pk suffix
// The pk suffix is the primary key's encoded columns, so an index entry leads to its row with one
// get, and no key ever needs decoding.
import type { Keyspace } from "../../catalog/keyspace.ts";
import { dataIdOf, type ColumnDesc, type IndexDesc, type TableDesc } from "../../catalog/descriptors.ts";
import { concatBytes } from "../../../../common/bytes.ts";
import { encodeKeyDatum } from "../rowenc/datum-key.ts";
import { KeyWriter } from "../../keys/encoding.ts";
import { decodeRowValue, encodeRowValue, type ValueColumn } from "../types/value-encoding.ts";
import type { Datum } from "../types/datum.ts";
import { type SqlType, typeOfStored } from "../types/type.ts";

export interface IndexEntry {
  index: IndexDesc;
  key: Uint8Array;
  value: Uint8Array;
}

export class RowCodec {
  readonly table: TableDesc;
  readonly types: SqlType[];
  private readonly valueCols: ValueColumn[];
  private readonly pos = new Map<number, number>();
  readonly primaryPrefix: Uint8Array;
  private readonly ks: Keyspace;

  constructor(ks: Keyspace, table: TableDesc) {
    this.ks = ks;
    this.table = table;
    this.types = table.columns.map((c) => typeOfStored(c.type));
    this.valueCols = table.columns.map((c, i) => ({ id: c.id, type: this.types[i]! }));
    table.columns.forEach((c, i) => this.pos.set(c.id, i));
    this.primaryPrefix = ks.indexPrefix(dataIdOf(table), table.primaryIndex.id);
  }

  /** Position of a column in the row array (table.columns order). */
  position(columnId: number): number {
    const p = this.pos.get(columnId);
    if (p === undefined) throw new Error(`column ${columnId} is not in table ${this.table.name}`);
    return p;
  }

  indexPrefix(ix: IndexDesc): Uint8Array {
    return this.ks.indexPrefix(dataIdOf(this.table), ix.id);
  }

  /** Encoded key columns of `ix` for a row (no prefix). */
  keyColumns(ix: IndexDesc, row: readonly Datum[]): Uint8Array {
    const w = new KeyWriter(32);
    for (const c of ix.columns) {
      const p = this.position(c.columnId);
      encodeKeyDatum(w, row[p]!, this.types[p]!, c.desc ? "desc" : "asc");
    }
    return w.finish();
  }

  /** Encodes datums for the leading columns of an index (lookups and spans). */
  encodeValues(ix: IndexDesc, values: readonly Datum[]): Uint8Array {
    const w = new KeyWriter(32);
    values.forEach((v, i) => {
      const c = ix.columns[i]!;
      encodeKeyDatum(w, v, this.types[this.position(c.columnId)]!, c.desc ? "desc" : "asc");
    });
    return w.finish();
  }

  primaryKey(row: readonly Datum[]): Uint8Array {
    // Prefix and columns into one buffer: one allocation and one copy per key (COPY makes one per row).
    const w = new KeyWriter(this.primaryPrefix.length + 32);
    w.bytes(this.primaryPrefix);
    for (const c of this.table.primaryIndex.columns) {
      const p = this.position(c.columnId);
      encodeKeyDatum(w, row[p]!, this.types[p]!, c.desc ? "desc" : "asc");
    }
    return w.finish();
  }

  encodeValue(row: readonly Datum[]): Uint8Array {
    return encodeRowValue(this.valueCols, row);
  }

  decode(value: Uint8Array): Datum[] {
    return decodeRowValue(value, this.valueCols);
  }

  /** The entry a secondary index holds for a row. */
  indexEntry(ix: IndexDesc, row: readonly Datum[]): IndexEntry {
    const pkSuffix = this.keyColumns(this.table.primaryIndex, row);
    const cols = this.keyColumns(ix, row);
    const hasNull = ix.columns.some((c) => row[this.position(c.columnId)] === null);
    const key = ix.unique && !hasNull ? concatBytes([this.indexPrefix(ix), cols]) : concatBytes([this.indexPrefix(ix), cols, pkSuffix]);
    return { index: ix, key, value: pkSuffix };
  }

  /** Primary key from an index entry's value. */
  primaryKeyFromSuffix(suffix: Uint8Array): Uint8Array {
    return concatBytes([this.primaryPrefix, suffix]);
  }

  column(columnId: number): ColumnDesc {
    return this.table.columns[this.position(columnId)]!;
  }
}
