// information_schema as ORMs and introspection tools read it (drizzle-kit, Prisma): tables,
// columns, schemata, constraints, sequences.
import { isTemp } from "../../../catalog/descriptors.ts";
import type { Datum } from "../../types/datum.ts";
import { formatType, Oid, typeOfStored } from "../../types/type.ts";
import { I4, T, indexName, schemaName, schemaNames, sequences, table, tables, userIndexes, visibleCols, type SystemContext, type SystemTable } from "./context.ts";
import { defaultText } from "./relations.ts";

export const INFORMATION_SCHEMA: Record<string, (x: SystemContext) => SystemTable> = {
  tables: (x) =>
    table(
      [["table_catalog", T], ["table_schema", T], ["table_name", T], ["table_type", T]],
      x.catalog.descriptors().filter((d) => d.kind === "table" || d.kind === "view").map((d) => [x.database, schemaName(x, (d as { schemaId: number }).schemaId), d.name, isTemp(d) ? "LOCAL TEMPORARY" : d.kind === "table" ? "BASE TABLE" : "VIEW"]),
    ),
  columns: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) {
      visibleCols(t).forEach((c, i) => {
        const type = typeOfStored(c.type);
        const shown = formatType(type);
        const dataType = type.elem !== undefined ? "ARRAY" : type.enum !== undefined ? "USER-DEFINED" : shown.replace(/\(.*\)/, "");
        const charLen = (c.type.oid === Oid.varchar || c.type.oid === Oid.bpchar) && c.type.typmod >= 4 ? c.type.typmod - 4 : null;
        rows.push([x.database, schemaName(x, t.schemaId), t.name, c.name, i + 1, defaultText(x, t, c), c.nullable ? "YES" : "NO", dataType, charLen, type.enum?.schema ?? "pg_catalog", type.name, c.identity !== "" ? "YES" : "NO"]);
      });
    }
    return table([["table_catalog", T], ["table_schema", T], ["table_name", T], ["column_name", T], ["ordinal_position", I4], ["column_default", T], ["is_nullable", T], ["data_type", T], ["character_maximum_length", I4], ["udt_schema", T], ["udt_name", T], ["is_identity", T]], rows);
  },
  schemata: (x) => table([["catalog_name", T], ["schema_name", T], ["schema_owner", T]], schemaNames(x).map((n) => [x.database, n, x.user])),
  table_constraints: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) {
      const s = schemaName(x, t.schemaId);
      for (const ix of userIndexes(t)) if (ix.primary || ix.constraint === true) rows.push([x.database, s, indexName(t, ix), s, t.name, ix.primary ? "PRIMARY KEY" : "UNIQUE"]);
      for (const fk of t.foreignKeys) rows.push([x.database, s, fk.name, s, t.name, "FOREIGN KEY"]);
      for (const ch of t.checks) rows.push([x.database, s, ch.name, s, t.name, "CHECK"]);
    }
    return table([["constraint_catalog", T], ["constraint_schema", T], ["constraint_name", T], ["table_schema", T], ["table_name", T], ["constraint_type", T]], rows);
  },
  key_column_usage: () => table([["constraint_name", T], ["table_schema", T], ["table_name", T], ["column_name", T], ["ordinal_position", I4]], []),
  constraint_column_usage: () => table([["constraint_name", T], ["table_schema", T], ["table_name", T], ["column_name", T]], []),
  sequences: (x) => table([["sequence_schema", T], ["sequence_name", T]], sequences(x.catalog).map((s) => [schemaName(x, s.schemaId), s.name])),
};
