// CREATE SEQUENCE and ALTER SEQUENCE, bound, and the sequence options (DefElems) that identity
// columns and serial columns take too. The options keep their names and argument kinds as
// written; exec/ddl-sequence.ts applies them, with PostgreSQL's checks, in their order.
import { nodeKind, stringList, type PgNode } from "../../parse/ast.ts";
import { type RelationName, relationName } from "./names.ts";
import { type TypeRef, typeRefOf } from "../type-ref.ts";

/** An option's argument as the grammar gave it. */
export type OptionArg =
  | { readonly kind: "none" }
  /** An integer or numeric literal, as text (`9223372036854775807` is numeric to the grammar). */
  | { readonly kind: "number"; readonly text: string }
  | { readonly kind: "bool"; readonly value: boolean }
  | { readonly kind: "type"; readonly type: TypeRef }
  /** A name list: OWNED BY t.c, SEQUENCE NAME s.n. */
  | { readonly kind: "names"; readonly names: readonly string[] }
  /** Anything else (a string): not a number, read as 0 where a number is wanted. */
  | { readonly kind: "other" };

export interface SequenceOption {
  /** The option as the grammar names it: start, increment, minvalue, maxvalue, cycle, cache, as, owned_by, sequence_name, restart, … */
  readonly name: string;
  readonly arg: OptionArg;
}

export interface CreateSequenceCommand {
  readonly kind: "create-sequence";
  readonly relation: RelationName;
  readonly ifNotExists: boolean;
  readonly options: readonly SequenceOption[];
}

export interface AlterSequenceCommand {
  readonly kind: "alter-sequence";
  readonly names: readonly string[];
  readonly missingOk: boolean;
  readonly options: readonly SequenceOption[];
}

export function optionArg(arg: PgNode | undefined): OptionArg {
  if (arg === undefined) return { kind: "none" };
  const [k, b] = nodeKind(arg);
  switch (k) {
    case "Integer":
      return { kind: "number", text: String((b as { ival?: number }).ival ?? 0) };
    case "Float":
      return { kind: "number", text: String((b as { fval: string }).fval) };
    case "A_Const":
      return { kind: "number", text: String(((b["ival"] as { ival?: number } | undefined) ?? {}).ival ?? 0) };
    case "Boolean":
      return { kind: "bool", value: (b["boolval"] as boolean | undefined) ?? true };
    case "TypeName":
      return { kind: "type", type: typeRefOf(b) };
    case "List":
      return { kind: "names", names: stringList(b["items"] as PgNode[]) };
    default:
      return { kind: "other" };
  }
}

/** A list of DefElem nodes. */
export function sequenceOptions(list: PgNode[] | undefined): SequenceOption[] {
  return (list ?? []).map((o) => {
    const d = o["DefElem"] as PgNode;
    return { name: d["defname"] as string, arg: optionArg(d["arg"] as PgNode | undefined) };
  });
}

export function bindCreateSequence(stmt: PgNode): CreateSequenceCommand {
  return { kind: "create-sequence", relation: relationName(stmt["sequence"] as PgNode), ifNotExists: stmt["if_not_exists"] === true, options: sequenceOptions(stmt["options"] as PgNode[] | undefined) };
}

export function bindAlterSequence(stmt: PgNode): AlterSequenceCommand {
  const rv = stmt["sequence"] as PgNode;
  const names = rv["schemaname"] ? [rv["schemaname"] as string, rv["relname"] as string] : [rv["relname"] as string];
  return { kind: "alter-sequence", names, missingOk: stmt["missing_ok"] === true, options: sequenceOptions(stmt["options"] as PgNode[] | undefined) };
}
