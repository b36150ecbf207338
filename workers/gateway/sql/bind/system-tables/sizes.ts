// The seam relation sizes come through (pg_relation_size, pg_table_size, pg_indexes_size,
// pg_total_relation_size, pg_database_size, and so psql's \dt+ / \l+ "Size" columns).
//
// Today the gateway has no per-relation byte counts: the storage node meters bytes per tenant
// (for Request Units), not per table or index, and counting by scanning would make a describe
// command read whole tables. So the estimate is the size of an empty relation, 0 bytes — true
// for a freshly created table and an undercount otherwise. When the storage node reports byte
// counts per table-id/index-id span of a tenant, implement `RelationSizes` over them (the
// functions and psql's output need no other change).

export interface RelationSizes {
  /** Bytes of one relation's own data: a table's rows (its primary index), or one secondary index. */
  relationBytes(oid: number): bigint;
}

export const emptyRelationSizes: RelationSizes = { relationBytes: () => 0n };
