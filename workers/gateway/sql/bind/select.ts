// Binds SELECT (and VALUES, set operations, WITH) into a Rel tree:
//   FROM → WHERE → GROUP BY/aggregates → HAVING → window → projection (+ hidden sort columns)
//   → DISTINCT [ON] → ORDER BY → LIMIT/OFFSET → drop hidden columns.
import { PgError } from "../../../../common/errors.ts";
import { visibleColumns } from "../../catalog/descriptors.ts";
import { relationOid } from "../../catalog/oids.ts";
import { commonType } from "../types/cast-rules.ts";
import { nodeKind, someNode, stringList, type PgNode } from "../parse/ast.ts";
import { arrayLowerBound, arrayOf, formatType, Oid, type SqlType, Types, typeFromOid, typeOfStored } from "../types/type.ts";
import type { Datum } from "../types/datum.ts";
import { type Binder, pos } from "./binder.ts";
import type { AggCall, CteDef, Expr, JoinType, OutputColumn, Rel, SortKey, WindowCall } from "./bound.ts";
import { AGG_BASE, bindExpr, callExpr, bindSortBy, coerce, coerceBool, ctxFor, type ExprContext, exprKey, sortKeyOf, WIN_BASE } from "./expr.ts";
import { Scope, type ScopeColumn } from "./scope.ts";
import { mapChildren, mapExpr } from "./rewrite.ts";
import { systemRelationOidOf, systemTable } from "./system-tables/index.ts";
import { systemContext } from "./system-context.ts";
import { quoteIdent } from "../functions/string-functions.ts";
import { bindIndexPredicates } from "./table-rules.ts";
import { queryNode } from "./stored-sql.ts";

export interface BoundQuery {
  rel: Rel;
}

function outCol(name: string, type: SqlType, tableId = 0, columnId = 0): OutputColumn {
  return { name, type, tableId, columnId };
}

function scopeOf(rel: Rel, alias: string | null, offset: number, colNames?: string[]): ScopeColumn[] {
  return rel.cols.map((c, i) => ({
    table: alias,
    name: colNames?.[i] ?? c.name,
    type: c.type,
    index: offset + i,
    hidden: rel.kind === "scan" && rel.table.columns[i]!.hidden,
    tableId: c.tableId,
    columnId: c.columnId,
  }));
}

/** Binds a subquery under `outer`; reports whether it refers to any enclosing query's columns. */
export function bindSubquery(b: Binder, stmt: PgNode, outer: Scope): { rel: Rel; correlated: boolean } {
  const boundary = { outer, correlated: false };
  b.boundaries.push(boundary);
  try {
    const rel = bindQuery(b, stmt, outer);
    return { rel, correlated: boundary.correlated };
  } finally {
    b.boundaries.pop();
  }
}

/** Applies `f` to every expression of a Rel tree (not into nested subqueries). */
export function walkRelExprs(rel: Rel, f: (e: Expr) => Expr): void {
  const w = (e: Expr | null): void => {
    if (e !== null) mapExpr(e, f);
  };
  switch (rel.kind) {
    case "filter": w(rel.pred); walkRelExprs(rel.input, f); break;
    case "project": rel.exprs.forEach(w); walkRelExprs(rel.input, f); break;
    case "join": w(rel.on); walkRelExprs(rel.left, f); walkRelExprs(rel.right, f); break;
    case "aggregate": rel.groupBy.forEach(w); rel.aggs.forEach((a) => { a.args.forEach(w); w(a.filter); }); walkRelExprs(rel.input, f); break;
    case "window": rel.funcs.forEach((fn) => { fn.args.forEach(w); fn.partitionBy.forEach(w); fn.orderBy.forEach((k) => w(k.expr)); }); walkRelExprs(rel.input, f); break;
    case "sort": rel.keys.forEach((k) => w(k.expr)); walkRelExprs(rel.input, f); break;
    case "limit": w(rel.limit); w(rel.offset); walkRelExprs(rel.input, f); break;
    case "distinct": rel.on?.forEach(w); walkRelExprs(rel.input, f); break;
    case "setop": walkRelExprs(rel.left, f); walkRelExprs(rel.right, f); break;
    case "append": rel.inputs.forEach((r) => walkRelExprs(r, f)); break;
    case "values": rel.rows.forEach((r) => r.forEach(w)); break;
    case "srf": rel.args.forEach(w); break;
    case "scan": case "cteref": case "one": break;
  }
}

/** SELECT / VALUES / set operation, with its own WITH, ORDER BY and LIMIT. */
export function bindQuery(b: Binder, n: PgNode, outer: Scope | null): Rel {
  const [kind, stmt] = nodeKind(n);
  if (kind !== "SelectStmt") throw new PgError("feature_not_supported", `${kind} is not supported as a query`);
  b.enter();
  const cteMark = b.ctes.length;
  try {
    if (stmt["withClause"] !== undefined) bindWith(b, stmt["withClause"] as PgNode, outer);
    return bindSelectStmt(b, stmt, outer);
  } finally {
    b.ctes.length = cteMark;
    b.leave();
  }
}

export function bindWith(b: Binder, w: PgNode, outer: Scope | null): void {
  const recursive = w["recursive"] === true;
  for (const c of w["ctes"] as PgNode[]) {
    const cte = c["CommonTableExpr"] as PgNode;
    const name = cte["ctename"] as string;
    const colNames = stringList(cte["aliascolnames"] as PgNode[] | undefined);
    const query = cte["ctequery"] as PgNode;
    const def: CteDef = { name, id: b.cteId(), rel: { kind: "one", cols: [] }, recursive: null, unionAll: true, cols: [] };
    const q = query["SelectStmt"] as PgNode | undefined;
    if (recursive && q !== undefined && q["op"] === "SETOP_UNION" && referencesName(q["rarg"], name)) {
      const anchor = bindQuery(b, { SelectStmt: q["larg"] }, outer);
      def.rel = anchor;
      def.cols = anchor.cols.map((col, i) => outCol(colNames[i] ?? col.name, col.type.oid === Oid.unknown ? Types.text : col.type));
      (def as { unionAll: boolean }).unionAll = q["all"] === true;
      b.ctes.push(def);
      const step = bindQuery(b, { SelectStmt: q["rarg"] }, outer);
      def.recursive = castRel(b, step, def.cols.map((c2) => c2.type));
    } else {
      const rel = bindQuery(b, query, outer);
      def.rel = rel;
      def.cols = rel.cols.map((col, i) => outCol(colNames[i] ?? col.name, col.type));
      b.ctes.push(def);
    }
  }
}

