// information_schema as ORMs and introspection tools read it (drizzle-kit, Prisma): tables,
// columns, schemata, constraints, sequences.
import { columnById, isTemp, type TableDesc } from "../../../catalog/descriptors.ts";
import type { PgNode } from "../../parse/ast.ts";
import type { Datum } from "../../types/datum.ts";
import { formatType, Oid, typeOfStored } from "../../types/type.ts";
import { I4, T, indexName, schemaName, schemaNames, sequences, table, tables, userIndexes, visibleCols, type SystemContext, type SystemTable } from "./context.ts";
import { defaultText } from "./relations.ts";
import { exprNode } from "../stored-sql.ts";

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
        // An identity column has no default here (Postgres keeps its sequence apart from defaults)
        // but the identity_* columns describe its sequence.
        const seq = c.identity === "" ? undefined : sequences(x.catalog).find((s) => s.ownedBy?.[0] === t.id && s.ownedBy[1] === c.id);
        const identity = seq === undefined ? [null, null, null, null, null, "NO"] : [c.identity === "a" ? "ALWAYS" : "BY DEFAULT", seq.start, seq.increment, seq.max, seq.min, seq.cycle ? "YES" : "NO"];
        rows.push([x.database, schemaName(x, t.schemaId), t.name, c.name, i + 1, c.identity !== "" || c.generated !== undefined ? null : defaultText(x, t, c), c.nullable ? "YES" : "NO", dataType, charLen, type.enum?.schema ?? "pg_catalog", type.name, c.identity !== "" ? "YES" : "NO", ...identity, c.generated !== undefined ? "ALWAYS" : "NEVER", c.generated !== undefined ? (x.exprText?.(t, c.generated, type, false) ?? null) : null]);
      });
    }
    return table([["table_catalog", T], ["table_schema", T], ["table_name", T], ["column_name", T], ["ordinal_position", I4], ["column_default", T], ["is_nullable", T], ["data_type", T], ["character_maximum_length", I4], ["udt_schema", T], ["udt_name", T], ["is_identity", T], ["identity_generation", T], ["identity_start", T], ["identity_increment", T], ["identity_maximum", T], ["identity_minimum", T], ["identity_cycle", T], ["is_generated", T], ["generation_expression", T]], rows);
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
  // The columns of each PRIMARY KEY, UNIQUE and FOREIGN KEY constraint, in key order; for a
  // foreign key, position_in_unique_constraint is the referenced column's place in its key.
  key_column_usage: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) {
      const s = schemaName(x, t.schemaId);
      for (const ix of userIndexes(t)) {
        if (!ix.primary && ix.constraint !== true) continue;
        ix.columns.forEach((ic, i) => rows.push([x.database, s, indexName(t, ix), x.database, s, t.name, columnById(t, ic.columnId).name, i + 1, null]));
      }
      for (const fk of t.foreignKeys) {
        // The referenced key the foreign key matches (same columns, any order), for positions in it.
        const parent = x.catalog.get(fk.refTableId);
        const key = parent?.kind === "table" ? userIndexes(parent).find((ix) => ix.columns.length === fk.refColumnIds.length && fk.refColumnIds.every((id) => ix.columns.some((c) => c.columnId === id))) : undefined;
        fk.columnIds.forEach((id, i) => {
          const inKey = key === undefined ? i + 1 : key.columns.findIndex((c) => c.columnId === fk.refColumnIds[i]) + 1;
          rows.push([x.database, s, fk.name, x.database, s, t.name, columnById(t, id).name, i + 1, inKey]);
        });
      }
    }
    return table([["constraint_catalog", T], ["constraint_schema", T], ["constraint_name", T], ["table_catalog", T], ["table_schema", T], ["table_name", T], ["column_name", T], ["ordinal_position", I4], ["position_in_unique_constraint", I4]], rows);
  },
  // The columns each constraint uses: its own table's key columns for PRIMARY KEY and UNIQUE, the
  // referenced table's columns for FOREIGN KEY, the columns a CHECK expression names.
  constraint_column_usage: (x) => {
    const rows: Datum[][] = [];
    for (const t of tables(x.catalog)) {
      const s = schemaName(x, t.schemaId);
      const use = (table: TableDesc, column: string, constraint: string): void => {
        rows.push([x.database, schemaName(x, table.schemaId), table.name, column, x.database, s, constraint]);
      };
      for (const ix of userIndexes(t)) {
        if (ix.primary || ix.constraint === true) for (const ic of ix.columns) use(t, columnById(t, ic.columnId).name, indexName(t, ix));
      }
      for (const fk of t.foreignKeys) {
        const parent = x.catalog.get(fk.refTableId);
        if (parent?.kind === "table") for (const id of fk.refColumnIds) use(parent, columnById(parent, id).name, fk.name);
      }
      for (const ch of t.checks) for (const name of columnNamesIn(exprNode(ch.expr))) if (t.columns.some((c) => c.name === name && !c.hidden)) use(t, name, ch.name);
    }
    return table([["table_catalog", T], ["table_schema", T], ["table_name", T], ["column_name", T], ["constraint_catalog", T], ["constraint_schema", T], ["constraint_name", T]], rows);
  },
  sequences: (x) => table([["sequence_schema", T], ["sequence_name", T]], sequences(x.catalog).map((s) => [schemaName(x, s.schemaId), s.name])),
};

/** The distinct column names an expression (parser AST) refers to, walked without recursion. */
function columnNamesIn(expr: PgNode): string[] {
  const out = new Set<string>();
  const stack: unknown[] = [expr];
  while (stack.length > 0) {
    const n = stack.pop();
    if (n === null || typeof n !== "object") continue;
    if (Array.isArray(n)) {
      for (const v of n) stack.push(v);
      continue;
    }
    const ref = (n as PgNode)["ColumnRef"] as PgNode | undefined;
    if (ref !== undefined) {
      const last = (ref["fields"] as PgNode[]).at(-1)?.["String"] as PgNode | undefined;
      if (last !== undefined) out.add(last["sval"] as string);
      continue;
    }
    for (const v of Object.values(n)) stack.push(v);
  }
  return [...out];
}
