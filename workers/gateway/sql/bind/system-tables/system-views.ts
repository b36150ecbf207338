// The pg_catalog system views clients read instead of the base catalogs: pg_tables, pg_views,
// pg_indexes, pg_sequences, pg_matviews.
import type { Datum } from "../../types/datum.ts";
import { B, I8, N, T, schemaName, sequences, table, tables, userIndexes, views, indexName, type SystemContext, type SystemTable } from "./context.ts";
import { indexDef } from "./index-def.ts";

export function pgTables(x: SystemContext): SystemTable {
  return table(
    [["schemaname", N], ["tablename", N], ["tableowner", N], ["tablespace", N], ["hasindexes", B], ["hasrules", B], ["hastriggers", B], ["rowsecurity", B]],
    tables(x.catalog).map((t) => [schemaName(x, t.schemaId), t.name, x.user, null, userIndexes(t).length > 0, false, false, false]),
  );
}

export function pgViews(x: SystemContext): SystemTable {
  return table(
    [["schemaname", N], ["viewname", N], ["viewowner", N], ["definition", T]],
    views(x.catalog).map((v) => [schemaName(x, v.schemaId), v.name, x.user, x.viewDef?.(v, false) ?? null]),
  );
}

export function pgMatviews(): SystemTable {
  return table([["schemaname", N], ["matviewname", N], ["matviewowner", N], ["tablespace", N], ["hasindexes", B], ["ispopulated", B], ["definition", T]], []);
}

export function pgIndexes(x: SystemContext): SystemTable {
  const rows: Datum[][] = [];
  for (const t of tables(x.catalog)) for (const ix of userIndexes(t)) rows.push([schemaName(x, t.schemaId), t.name, indexName(t, ix), null, indexDef(x, t, ix)]);
  return table([["schemaname", N], ["tablename", N], ["indexname", N], ["tablespace", N], ["indexdef", T]], rows);
}

export function pgSequences(x: SystemContext): SystemTable {
  return table(
    [["schemaname", N], ["sequencename", N], ["sequenceowner", N], ["start_value", I8], ["min_value", I8], ["max_value", I8], ["increment_by", I8], ["cycle", B], ["cache_size", I8]],
    sequences(x.catalog).map((s) => [schemaName(x, s.schemaId), s.name, x.user, BigInt(s.start), BigInt(s.min), BigInt(s.max), BigInt(s.increment), s.cycle, 1n]),
  );
}
