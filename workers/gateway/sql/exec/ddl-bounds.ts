// Bounds every schema change checks on the tables it leaves behind, whatever statement made them:
// the OIDs of a table's indexes and constraints come from a fixed block per table
// (catalog/oids.ts), so a table may not outgrow it. Checked before anything is written.
import { PgError } from "../../../../common/errors.ts";
import type { TableDesc } from "../../catalog/descriptors.ts";
import { sqlLimits } from "../limits.ts";

export function checkOidBlock(t: TableDesc): void {
  if (t.nextIndexId - 1 > sqlLimits.indexIdMax) {
    throw new PgError("program_limit_exceeded", `table "${t.name}" has used all ${sqlLimits.indexIdMax} index ids`, {
      hint: "Index ids are not reused when indexes are dropped; recreate the table (CREATE TABLE … AS, or dump and restore it) to start again.",
    });
  }
  const keyed = (t.pkeyName !== "" ? 1 : 0) + t.indexes.filter((ix) => ix.primary || ix.constraint === true).length;
  const constraints = keyed + t.checks.length + t.foreignKeys.length;
  if (constraints > sqlLimits.constraintsPerTableMax) {
    throw new PgError("program_limit_exceeded", `table "${t.name}" would have ${constraints} constraints; at most ${sqlLimits.constraintsPerTableMax} are allowed`);
  }
}
