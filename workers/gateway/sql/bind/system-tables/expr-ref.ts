// What pg_attrdef.adbin, pg_constraint.conbin and pg_index.indpred hold. In Postgres these are
// pg_node_tree values (nodeToString of the analysed expression, `{OPEXPR :opno 521 …}`) that
// clients never read themselves: they pass them to pg_get_expr(expr, relation [, pretty]), which
// prints the expression, parenthesised in full without pretty (pg_dump, information_schema) and
// minimally with it (psql). Warren keeps the parser's tree in the descriptor instead, so the column
// holds a reference in the same `{…}` shape that names the stored expression, and pg_get_expr
// finds it in the statement's catalog and prints it in the form asked for.
import type { TableDesc } from "../../../catalog/descriptors.ts";
import type { PgNode } from "../../parse/ast.ts";
import { typeOfStored, type SqlType } from "../../types/type.ts";
import type { SystemContext } from "./context.ts";
import type { StoredSql } from "../../../catalog/descriptors.ts";

export type ExprRef =
  | { kind: "default"; tableId: number; columnId: number }
  | { kind: "check"; tableId: number; name: string }
  | { kind: "indpred"; tableId: number; indexId: number };

export function exprRefText(r: ExprRef): string {
  const what = r.kind === "default" ? `:column ${r.columnId}` : r.kind === "indpred" ? `:index ${r.indexId}` : `:name ${JSON.stringify(r.name)}`;
  return `{WARRENEXPR :kind ${r.kind} :table ${r.tableId} ${what}}`;
}

const REF = /^\{WARRENEXPR :kind (default|check|indpred) :table (\d+) :(column|index|name) (\d+|"(?:[^"\\]|\\.)*")\}$/;

export function parseExprRef(text: string): ExprRef | null {
  const m = REF.exec(text);
  if (m === null) return null;
  const tableId = Number(m[2]);
  switch (m[1]) {
    case "default":
      return m[3] === "column" ? { kind: "default", tableId, columnId: Number(m[4]) } : null;
    case "indpred":
      return m[3] === "index" ? { kind: "indpred", tableId, indexId: Number(m[4]) } : null;
    default:
      return m[3] === "name" && m[4]!.startsWith('"') ? { kind: "check", tableId, name: JSON.parse(m[4]!) as string } : null;
  }
}

/** The stored expression a reference names, with the type its top level is printed as (null: its own). */
function target(t: TableDesc, r: ExprRef): { expr: StoredSql; type: SqlType | null } | null {
  switch (r.kind) {
    case "default": {
      const c = t.columns.find((col) => col.id === r.columnId);
      const e = c?.generated ?? c?.defaultExpr ?? null;
      return c === undefined || e === null ? null : { expr: e, type: typeOfStored(c.type) };
    }
    case "check": {
      const ch = t.checks.find((x) => x.name === r.name);
      return ch === undefined ? null : { expr: ch.expr, type: null };
    }
    case "indpred": {
      const p = t.indexes.find((ix) => ix.id === r.indexId)?.predicate;
      return p === undefined ? null : { expr: p, type: null };
    }
  }
}

/** pg_get_expr(text, …): the expression a reference names, printed pretty or not; null if it names nothing. */
export function resolveExprRef(x: SystemContext, text: string, pretty: boolean): string | null {
  const r = parseExprRef(text);
  if (r === null) return null;
  const t = x.catalog.get(r.tableId);
  if (t?.kind !== "table") return null;
  const found = target(t, r);
  return found === null ? null : (x.exprText?.(t, found.expr, found.type, pretty) ?? null);
}
