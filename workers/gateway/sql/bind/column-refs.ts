// Column names in stored expressions (CHECK constraints, generation expressions, partial-index
// predicates), which name their table's columns by name: which columns one mentions, and the
// expression with a column renamed (ALTER TABLE … RENAME COLUMN). Such an expression reads only
// its own table, so every column reference (`c` or `t.c`) means a column of that table.
import type { StoredSql } from "../../catalog/descriptors.ts";
import type { PgNode } from "../parse/ast.ts";
import { exprNode, storeExpr } from "./stored-sql.ts";

/** The column a ColumnRef node names (its last field); null for `*` or another node. */
function columnRefName(node: PgNode): string | null {
  const ref = node["ColumnRef"] as PgNode | undefined;
  if (ref === undefined) return null;
  const fields = (ref["fields"] as PgNode[]).map((f) => (f["String"] as PgNode | undefined)?.["sval"] as string | undefined);
  return fields[fields.length - 1] ?? null;
}

function collect(node: unknown, out: string[]): string[] {
  if (Array.isArray(node)) for (const n of node) collect(n, out);
  else if (node !== null && typeof node === "object") {
    const name = columnRefName(node as PgNode);
    if (name !== null) out.push(name);
    for (const v of Object.values(node as PgNode)) collect(v, out);
  }
  return out;
}

/** Every column name a stored expression mentions, in order, with repeats. */
export function columnsNamedIn(expr: StoredSql): string[] {
  return collect(exprNode(expr), []);
}

function rename(node: unknown, from: string, to: string): unknown {
  if (Array.isArray(node)) return node.map((n) => rename(n, from, to));
  if (node === null || typeof node !== "object") return node;
  const ref = (node as PgNode)["ColumnRef"] as PgNode | undefined;
  if (ref !== undefined && columnRefName(node as PgNode) === from) {
    const fields = ref["fields"] as PgNode[];
    return { ColumnRef: { ...ref, fields: [...fields.slice(0, -1), { String: { sval: to } }] } };
  }
  return Object.fromEntries(Object.entries(node as PgNode).map(([k, v]) => [k, rename(v, from, to)]));
}

/** A stored expression with column `from` renamed `to` (the same text when it does not mention it). */
export function renameColumnIn(expr: StoredSql, from: string, to: string): StoredSql {
  if (!columnsNamedIn(expr).includes(from)) return expr;
  return storeExpr(rename(exprNode(expr), from, to) as PgNode);
}
