// CREATE TABLE, bound: the table's name, its columns (type names as written, constraints with
// their expressions already as the SQL text the descriptor keeps, ../stored-sql.ts) and its table
// constraints, in the order written. ALTER TABLE … ADD COLUMN / ADD CONSTRAINT bind their column
// and constraint with the same functions. Names and types are resolved, and what Warren does not
// build is refused, by exec/ddl-create-table.ts, in the order PostgreSQL reports them.
import type { FkAction } from "../../../catalog/descriptors.ts";
import { nodeKind, stringList, type PgNode } from "../../parse/ast.ts";
import { type SqlType, Types } from "../../types/type.ts";
import { storeExpr } from "../stored-sql.ts";
import { type TypeRef, typeRefOf } from "../type-ref.ts";
import { type RelationName, relationName } from "./names.ts";
import { type OptionArg, optionArg, type SequenceOption, sequenceOptions } from "./sequence.ts";

/** FOREIGN KEY (cols) REFERENCES [schema.]table [(cols)] ON DELETE … ON UPDATE …, names unresolved. */
export interface ForeignKeyRef {
  /** The constraint's name; null for one made from the table and columns. */
  readonly name: string | null;
  readonly columns: readonly string[];
  readonly refTable: readonly string[];
  /** Empty: the referenced table's primary key. */
  readonly refColumns: readonly string[];
  readonly onDelete: FkAction;
  readonly onUpdate: FkAction;
}

/** A constraint written in a column's definition. */
export type ColumnConstraint =
  | { readonly kind: "not-null" }
  | { readonly kind: "null" }
  | { readonly kind: "default"; readonly expr: string }
  | { readonly kind: "primary-key"; readonly name: string | null }
  | { readonly kind: "unique"; readonly name: string | null }
  | { readonly kind: "check"; readonly name: string | null; readonly expr: string }
  | { readonly kind: "foreign-key"; readonly fk: ForeignKeyRef }
  | { readonly kind: "identity"; readonly always: boolean; readonly options: readonly SequenceOption[] }
  | { readonly kind: "generated"; readonly expr: string };

export interface ColumnDefinition {
  readonly name: string;
  readonly type: TypeRef;
  /** serial / bigserial / smallserial (serial4, serial8, serial2): the integer type the column has. */
  readonly serial: SqlType | null;
  readonly constraints: readonly ColumnConstraint[];
}

/** A table constraint (CREATE TABLE's constraint clauses, ALTER TABLE … ADD CONSTRAINT). */
export type TableConstraint =
  | { readonly kind: "primary-key"; readonly name: string | null; readonly columns: readonly string[] }
  | { readonly kind: "unique"; readonly name: string | null; readonly columns: readonly string[] }
  | { readonly kind: "check"; readonly name: string | null; readonly expr: string }
  | { readonly kind: "foreign-key"; readonly fk: ForeignKeyRef }
  /** EXCLUDE and the like: refused when the statement runs (0A000), after the table is found. */
  | { readonly kind: "unsupported"; readonly contype: string };

export type TableElement =
  | { readonly kind: "column"; readonly column: ColumnDefinition }
  | { readonly kind: "constraint"; readonly constraint: TableConstraint }
  /** LIKE and the like: refused when the statement runs (0A000). */
  | { readonly kind: "unsupported"; readonly node: string };

/** ON COMMIT of a (temporary) table; "noop" when none was written. */
export type OnCommit = "noop" | "preserve-rows" | "delete-rows" | "drop";

export interface CreateTableCommand {
  readonly kind: "create-table";
  readonly relation: RelationName;
  readonly ifNotExists: boolean;
  readonly onCommit: OnCommit;
  /** INHERITS (…) was written (refused, 0A000). */
  readonly inherits: boolean;
  readonly elements: readonly TableElement[];
  /** WITH (name = value, …): storage parameters, kept as given. */
  readonly options: ReadonlyArray<{ readonly name: string; readonly value: OptionArg }>;
}

const SERIALS: Record<string, SqlType> = { serial: Types.int4, serial4: Types.int4, bigserial: Types.int8, serial8: Types.int8, smallserial: Types.int2, serial2: Types.int2 };

function fkAction(c: unknown): FkAction {
  return c === "r" || c === "c" || c === "n" || c === "d" ? c : "a";
}

function conName(c: PgNode): string | null {
  return (c["conname"] as string | undefined) ?? null;
}