/** Whether the tree names the relation `name` anywhere (someNode: the tree may be deep). */
function referencesName(root: unknown, name: string): boolean {
  return someNode(root, (o) => o["RangeVar"] !== undefined && (o["RangeVar"] as PgNode)["relname"] === name);
}

/** Projects `rel` so its columns have `types` (set operations, recursive CTE steps, INSERT). */
export function castRel(b: Binder, rel: Rel, types: readonly SqlType[]): Rel {
  if (rel.cols.every((c, i) => c.type.oid === types[i]!.oid)) return rel;
  const exprs = rel.cols.map((c, i) => coerce(b, { kind: "col", type: c.type, index: i }, types[i]!));
  return { kind: "project", cols: rel.cols.map((c, i) => ({ ...c, type: types[i]! })), input: rel, exprs };
}

function bindSelectStmt(b: Binder, stmt: PgNode, outer: Scope | null): Rel {
  const op = stmt["op"] as string | undefined;
  let rel: Rel;
  let outputScopeCols: OutputColumn[];
  if (op !== undefined && op !== "SETOP_NONE") {
    rel = bindSetOperations(b, stmt, outer);
    outputScopeCols = rel.cols.slice();
    return finishOrderLimit(b, stmt, rel, outputScopeCols, outer);
  }
  if (stmt["valuesLists"] !== undefined) {
    rel = bindValues(b, stmt["valuesLists"] as PgNode[], outer);
    return finishOrderLimit(b, stmt, rel, rel.cols.slice(), outer);
  }
  return bindPlainSelect(b, stmt, outer);
}

function isSetOperation(s: PgNode): boolean {
  return s["op"] !== undefined && s["op"] !== "SETOP_NONE";
}

/**
 * A chain of set operations, `((a op1 b) op2 c) op3 d …`, bound without recursing down its left
 * spine (a 5,000-way UNION ALL is a 5,000-deep spine): the arms are bound one after another and
 * consecutive UNIONs become one n-way append (under one DISTINCT unless ALL). INTERSECT and EXCEPT
 * stay binary; each one counts as a nesting level. Column types are resolved across all arms, left
 * to right, as Postgres resolves each pair.
 */
function bindSetOperations(b: Binder, top: PgNode, outer: Scope | null): Rel {
  // The spine, outermost first. A parenthesised operand with its own ORDER BY / LIMIT / WITH is
  // an arm of its own, bound whole.
  const spine: PgNode[] = [top];
  for (;;) {
    const l = spine[spine.length - 1]!["larg"] as PgNode;
    if (!isSetOperation(l) || l["sortClause"] !== undefined || l["limitCount"] !== undefined || l["limitOffset"] !== undefined || l["withClause"] !== undefined || l["lockingClause"] !== undefined) break;
    spine.push(l);
  }
  spine.reverse();
  const arms: Rel[] = [bindQuery(b, { SelectStmt: spine[0]!["larg"] }, outer)];
  const width = arms[0]!.cols.length;
  let types = arms[0]!.cols.map((c) => c.type);
  for (const step of spine) {
    const arm = bindQuery(b, { SelectStmt: step["rarg"] }, outer);
    const what = (step["op"] as string).replace("SETOP_", "");
    if (arm.cols.length !== width) throw new PgError("syntax_error", `each ${what} query must have the same number of columns`);
    types = types.map((t, i) => commonType([t, arm.cols[i]!.type], what));
    arms.push(arm);
  }
  const cols = arms[0]!.cols.map((c, i) => outCol(c.name, types[i]!));
  const cast = (r: Rel): Rel => castRel(b, r, types);
  // Fold left to right; `group` is the UNION run being extended, if the last step was a UNION.
  let acc: Rel = cast(arms[0]!);
  let group: { all: boolean; inputs: Rel[] } | null = null;
  const close = (): void => {
    if (group === null) return;
    const append: Rel = { kind: "append", cols, inputs: group.inputs };
    acc = group.all ? append : { kind: "distinct", cols, input: append, on: null };
    group = null;
  };
  let entered = 0;
  try {
    for (let i = 0; i < spine.length; i++) {
      const step = spine[i]!;
      const arm = cast(arms[i + 1]!);
      const all = step["all"] === true;
      if (step["op"] === "SETOP_UNION") {
        if (group !== null && group.all === all) group.inputs.push(arm);
        else {
          close();
          group = { all, inputs: [acc, arm] };
        }
        continue;
      }
      close();
      // INTERSECT / EXCEPT nest one level deeper each: their depth is what the planner recurses.
      // Each counts as two levels: EXPLAIN ANALYZE over a chain of them (an instrumented,
      // type-aware set operation per level) overflowed workerd's stack at 790 levels.
      b.enter();
      b.enter();
      entered += 2;
      acc = { kind: "setop", op: step["op"] === "SETOP_INTERSECT" ? "intersect" : "except", all, left: acc, right: arm, cols };
    }
  } finally {
    for (; entered > 0; entered--) b.leave();
  }
  close();
  return acc;
}

export function bindValues(b: Binder, lists: PgNode[], outer: Scope | null, targetTypes?: readonly SqlType[]): Rel {
  const scope = new Scope([], outer);
  const rows = lists.map((l) => ((l["List"] as PgNode)["items"] as PgNode[]).map((item) => bindExpr(b, item, ctxFor(scope, "VALUES"))));
  const width = rows[0]?.length ?? 0;
  for (const r of rows) if (r.length !== width) throw new PgError("syntax_error", "VALUES lists must all be the same length");
  const types = Array.from({ length: width }, (_, i) =>
    targetTypes?.[i] ?? commonType(rows.map((r) => r[i]!.type), "VALUES"),
  );
  return {
    kind: "values",
    cols: types.map((t, i) => outCol(`column${i + 1}`, t)),
    rows: rows.map((r) => r.map((e, i) => coerce(b, e, types[i]!))),
  };
}

