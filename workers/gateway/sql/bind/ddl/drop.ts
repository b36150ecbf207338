// DROP TABLE / VIEW / SEQUENCE / INDEX / SCHEMA / TYPE / DOMAIN and TRUNCATE, bound: the objects' names as
// written and the options. Kinds Warren cannot drop are refused here (0A000); exec/ddl-drop.ts
// resolves the names and works out what goes with them.
import { PgError } from "../../../../../common/errors.ts";
import { nodeKind, stringList, type PgNode } from "../../parse/ast.ts";

export type DropKind = "table" | "view" | "sequence" | "index" | "schema";

export interface DropCommand {
  readonly kind: "drop";
  readonly what: DropKind;
  /** Each object's name as written (one part for a schema). */
  readonly objects: ReadonlyArray<readonly string[]>;
  readonly missingOk: boolean;
  readonly cascade: boolean;
}

/** DROP TYPE / DROP DOMAIN. */
export interface DropTypeCommand {
  readonly kind: "drop-type";
  readonly domain: boolean;
  readonly types: ReadonlyArray<readonly string[]>;
  readonly missingOk: boolean;
  readonly cascade: boolean;
}

export interface TruncateCommand {
  readonly kind: "truncate";
  readonly tables: ReadonlyArray<readonly string[]>;
  readonly cascade: boolean;
  readonly restartIdentity: boolean;
}

const DROP_KINDS: Record<string, DropKind> = { OBJECT_TABLE: "table", OBJECT_VIEW: "view", OBJECT_SEQUENCE: "sequence", OBJECT_INDEX: "index", OBJECT_SCHEMA: "schema" };

/** The names of one object of a DROP statement (a qualified name list, or a bare string). */
function objectNames(o: PgNode): string[] {
  const [k, b] = nodeKind(o);
  if (k === "List") return stringList(b["items"] as PgNode[]);
  if (k === "String") return [(b as { sval: string }).sval];
  return [];
}

/** A DropStmt of a relation, an index or a schema (functions, types and triggers have their own). */
export function bindDrop(stmt: PgNode): DropCommand {
  const removeType = stmt["removeType"] as string;
  const what = DROP_KINDS[removeType];
  if (what === undefined) throw new PgError("feature_not_supported", `DROP ${removeType.replace("OBJECT_", "")} is not supported`);
  return {
    kind: "drop",
    what,
    objects: (stmt["objects"] as PgNode[]).map(objectNames),
    missingOk: stmt["missing_ok"] === true,
    cascade: stmt["behavior"] === "DROP_CASCADE",
  };
}

export function bindTruncate(stmt: PgNode): TruncateCommand {
  return {
    kind: "truncate",
    tables: (stmt["relations"] as PgNode[]).map((r) => {
      const rv = r["RangeVar"] as PgNode;
      return [rv["schemaname"], rv["relname"]].filter((x): x is string => typeof x === "string");
    }),
    cascade: stmt["behavior"] === "DROP_CASCADE",
    restartIdentity: stmt["restart_seqs"] === true,
  };
}

/** A DropStmt of OBJECT_TYPE or OBJECT_DOMAIN. */
export function bindDropType(stmt: PgNode): DropTypeCommand {
  return {
    kind: "drop-type",
    domain: stmt["removeType"] === "OBJECT_DOMAIN",
    types: (stmt["objects"] as PgNode[]).map((o) => stringList((o["TypeName"] as PgNode)["names"] as PgNode[])),
    missingOk: stmt["missing_ok"] === true,
    cascade: stmt["behavior"] === "DROP_CASCADE",
  };
}