function foreignKey(c: PgNode, columns: readonly string[]): ForeignKeyRef {
  const pk = c["pktable"] as PgNode;
  return {
    name: conName(c),
    columns,
    refTable: pk["schemaname"] ? [pk["schemaname"] as string, pk["relname"] as string] : [pk["relname"] as string],
    refColumns: stringList(c["pk_attrs"] as PgNode[] | undefined),
    onDelete: fkAction(c["fk_del_action"]),
    onUpdate: fkAction(c["fk_upd_action"]),
  };
}

/** The parser's ON COMMIT value (OnCommitAction). */
export function onCommitOf(oncommit: string | undefined): OnCommit {
  if (oncommit === "ONCOMMIT_PRESERVE_ROWS") return "preserve-rows";
  if (oncommit === "ONCOMMIT_DELETE_ROWS") return "delete-rows";
  if (oncommit === "ONCOMMIT_DROP") return "drop";
  return "noop";
}

/** A ColumnDef node. Constraint kinds with no effect here (DEFERRABLE and the like) are left out. */
export function bindColumnDef(def: PgNode): ColumnDefinition {
  const name = def["colname"] as string;
  const tn = def["typeName"] as PgNode;
  const type = typeRefOf(tn);
  const serial = type.names.length === 1 ? (SERIALS[type.names[0]!] ?? null) : null;
  const constraints: ColumnConstraint[] = [];
  for (const cn of (def["constraints"] as PgNode[] | undefined) ?? []) {
    const c = cn["Constraint"] as PgNode;
    switch (c["contype"] as string) {
      case "CONSTR_NOTNULL":
        constraints.push({ kind: "not-null" });
        break;
      case "CONSTR_NULL":
        constraints.push({ kind: "null" });
        break;
      case "CONSTR_DEFAULT":
        constraints.push({ kind: "default", expr: storeExpr(c["raw_expr"] as PgNode) });
        break;
      case "CONSTR_PRIMARY":
        constraints.push({ kind: "primary-key", name: conName(c) });
        break;
      case "CONSTR_UNIQUE":
        constraints.push({ kind: "unique", name: conName(c) });
        break;
      case "CONSTR_CHECK":
        constraints.push({ kind: "check", name: conName(c), expr: storeExpr(c["raw_expr"] as PgNode) });
        break;
      case "CONSTR_FOREIGN":
        constraints.push({ kind: "foreign-key", fk: foreignKey(c, [name]) });
        break;
      case "CONSTR_IDENTITY":
        constraints.push({ kind: "identity", always: c["generated_when"] === "a", options: sequenceOptions(c["options"] as PgNode[] | undefined) });
        break;
      case "CONSTR_GENERATED":
        constraints.push({ kind: "generated", expr: storeExpr(c["raw_expr"] as PgNode) });
        break;
      default:
        break;
    }
  }
  return { name, type, serial, constraints };
}

/** A Constraint node written as a table constraint. */
export function bindTableConstraint(c: PgNode): TableConstraint {
  const keys = stringList(c["keys"] as PgNode[] | undefined);
  switch (c["contype"] as string) {
    case "CONSTR_PRIMARY":
      return { kind: "primary-key", name: conName(c), columns: keys };
    case "CONSTR_UNIQUE":
      return { kind: "unique", name: conName(c), columns: keys };
    case "CONSTR_CHECK":
      return { kind: "check", name: conName(c), expr: storeExpr(c["raw_expr"] as PgNode) };
    case "CONSTR_FOREIGN":
      return { kind: "foreign-key", fk: foreignKey(c, stringList(c["fk_attrs"] as PgNode[] | undefined)) };
    default:
      return { kind: "unsupported", contype: String(c["contype"]) };
  }
}

export function bindCreateTable(stmt: PgNode): CreateTableCommand {
  const elements: TableElement[] = ((stmt["tableElts"] as PgNode[] | undefined) ?? []).map((elt) => {
    const [k, body] = nodeKind(elt);
    if (k === "ColumnDef") return { kind: "column", column: bindColumnDef(body) };
    if (k === "Constraint") return { kind: "constraint", constraint: bindTableConstraint(body) };
    return { kind: "unsupported", node: k };
  });
  return {
    kind: "create-table",
    relation: relationName(stmt["relation"] as PgNode),
    ifNotExists: stmt["if_not_exists"] === true,
    onCommit: onCommitOf(stmt["oncommit"] as string | undefined),
    inherits: stmt["inhRelations"] !== undefined,
    elements,
    options: ((stmt["options"] as PgNode[] | undefined) ?? []).map((o) => {
      const d = o["DefElem"] as PgNode;
      return { name: d["defname"] as string, value: optionArg(d["arg"] as PgNode | undefined) };
    }),
  };
}
