// Binds INSERT, UPDATE and DELETE: the target table, the rows to write (a Rel producing them), the
// expressions computing new values, ON CONFLICT, and RETURNING. Execution is in exec/dml.ts.
import { PgError } from "../../../../common/errors.ts";
import type { ColumnDesc, TableDesc } from "../../catalog/descriptors.ts";
import { visibleColumns } from "../../catalog/descriptors.ts";
import { nodeKind, stringList, type PgNode } from "../parse/ast.ts";
import { type SqlType, typeOfStored } from "../types/type.ts";
import type { Datum } from "../types/datum.ts";
import { type Binder, pos } from "./binder.ts";
import type { Expr, OutputColumn, Rel } from "./bound.ts";
import { bindExpr, coerce, coerceBool, ctxFor } from "./expr.ts";
import { Scope, type ScopeColumn } from "./scope.ts";
import { bindQuery, castRel, checkCatalogName, targetName } from "./select.ts";
import { conjunctsOf, predicateImplied } from "./predicate-implication.ts";
import { bindIndexPredicates } from "./table-rules.ts";

export interface Returning {
  exprs: Expr[];
  cols: OutputColumn[];
}

export interface BoundInsert {
  kind: "insert";
  table: TableDesc;
  /** For each source column, the table column position it fills. */
  targets: number[];
  /** Rows to insert; `undefined` cells (DEFAULT) are marked by `defaults`. */
  source: Rel;
  /** Positions in source rows that were written DEFAULT: per row, filled at run time. */
  defaultMarkers: boolean;
  onConflict: OnConflict | null;
  returning: Returning | null;
}

export interface OnConflict {
  /** Conflict target columns (positions); empty: any unique constraint. */
  targetCols: number[];
  /** Conjuncts of the target's WHERE (`ON CONFLICT (cols) WHERE …`), over the table's row: which partial unique indexes may arbitrate. */
  targetWhere: Expr[];
  action: "nothing" | "update";
  /** For DO UPDATE: position → expression over [existing row…, excluded row…]. */
  sets: Array<{ pos: number; expr: Expr }>;
  where: Expr | null;
}

export interface BoundUpdate {
  kind: "update";
  table: TableDesc;
  /** Rows to update: the table row first (table.columns order), then any FROM columns. */
  source: Rel;
  sets: Array<{ pos: number; expr: Expr }>;
  returning: Returning | null;
}

export interface BoundDelete {
  kind: "delete";
  table: TableDesc;
  source: Rel;
  returning: Returning | null;
}

export function tableColumnTypes(t: TableDesc): SqlType[] {
  return t.columns.map((c) => typeOfStored(c.type));
}

export function resolveTable(b: Binder, rv: PgNode): TableDesc {
  checkCatalogName(b, rv);
  const names = rv["schemaname"] ? [rv["schemaname"] as string, rv["relname"] as string] : [rv["relname"] as string];
  const d = b.catalog.resolveRelation(names, b.searchPath);
  if (d === undefined) throw new PgError("undefined_table", `relation "${names.join(".")}" does not exist`, pos(rv["location"]));
  if (d.kind !== "table") throw new PgError("wrong_object_type", `cannot change ${d.kind} "${d.name}"`, pos(rv["location"]));
  b.usedTables.add(d.id);
  return d;
}

export function tableScope(t: TableDesc, alias: string, offset: number, parent: Scope | null): ScopeColumn[] {
  void parent;
  return t.columns.map((c, i) => ({
    table: alias,
    name: c.name,
    type: typeOfStored(c.type),
    index: offset + i,
    hidden: c.hidden,
    tableId: t.id,
    columnId: c.id,
  }));
}

/**
 * ON CONFLICT (cols) [WHERE …] must name a unique index (the primary key, a unique index over
 * exactly those columns, or a partial one whose predicate the WHERE implies), as in Postgres.
 */
function checkArbiter(b: Binder, t: TableDesc, targetCols: number[], targetWhere: Expr[]): void {
  const predicates = bindIndexPredicates(b, t);
  const found = [t.primaryIndex, ...t.indexes].some((ix) => {
    if (!(ix.primary || ix.unique) || ix.state === "write-only") return false;
    const cols = ix.columns.map((c) => t.columns.findIndex((col) => col.id === c.columnId));
    if (cols.length !== targetCols.length || !cols.every((c) => targetCols.includes(c))) return false;
    const pred = predicates.get(ix.id);
    return pred === undefined || predicateImplied(pred, targetWhere);
  });
  if (!found) throw new PgError("invalid_column_reference", "there is no unique or exclusion constraint matching the ON CONFLICT specification");
}

function scanRel(b: Binder, t: TableDesc, alias: string): Rel {
  return {
    kind: "scan",
    table: t,
    alias,
    indexPredicates: bindIndexPredicates(b, t),
    cols: t.columns.map((c) => ({ name: c.name, type: typeOfStored(c.type), tableId: t.id, columnId: c.id })),
  };
}

