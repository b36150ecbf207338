// pg_description: the comments set with COMMENT ON (tables, views, sequences, indexes, columns,
// schemas), plus the comments PostgreSQL 15 gives the public schema and plpgsql.
import { PUBLIC_SCHEMA_ID } from "../../../catalog/descriptors.ts";
import { indexOid, namespaceOid, relationOid } from "../../../catalog/oids.ts";
import type { Datum } from "../../types/datum.ts";
import { I4, O, T, table, tables, visibleCols, userIndexes, type SystemContext, type SystemTable } from "./context.ts";
import { SYSTEM_RELATION_OIDS } from "./oids.ts";
import { PLPGSQL_COMMENT, PLPGSQL_EXTENSION_OID, PLPGSQL_LANGUAGE_OID } from "./empty.ts";

export const PUBLIC_SCHEMA_COMMENT = "standard public schema";

export function pgDescription(x: SystemContext): SystemTable {
  const pgClass = SYSTEM_RELATION_OIDS["pg_class"]!;
  const pgNamespace = SYSTEM_RELATION_OIDS["pg_namespace"]!;
  const rows: Datum[][] = [
    [namespaceOid(PUBLIC_SCHEMA_ID), pgNamespace, 0, PUBLIC_SCHEMA_COMMENT],
    [PLPGSQL_EXTENSION_OID, SYSTEM_RELATION_OIDS["pg_extension"]!, 0, PLPGSQL_COMMENT],
    [PLPGSQL_LANGUAGE_OID, SYSTEM_RELATION_OIDS["pg_language"]!, 0, PLPGSQL_COMMENT],
  ];
  for (const d of x.catalog.descriptors()) {
    if (d.kind === "schema") {
      if (d.comment !== undefined) rows.push([namespaceOid(d.id), pgNamespace, 0, d.comment]);
      continue;
    }
    if (d.kind === "function") continue;
    if (d.comment !== undefined) rows.push([relationOid(d.id), pgClass, 0, d.comment]);
  }
  for (const t of tables(x.catalog)) {
    visibleCols(t).forEach((c, i) => {
      if (c.comment !== undefined) rows.push([relationOid(t.id), pgClass, i + 1, c.comment]);
    });
    for (const ix of userIndexes(t)) if (ix.comment !== undefined) rows.push([indexOid(t.id, ix.id), pgClass, 0, ix.comment]);
  }
  return table([["objoid", O], ["classoid", O], ["objsubid", I4], ["description", T]], rows);
}

export function pgShdescription(): SystemTable {
  return table([["objoid", O], ["classoid", O], ["description", T]], []);
}
