// Firing a table's row triggers for one row event (exec/dml.ts asks through
// ExecContext.fireTriggers): the triggers of that timing and event run in name order, as
// PostgreSQL runs them; each BEFORE trigger gets the row the previous one returned, and a NULL
// from any of them skips the row (no later trigger runs, nothing is written).
import { PgError } from "../../../../common/errors.ts";
import type { RowTriggerEvent } from "../exec/context.ts";
import type { Row } from "../exec/eval.ts";
import type { PlHost } from "./host.ts";
import { callFunction } from "./interpreter.ts";

export async function fireRowTriggers(host: PlHost, e: RowTriggerEvent): Promise<Row | null> {
  const triggers = (e.table.triggers ?? []).filter((t) => t.timing === e.timing && t.events.includes(e.event));
  triggers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let row = e.event === "delete" ? e.oldRow : e.newRow;
  const catalog = host.catalog();
  const schema = catalog.get(e.table.schemaId);
  for (const t of triggers) {
    const fn = catalog.get(t.functionId);
    if (fn?.kind !== "function") throw new PgError("internal_error", `trigger "${t.name}" of table "${e.table.name}" runs function id ${t.functionId}, which does not exist`);
    const out = await callFunction(host, fn, [], {
      name: t.name,
      table: e.table,
      schemaName: schema?.name ?? "public",
      timing: e.timing,
      event: e.event,
      oldRow: e.oldRow,
      newRow: e.event === "delete" ? null : row,
      args: t.args,
    });
    if (e.timing === "before") {
      if (out === null) return null;
      row = out as Row;
    }
  }
  return row;
}
