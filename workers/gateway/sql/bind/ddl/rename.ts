// ALTER TABLE / VIEW / SEQUENCE / INDEX … RENAME [COLUMN] … TO …, bound: what is renamed, the
// relation's name as written, and the new name. Other objects' renames are refused when the
// statement runs (0A000).
import type { PgNode } from "../../parse/ast.ts";
import { nameParts, relationName } from "./names.ts";

export type RenameTarget = "column" | "table" | "view" | "sequence" | "index";

export interface RenameCommand {
  readonly kind: "rename";
  /** null: an object kind Warren does not rename (`objectType` says which). */
  readonly target: RenameTarget | null;
  readonly objectType: string;
  /** The relation's name parts (the column's table, or the relation renamed). */
  readonly relation: readonly string[];
  /** The column renamed (target "column"). */
  readonly column: string | null;
  readonly newName: string;
  readonly missingOk: boolean;
}

const TARGETS: Record<string, RenameTarget> = { OBJECT_COLUMN: "column", OBJECT_TABLE: "table", OBJECT_VIEW: "view", OBJECT_SEQUENCE: "sequence", OBJECT_INDEX: "index" };

export function bindRename(stmt: PgNode): RenameCommand {
  const type = stmt["renameType"] as string;
  const rv = stmt["relation"] as PgNode | undefined;
  return {
    kind: "rename",
    target: TARGETS[type] ?? null,
    objectType: type.replace("OBJECT_", "").toLowerCase(),
    relation: rv === undefined ? [] : nameParts(relationName(rv)),
    column: (stmt["subname"] as string | undefined) ?? null,
    newName: stmt["newname"] as string,
    missingOk: stmt["missing_ok"] === true,
  };
}