function bindReturning(b: Binder, list: PgNode[] | undefined, scope: Scope): Returning | null {
  if (list === undefined || list.length === 0) return null;
  const exprs: Expr[] = [];
  const cols: OutputColumn[] = [];
  for (const t of list) {
    const rt = t["ResTarget"] as PgNode;
    const val = rt["val"] as PgNode;
    const [vk, vb] = nodeKind(val);
    if (vk === "ColumnRef" && (vb["fields"] as PgNode[]).some((f) => f["A_Star"] !== undefined)) {
      for (const c of scope.star(null)) {
        exprs.push({ kind: "col", type: c.type, index: c.index });
        cols.push({ name: c.name, type: c.type, tableId: c.tableId, columnId: c.columnId });
      }
      continue;
    }
    const e = bindExpr(b, val, ctxFor(scope, "RETURNING"));
    const name = (rt["name"] as string | undefined) ?? targetName(val, e);
    exprs.push(e);
    cols.push({ name, type: e.type, tableId: 0, columnId: 0 });
  }
  return { exprs, cols };
}

/** RETURNING targets: PG 18's parser wraps them in returningClause. */
function returningList(stmt: PgNode): PgNode[] | undefined {
  const rc = stmt["returningClause"] as PgNode | undefined;
  return (rc?.["exprs"] as PgNode[] | undefined) ?? (stmt["returningList"] as PgNode[] | undefined);
}

export function columnPosition(t: TableDesc, name: string, location: unknown): number {
  const i = t.columns.findIndex((c) => c.name === name && !c.hidden);
  if (i < 0) throw new PgError("undefined_column", `column "${name}" of relation "${t.name}" does not exist`, pos(location));
  return i;
}

export function bindInsert(b: Binder, stmt: PgNode): BoundInsert {
  const rv = stmt["relation"] as PgNode;
  const table = resolveTable(b, rv);
  const alias = ((rv["alias"] as PgNode | undefined)?.["aliasname"] as string | undefined) ?? table.name;
  const types = tableColumnTypes(table);
  const cols = stmt["cols"] as PgNode[] | undefined;
  const targets = cols === undefined
    ? visibleColumns(table).map((c) => table.columns.indexOf(c))
    : cols.map((c) => columnPosition(table, (c["ResTarget"] as PgNode)["name"] as string, (c["ResTarget"] as PgNode)["location"]));
  if (new Set(targets).size !== targets.length) throw new PgError("duplicate_column", "column specified more than once");
  const sel = stmt["selectStmt"] as PgNode | undefined;
  let source: Rel;
  let defaultMarkers = false;
  if (sel === undefined) {
    source = { kind: "one", cols: [] };
  } else {
    const s = sel["SelectStmt"] as PgNode;
    const targetTypes = targets.map((p) => types[p]!);
    if (s["valuesLists"] !== undefined && s["sortClause"] === undefined && s["limitCount"] === undefined && s["withClause"] === undefined) {
      // Plain VALUES: each cell is coerced to its column's type; DEFAULT becomes a sentinel the
      // executor replaces with the column default.
      const scope0 = new Scope([], null);
      const rows: Expr[][] = [];
      for (const l of s["valuesLists"] as PgNode[]) {
        const items = (l["List"] as PgNode)["items"] as PgNode[];
        if (items.length > targets.length) throw new PgError("syntax_error", "INSERT has more expressions than target columns", pos((items[targets.length]! as PgNode)["A_Const"]?.["location"]));
        if (items.length < targets.length && cols !== undefined) throw new PgError("syntax_error", "INSERT has more target columns than expressions");
        rows.push(items.map((item, i) => {
          const t = targetTypes[i]!;
          if (item["SetToDefault"] !== undefined) {
            defaultMarkers = true;
            return { kind: "const", type: t, value: DEFAULT_SENTINEL };
          }
          return coerce(b, bindExpr(b, item, ctxFor(scope0, "VALUES")), t);
        }));
      }
      const width = rows[0]?.length ?? 0;
      for (const r of rows) if (r.length !== width) throw new PgError("syntax_error", "VALUES lists must all be the same length");
      source = { kind: "values", rows, cols: targetTypes.slice(0, width).map((t, i) => ({ name: `column${i + 1}`, type: t, tableId: 0, columnId: 0 })) };
    } else {
      source = castRel(b, bindQuery(b, sel, null), targetTypes);
    }
    if (source.cols.length > targets.length) throw new PgError("syntax_error", "INSERT has more expressions than target columns");
  }
  const usedTargets = targets.slice(0, sel === undefined ? 0 : source.cols.length);
  source = checkIdentityTargets(table, usedTargets, source, stmt["override"] as string | undefined);
  const scope = new Scope(tableScope(table, alias, 0, null), null);
  let onConflict: OnConflict | null = null;
  const oc = stmt["onConflictClause"] as PgNode | undefined;
  if (oc !== undefined) {
    const infer = oc["infer"] as PgNode | undefined;
    const targetCols = ((infer?.["indexElems"] as PgNode[] | undefined) ?? []).map((e) => columnPosition(table, (e["IndexElem"] as PgNode)["name"] as string, undefined));
    const inferWhere = infer?.["whereClause"] as PgNode | undefined;
    const targetWhere = inferWhere === undefined ? [] : conjunctsOf(coerceBool(b, bindExpr(b, inferWhere, ctxFor(scope, "index predicates")), "WHERE"));
    if (targetCols.length > 0) checkArbiter(b, table, targetCols, targetWhere);
    if (oc["action"] === "ONCONFLICT_UPDATE") {
      if (targetCols.length === 0) throw new PgError("syntax_error", "ON CONFLICT DO UPDATE requires inference specification or constraint name", { hint: "For example, ON CONFLICT (column_name)." });
      const excluded = tableScope(table, "excluded", table.columns.length, null);
      const upScope = new Scope([...tableScope(table, alias, 0, null), ...excluded], null);
      const sets = bindSetList(b, table, oc["targetList"] as PgNode[], upScope, types);
      const where = oc["whereClause"] === undefined ? null : coerceBool(b, bindExpr(b, oc["whereClause"] as PgNode, ctxFor(upScope, "WHERE")), "WHERE");
      onConflict = { targetCols, targetWhere, action: "update", sets, where };
    } else {
      onConflict = { targetCols, targetWhere, action: "nothing", sets: [], where: null };
    }
  }
  return {
    kind: "insert",
    table,
    targets: usedTargets,
    source,
    defaultMarkers,
    onConflict,
    returning: bindReturning(b, returningList(stmt), scope),
  };
}

