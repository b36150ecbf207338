// pg_settings: the session's run-time parameters with where each value came from, which psql's
// \dconfig lists when it differs from the built-in default.
import { B, I4, T, table, type SystemContext, type SystemTable } from "./context.ts";

export function pgSettings(x: SystemContext): SystemTable {
  const rows = (x.settings?.() ?? []).map((s) => [s.name, s.setting, null, null, null, null, "user", "string", s.source, null, null, null, s.bootVal, s.setting, null, null, false]);
  return table(
    [["name", T], ["setting", T], ["unit", T], ["category", T], ["short_desc", T], ["extra_desc", T], ["context", T], ["vartype", T], ["source", T], ["min_val", T], ["max_val", T], ["enumvals", T], ["boot_val", T], ["reset_val", T], ["sourcefile", T], ["sourceline", I4], ["pending_restart", B]],
    rows,
  );
}
