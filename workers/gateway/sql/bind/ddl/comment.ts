// COMMENT ON … IS …, bound: which kind of object, its name as written, and the comment (null: IS
// NULL or '', which remove it, as in Postgres). Kinds Warren does not have are refused here (0A000).
import { PgError } from "../../../../../common/errors.ts";
import { stringList, type PgNode } from "../../parse/ast.ts";

export type CommentTarget = "table" | "view" | "sequence" | "index" | "column" | "schema";

export interface CommentCommand {
  readonly kind: "comment";
  readonly target: CommentTarget;
  /** The object's name as written (for a column: relation name parts, then the column). */
  readonly names: readonly string[];
  readonly comment: string | null;
}

const TARGETS: Record<string, CommentTarget> = {
  OBJECT_TABLE: "table",
  OBJECT_VIEW: "view",
  OBJECT_SEQUENCE: "sequence",
  OBJECT_INDEX: "index",
  OBJECT_COLUMN: "column",
  OBJECT_SCHEMA: "schema",
};

export function bindComment(stmt: PgNode): CommentCommand {
  const objtype = stmt["objtype"] as string;
  const target = TARGETS[objtype];
  if (target === undefined) throw new PgError("feature_not_supported", `COMMENT ON ${objtype.replace(/^OBJECT_/, "").toLowerCase().replace(/_/g, " ")} is not supported`);
  const raw = stmt["comment"] as string | undefined;
  const object = stmt["object"] as PgNode;
  const names = object["List"] !== undefined ? stringList((object["List"] as PgNode)["items"] as PgNode[]) : stringList([object]);
  return { kind: "comment", target, names, comment: raw === undefined || raw === "" ? null : raw };
}