function isDefaultMarker(e: Expr | undefined): boolean {
  return e !== undefined && e.kind === "const" && e.value === DEFAULT_SENTINEL;
}

/**
 * Identity columns in an INSERT's target list, as Postgres checks them: a value for a GENERATED
 * ALWAYS column is refused (428C9) unless it is DEFAULT in every row or OVERRIDING SYSTEM VALUE is
 * given; OVERRIDING USER VALUE replaces the values given for any identity column by its default.
 */
export function checkIdentityTargets(table: TableDesc, targets: readonly number[], source: Rel, override: string | undefined): Rel {
  let rows = source.kind === "values" ? source.rows : null;
  targets.forEach((p, i) => {
    const c = table.columns[p]!;
    if (c.generated !== undefined && !(rows !== null && rows.every((r) => isDefaultMarker(r[i])))) {
      throw new PgError("generated_always", `cannot insert a non-DEFAULT value into column "${c.name}"`, { detail: `Column "${c.name}" is a generated column.` });
    }
  });
  if (override === "OVERRIDING_SYSTEM_VALUE") return source;
  targets.forEach((p, i) => {
    const c = table.columns[p]!;
    if (c.identity === "") return;
    if (override === "OVERRIDING_USER_VALUE") {
      if (rows === null) throw new PgError("feature_not_supported", "OVERRIDING USER VALUE is supported with VALUES only");
      rows = rows.map((r) => r.map((e, j) => (j === i ? { kind: "const", type: e.type, value: DEFAULT_SENTINEL } : e)));
      return;
    }
    if (c.identity === "a" && !(rows !== null && rows.every((r) => isDefaultMarker(r[i])))) {
      throw new PgError("generated_always", `cannot insert a non-DEFAULT value into column "${c.name}"`, {
        detail: `Column "${c.name}" is an identity column defined as GENERATED ALWAYS.`,
        hint: "Use OVERRIDING SYSTEM VALUE to override.",
      });
    }
  });
  return rows !== null && source.kind === "values" && rows !== source.rows ? { ...source, rows } : source;
}

/** Marks a VALUES cell (or SET target) written as DEFAULT; never a real datum. */
export const DEFAULT_SENTINEL = Object.freeze({ warrenDefault: true }) as unknown as Datum;

