// pg_trigger: one row per row trigger (TableDesc.triggers), and the CREATE TRIGGER text
// pg_get_triggerdef prints (psql's "Triggers:" footer of \d, pg_dump), in PostgreSQL 15's layout.
import type { Catalog } from "../../../catalog/catalog.ts";
import type { TableDesc, TriggerDesc } from "../../../catalog/descriptors.ts";
import { relationOid, triggerOid } from "../../../catalog/oids.ts";
import { quoteIdent, quoteLiteral } from "../../functions/string-functions.ts";
import type { Datum } from "../../types/datum.ts";
import { Types } from "../../types/type.ts";
import { B, C, I2, N, O, T, table, tables, type SystemContext, type SystemTable } from "./context.ts";

/** pg_trigger.tgtype bits (catalog/pg_trigger.h): ROW 1, BEFORE 2, INSERT 4, DELETE 8, UPDATE 16. */
function tgtype(t: TriggerDesc): number {
  let bits = 1;
  if (t.timing === "before") bits |= 2;
  if (t.events.includes("insert")) bits |= 4;
  if (t.events.includes("delete")) bits |= 8;
  if (t.events.includes("update")) bits |= 16;
  return bits;
}

/** tgargs: each argument followed by a NUL byte. */
function tgargs(args: readonly string[]): Uint8Array {
  return new TextEncoder().encode(args.map((a) => `${a}\0`).join(""));
}

export function pgTrigger(x: SystemContext): SystemTable {
  const rows: Datum[][] = [];
  for (const t of tables(x.catalog)) {
    for (const tr of t.triggers ?? []) {
      rows.push([triggerOid(tr.id), relationOid(t.id), 0, tr.name, relationOid(tr.functionId), tgtype(tr), "O", false, 0, 0, 0, false, false, tr.args.length, [], tgargs(tr.args), null, null, null]);
    }
  }
  return table(
    [["oid", O], ["tgrelid", O], ["tgparentid", O], ["tgname", N], ["tgfoid", O], ["tgtype", I2], ["tgenabled", C], ["tgisinternal", B], ["tgconstrrelid", O], ["tgconstrindid", O], ["tgconstraint", O], ["tgdeferrable", B], ["tginitdeferred", B], ["tgnargs", I2], ["tgattr", Types.int2vector], ["tgargs", Types.bytea], ["tgqual", T], ["tgoldtable", N], ["tgnewtable", N]],
    rows,
  );
}

/** The trigger whose pg_trigger.oid is `oid`, with its table. */
export function triggerByOid(catalog: Catalog, oid: number): { table: TableDesc; trigger: TriggerDesc } | undefined {
  for (const d of catalog.descriptors()) {
    if (d.kind !== "table") continue;
    const trigger = d.triggers?.find((tr) => triggerOid(tr.id) === oid);
    if (trigger !== undefined) return { table: d, trigger };
  }
  return undefined;
}

/**
 * pg_get_triggerdef(oid [, pretty]): the table schema-qualified unless pretty and visible on the
 * search path; the function qualified when its schema is not on the search path.
 */
export function triggerDef(catalog: Catalog, searchPath: readonly string[], table: TableDesc, tr: TriggerDesc, pretty: boolean): string {
  const visible = (schemaId: number): boolean => searchPath.some((n) => catalog.schema(n)?.id === schemaId);
  const schemaOf = (id: number): string => quoteIdent(catalog.get(id)?.name ?? "?");
  const rel = pretty && visible(table.schemaId) ? quoteIdent(table.name) : `${schemaOf(table.schemaId)}.${quoteIdent(table.name)}`;
  const fn = catalog.get(tr.functionId);
  const fnName = fn?.kind !== "function" ? "?" : visible(fn.schemaId) ? quoteIdent(fn.name) : `${schemaOf(fn.schemaId)}.${quoteIdent(fn.name)}`;
  const events = (["insert", "delete", "update"] as const).filter((e) => tr.events.includes(e)).map((e) => e.toUpperCase()).join(" OR ");
  return `CREATE TRIGGER ${quoteIdent(tr.name)} ${tr.timing.toUpperCase()} ${events} ON ${rel} FOR EACH ROW EXECUTE FUNCTION ${fnName}(${tr.args.map(quoteLiteral).join(", ")})`;
}