/** ORDER BY / LIMIT over a set operation or VALUES: keys name output columns. */
function finishOrderLimit(b: Binder, stmt: PgNode, rel: Rel, cols: OutputColumn[], outer: Scope | null): Rel {
  const sortNodes = (stmt["sortClause"] as PgNode[] | undefined) ?? [];
  if (sortNodes.length > 0) {
    const scope = new Scope(cols.map((c, i) => ({ table: null, name: c.name, type: c.type, index: i, hidden: false, tableId: 0, columnId: 0 })), outer);
    const keys = sortNodes.map((s) => {
      const body = s["SortBy"] as PgNode;
      const node = body["node"] as PgNode;
      const pos0 = ordinal(node, cols.length);
      if (pos0 !== null) return sortKeyOf({ kind: "col", type: cols[pos0]!.type, index: pos0 }, body);
      return bindSortBy(b, s, ctxFor(scope, "ORDER BY"));
    });
    rel = { kind: "sort", cols: rel.cols, input: rel, keys };
  }
  return bindLimit(b, stmt, rel, outer);
}

function bindLimit(b: Binder, stmt: PgNode, rel: Rel, outer: Scope | null): Rel {
  const lim = stmt["limitCount"] as PgNode | undefined;
  const off = stmt["limitOffset"] as PgNode | undefined;
  if (lim === undefined && off === undefined) return rel;
  const scope = new Scope([], outer);
  const bindBound = (n: PgNode | undefined): Expr | null => {
    if (n === undefined) return null;
    const e = bindExpr(b, n, ctxFor(scope, "LIMIT"));
    if (e.kind === "const" && e.value === null && lim === n) return null; // LIMIT NULL / ALL
    return coerce(b, e, Types.int8);
  };
  return { kind: "limit", cols: rel.cols, input: rel, limit: bindBound(lim), offset: bindBound(off) };
}

/** ORDER BY 2 → index 1; null when the node is not an integer constant. */
function ordinal(node: PgNode, width: number): number | null {
  const [k, c] = nodeKind(node);
  if (k !== "A_Const" || c["ival"] === undefined) return null;
  const v = (c["ival"] as { ival?: number }).ival ?? 0;
  if (v < 1 || v > width) throw new PgError("invalid_column_reference", `ORDER BY position ${v} is not in select list`, pos(c["location"]));
  return v - 1;
}

// ---- FROM ----

interface FromItem {
  rel: Rel;
  cols: ScopeColumn[];
}

function bindFrom(b: Binder, items: PgNode[], outer: Scope | null): FromItem {
  let acc: FromItem | null = null;
  for (const item of items) {
    const lateralScope = acc === null ? outer : new Scope(acc.cols, outer);
    const next = bindFromItem(b, item, outer, lateralScope);
    if (acc === null) acc = next;
    else acc = crossJoin(acc, next, isLateral(item));
  }
  if (acc === null) return { rel: { kind: "one", cols: [] }, cols: [] };
  return acc;
}

/**
 * A FROM item evaluated per row of the items before it: LATERAL, or a function call whose
 * arguments name columns (Postgres makes function calls in FROM lateral without the keyword).
 */
function isLateral(item: PgNode): boolean {
  const [k, body] = nodeKind(item);
  if (k === "RangeFunction") return body["lateral"] === true || namesColumns(body["functions"]);
  return k === "RangeSubselect" && body["lateral"] === true;
}

function namesColumns(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(namesColumns);
  if (node === null || typeof node !== "object") return false;
  if ("ColumnRef" in node) return true;
  // A subquery's own columns are its business.
  if ("SubLink" in node) return false;
  return Object.values(node as PgNode).some(namesColumns);
}

function crossJoin(l: FromItem, r: FromItem, lateral: boolean): FromItem {
  const shift = l.rel.cols.length;
  return {
    rel: { kind: "join", type: "inner", left: l.rel, right: r.rel, on: null, lateral, cols: [...l.rel.cols, ...r.rel.cols] },
    cols: [...l.cols, ...r.cols.map((c) => ({ ...c, index: c.index + shift }))],
  };
}

function aliasOf(node: PgNode): { name: string | null; cols: string[] } {
  const a = node["alias"] as PgNode | undefined;
  if (a === undefined) return { name: null, cols: [] };
  return { name: a["aliasname"] as string, cols: stringList(a["colnames"] as PgNode[] | undefined) };
}

/**
 * A three-part name database.schema.relation: the session's own database is the only one there
 * is; any other is PostgreSQL's 0A000 (it was ignored, reading the relation of this database).
 */
export function checkCatalogName(b: Binder, rv: PgNode): void {
  const db = rv["catalogname"] as string | undefined;
  if (db !== undefined && db !== b.database) {
    const name = [db, rv["schemaname"] as string | undefined, rv["relname"] as string].filter((x) => x !== undefined).join(".");
    throw new PgError("feature_not_supported", `cross-database references are not implemented: "${name}"`, pos(rv["location"]));
  }
}