function bindSetList(b: Binder, table: TableDesc, list: PgNode[], scope: Scope, types: SqlType[]): Array<{ pos: number; expr: Expr }> {
  const sets: Array<{ pos: number; expr: Expr }> = [];
  for (const t of list) {
    const rt = t["ResTarget"] as PgNode;
    const p = columnPosition(table, rt["name"] as string, rt["location"]);
    if (sets.some((s) => s.pos === p)) throw new PgError("syntax_error", `multiple assignments to same column "${rt["name"] as string}"`);
    let val = rt["val"] as PgNode;
    const multi = val["MultiAssignRef"] as PgNode | undefined;
    if (multi !== undefined) {
      // UPDATE … SET (a, b) = (x, y): each column takes its position of the row constructor.
      const row = (multi["source"] as PgNode)["RowExpr"] as PgNode | undefined;
      if (row === undefined) throw new PgError("feature_not_supported", "SET (…) = (SELECT …) is not supported; list the values");
      const args = row["args"] as PgNode[];
      if (args.length !== (multi["ncolumns"] as number)) throw new PgError("syntax_error", "number of columns does not match number of values");
      val = args[(multi["colno"] as number) - 1]!;
    }
    let e: Expr;
    if (val["SetToDefault"] !== undefined) e = { kind: "const", type: types[p]!, value: DEFAULT_SENTINEL };
    else {
      const c = table.columns[p]!;
      if (c.identity === "a" || c.generated !== undefined) {
        throw new PgError("generated_always", `column "${c.name}" can only be updated to DEFAULT`, { detail: c.generated !== undefined ? `Column "${c.name}" is a generated column.` : `Column "${c.name}" is an identity column defined as GENERATED ALWAYS.` });
      }
      e = bindExpr(b, val, ctxFor(scope, "UPDATE"));
    }
    sets.push({ pos: p, expr: coerce(b, e, types[p]!) });
  }
  return sets;
}

function bindFromList(b: Binder, table: TableDesc, alias: string, from: PgNode[] | undefined, where: PgNode | undefined, clause: string): { source: Rel; scope: Scope } {
  let rel: Rel = scanRel(b, table, alias);
  let cols = tableScope(table, alias, 0, null);
  if (from !== undefined && from.length > 0) {
    const fake: PgNode = { SelectStmt: { targetList: [{ ResTarget: { val: { ColumnRef: { fields: [{ A_Star: {} }] } } } }], fromClause: from } };
    const other = bindQuery(b, fake, null);
    const shift = cols.length;
    rel = { kind: "join", type: "inner", left: rel, right: other, on: null, lateral: false, cols: [...rel.cols, ...other.cols] };
    const otherScope = fromScopeOf(b, from, shift);
    cols = [...cols, ...otherScope];
  }
  const scope = new Scope(cols, null);
  if (where !== undefined) {
    const pred = coerceBool(b, bindExpr(b, where, ctxFor(scope, "WHERE")), "WHERE");
    rel = { kind: "filter", cols: rel.cols, input: rel, pred };
  }
  void clause;
  return { source: rel, scope };
}

/** The scope the FROM/USING list of UPDATE/DELETE exposes (aliases and column names). */
function fromScopeOf(b: Binder, from: PgNode[], shift: number): ScopeColumn[] {
  const out: ScopeColumn[] = [];
  let offset = shift;
  for (const item of from) {
    const [k, node] = nodeKind(item);
    if (k !== "RangeVar") throw new PgError("feature_not_supported", "only tables are supported in UPDATE … FROM / DELETE … USING");
    const t = resolveTable(b, node);
    const alias = ((node["alias"] as PgNode | undefined)?.["aliasname"] as string | undefined) ?? t.name;
    const cols = tableScope(t, alias, offset, null).filter((c) => !c.hidden);
    // bindQuery with `*` exposes only visible columns, in order.
    cols.forEach((c, i) => out.push({ ...c, index: offset + i }));
    offset += cols.length;
  }
  return out;
}

export function bindUpdate(b: Binder, stmt: PgNode): BoundUpdate {
  const rv = stmt["relation"] as PgNode;
  const table = resolveTable(b, rv);
  const alias = ((rv["alias"] as PgNode | undefined)?.["aliasname"] as string | undefined) ?? table.name;
  const { source, scope } = bindFromList(b, table, alias, stmt["fromClause"] as PgNode[] | undefined, stmt["whereClause"] as PgNode | undefined, "UPDATE");
  const types = tableColumnTypes(table);
  const sets = bindSetList(b, table, stmt["targetList"] as PgNode[], scope, types);
  const retScope = new Scope(scope.columns, null);
  return { kind: "update", table, source, sets, returning: bindReturning(b, returningList(stmt), retScope) };
}

export function bindDelete(b: Binder, stmt: PgNode): BoundDelete {
  const rv = stmt["relation"] as PgNode;
  const table = resolveTable(b, rv);
  const alias = ((rv["alias"] as PgNode | undefined)?.["aliasname"] as string | undefined) ?? table.name;
  const { source, scope } = bindFromList(b, table, alias, stmt["usingClause"] as PgNode[] | undefined, stmt["whereClause"] as PgNode | undefined, "DELETE");
  return { kind: "delete", table, source, returning: bindReturning(b, returningList(stmt), scope) };
}

export function columnOf(t: TableDesc, pos0: number): ColumnDesc {
  return t.columns[pos0]!;
}
