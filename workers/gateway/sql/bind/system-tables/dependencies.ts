// pg_depend and pg_rewrite: how objects depend on each other, the rows pg_dump orders its output by
// (and psql's \d reads for "Owned by"):
//
//   sequence ──a/i──► table column     a serial's sequence (auto), an identity's (internal)
//   attrdef  ──a────► table column     a column default belongs to its column
//   attrdef  ──n────► sequence         a default that calls nextval('seq')
//   rule     ──i────► view             a view's _RETURN rule (pg_rewrite) is part of the view
//   rule     ──n────► table / view     each relation the view's query reads
//
// Without the last three, pg_dump would create a serial column's default before its sequence and
// a view before the tables it reads, and the restore would fail.
import type { TableDesc, ViewDesc } from "../../../catalog/descriptors.ts";
import { relationOid } from "../../../catalog/oids.ts";
import type { PgNode } from "../../parse/ast.ts";
import type { Datum } from "../../types/datum.ts";
import { B, C, I4, N, O, attnum, sequences, table, tables, views, visibleCols, type SystemContext, type SystemTable } from "./context.ts";
import { SYSTEM_RELATION_OIDS } from "./oids.ts";
import { attrdefOid, hasAttrdef } from "./relations.ts";
import { exprNode, queryNode } from "../stored-sql.ts";

const PG_CLASS = SYSTEM_RELATION_OIDS["pg_class"]!;
const PG_ATTRDEF = SYSTEM_RELATION_OIDS["pg_attrdef"]!;
const PG_REWRITE = SYSTEM_RELATION_OIDS["pg_rewrite"]!;

/** pg_rewrite.oid of a view's _RETURN rule (views have no column defaults, so attrdef's range is free). */
export function viewRuleOid(v: ViewDesc): number {
  return relationOid(v.id) * 100;
}

/** The names of a qualified name written as text ('s.seq', '"My Seq"'), as regclass input splits them. */
function splitName(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^."]+))\s*(?:\.|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < text.length && (m = re.exec(text)) !== null) out.push(m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2]!.toLowerCase());
  return out;
}

/** The sequences a stored default calls nextval() on (its argument is a string literal, cast to regclass or not). */
function nextvalTargets(node: unknown, out: string[]): void {
  if (Array.isArray(node)) {
    for (const n of node) nextvalTargets(n, out);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const call = (node as PgNode)["FuncCall"] as PgNode | undefined;
  if (call !== undefined) {
    const fname = ((call["funcname"] as PgNode[] | undefined) ?? []).map((n) => (n["String"] as PgNode | undefined)?.["sval"]);
    const arg = ((call["args"] as PgNode[] | undefined) ?? [])[0];
    const literal = arg === undefined ? undefined : ((arg["TypeCast"] as PgNode | undefined)?.["arg"] as PgNode | undefined) ?? arg;
    const sval = ((literal?.["A_Const"] as PgNode | undefined)?.["sval"] as PgNode | undefined)?.["sval"];
    if (fname[fname.length - 1] === "nextval" && typeof sval === "string") out.push(sval);
  }
  for (const v of Object.values(node as PgNode)) nextvalTargets(v, out);
}

/** The relations a view's query names (RangeVar nodes), resolved as its query is bound. */
function rangeVars(node: unknown, out: string[][]): void {
  if (Array.isArray(node)) {
    for (const n of node) rangeVars(n, out);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const rv = (node as PgNode)["RangeVar"] as PgNode | undefined;
  if (rv !== undefined) {
    const schema = rv["schemaname"] as string | undefined;
    out.push(schema === undefined ? [rv["relname"] as string] : [schema, rv["relname"] as string]);
  }
  for (const v of Object.values(node as PgNode)) rangeVars(v, out);
}

function defaultRows(x: SystemContext, t: TableDesc, rows: Datum[][]): void {
  visibleCols(t).forEach((c, i) => {
    if (!hasAttrdef(c)) return;
    const oid = attrdefOid(t, i + 1);
    rows.push([PG_ATTRDEF, oid, 0, PG_CLASS, relationOid(t.id), i + 1, "a"]);
    const targets: string[] = [];
    if (c.defaultExpr !== null) nextvalTargets(exprNode(c.defaultExpr), targets);
    for (const name of targets) {
      const seq = x.catalog.resolveRelation(splitName(name), x.searchPath);
      if (seq?.kind === "sequence") rows.push([PG_ATTRDEF, oid, 0, PG_CLASS, relationOid(seq.id), 0, "n"]);
    }
  });
}

function viewRows(x: SystemContext, v: ViewDesc, rows: Datum[][]): void {
  const rule = viewRuleOid(v);
  rows.push([PG_REWRITE, rule, 0, PG_CLASS, relationOid(v.id), 0, "i"]);
  const names: string[][] = [];
  rangeVars(queryNode(v.query), names);
  const seen = new Set<number>();
  for (const n of names) {
    const rel = x.catalog.resolveRelation(n, x.searchPath);
    if (rel === undefined || rel.id === v.id || seen.has(rel.id)) continue;
    seen.add(rel.id);
    rows.push([PG_REWRITE, rule, 0, PG_CLASS, relationOid(rel.id), 0, "n"]);
  }
}

export function pgDepend(x: SystemContext): SystemTable {
  const rows: Datum[][] = [];
  for (const s of sequences(x.catalog)) {
    if (s.ownedBy === null) continue;
    const t = x.catalog.get(s.ownedBy[0]);
    if (t?.kind !== "table") continue;
    const col = t.columns.find((c) => c.id === s.ownedBy![1]);
    rows.push([PG_CLASS, relationOid(s.id), 0, PG_CLASS, relationOid(t.id), attnum(t, s.ownedBy[1]), col?.identity !== "" && col?.identity !== undefined ? "i" : "a"]);
  }
  for (const t of tables(x.catalog)) defaultRows(x, t, rows);
  for (const v of views(x.catalog)) viewRows(x, v, rows);
  return table([["classid", O], ["objid", O], ["objsubid", I4], ["refclassid", O], ["refobjid", O], ["refobjsubid", I4], ["deptype", C]], rows);
}

/** pg_rewrite: each view's _RETURN rule (Warren has no other rules). */
export function pgRewrite(x: SystemContext): SystemTable {
  return table(
    [["oid", O], ["rulename", N], ["ev_class", O], ["ev_type", C], ["ev_enabled", C], ["is_instead", B]],
    views(x.catalog).map((v) => [viewRuleOid(v), "_RETURN", relationOid(v.id), "1", "O", true]),
  );
}