function bindFromItem(b: Binder, item: PgNode, outer: Scope | null, lateralScope: Scope | null): FromItem {
  const [kind, node] = nodeKind(item);
  switch (kind) {
    case "RangeVar": {
      checkCatalogName(b, node);
      const relname = node["relname"] as string;
      const schemaname = node["schemaname"] as string | undefined;
      const alias = aliasOf(node);
      if (schemaname === undefined) {
        const cte = b.findCte(relname);
        if (cte !== undefined) {
          const rel: Rel = { kind: "cteref", cols: cte.cols, cte };
          return { rel, cols: scopeOf(rel, alias.name ?? relname, 0, alias.cols.length ? alias.cols : undefined) };
        }
      }
      const names = schemaname === undefined ? [relname] : [schemaname, relname];
      const sys = systemTable(systemContext(b), schemaname ?? null, relname);
      if (sys !== undefined && (schemaname !== undefined || b.catalog.resolveRelation(names, b.searchPath) === undefined)) {
        // tableoid, the system column every row has (pg_dump reads it from each catalog): the
        // catalog's own OID, hidden from `*` as Postgres's system columns are.
        const tableOid = systemRelationOidOf(schemaname ?? "pg_catalog", relname) ?? 0;
        const consts = (r: Datum[]) => [...r.map((v, i) => ({ kind: "const", type: sys.cols[i]!.type, value: v }) as Expr), { kind: "const", type: Types.oid, value: tableOid } as Expr];
        const rel: Rel = { kind: "values", cols: [...sys.cols, outCol("tableoid", Types.oid)], rows: sys.rows.map(consts) };
        const cols = scopeOf(rel, alias.name ?? relname, 0, alias.cols.length ? alias.cols : undefined);
        cols[cols.length - 1] = { ...cols[cols.length - 1]!, name: "tableoid", hidden: true };
        return { rel, cols };
      }
      const desc = b.catalog.resolveRelation(names, b.searchPath);
      if (desc === undefined) throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`, pos(node["location"]));
      b.usedTables.add(desc.id);
      if (desc.kind === "table") {
        const rel: Rel = {
          kind: "scan",
          table: desc,
          alias: alias.name ?? relname,
          indexPredicates: bindIndexPredicates(b, desc),
          cols: desc.columns.map((c) => outCol(c.name, typeOfStored(c.type), relationOid(desc.id), visibleColumns(desc).indexOf(c) + 1)),
        };
        const visible = visibleColumns(desc);
        const cols = scopeOf(rel, alias.name ?? relname, 0).map((c, i) => {
          const vi = visible.findIndex((v) => v.id === desc.columns[i]!.id);
          return vi >= 0 && alias.cols[vi] !== undefined ? { ...c, name: alias.cols[vi]! } : { ...c, base: { tableId: desc.id, columnId: desc.columns[i]!.id } };
        });
        return { rel, cols };
      }
      if (desc.kind === "view") {
        const rel0 = bindQuery(b, queryNode(desc.query), null);
        const rel: Rel = desc.columnNames.length
          ? { kind: "project", input: rel0, exprs: rel0.cols.map((c, i) => ({ kind: "col", type: c.type, index: i })), cols: rel0.cols.map((c, i) => ({ ...c, name: desc.columnNames[i] ?? c.name })) }
          : rel0;
        return { rel, cols: scopeOf(rel, alias.name ?? relname, 0, alias.cols.length ? alias.cols : undefined) };
      }
      // A sequence reads as one row (last_value, log_cnt, is_called), as in Postgres. log_cnt,
      // the values Postgres may hand out before its next WAL record, is 0: nothing is pre-logged.
      const seqName: Expr = { kind: "const", type: Types.text, value: `${quoteIdent(b.catalog.get(desc.schemaId)?.name ?? "public")}.${quoteIdent(desc.name)}` };
      const rel: Rel = {
        kind: "values",
        cols: [outCol("last_value", Types.int8), outCol("log_cnt", Types.int8), outCol("is_called", Types.bool)],
        rows: [[{ kind: "special", type: Types.int8, name: "sequence_last_value", args: [seqName] }, { kind: "const", type: Types.int8, value: 0n }, { kind: "special", type: Types.bool, name: "sequence_is_called", args: [seqName] }]],
      };
      return { rel, cols: scopeOf(rel, alias.name ?? relname, 0, alias.cols.length ? alias.cols : undefined) };
    }
    case "RangeSubselect": {
      const alias = aliasOf(node);
      const lateral = node["lateral"] === true;
      const rel = bindQuery(b, node["subquery"] as PgNode, lateral ? lateralScope : outer);
      return { rel, cols: scopeOf(rel, alias.name, 0, alias.cols.length ? alias.cols : undefined) };
    }
    case "JoinExpr":
      return bindJoin(b, node, outer, lateralScope);
    case "RangeFunction": {
      const alias = aliasOf(node);
      const fnList = ((node["functions"] as PgNode[])[0]!["List"] as PgNode)["items"] as PgNode[];
      const call = (fnList[0]!["FuncCall"] as PgNode | undefined);
      const scope = new Scope([], isLateral(item) ? lateralScope : outer);
      const name = call === undefined ? null : stringList(call["funcname"] as PgNode[]).pop()!.toLowerCase();
      if (call === undefined || name === null || !SET_RETURNING.has(name)) {
        // A function returning one value (now(), upper('a'), current_date) is a one-row table
        // whose column is named by the alias, else by the function, as in Postgres.
        const e = bindExpr(b, fnList[0]!, ctxFor(scope, "FROM"));
        const fnName = targetName(fnList[0]!, e);
        const colName = alias.cols[0] ?? alias.name ?? fnName;
        const rel: Rel = { kind: "values", cols: [outCol(colName, e.type)], rows: [[e]] };
        return { rel, cols: scopeOf(rel, alias.name ?? fnName, 0, alias.cols.length ? alias.cols : undefined) };
      }
      const args = ((call["args"] as PgNode[] | undefined) ?? []).map((a) => bindExpr(b, a, ctxFor(scope, "FROM")));
      let rel = bindSrf(b, name, args, alias.cols[0] ?? alias.name ?? name);
      if (node["ordinality"] === true) {
        // WITH ORDINALITY: the row's position in the function's output, numbered as it is produced.
        const ordinality: WindowCall = { name: "row_number", args: [], partitionBy: [], orderBy: [], frame: { rows: true, start: { kind: "unbounded", offset: 0 }, end: { kind: "current", offset: 0 } }, type: Types.int8, aggregate: null };
        rel = { kind: "window", input: rel, funcs: [ordinality], cols: [...rel.cols, outCol(alias.cols[1] ?? "ordinality", Types.int8)] };
      }
      return { rel, cols: scopeOf(rel, alias.name ?? name, 0, alias.cols.length ? alias.cols : undefined) };
    }
  }
  throw new PgError("feature_not_supported", `${kind} in FROM is not supported`);
}

/** Set-returning functions the binder turns into function scans. */
export const SET_RETURNING = new Set(["generate_series", "generate_subscripts", "unnest", "pg_partition_ancestors", "regexp_matches", "regexp_split_to_table", "pg_options_to_table"]);

/**
 * The set-returning calls in a select-list expression (not inside subqueries or window calls), in
 * the order they appear (walked with an explicit stack: the expression may be deep).
 */
function findSrfCalls(root: unknown): PgNode[] {
  const out: PgNode[] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== "object") continue;
    const children: unknown[] = [];
    if (Array.isArray(node)) children.push(...node);
    else {
      for (const [k, v] of Object.entries(node as PgNode)) {
        if (k === "SubLink") continue;
        if (k === "FuncCall") {
          const fc = v as PgNode;
          const fname = stringList(fc["funcname"] as PgNode[]).pop()!.toLowerCase();
          if (SET_RETURNING.has(fname) && fc["over"] === undefined) {
            out.push(fc);
            continue;
          }
        }
        children.push(v);
      }
    }
    // Pushed in reverse so they are visited in order, as the recursive walk did.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return out;
}

/**
 * Several set-returning calls in one select list run in lockstep in Postgres (as many rows as the
 * longest, the others padded with NULL). For unnest() and generate_subscripts() — whose whole
 * result is an array already at hand — that is a multi-argument unnest over their arrays; null
 * when the list has fewer than two such calls or another kind of set-returning function (those
 * still combine as a product).
 */
function zipSrfs(b: Binder, calls: PgNode[], outer: Scope): Rel | null {
  if (calls.length < 2) return null;
  const names = calls.map((fc) => stringList(fc["funcname"] as PgNode[]).pop()!.toLowerCase());
  if (!names.every((n) => n === "unnest" || n === "generate_subscripts")) return null;
  const arrays: Expr[] = [];
  const cols: OutputColumn[] = [];
  calls.forEach((fc, k) => {
    const argScope = new Scope([], outer);
    const args = ((fc["args"] as PgNode[] | undefined) ?? []).map((a) => bindExpr(b, a, ctxFor(argScope, "FROM")));
    const name = names[k]!;
    if (name === "unnest") {
      const a = args[0];
      if (a === undefined || args.length !== 1 || a.type.elem === undefined) throw new PgError("undefined_function", "function unnest requires an array argument");
      arrays.push(a);
      cols.push(outCol(name, a.type.elem));
      return;
    }
    const [arr, dim, rev] = args;
    if (arr === undefined || dim === undefined || args.length > 3 || arr.type.elem === undefined) {
      throw new PgError("undefined_function", `function generate_subscripts(${args.map((a) => formatType(a.type)).join(", ")}) does not exist`);
    }
    const lower = arrayLowerBound(arr.type);
    const callArgs = [arr, coerce(b, dim, Types.int4), ...(rev === undefined ? [] : [coerce(b, rev, Types.bool)])];
    arrays.push(callExpr("generate_subscripts", arrayOf(Types.int4), callArgs, ([a, n, r]) => {
      const len = (a as readonly Datum[]).length;
      if (n !== 1) return [];
      const subs = Array.from({ length: len }, (_, i) => i + lower);
      return r === true ? subs.reverse() : subs;
    }));
    cols.push(outCol(name, Types.int4));
  });
  return { kind: "srf", name: "unnest", args: arrays, cols };
}

export function bindSrf(b: Binder, name: string, args: Expr[], colName: string): Rel {
  if (name === "generate_series") {
    if (args.length < 2 || args.length > 3) throw new PgError("undefined_function", `function generate_series with ${args.length} arguments does not exist`);
    const t = commonType(args.slice(0, 2).map((a) => a.type), "generate_series");
    const st: SqlType = t.oid === Oid.int8 ? Types.int8 : t.oid === Oid.numeric ? Types.numeric : Types.int4;
    const cargs = args.map((a) => coerce(b, a, st));
    return { kind: "srf", name, args: cargs, cols: [outCol(colName, st)] };
  }
  if (name === "generate_subscripts") {
    // generate_subscripts(array, dim [, reverse]): the subscripts of dimension `dim`, i.e.
    // generate_series(lower, upper) (or upper down to lower), nothing for another dimension or an
    // empty array. Arrays here have one dimension starting at 1; int2vector/oidvector start at 0.
    const [arr, dim, rev] = args;
    if (arr === undefined || dim === undefined || args.length > 3 || arr.type.elem === undefined) {
      throw new PgError("undefined_function", `function generate_subscripts(${args.map((a) => formatType(a.type)).join(", ")}) does not exist`);
    }
    const lower = arrayLowerBound(arr.type);
    const d = coerce(b, dim, Types.int4);
    const reverse = rev === undefined ? null : coerce(b, rev, Types.bool);
    const bound = (upper: boolean): Expr =>
      callExpr(upper ? "array_upper" : "array_lower", Types.int4, reverse === null ? [arr, d] : [arr, d, reverse], ([a, n, r]) => {
        const len = (a as readonly Datum[]).length;
        if (n !== 1 || len === 0) return null; // no such dimension: no rows
        const first = r === true ? len - 1 + lower : lower;
        const last = r === true ? lower : len - 1 + lower;
        return upper ? last : first;
      });
    const step: Expr = callExpr("step", Types.int4, reverse === null ? [] : [reverse], ([r]) => (r === true ? -1 : 1));
    return { kind: "srf", name: "generate_series", args: [bound(false), bound(true), step], cols: [outCol(colName, Types.int4)] };
  }
  if (name === "unnest") {
    const a = args[0];
    if (a === undefined || a.type.elem === undefined) throw new PgError("undefined_function", "function unnest requires an array argument");
    return { kind: "srf", name, args, cols: [outCol(colName, a.type.elem)] };
  }
  if (name === "pg_partition_ancestors") {
    // No table is a partition: a relation's only "ancestor" is itself, as for Postgres's plain tables.
    const a = args[0];
    if (a === undefined || args.length !== 1) throw new PgError("undefined_function", `function pg_partition_ancestors with ${args.length} arguments does not exist`);
    const rel = coerce(b, a, Types.regclass);
    return { kind: "srf", name: "unnest", args: [{ kind: "array", type: arrayOf(Types.regclass), elems: [rel] }], cols: [outCol(colName === "pg_partition_ancestors" ? "relid" : colName, Types.regclass)] };
  }
  if (name === "pg_options_to_table") {
    // (option_name, option_value) of each "name=value" item of a reloptions-style array: the
    // array's elements split at their first '=' (an item without one has a NULL value).
    const a = args[0];
    if (a === undefined || args.length !== 1) throw new PgError("undefined_function", `function pg_options_to_table with ${args.length} arguments does not exist`);
    const items: Rel = { kind: "srf", name: "unnest", args: [coerce(b, a, arrayOf(Types.text))], cols: [outCol("item", Types.text)] };
    const item: Expr = { kind: "col", type: Types.text, index: 0 };
    const part = (first: boolean): Expr => callExpr(first ? "option_name" : "option_value", Types.text, [item], ([v]) => {
      const text = v as string;
      const eq = text.indexOf("=");
      return first ? (eq < 0 ? text : text.slice(0, eq)) : eq < 0 ? null : text.slice(eq + 1);
    });
    return { kind: "project", input: items, exprs: [part(true), part(false)], cols: [outCol("option_name", Types.text), outCol("option_value", Types.text)] };
  }
  if (name === "regexp_matches" || name === "regexp_split_to_table") {
    if (args.length < 2 || args.length > 3) throw new PgError("undefined_function", `function ${name} with ${args.length} arguments does not exist`);
    const text = args.map((a) => coerce(b, a, Types.text));
    return { kind: "srf", name, args: text, cols: [outCol(colName, name === "regexp_matches" ? arrayOf(Types.text) : Types.text)] };
  }
  throw new PgError("feature_not_supported", `set-returning function ${name} is not supported in FROM`);
}

function bindJoin(b: Binder, node: PgNode, outer: Scope | null, lateralScope: Scope | null): FromItem {
  const left = bindFromItem(b, node["larg"] as PgNode, outer, lateralScope);
  const rightLateralScope = new Scope(left.cols, lateralScope ?? outer);
  const right = bindFromItem(b, node["rarg"] as PgNode, outer, rightLateralScope);
  const jt = node["jointype"] as string;
  const type: JoinType = jt === "JOIN_LEFT" ? "left" : jt === "JOIN_RIGHT" ? "right" : jt === "JOIN_FULL" ? "full" : "inner";
  const shift = left.rel.cols.length;
  let cols = [...left.cols, ...right.cols.map((c) => ({ ...c, index: c.index + shift }))];
  const scope = new Scope(cols, outer);
  let on: Expr | null = null;
  const using = stringList(node["usingClause"] as PgNode[] | undefined);
  let usingNames = using;
  if (node["isNatural"] === true) {
    const rightNames = new Set(right.cols.filter((c) => !c.hidden).map((c) => c.name));
    usingNames = left.cols.filter((c) => !c.hidden && rightNames.has(c.name)).map((c) => c.name);
  }
  if (usingNames.length > 0) {
    const conds: Expr[] = [];
    for (const n of usingNames) {
      const lc = left.cols.find((c) => c.name === n && c.merged !== true);
      const rc = right.cols.find((c) => c.name === n && c.merged !== true);
      if (lc === undefined || rc === undefined) throw new PgError("undefined_column", `column "${n}" specified in USING clause does not exist in ${lc === undefined ? "left" : "right"} table`);
      conds.push(bindExpr(b, { A_Expr: { kind: "AEXPR_OP", name: [{ String: { sval: "=" } }], lexpr: { ColumnRef: { fields: [{ String: { sval: "__l" } }] } }, rexpr: { ColumnRef: { fields: [{ String: { sval: "__r" } }] } } } },
        ctxFor(new Scope([{ ...lc, table: null, name: "__l" }, { ...rc, table: null, name: "__r", index: rc.index + shift }], outer), "JOIN/USING")));
    }
    on = conds.length === 1 ? conds[0]! : { kind: "and", type: Types.bool, args: conds };
    // The merged column appears once (from the left; for RIGHT/FULL joins Postgres coalesces).
    const drop = new Set(usingNames);
    if (type === "right") {
      cols = [...left.cols.map((c) => ({ ...c, merged: drop.has(c.name) })), ...right.cols.map((c) => ({ ...c, index: c.index + shift }))];
    } else {
      cols = [...left.cols, ...right.cols.map((c) => ({ ...c, index: c.index + shift, merged: drop.has(c.name) }))];
    }
    // `*` lists the merged columns first, in USING's order, then the others (PostgreSQL's order).
    const firsts = usingNames.map((n) => cols.find((c) => c.name === n && c.merged !== true)).filter((c): c is ScopeColumn => c !== undefined);
    cols = [...firsts, ...cols.filter((c) => !firsts.includes(c))];
  } else if (node["quals"] !== undefined) {
    on = coerceBool(b, bindExpr(b, node["quals"] as PgNode, ctxFor(scope, "JOIN conditions")), "JOIN/ON");
  }
  const alias = aliasOf(node);
  if (alias.name !== null) cols = cols.map((c) => ({ ...c, table: alias.name }));
  const lateral = isLateral(node["rarg"] as PgNode);
  return { rel: { kind: "join", type, left: left.rel, right: right.rel, on, lateral, cols: [...left.rel.cols, ...right.rel.cols] }, cols };
}

// ---- SELECT list ----

interface Target {
  expr: Expr;
  name: string;
  tableId: number;
  columnId: number;
}

/** The output name Postgres gives an unnamed target (FigureColname); RETURNING lists use it too. */
export function targetName(node: PgNode, e: Expr): string {
  const [k, body] = nodeKind(node);
  switch (k) {
    case "ColumnRef": {
      const f = body["fields"] as PgNode[];
      return (f[f.length - 1]!["String"] as PgNode | undefined)?.["sval"] as string ?? "?column?";
    }
    case "FuncCall":
      return stringList(body["funcname"] as PgNode[]).pop()!;
    case "TypeCast": {
      const inner = targetName(body["arg"] as PgNode, e);
      if (inner !== "?column?") return inner;
      const names = stringList((body["typeName"] as PgNode)["names"] as PgNode[]);
      const n = names[names.length - 1]!;
      return ({ int4: "int4", int8: "int8", float8: "float8", bool: "bool", varchar: "varchar", bpchar: "bpchar", numeric: "numeric" } as Record<string, string>)[n] ?? n;
    }
    case "CaseExpr":
      return "case";
    case "CoalesceExpr":
      return "coalesce";
    case "MinMaxExpr":
      return body["op"] === "IS_GREATEST" ? "greatest" : "least";
    case "SubLink": {
      const t = body["subLinkType"] as string;
      if (t === "EXISTS_SUBLINK") return "exists";
      if (t === "ARRAY_SUBLINK") return "array";
      if (t === "EXPR_SUBLINK") {
        const sel = (body["subselect"] as PgNode)["SelectStmt"] as PgNode;
        const tl = sel["targetList"] as PgNode[] | undefined;
        if (tl?.length === 1) {
          const rt = tl[0]!["ResTarget"] as PgNode;
          return (rt["name"] as string | undefined) ?? targetName(rt["val"] as PgNode, e);
        }
      }
      return "?column?";
    }
    case "A_ArrayExpr":
      return "array";
    case "SQLValueFunction": {
      const op = (body["op"] as string).replace("SVFOP_", "").toLowerCase();
      return op === "current_catalog" ? "current_catalog" : op;
    }
    case "A_Expr":
      if (body["kind"] === "AEXPR_NULLIF") return "nullif";
      return "?column?";
    case "A_Const":
      return "?column?";
  }
  return "?column?";
}

function bindPlainSelect(b: Binder, stmt: PgNode, outer: Scope | null): Rel {
  const from = bindFrom(b, (stmt["fromClause"] as PgNode[] | undefined) ?? [], outer);
  const scope = new Scope(from.cols, outer);
  let rel: Rel = from.rel;
  if (stmt["whereClause"] !== undefined) {
    const pred = coerceBool(b, bindExpr(b, stmt["whereClause"] as PgNode, ctxFor(scope, "WHERE")), "WHERE");
    rel = { kind: "filter", cols: rel.cols, input: rel, pred };
  }
  const aggs: AggCall[] = [];
  const wins: WindowCall[] = [];
  const ctx: ExprContext = { scope, aggs, wins, clause: "SELECT" };

  // Set-returning functions in the select list (SELECT generate_series(1, 3), unnest(a) + 1,
  // upper(unnest(a))): each call becomes a LATERAL function scan joined to the rows of
  // FROM/WHERE, and the expression reads its column in place of the call.
  // Postgres runs several such functions in lockstep: zipSrfs does that for unnest and
  // generate_subscripts; other combinations still run as a product.
  const srfCols = new Map<PgNode, number>();
  const srfCalls = ((stmt["targetList"] as PgNode[] | undefined) ?? []).flatMap((t) => findSrfCalls((t["ResTarget"] as PgNode)["val"] as PgNode));
  const zipped = zipSrfs(b, srfCalls, scope);
  if (zipped !== null) {
    const index = rel.cols.length;
    rel = { kind: "join", type: "inner", left: rel, right: zipped, on: null, lateral: true, cols: [...rel.cols, ...zipped.cols] };
    srfCalls.forEach((fc, k) => {
      scope.columns.push({ table: null, name: `\u0000srf${index + k}`, type: zipped.cols[k]!.type, index: index + k, hidden: true, tableId: 0, columnId: 0 });
      srfCols.set(fc, index + k);
    });
  }
  for (const t of zipped === null ? ((stmt["targetList"] as PgNode[] | undefined) ?? []) : []) {
    const val = (t["ResTarget"] as PgNode)["val"] as PgNode;
    for (const fc of findSrfCalls(val)) {
      const fname = stringList(fc["funcname"] as PgNode[]).pop()!.toLowerCase();
      const argScope = new Scope([], scope);
      const args = ((fc["args"] as PgNode[] | undefined) ?? []).map((a) => bindExpr(b, a, ctxFor(argScope, "FROM")));
      const srf = bindSrf(b, fname, args, fname);
      const index = rel.cols.length;
      rel = { kind: "join", type: "inner", left: rel, right: srf, on: null, lateral: true, cols: [...rel.cols, ...srf.cols] };
      scope.columns.push({ table: null, name: `\u0000srf${index}`, type: srf.cols[0]!.type, index, hidden: true, tableId: 0, columnId: 0 });
      srfCols.set(fc, index);
    }
  }
  if (srfCols.size > 0) ctx.srfCols = srfCols;

  // Targets.
  const targets: Target[] = [];
  for (const t of (stmt["targetList"] as PgNode[] | undefined) ?? []) {
    const rt = t["ResTarget"] as PgNode;
    const val = rt["val"] as PgNode;
    const [vk, vb] = nodeKind(val);
    if (vk === "ColumnRef") {
      const fields = vb["fields"] as PgNode[];
      const last = fields[fields.length - 1]!;
      if (last["A_Star"] !== undefined) {
        const table = fields.length >= 2 ? ((fields[fields.length - 2]!["String"] as PgNode)["sval"] as string) : null;
        const cols = scope.star(table);
        if (table !== null && !scope.hasTable(table)) throw new PgError("undefined_table", `missing FROM-clause entry for table "${table}"`, pos(vb["location"]));
        if (table === null && from.rel.kind === "one") throw new PgError("syntax_error", "SELECT * with no tables specified is not valid", pos(vb["location"]));
        for (const c of cols) targets.push({ expr: { kind: "col", type: c.type, index: c.index }, name: c.name, tableId: c.tableId, columnId: c.columnId });
        continue;
      }
    }
    const e = bindExpr(b, val, ctx);
    const src = e.kind === "col" && e.index < AGG_BASE ? scope.columns.find((c) => c.index === e.index) : undefined;
    targets.push({ expr: e, name: (rt["name"] as string | undefined) ?? targetName(val, e), tableId: src?.tableId ?? 0, columnId: src?.columnId ?? 0 });
  }

  // ORDER BY keys: output ordinals, output names, or expressions over the input.
  const sortNodes = (stmt["sortClause"] as PgNode[] | undefined) ?? [];
  const sortRefs: Array<{ target: number } | { expr: Expr; body: PgNode }> = [];
  for (const s of sortNodes) {
    const body = s["SortBy"] as PgNode;
    const node = body["node"] as PgNode;
    const ord = ordinal(node, targets.length);
    if (ord !== null) {
      sortRefs.push({ target: ord });
      continue;
    }
    const [nk, nb] = nodeKind(node);
    if (nk === "ColumnRef" && (nb["fields"] as PgNode[]).length === 1) {
      const name = ((nb["fields"] as PgNode[])[0]!["String"] as PgNode | undefined)?.["sval"] as string | undefined;
      const matches = targets.map((t, i) => (t.name === name ? i : -1)).filter((i) => i >= 0);
      if (name !== undefined && matches.length >= 1 && scope.find(null, name, undefined) === undefined) {
        sortRefs.push({ target: matches[0]! });
        continue;
      }
      if (name !== undefined && matches.length >= 1) {
        // Both an output name and an input column: Postgres prefers the output column.
        sortRefs.push({ target: matches[0]! });
        continue;
      }
    }
    sortRefs.push({ expr: bindExpr(b, node, { ...ctx, clause: "ORDER BY" }), body });
  }

  // DISTINCT ON expressions.
  const distinctClause = stmt["distinctClause"] as PgNode[] | undefined;
  let distinctOn: Expr[] | null = null;
  if (distinctClause !== undefined && distinctClause.length > 0 && Object.keys(distinctClause[0]!).length > 0) {
    distinctOn = distinctClause.map((n) => {
      const ord = ordinal(n, targets.length);
      return ord !== null ? targets[ord]!.expr : bindExpr(b, n, ctx);
    });
  }

  // GROUP BY and HAVING.
  const groupNodes = (stmt["groupClause"] as PgNode[] | undefined) ?? [];
  const groupBy: Expr[] = groupNodes.map((n) => {
    const ord = ordinal(n, targets.length);
    if (ord !== null) return targets[ord]!.expr;
    const [nk, nb] = nodeKind(n);
    if (nk === "ColumnRef" && (nb["fields"] as PgNode[]).length === 1) {
      const name = ((nb["fields"] as PgNode[])[0]!["String"] as PgNode | undefined)?.["sval"] as string | undefined;
      if (name !== undefined && scope.find(null, name, undefined) === undefined) {
        const t = targets.find((x) => x.name === name);
        if (t !== undefined) return t.expr;
      }
    }
    return bindExpr(b, n, { ...ctx, aggs: null, clause: "GROUP BY" });
  });
  let having: Expr | null = null;
  if (stmt["havingClause"] !== undefined) {
    having = coerceBool(b, bindExpr(b, stmt["havingClause"] as PgNode, { ...ctx, wins: null, clause: "HAVING" }), "HAVING");
  }

  const sortExprs: Expr[] = sortRefs.map((r) => ("target" in r ? targets[r.target]!.expr : r.expr));
  const grouped = groupBy.length > 0 || aggs.length > 0 || having !== null;
  let post = (e: Expr): Expr => e;
  if (grouped) {
    for (const g of groupBy) if (containsAggOrWin(g)) throw new PgError("grouping_error", "aggregate functions are not allowed in GROUP BY");
    const keys = groupBy.map(exprKey);
    const G = groupBy.length;
    post = (e: Expr): Expr => rewriteGrouped(e, keys, G);
    const aggCols = aggs.map((a) => outCol(a.name, a.type));
    rel = {
      kind: "aggregate",
      input: rel,
      groupBy,
      aggs,
      cols: [...groupBy.map((g) => outCol("?group?", g.type)), ...aggCols],
    };
    if (having !== null) rel = { kind: "filter", cols: rel.cols, input: rel, pred: post(having) };
  }
  if (wins.length > 0) {
    const base = rel.cols.length;
    const mappedWins = wins.map((w) => ({
      ...w,
      args: w.args.map(post),
      partitionBy: w.partitionBy.map(post),
      orderBy: w.orderBy.map((k) => ({ ...k, expr: post(k.expr) })),
      aggregate: w.aggregate === null ? null : { ...w.aggregate, args: w.aggregate.args.map(post) },
    }));
    rel = { kind: "window", input: rel, funcs: mappedWins, cols: [...rel.cols, ...wins.map((w) => outCol(w.name, w.type))] };
    const prev = post;
    post = (e: Expr): Expr => mapExpr(prev(e), (x) => (x.kind === "col" && x.index >= WIN_BASE ? { kind: "col", type: x.type, index: base + x.index - WIN_BASE } : x));
  } else if (!grouped) {
    // Aggregates or windows can only appear in grouped/windowed queries; nothing to rewrite.
  }

  // Projection: targets, then hidden sort columns not already among them.
  const projExprs = targets.map((t) => post(t.expr));
  const projCols: OutputColumn[] = targets.map((t, i) => outCol(t.name, finalType(projExprs[i]!.type), t.tableId, t.columnId));
  const finalExprs = projExprs.map((e) => (e.type.oid === Oid.unknown ? coerce(b, e, Types.text) : e));
  const sortKeys: SortKey[] = [];
  let hidden = 0;
  sortRefs.forEach((r, i) => {
    const e = post(sortExprs[i]!);
    const body = "target" in r ? ((sortNodes[i]!["SortBy"] as PgNode)) : r.body;
    let idx = "target" in r ? r.target : finalExprs.findIndex((x) => exprKey(x) === exprKey(e));
    if (idx < 0) {
      idx = finalExprs.length;
      finalExprs.push(e);
      projCols.push(outCol("?sort?", e.type));
      hidden++;
    }
    sortKeys.push(sortKeyOf({ kind: "col", type: finalExprs[idx]!.type, index: idx }, body));
  });
  rel = { kind: "project", input: rel, exprs: finalExprs, cols: projCols };

  const isDistinct = distinctClause !== undefined;
  if (isDistinct && distinctOn === null) {
    if (hidden > 0) throw new PgError("invalid_column_reference", "for SELECT DISTINCT, ORDER BY expressions must appear in select list");
    rel = { kind: "distinct", cols: rel.cols, input: rel, on: null };
  }
  if (distinctOn !== null) {
    const onIdx = distinctOn.map((d) => {
      const e = post(d);
      let i = finalExprs.findIndex((x) => exprKey(x) === exprKey(e));
      if (i < 0) {
        i = finalExprs.length;
        finalExprs.push(e);
        projCols.push(outCol("?distinct?", e.type));
        hidden++;
      }
      return { kind: "col", type: finalExprs[i]!.type, index: i } as Expr;
    });
    const keys: SortKey[] = [...onIdx.map((e) => ({ expr: e, desc: false, nullsFirst: false })), ...sortKeys];
    // The leading ORDER BY keys must match DISTINCT ON; sorting by ON first then the rest is equivalent.
    const leading = sortKeys.slice(0, onIdx.length);
    const ok = leading.every((k) => onIdx.some((o) => exprKey(o) === exprKey(k.expr)));
    if (!ok && sortKeys.length > 0) throw new PgError("invalid_column_reference", "SELECT DISTINCT ON expressions must match initial ORDER BY expressions");
    rel = { kind: "sort", cols: rel.cols, input: rel, keys: sortKeys.length > 0 ? sortKeys : keys };
    rel = { kind: "distinct", cols: rel.cols, input: rel, on: onIdx };
  } else if (sortKeys.length > 0) {
    rel = { kind: "sort", cols: rel.cols, input: rel, keys: sortKeys };
  }
  rel = bindLimit(b, stmt, rel, outer);
  if (hidden > 0) {
    const n = targets.length;
    rel = { kind: "project", input: rel, exprs: projCols.slice(0, n).map((c, i) => ({ kind: "col", type: c.type, index: i })), cols: projCols.slice(0, n) };
  }
  return rel;
}

function finalType(t: SqlType): SqlType {
  return t.oid === Oid.unknown ? Types.text : t;
}

function containsAggOrWin(e: Expr): boolean {
  let found = false;
  mapExpr(e, (x) => {
    if (x.kind === "col" && x.index >= AGG_BASE) found = true;
    return x;
  });
  return found;
}

/** Rewrites an expression over the input into one over the aggregate's output row. */
function rewriteGrouped(e: Expr, groupKeys: string[], G: number): Expr {
  const k = exprKey(e);
  const gi = groupKeys.indexOf(k);
  if (gi >= 0) return { kind: "col", type: e.type, index: gi };
  if (e.kind === "col") {
    if (e.index >= AGG_BASE && e.index < WIN_BASE) return { kind: "col", type: e.type, index: G + e.index - AGG_BASE };
    if (e.index >= WIN_BASE) return e;
    throw new PgError("grouping_error", "column must appear in the GROUP BY clause or be used in an aggregate function");
  }
  return mapChildren(e, (x) => rewriteGrouped(x, groupKeys, G));
}
