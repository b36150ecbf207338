// Binds parser expressions into typed Expr nodes: resolves column names through scopes, picks
// operators and functions by argument types, inserts implicit casts, folds literal casts, and
// pulls aggregate and window calls out into their collectors (select.ts places them in the plan).
import { PgError } from "../../../../common/errors.ts";
import { castFunction } from "../types/cast.ts";
import { commonType } from "../types/cast-rules.ts";
import { formatText } from "../types/text-io.ts";
import { resolveOperator, resolveUnaryOperator, type ResolvedOperator } from "../functions/operators.ts";
import { hasFunction, resolveFunction } from "../functions/functions.ts";
import { regexMatch } from "../functions/regexp.ts";
import { nodeKind, stringList, type PgNode } from "../parse/ast.ts";
import { Numeric } from "../types/numeric.ts";
import { relationOid } from "../../catalog/oids.ts";
import { arrayLowerBound, arrayOf, enumType, formatType, Oid, refuseMultidimensional, type SqlType, Types, typeCategory, typeFromName, typeOfStored } from "../types/type.ts";
import type { Catalog } from "../../catalog/catalog.ts";
import type { FunctionDesc, TypeDesc } from "../../catalog/descriptors.ts";
import type { Datum } from "../types/datum.ts";
import { aggregateType, isAggregate } from "../functions/aggregates.ts";
import { WINDOW_ONLY, windowType } from "./window-functions.ts";
import { type Binder, pos } from "./binder.ts";
import type { AggCall, Expr, FrameBound, SortKey, SpecialFn, WindowCall, WindowFrame } from "./bound.ts";
import { Scope } from "./scope.ts";
import { mapExpr } from "./rewrite.ts";
import { sqlLimits } from "../limits.ts";
import { bindSubquery, SET_RETURNING } from "./select.ts";
import { bindCatalogFunction } from "./catalog-functions.ts";
import { checkTextLength } from "../functions/value-limits.ts";
import { exprNode } from "./stored-sql.ts";
import { type TypeRef, typeRefOf } from "./type-ref.ts";

/** Aggregate outputs are referred to as col(AGG_BASE + k) until select.ts maps them. */
export const AGG_BASE = 1_000_000;
export const WIN_BASE = 2_000_000;

export interface ExprContext {
  scope: Scope;
  /** Where aggregate calls go; null where aggregates are not allowed (WHERE, JOIN ON, …). */
  aggs: AggCall[] | null;
  wins: WindowCall[] | null;
  clause: string;
  /** Set-returning calls of the select list already bound as lateral function scans: call → input column. */
  srfCols?: Map<PgNode, number>;
}

export function ctxFor(scope: Scope, clause: string): ExprContext {
  return { scope, aggs: null, wins: null, clause };
}

const BOOL = Types.bool;

export function constExpr(type: SqlType, value: Datum): Expr {
  return { kind: "const", type, value };
}

/**
 * Set while a statement is bound for Describe (no parameter values yet): each $n coerced to a
 * type reports it here, which is how parameter types are inferred from their context.
 */
let paramSink: ((index: number, type: SqlType) => void) | null = null;

export function withParamInference<T>(sink: (index: number, type: SqlType) => void, f: () => T): T {
  paramSink = sink;
  try {
    return f();
  } finally {
    paramSink = null;
  }
}

/**
 * Casts `e` to `t` (folding constants) in the statement's evaluation context; `explicit` allows
 * lossy casts (CAST, ::), otherwise assignment casts are allowed (INSERT values, SET targets).
 */
export function coerce(b: Binder, e: Expr, t: SqlType, explicit = false): Expr {
  if (t.domain !== undefined && e.type.domain?.typeId !== t.domain.typeId) return coerceToDomain(b, e, t, explicit);
  if (e.kind === "param" && e.type.oid === Oid.unknown && paramSink !== null) {
    paramSink(e.index, t);
    return { kind: "param", type: t, index: e.index };
  }
  if (e.type.oid === t.oid && (t.typmod === -1 || e.type.typmod === t.typmod) && (t.elem === undefined || e.type.elem?.oid === t.elem.oid)) return e;
  const cast = castFunction(e.type, t, explicit ? "explicit" : "assignment");
  const ctx = b.evalContext;
  const fn = (d: Datum): Datum => cast(d, ctx);
  if (e.kind === "const") return constExpr(t, e.value === null ? null : fn(e.value));
  return { kind: "cast", type: t, arg: e, fn };
}

/**
 * Coerces to a domain: to its base type first, then a "domain" node that checks NOT NULL and each
 * CHECK (bound here with VALUE as the only column, as Postgres binds CoerceToDomainValue).
 */
function coerceToDomain(b: Binder, e: Expr, t: SqlType, explicit: boolean): Expr {
  const d = t.domain!;
  const { domain: _d, ...rest } = t;
  const base = Object.freeze(rest) as SqlType;
  const inner = coerce(b, e, base, explicit);
  const scope = new Scope([{ table: null, name: "value", type: base, index: 0, hidden: false, tableId: 0, columnId: 0 }], null);
  // Postgres checks a domain's constraints in name order.
  const checks = [...d.checks].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0)).map((ch) => ({ name: ch.name, expr: coerceBool(b, bindExpr(b, exprNode(ch.expr), ctxFor(scope, "check constraints")), "CHECK") }));
  return { kind: "domain", type: t, arg: { ...inner, type: base } as Expr, domainName: d.schema === "public" ? d.name : `${d.schema}.${d.name}`, notNull: d.notNull, checks };
}

/** Coerces to boolean for WHERE / ON / HAVING / AND / OR / NOT operands. */
export function coerceBool(b: Binder, e: Expr, clause: string): Expr {
  if (e.type.oid === Oid.bool) return e;
  if (e.type.oid === Oid.unknown) return coerce(b, e, BOOL);
  throw new PgError("datatype_mismatch", `argument of ${clause} must be type boolean, not type ${formatType(e.type)}`);
}

/** A structural key: equal keys mean the same expression (GROUP BY matching). */
export function exprKey(e: Expr): string {
  return JSON.stringify(e, (k, v: unknown) => {
    if (typeof v === "bigint") return `${v}n`;
    if (typeof v === "function") return undefined;
    if (k === "sub") return `sub${(v as { id: number }).id}`;
    if (v instanceof Numeric) return `num:${v.toString()}`;
    return v;
  });
}

function intConst(n: number | string): Expr {
  const big = typeof n === "string" ? BigInt(n) : BigInt(n);
  if (big >= -2147483648n && big <= 2147483647n) return constExpr(Types.int4, Number(big));
  if (big >= -(2n ** 63n) && big < 2n ** 63n) return constExpr(Types.int8, big);
  return constExpr(Types.numeric, Numeric.parse(big.toString()));
}

function bindConst(c: PgNode): Expr {
  if (c["isnull"]) return constExpr(Types.unknown, null);
  if (c["ival"] !== undefined) return intConst((c["ival"] as { ival?: number }).ival ?? 0);
  if (c["fval"] !== undefined) {
    const s = (c["fval"] as { fval: string }).fval;
    if (/^[+-]?\d+$/.test(s)) return intConst(s);
    return constExpr(Types.numeric, Numeric.parse(s));
  }
  if (c["boolval"] !== undefined) return constExpr(BOOL, (c["boolval"] as { boolval?: boolean }).boolval ?? false);
  if (c["sval"] !== undefined) return constExpr(Types.unknown, (c["sval"] as { sval?: string }).sval ?? "");
  if (c["bsval"] !== undefined) throw new PgError("feature_not_supported", "bit string literals are not supported");
  return constExpr(Types.unknown, null);
}

/** Where user-defined type names (CREATE TYPE) are looked up: the catalog and search_path. */
export interface TypeNameScope {
  readonly catalog: Catalog;
  readonly searchPath: readonly string[];
}

/** The SqlType of a user-defined type descriptor (today: enums). */
export function userType(catalog: Catalog, d: TypeDesc): SqlType {
  const schema = catalog.get(d.schemaId)?.name ?? "public";
  if (d.domain !== undefined) {
    const dm = d.domain;
    return Object.freeze({ ...typeOfStored(dm.base), domain: { typeId: d.id, name: d.name, schema, notNull: dm.notNull, checks: dm.checks, defaultExpr: dm.defaultExpr } });
  }
  return enumType(relationOid(d.id), d.name, { schema, labels: d.labels, sortOrders: d.sortOrders });
}

/**
 * A type name: a built-in type (pg_catalog is searched first, as in Postgres), else a
 * user-defined type of `scope`'s catalog found through its search_path or the name's schema.
 */
export function bindTypeName(tn: PgNode, scope?: TypeNameScope): SqlType {
  return bindTypeRef(typeRefOf(tn), scope);
}

/** bindTypeName for a name already read out of its tree (bound DDL). */
export function bindTypeRef(ref: TypeRef, scope?: TypeNameScope): SqlType {
  try {
    return bindBuiltinTypeName(ref);
  } catch (err) {
    if (scope === undefined || !(err instanceof PgError) || err.condition !== "undefined_object") throw err;
    const names = [...ref.names];
    const d = scope.catalog.resolveType(names, scope.searchPath);
    if (d === undefined) throw new PgError("undefined_object", `type "${names.join(".")}" does not exist`, pos(ref.location));
    if (ref.mods.length > 0) throw new PgError("syntax_error", `type modifier is not allowed for type "${d.name}"`, pos(ref.location));
    if (ref.arrayDims > 0) throw new PgError("feature_not_supported", `arrays of enum type ${d.name} are not supported`, pos(ref.location));
    return userType(scope.catalog, d);
  }
}

function bindBuiltinTypeName(ref: TypeRef): SqlType {
  const names = ref.names;
  const mods: number[] = [];
  for (const m of ref.mods) {
    if (m === null) throw new PgError("syntax_error", "type modifiers must be simple constants", pos(ref.location));
    mods.push(m);
  }
  const dims = ref.arrayDims;
  // The grammar turns char/character into pg_catalog.bpchar; a bare "char" can only be the
  // quoted, single-byte "char" type.
  if (names.length === 1 && names[0] === "char") return typeFromName('"char"', mods, dims);
  if (names.length === 1 && (names[0] === "serial" || names[0] === "bigserial" || names[0] === "smallserial")) {
    throw new PgError("undefined_object", `type "${names[0]}" does not exist`, pos(ref.location));
  }
  return typeFromName(names, mods, dims);
}

function bindColumnRef(b: Binder, node: PgNode, ctx: ExprContext): Expr {
  const fields = node["fields"] as PgNode[];
  const names: string[] = [];
  for (const f of fields) {
    const [k, body] = nodeKind(f);
    if (k === "A_Star") throw new PgError("syntax_error", "* is not allowed here", pos(node["location"]));
    names.push((body as { sval: string }).sval);
  }
  const name = names[names.length - 1]!;
  const table = names.length >= 2 ? names[names.length - 2]! : null;
  const variable = b.variables === null ? null : b.variables(names, node["location"] as number | undefined);
  let level = 0;
  for (let s: Scope | null = ctx.scope; s !== null; s = s.parent, level++) {
    const c = s.find(table, name, node["location"] as number | undefined);
    if (c !== undefined) {
      b.columnRefSeen?.(node, c);
      // plpgsql.variable_conflict = error, PostgreSQL's default.
      if (variable !== null) {
        throw new PgError("ambiguous_column", `column reference "${name}" is ambiguous`, { ...pos(node["location"]), detail: "It could refer to either a PL/pgSQL variable or a table column." });
      }
      if (level === 0) return { kind: "col", type: c.type, index: c.index };
      b.noteOuterReference(s);
      return { kind: "outer", type: c.type, level, index: c.index };
    }
    if (table !== null && s.hasTable(table)) break;
  }
  if (variable !== null) return variable;
  if (table !== null) {
    let known = false;
    for (let s: Scope | null = ctx.scope; s !== null; s = s.parent) if (s.hasTable(table)) known = true;
    if (!known) throw new PgError("undefined_table", `missing FROM-clause entry for table "${table}"`, pos(node["location"]));
    throw new PgError("undefined_column", `column ${table}.${name} does not exist`, pos(node["location"]));
  }
  throw new PgError("undefined_column", `column "${name}" does not exist`, pos(node["location"]));
}

function withPosition<T>(location: unknown, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof PgError && err.position === undefined) throw new PgError(err.condition, err.message, { ...pos(location), ...(err.hint ? { hint: err.hint } : {}) });
    throw err;
  }
}

function binaryOp(b: Binder, op: string, l: Expr, r: Expr, location: unknown): Expr {
  const name = op === "!=" ? "<>" : op;
  const o = withPosition(location, () => resolveOperator(name, l.type, r.type));
  const ctx = b.evalContext;
  const ev = o.eval;
  return callExpr(name, o.resultType, [coerce(b, l, o.leftType), coerce(b, r, o.rightType)], ([x, y]) => ev(x!, y!, ctx), o.strict, o.volatility === "volatile");
}

export function callExpr(name: string, type: SqlType, args: Expr[], fn: (a: Datum[]) => Datum, strict = true, volatile = false): Expr {
  const call: Expr = { kind: "call", type, name, args, fn, strict, volatile };
  // Constant folding: every argument known and the function is pure.
  if (!volatile && args.every((a) => a.kind === "const")) {
    const vals = args.map((a) => (a as { value: Datum }).value);
    if (strict && vals.some((v) => v === null)) return constExpr(type, null);
    try {
      return constExpr(type, fn(vals));
    } catch {
      // Errors surface when (and only if) the expression is evaluated, as Postgres does at run time.
      return call;
    }
  }
  return call;
}

/** The `=` operator for IS DISTINCT FROM and IN lists, on non-null operands of its own types. */
function eqFn(b: Binder, l: SqlType, r: SqlType): { eq: (a: Datum, b: Datum) => boolean; lt: SqlType; rt: SqlType } {
  const o = resolveOperator("=", l, r);
  const ctx = b.evalContext;
  const ev = o.eval;
  return { eq: (x, y) => ev(x, y, ctx) === true, lt: o.leftType, rt: o.rightType };
}

/** `op` applied to non-null operands the way = ANY / ALL and quantified subqueries apply it. */
function operatorTest(b: Binder, o: ResolvedOperator): (a: Datum, x: Datum) => Datum {
  const ctx = b.evalContext;
  const ev = o.eval;
  const cast = o.rightCast;
  return cast === null ? (a, x) => ev(a, x, ctx) : (a, x) => ev(a, cast(x, ctx), ctx);
}

/**
 * Type families in which PostgreSQL has an = operator for every pair (int48eq, float48eq,
 * date_eq_timestamp, …), so its left input keeps its own type. Warren's resolver coerces both
 * sides to one type instead, which gives the same answers but not the same left type, and
 * NULLIF's type is that left type.
 */
const EQ_FAMILIES: ReadonlyArray<ReadonlySet<number>> = [
  new Set([Oid.int2, Oid.int4, Oid.int8]),
  new Set([Oid.float4, Oid.float8]),
  new Set([Oid.date, Oid.timestamp, Oid.timestamptz]),
];

function crossTypeEq(l: number, r: number): boolean {
  return EQ_FAMILIES.some((f) => f.has(l) && f.has(r));
}

function bindAExpr(b: Binder, node: PgNode, ctx: ExprContext): Expr {
  const kind = node["kind"] as string;
  const opName = stringList(node["name"] as PgNode[]).pop() ?? "";
  const loc = node["location"];
  const lexpr = node["lexpr"] as PgNode | undefined;
  const rexpr = node["rexpr"] as PgNode | undefined;
  switch (kind) {
    case "AEXPR_OP": {
      if (lexpr !== undefined && lexpr["RowExpr"] !== undefined && rexpr?.["RowExpr"] !== undefined) {
        return rowComparison(b, opName, (lexpr["RowExpr"] as PgNode)["args"] as PgNode[], (rexpr["RowExpr"] as PgNode)["args"] as PgNode[], ctx, loc);
      }
      if (lexpr === undefined) {
        const arg = bindExpr(b, rexpr!, ctx);
        if (opName === "-" && arg.kind === "const" && arg.value !== null) {
          // -2147483648 is an int4 literal in Postgres: fold negation of constants first.
          if (typeof arg.value === "number" && arg.value === 2147483648) return constExpr(Types.int4, -2147483648);
          if (typeof arg.value === "bigint" && arg.value === 2n ** 63n) return constExpr(Types.int8, -(2n ** 63n));
        }
        const u = withPosition(loc, () => resolveUnaryOperator(opName, arg.type));
        const uctx = b.evalContext;
        const uev = u.eval;
        return callExpr(opName, u.resultType, [coerce(b, arg, u.argType)], ([a]) => uev(a!, uctx), true, u.volatility === "volatile");
      }
      return binaryOp(b, opName, bindExpr(b, lexpr, ctx), bindExpr(b, rexpr!, ctx), loc);
    }
    case "AEXPR_LIKE":
    case "AEXPR_ILIKE": {
      const l = bindExpr(b, lexpr!, ctx);
      const r = bindExpr(b, rexpr!, ctx);
      return binaryOp(b, opName, l.type.oid === Oid.unknown ? coerce(b, l, Types.text) : l, r, loc);
    }
    case "AEXPR_SIMILAR": {
      // Postgres's grammar already wraps the pattern in similar_to_escape(pattern[, escape]),
      // which turns it into a POSIX regex; SIMILAR TO is then the ~ operator.
      const l = bindExpr(b, lexpr!, ctx);
      const neg = opName.startsWith("!");
      const p = coerce(b, bindExpr(b, rexpr!, ctx), Types.text);
      // A character(n) value is matched with its padding, as Postgres's bpcharregexeq does.
      const subject = l.type.oid === Oid.bpchar ? l : coerce(b, l, Types.text);
      return callExpr(neg ? "!~ similar" : "~ similar", BOOL, [subject, p], ([s, pat]) => regexMatch(s as string, pat as string, false) !== neg);
    }
    case "AEXPR_DISTINCT":
    case "AEXPR_NOT_DISTINCT": {
      const l = bindExpr(b, lexpr!, ctx);
      const r = bindExpr(b, rexpr!, ctx);
      const { eq, lt, rt } = eqFn(b, l.type, r.type);
      return { kind: "distinct", type: BOOL, left: coerce(b, l, lt), right: coerce(b, r, rt), eq, negate: kind === "AEXPR_NOT_DISTINCT" };
    }
    case "AEXPR_NULLIF": {
      const l = bindExpr(b, lexpr!, ctx);
      const r = bindExpr(b, rexpr!, ctx);
      const cmp = binaryOp(b, "=", l, r, loc);
      // PostgreSQL's NULLIF has the type of the = operator's left input as the operator takes it:
      // NULLIF(1, 2.2) is numeric (numeric = numeric), NULLIF(1, 2::int8) int4 (int4 = int8).
      const left = crossTypeEq(l.type.oid, r.type.oid) ? l.type : coerce(b, l, resolveOperator("=", l.type, r.type).leftType).type;
      const t = left.oid === Oid.unknown ? Types.text : left;
      return { kind: "case", type: t, whens: [{ when: cmp, then: constExpr(t, null) }], else: coerce(b, l, t) };
    }
    case "AEXPR_IN": {
      const l = bindExpr(b, lexpr!, ctx);
      const items = listItems(rexpr!).map((n) => bindExpr(b, n, ctx));
      const t = commonType([l.type, ...items.map((i) => i.type)], "IN");
      const { eq } = eqFn(b, t, t);
      return { kind: "inlist", type: BOOL, arg: coerce(b, l, t), list: items.map((i) => coerce(b, i, t)), eq, negate: opName === "<>" };
    }
    case "AEXPR_BETWEEN":
    case "AEXPR_NOT_BETWEEN":
    case "AEXPR_BETWEEN_SYM":
    case "AEXPR_NOT_BETWEEN_SYM": {
      const x = bindExpr(b, lexpr!, ctx);
      const [lo, hi] = listItems(rexpr!).map((n) => bindExpr(b, n, ctx)) as [Expr, Expr];
      const not = kind.includes("NOT");
      const between = (a: Expr, c: Expr): Expr => ({ kind: "and", type: BOOL, args: [binaryOp(b, ">=", x, a, loc), binaryOp(b, "<=", x, c, loc)] });
      let e: Expr = between(lo, hi);
      if (kind.endsWith("SYM")) e = { kind: "or", type: BOOL, args: [e, between(hi, lo)] };
      return not ? { kind: "not", type: BOOL, arg: e } : e;
    }
    case "AEXPR_OP_ANY":
    case "AEXPR_OP_ALL": {
      const l = bindExpr(b, lexpr!, ctx);
      const r = bindExpr(b, rexpr!, ctx);
      const elemType = r.type.elem ?? (r.type.oid === Oid.unknown ? l.type : null);
      if (elemType === null) throw new PgError("wrong_object_type", `op ANY/ALL (array) requires array on right side`, pos(loc));
      const arr = r.type.elem !== undefined ? r : coerce(b, r, arrayOf(l.type.oid === Oid.unknown ? Types.text : l.type));
      const o = withPosition(loc, () => resolveOperator(opName, l.type, arr.type.elem!));
      const test = operatorTest(b, o);
      const cl = coerce(b, l, o.leftType);
      const all = kind === "AEXPR_OP_ALL";
      return callExpr(`${opName} ${all ? "ALL" : "ANY"}`, BOOL, [cl, arr], ([a, xs]) => {
        let sawNull = false;
        for (const x of xs as Datum[]) {
          if (x === null) {
            sawNull = true;
            continue;
          }
          const v = test(a!, x);
          if (all && v === false) return false;
          if (!all && v === true) return true;
        }
        return sawNull ? null : all;
      });
    }
  }
  throw new PgError("feature_not_supported", `expression kind ${kind} is not supported`, pos(loc));
}

/**
 * (a, b) op (c, d): equality is pairwise AND (inequality OR); ordering comparisons are
 * lexicographic — a < c OR (a = c AND b < d) — as Postgres compares row constructors.
 */
function rowComparison(b: Binder, op: string, left: PgNode[], right: PgNode[], ctx: ExprContext, loc: unknown): Expr {
  if (left.length !== right.length) throw new PgError("syntax_error", "unequal number of entries in row expressions", pos(loc));
  const l = left.map((n) => bindExpr(b, n, ctx));
  const r = right.map((n) => bindExpr(b, n, ctx));
  const pair = (o: string, i: number): Expr => binaryOp(b, o, l[i]!, r[i]!, loc);
  if (op === "=") return { kind: "and", type: BOOL, args: l.map((_, i) => pair("=", i)) };
  if (op === "<>" || op === "!=") return { kind: "or", type: BOOL, args: l.map((_, i) => pair("<>", i)) };
  if (!["<", "<=", ">", ">="].includes(op)) throw new PgError("feature_not_supported", `row comparison with ${op} is not supported`, pos(loc));
  const strict = op === "<" || op === ">" ? op : op === "<=" ? "<" : ">";
  const n = l.length;
  // Build from the last column outward: last uses op itself (≤ / ≥ keep equality there).
  let acc: Expr = pair(op, n - 1);
  for (let i = n - 2; i >= 0; i--) {
    acc = { kind: "or", type: BOOL, args: [pair(strict, i), { kind: "and", type: BOOL, args: [pair("=", i), acc] }] };
  }
  return acc;
}

/** A parser list: either a JSON array or a { List: { items } } node. */
function listItems(n: PgNode): PgNode[] {
  if (Array.isArray(n)) return n as PgNode[];
  const l = n["List"] as PgNode | undefined;
  return (l?.["items"] as PgNode[] | undefined) ?? [n];
}

/** How deep SQL function bodies are being inlined into each other right now (binding is synchronous). */
let inlineDepth = 0;

/** Replaces $n parameter references of a SQL function body by references to a column named "$n". */
function paramsAsColumns(n: unknown): unknown {
  if (Array.isArray(n)) return n.map(paramsAsColumns);
  if (n === null || typeof n !== "object") return n;
  const o = n as PgNode;
  const p = o["ParamRef"] as PgNode | undefined;
  if (p !== undefined) return { ColumnRef: { fields: [{ String: { sval: `$${p["number"] as number}` } }], location: p["location"] } };
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, paramsAsColumns(v)]));
}

/**
 * A call of a user-defined function (CREATE FUNCTION), or null when `names` names none. A
 * LANGUAGE sql function whose body is one `SELECT expr` is inlined: the body is bound over its
 * parameters, which are then replaced by the call's arguments (coerced to the parameter types).
 */
function bindUserFunction(b: Binder, names: readonly string[], args: Expr[], loc: unknown): Expr | null {
  const overloads = b.catalog.resolveFunctions(names, b.searchPath).filter((f) => f.argTypes.length === args.length);
  if (overloads.length === 0) return null;
  // Candidates whose parameters every argument coerces to; the most exact matches win (an
  // unknown literal counts half for a text parameter, as Postgres prefers the string category).
  let chosen: FunctionDesc | undefined;
  let coerced: Expr[] | undefined;
  let best = -1;
  let tie = false;
  for (const f of overloads) {
    let c: Expr[];
    try {
      c = args.map((a, i) => coerce(b, a, typeOfStored(f.argTypes[i]!)));
    } catch {
      continue;
    }
    const score = f.argTypes.reduce((n, t, i) => n + (t.oid === args[i]!.type.oid ? 2 : args[i]!.type.oid === Oid.unknown && typeCategory(typeOfStored(t)) === "S" ? 1 : 0), 0);
    if (score > best) [chosen, coerced, best, tie] = [f, c, score, false];
    else if (score === best) tie = true;
  }
  if (chosen === undefined || coerced === undefined) return null;
  if (tie) throw new PgError("ambiguous_function", `function ${names.join(".")}(${args.map((a) => formatType(a.type)).join(", ")}) is not unique`, { ...pos(loc), hint: "Could not choose a best candidate function. You might need to add explicit type casts." });
  const f = chosen;
  if (f.returnType.oid === Oid.trigger) {
    throw new PgError("feature_not_supported", "trigger functions can only be called as triggers", { ...pos(loc), where: `compilation of PL/pgSQL function "${f.name}" near line 1` });
  }
  if (f.language === "plpgsql") return { kind: "routine", type: typeOfStored(f.returnType), fn: f, args: coerced };
  if (f.sqlExpr === null) throw new PgError("feature_not_supported", `function ${f.name}: only SQL functions whose body is a single SELECT of one expression can be called`, pos(loc));
  if (inlineDepth >= sqlLimits.functionInlineDepthMax) {
    throw new PgError("statement_too_complex", "stack depth limit exceeded", { hint: `SQL functions calling each other are inlined at most ${sqlLimits.functionInlineDepthMax} deep.` });
  }
  const cols = f.argTypes.flatMap((t, i) => {
    const type = typeOfStored(t);
    const base = { table: null, type, index: i, hidden: false, tableId: 0, columnId: 0 };
    return f.argNames[i] !== "" ? [{ ...base, name: f.argNames[i]! }, { ...base, name: `$${i + 1}` }] : [{ ...base, name: `$${i + 1}` }];
  });
  inlineDepth++;
  let body: Expr;
  try {
    const bound = bindExpr(b, paramsAsColumns(exprNode(f.sqlExpr)) as PgNode, ctxFor(new Scope(cols, null), "SQL function body"));
    body = coerce(b, bound, typeOfStored(f.returnType));
  } finally {
    inlineDepth--;
  }
  const inlined = mapExpr(body, (x) => (x.kind === "col" ? coerced[x.index]! : x));
  if (!f.strict || coerced.length === 0) return inlined;
  // STRICT: NULL when any argument is NULL, without evaluating the body.
  const anyNull: Expr = { kind: "or", type: BOOL, args: coerced.map((a) => ({ kind: "isnull", type: BOOL, arg: a, negate: false }) as Expr) };
  return { kind: "case", type: inlined.type, whens: [{ when: anyNull, then: constExpr(inlined.type, null) }], else: inlined };
}

function bindFuncCall(b: Binder, node: PgNode, ctx: ExprContext): Expr {
  const names = stringList(node["funcname"] as PgNode[]);
  const name = names[names.length - 1]!.toLowerCase();
  const loc = node["location"];
  const argNodes = (node["args"] as PgNode[] | undefined) ?? [];
  const over = node["over"] as PgNode | undefined;
  const srfCol = ctx.srfCols?.get(node);
  if (srfCol !== undefined) {
    const c = ctx.scope.columns.find((x) => x.index === srfCol)!;
    return { kind: "col", type: c.type, index: srfCol };
  }
  if (over === undefined && SET_RETURNING.has(name)) {
    throw new PgError("feature_not_supported", `set-returning functions are not allowed in ${ctx.clause}`, pos(loc));
  }
  if (over !== undefined) return bindWindowCall(b, node, name, ctx);
  if (isAggregate(name)) {
    if (ctx.aggs === null) {
      throw new PgError("grouping_error", `aggregate functions are not allowed in ${ctx.clause}`, pos(loc));
    }
    const inner: ExprContext = { scope: ctx.scope, aggs: null, wins: null, clause: "aggregate function calls" };
    const args = argNodes.map((n) => bindExpr(b, n, inner));
    const star = node["agg_star"] === true;
    const typing = aggregateType(name, star ? [] : args.map((a) => a.type));
    const filterNode = node["agg_filter"] as PgNode | undefined;
    const orderBy: SortKey[] = ((node["agg_order"] as PgNode[] | undefined) ?? []).map((s) => bindSortBy(b, s, inner));
    const call: AggCall = {
      name: name === "every" ? "bool_and" : name,
      args: args.map((a, i) => coerce(b, a, typing.argTypes[i] ?? a.type)),
      distinct: node["agg_distinct"] === true,
      star,
      filter: filterNode === undefined ? null : coerceBool(b, bindExpr(b, filterNode, inner), "FILTER"),
      orderBy,
      type: typing.type,
      argTypes: typing.argTypes,
    };
    ctx.aggs.push(call);
    return { kind: "col", type: typing.type, index: AGG_BASE + ctx.aggs.length - 1 };
  }
  if (WINDOW_ONLY.has(name)) throw new PgError("wrong_object_type", `window function ${name} requires an OVER clause`, pos(loc));
  const args = argNodes.map((n) => bindExpr(b, n, ctx));
  const special = bindSpecialFunction(b, name, args, loc) ?? bindCatalogFunction(b, name, args);
  if (special !== null) return special;
  if (!hasFunction(name) || names.length > 1) {
    const user = bindUserFunction(b, names, args, loc);
    if (user !== null) return user;
  }
  if (!hasFunction(name)) {
    throw new PgError("undefined_function", `function ${name}(${args.map((a) => formatType(a.type)).join(", ")}) does not exist`, {
      ...pos(loc),
      hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
    });
  }
  const f = withPosition(loc, () => resolveFunction(name, args.map((a) => a.type)));
  const fctx = b.evalContext;
  const fev = f.eval;
  return callExpr(name, f.resultType, args.map((a, i) => coerce(b, a, f.argTypes[i] ?? a.type)), (vals) => fev(vals, fctx), f.strict, f.volatility !== "immutable");
}

/** Joins texts within the bound on one value (54000 past it). */
function joinText(parts: readonly string[], sep: string): string {
  checkTextLength(parts.reduce((n, p) => n + p.length, 0) + sep.length * Math.max(0, parts.length - 1));
  return parts.join(sep);
}

/** Functions that depend on the session or do more than compute (sequences, settings, …). */
function bindSpecialFunction(b: Binder, name: string, args: Expr[], loc: unknown): Expr | null {
  const isString = (t: SqlType): boolean => typeCategory(t) === "S" || t.oid === Oid.unknown;
  const textArgs = (n: number): Expr[] => {
    if (args.length !== n) throw new PgError("undefined_function", `function ${name} with ${args.length} arguments does not exist`, pos(loc));
    return args.map((a) => (isString(a.type) || a.type.oid === Oid.regclass ? coerce(b, a, Types.text) : a));
  };
  switch (name) {
    case "nextval":
    case "currval":
      return { kind: "special", type: Types.int8, name, args: textArgs(1) };
    case "lastval":
      return { kind: "special", type: Types.int8, name, args: textArgs(0) };
    case "pg_sequence_last_value":
      return { kind: "special", type: Types.int8, name, args: textArgs(1) };
    case "setval": {
      const [seq, v, called] = args;
      if (seq === undefined || v === undefined) throw new PgError("undefined_function", "function setval requires 2 or 3 arguments", pos(loc));
      const rest: Expr[] = [coerce(b, seq, Types.text), coerce(b, v, Types.int8)];
      if (called !== undefined) rest.push(coerce(b, called, BOOL));
      return { kind: "special", type: Types.int8, name: "setval" as SpecialFn, args: rest };
    }
    case "current_setting":
      return { kind: "special", type: Types.text, name, args: args.map((a, i) => (i === 0 ? coerce(b, a, Types.text) : coerce(b, a, BOOL))) };
    case "set_config":
      return { kind: "special", type: Types.text, name, args: [coerce(b, args[0]!, Types.text), coerce(b, args[1]!, Types.text), coerce(b, args[2]!, BOOL)] };
    case "version":
      return constExpr(Types.text, "PostgreSQL 15.0 (Warren) on x86_64-pc-linux-gnu, compiled by esbuild, 64-bit");
    case "current_database":
    case "current_schema":
    case "current_user":
    case "session_user":
    case "user":
      return { kind: "special", type: Types.text, name: "current_setting", args: [constExpr(Types.text, `warren.${name}`)] };
    case "pg_backend_pid":
      if (args.length !== 0) throw new PgError("undefined_function", `function pg_backend_pid with ${args.length} arguments does not exist`, pos(loc));
      return { kind: "special", type: Types.int4, name, args: [] };
    case "pg_cancel_backend":
    case "pg_terminate_backend": {
      // pg_terminate_backend(pid, timeout) also takes a wait in ms; termination here is immediate.
      if (args.length !== 1 && !(name === "pg_terminate_backend" && args.length === 2)) {
        throw new PgError("undefined_function", `function ${name} with ${args.length} arguments does not exist`, pos(loc));
      }
      return { kind: "special", type: BOOL, name, args: args.map((a, i) => coerce(b, a, i === 0 ? Types.int4 : Types.int8)) };
    }
    // concat and concat_ws print each argument with its type's output function, as Postgres does.
    case "concat": {
      const ctx = b.evalContext;
      return callExpr("concat", Types.text, args, (vs) => joinText(vs.map((v, i) => (v === null ? "" : formatText(v, args[i]!.type, ctx)!)), ""), false);
    }
    case "concat_ws": {
      const [sep, ...rest] = args;
      const ctx = b.evalContext;
      return callExpr("concat_ws", Types.text, [coerce(b, sep!, Types.text), ...rest], ([s, ...vs]) =>
        s === null ? null : joinText(vs.flatMap((v, i) => (v === null ? [] : [formatText(v, rest[i]!.type, ctx)!])), s as string), false);
    }
    case "pg_sleep":
    case "pg_sleep_for":
    case "pg_sleep_until": {
      // They wait on the statement's budget, so cancel and statement_timeout end them (57014).
      const argType = name === "pg_sleep" ? Types.float8 : name === "pg_sleep_for" ? Types.interval : Types.timestamptz;
      if (args.length !== 1) {
        throw new PgError("undefined_function", `function ${name}(${args.map((a) => formatType(a.type)).join(", ")}) does not exist`, {
          ...pos(loc),
          hint: "No function matches the given name and argument types. You might need to add explicit type casts.",
        });
      }
      return { kind: "special", type: Types.void, name, args: [coerce(b, args[0]!, argType)] };
    }
    case "num_nulls":
    case "num_nonnulls":
      return callExpr(name, Types.int4, args, (vs) => vs.filter((v) => (name === "num_nulls" ? v === null : v !== null)).length, false);
  }
  return null;
}

function bindWindowCall(b: Binder, node: PgNode, name: string, ctx: ExprContext): Expr {
  const loc = node["location"];
  if (ctx.wins === null) throw new PgError("windowing_error", `window functions are not allowed in ${ctx.clause}`, pos(loc));
  const over = node["over"] as PgNode;
  if (over["name"] !== undefined || over["refname"] !== undefined) throw new PgError("feature_not_supported", "named windows are not supported", pos(loc));
  const inner: ExprContext = { scope: ctx.scope, aggs: ctx.aggs, wins: null, clause: "window functions" };
  const args = ((node["args"] as PgNode[] | undefined) ?? []).map((n) => bindExpr(b, n, inner));
  const partitionBy = ((over["partitionClause"] as PgNode[] | undefined) ?? []).map((n) => bindExpr(b, n, inner));
  const orderBy = ((over["orderClause"] as PgNode[] | undefined) ?? []).map((s) => bindSortBy(b, s, inner));
  const frame = bindFrame(b, over, ctx);
  let call: WindowCall;
  if (isAggregate(name)) {
    const star = node["agg_star"] === true;
    const typing = aggregateType(name, star ? [] : args.map((a) => a.type));
    const agg: AggCall = {
      name: name === "every" ? "bool_and" : name,
      args: args.map((a, i) => coerce(b, a, typing.argTypes[i] ?? a.type)),
      distinct: node["agg_distinct"] === true,
      star,
      filter: null,
      orderBy: [],
      type: typing.type,
      argTypes: typing.argTypes,
    };
    call = { name, args: agg.args, partitionBy, orderBy, frame, type: typing.type, aggregate: agg };
  } else if (WINDOW_ONLY.has(name)) {
    const typing = windowType(name, args.map((a) => a.type));
    call = { name, args: args.map((a, i) => coerce(b, a, typing.argTypes[i] ?? a.type)), partitionBy, orderBy, frame, type: typing.type, aggregate: null };
  } else {
    throw new PgError("wrong_object_type", `OVER specified, but ${name} is not a window function nor an aggregate function`, pos(loc));
  }
  ctx.wins.push(call);
  return { kind: "col", type: call.type, index: WIN_BASE + ctx.wins.length - 1 };
}

// Postgres's FRAMEOPTION_* bits (parsenodes.h), as libpg-query reports frameOptions.
const FRAME = {
  rows: 0x4,
  groups: 0x8,
  startUnboundedPreceding: 0x20,
  endUnboundedFollowing: 0x100,
  startCurrentRow: 0x200,
  endCurrentRow: 0x400,
  startOffsetPreceding: 0x800,
  endOffsetPreceding: 0x1000,
  startOffsetFollowing: 0x2000,
  endOffsetFollowing: 0x4000,
  exclude: 0x8000 | 0x10000 | 0x20000,
} as const;

function bindFrame(b: Binder, over: PgNode, ctx: ExprContext): WindowFrame {
  const o = (over["frameOptions"] as number | undefined) ?? 0;
  if ((o & FRAME.groups) !== 0 || (o & FRAME.exclude) !== 0) throw new PgError("feature_not_supported", "GROUPS frames and frame exclusion are not supported");
  const rows = (o & FRAME.rows) !== 0;
  const offset = (node: unknown, which: string): number => {
    const e = bindExpr(b, node as PgNode, { scope: ctx.scope, aggs: null, wins: null, clause: "window frame" });
    if (e.kind !== "const" || e.value === null) throw new PgError("feature_not_supported", `frame ${which} offset must be a constant`);
    const n = Number(e.value as number | bigint);
    if (!Number.isInteger(n) || n < 0) throw new PgError("invalid_preceding_or_following_size", "frame starting offset must not be negative");
    if (!rows) throw new PgError("feature_not_supported", "RANGE with an offset is not supported; use ROWS");
    return n;
  };
  const start: FrameBound =
    (o & FRAME.startCurrentRow) !== 0 ? { kind: "current", offset: 0 }
    : (o & FRAME.startOffsetPreceding) !== 0 ? { kind: "preceding", offset: offset(over["startOffset"], "start") }
    : (o & FRAME.startOffsetFollowing) !== 0 ? { kind: "following", offset: offset(over["startOffset"], "start") }
    : { kind: "unbounded", offset: 0 };
  const end: FrameBound =
    (o & FRAME.endUnboundedFollowing) !== 0 ? { kind: "unbounded", offset: 0 }
    : (o & FRAME.endOffsetPreceding) !== 0 ? { kind: "preceding", offset: offset(over["endOffset"], "end") }
    : (o & FRAME.endOffsetFollowing) !== 0 ? { kind: "following", offset: offset(over["endOffset"], "end") }
    : { kind: "current", offset: 0 };
  return { rows, start, end };
}

export function bindSortBy(b: Binder, s: PgNode, ctx: ExprContext): SortKey {
  const body = (s["SortBy"] as PgNode | undefined) ?? s;
  const expr = bindExpr(b, body["node"] as PgNode, ctx);
  return sortKeyOf(expr, body);
}

export function sortKeyOf(expr: Expr, body: PgNode): SortKey {
  const dir = body["sortby_dir"] as string | undefined;
  const nulls = body["sortby_nulls"] as string | undefined;
  if (dir === "SORTBY_USING") throw new PgError("feature_not_supported", "ORDER BY … USING is not supported");
  const desc = dir === "SORTBY_DESC";
  const nullsFirst = nulls === "SORTBY_NULLS_FIRST" ? true : nulls === "SORTBY_NULLS_LAST" ? false : desc;
  return { expr, desc, nullsFirst };
}

function bindCase(b: Binder, node: PgNode, ctx: ExprContext): Expr {
  const arg = node["arg"] === undefined ? null : bindExpr(b, node["arg"] as PgNode, ctx);
  const whens: Array<{ when: Expr; then: Expr }> = [];
  for (const w of node["args"] as PgNode[]) {
    const cw = w["CaseWhen"] as PgNode;
    let cond = bindExpr(b, cw["expr"] as PgNode, ctx);
    if (arg !== null) cond = binaryOp(b, "=", arg, cond, cw["location"]);
    whens.push({ when: coerceBool(b, cond, "CASE/WHEN"), then: bindExpr(b, cw["result"] as PgNode, ctx) });
  }
  const elseE = node["defresult"] === undefined ? constExpr(Types.unknown, null) : bindExpr(b, node["defresult"] as PgNode, ctx);
  const t = commonType([...whens.map((w) => w.then.type), elseE.type], "CASE");
  return { kind: "case", type: t, whens: whens.map((w) => ({ when: w.when, then: coerce(b, w.then, t) })), else: coerce(b, elseE, t) };
}

function bindSubLink(b: Binder, node: PgNode, ctx: ExprContext): Expr {
  const type = node["subLinkType"] as string;
  const loc = node["location"];
  const { rel, correlated } = bindSubquery(b, node["subselect"] as PgNode, ctx.scope);
  const id = b.subqueryId();
  switch (type) {
    case "EXISTS_SUBLINK":
      return { kind: "subquery", type: BOOL, sub: { mode: "exists", rel, test: null, cmp: null, correlated, id } };
    case "EXPR_SUBLINK": {
      if (rel.cols.length !== 1) throw new PgError("syntax_error", "subquery must return only one column", pos(loc));
      return { kind: "subquery", type: rel.cols[0]!.type.oid === Oid.unknown ? Types.text : rel.cols[0]!.type, sub: { mode: "scalar", rel, test: null, cmp: null, correlated, id } };
    }
    case "ARRAY_SUBLINK": {
      if (rel.cols.length !== 1) throw new PgError("syntax_error", "subquery must return only one column", pos(loc));
      return { kind: "subquery", type: arrayOf(rel.cols[0]!.type), sub: { mode: "array", rel, test: null, cmp: null, correlated, id } };
    }
    case "ANY_SUBLINK":
    case "ALL_SUBLINK": {
      if (rel.cols.length !== 1) throw new PgError("syntax_error", rel.cols.length > 1 ? "subquery has too many columns" : "subquery has too few columns", pos(loc));
      const test = bindExpr(b, node["testexpr"] as PgNode, ctx);
      const opName = stringList(node["operName"] as PgNode[] | undefined).pop() ?? "=";
      const o = withPosition(loc, () => resolveOperator(opName, test.type, rel.cols[0]!.type));
      return {
        kind: "subquery",
        type: BOOL,
        sub: { mode: type === "ALL_SUBLINK" ? "all" : "any", rel, test: coerce(b, test, o.leftType), cmp: operatorTest(b, o), correlated, id },
      };
    }
  }
  throw new PgError("feature_not_supported", `subquery kind ${type} is not supported`, pos(loc));
}

function bindSqlValueFunction(b: Binder, node: PgNode, ctx: ExprContext): Expr {
  const op = node["op"] as string;
  const call = (name: string): Expr => bindExpr(b, { FuncCall: { funcname: [{ String: { sval: name } }], location: node["location"] } }, ctx);
  const typmod = node["typmod"] as number | undefined;
  const withPrecision = (e: Expr, t: SqlType): Expr => (typmod !== undefined && typmod >= 0 ? coerce(b, e, { ...t, typmod }, true) : e);
  switch (op) {
    case "SVFOP_CURRENT_DATE":
      return call("current_date");
    case "SVFOP_CURRENT_TIMESTAMP":
    case "SVFOP_CURRENT_TIMESTAMP_N":
      return withPrecision(call("current_timestamp"), Types.timestamptz);
    case "SVFOP_LOCALTIMESTAMP":
    case "SVFOP_LOCALTIMESTAMP_N":
      return withPrecision(call("localtimestamp"), Types.timestamp);
    case "SVFOP_CURRENT_USER":
    case "SVFOP_USER":
    case "SVFOP_SESSION_USER":
    case "SVFOP_CURRENT_ROLE":
      return { kind: "special", type: Types.name, name: "current_setting", args: [constExpr(Types.text, "warren.current_user")] };
    case "SVFOP_CURRENT_CATALOG":
      return { kind: "special", type: Types.name, name: "current_setting", args: [constExpr(Types.text, "warren.current_database")] };
    case "SVFOP_CURRENT_SCHEMA":
      return { kind: "special", type: Types.name, name: "current_setting", args: [constExpr(Types.text, "warren.current_schema")] };
  }
  throw new PgError("feature_not_supported", `${op.replace("SVFOP_", "").toLowerCase()} is not supported yet`, pos(node["location"]));
}

export function bindExpr(b: Binder, n: PgNode, ctx: ExprContext): Expr {
  b.enter();
  try {
    return bindExprInner(b, n, ctx);
  } finally {
    b.leave();
  }
}

function bindExprInner(b: Binder, n: PgNode, ctx: ExprContext): Expr {
  const [kind, node] = nodeKind(n);
  switch (kind) {
    case "A_Const":
      return bindConst(node);
    case "ColumnRef":
      return bindColumnRef(b, node, ctx);
    case "ParamRef": {
      const i = (node["number"] as number) - 1;
      if (b.describing !== null) {
        const declared = b.describing[i];
        return { kind: "param", type: declared ?? Types.unknown, index: i };
      }
      const variable = b.variables === null ? null : b.variables([`$${i + 1}`], node["location"] as number | undefined);
      if (variable !== null) return variable;
      if (i < 0 || i >= b.params.length) throw new PgError("undefined_parameter", `there is no parameter $${i + 1}`, pos(node["location"]));
      return constExpr(Types.unknown, b.params[i]!);
    }
    case "A_Expr":
      return bindAExpr(b, node, ctx);
    case "BoolExpr": {
      const op = node["boolop"] as string;
      const args = (node["args"] as PgNode[]).map((a) => coerceBool(b, bindExpr(b, a, ctx), op === "NOT_EXPR" ? "NOT" : op === "AND_EXPR" ? "AND" : "OR"));
      if (op === "NOT_EXPR") return { kind: "not", type: BOOL, arg: args[0]! };
      return { kind: op === "AND_EXPR" ? "and" : "or", type: BOOL, args };
    }
    case "NullTest":
      return { kind: "isnull", type: BOOL, arg: bindExpr(b, node["arg"] as PgNode, ctx), negate: node["nulltesttype"] === "IS_NOT_NULL" };
    case "BooleanTest": {
      const t = node["booltesttype"] as string;
      const arg = coerceBool(b, bindExpr(b, node["arg"] as PgNode, ctx), "IS TRUE");
      const test = t.includes("TRUE") ? "true" : t.includes("FALSE") ? "false" : "unknown";
      return { kind: "booltest", type: BOOL, arg, test, negate: t.includes("NOT") };
    }
    case "TypeCast": {
      const arg = bindExpr(b, node["arg"] as PgNode, ctx);
      const t = bindTypeName(node["typeName"] as PgNode, b);
      try {
        return coerce(b, arg, t, true);
      } catch (err) {
        // A literal's input error points at the literal (PG's coerce_type sets its error position
        // callback to the constant), any other at the "::".
        const literal = (node["arg"] as PgNode)["A_Const"] as PgNode | undefined;
        const at = literal !== undefined && err instanceof PgError && err.code.startsWith("22") ? literal["location"] : node["location"];
        if (err instanceof PgError && err.position === undefined) throw new PgError(err.condition, err.message, pos(at));
        throw err;
      }
    }
    case "FuncCall":
      return bindFuncCall(b, node, ctx);
    case "CaseExpr":
      return bindCase(b, node, ctx);
    case "CoalesceExpr": {
      const args = (node["args"] as PgNode[]).map((a) => bindExpr(b, a, ctx));
      const t = commonType(args.map((a) => a.type), "COALESCE");
      return { kind: "coalesce", type: t, args: args.map((a) => coerce(b, a, t)) };
    }
    case "MinMaxExpr": {
      const args = (node["args"] as PgNode[]).map((a) => bindExpr(b, a, ctx));
      const t = commonType(args.map((a) => a.type), node["op"] === "IS_GREATEST" ? "GREATEST" : "LEAST");
      return { kind: "minmax", type: t, greatest: node["op"] === "IS_GREATEST", args: args.map((a) => coerce(b, a, t)) };
    }
    case "SubLink":
      return bindSubLink(b, node, ctx);
    case "A_ArrayExpr": {
      const elems = ((node["elements"] as PgNode[] | undefined) ?? []).map((a) => bindExpr(b, a, ctx));
      const t = commonType(elems.map((e) => e.type), "ARRAY");
      refuseMultidimensional(t);
      return { kind: "array", type: arrayOf(t), elems: elems.map((e) => coerce(b, e, t)) };
    }
    case "SQLValueFunction":
      return bindSqlValueFunction(b, node, ctx);
    case "CollateClause":
      return bindExpr(b, node["arg"] as PgNode, ctx);
    case "A_Indirection": {
      const arg = bindExpr(b, node["arg"] as PgNode, ctx);
      const ind = (node["indirection"] as PgNode[])[0]!;
      const [ik, ib] = nodeKind(ind);
      if (ik === "A_Indices" && arg.type.oid === Oid.name && ib["is_slice"] !== true) {
        // A name is a fixed array of NAMEDATALEN bytes indexed from 0 in Postgres: name[i] is
        // its i-th byte as "char" (empty past the end of the text; NULL outside the array).
        const idx = coerce(b, bindExpr(b, ib["uidx"] as PgNode, ctx), Types.int4);
        return callExpr("subscript", Types.char, [arg, idx], ([n, i]) => nameByte(n as string, i as number));
      }
      if (ik !== "A_Indices" || arg.type.elem === undefined || ib["is_slice"]) throw new PgError("feature_not_supported", "only array subscripts are supported", pos(node["location"]));
      const idx = coerce(b, bindExpr(b, ib["uidx"] as PgNode, ctx), Types.int4);
      const lower = arrayLowerBound(arg.type);
      return callExpr("subscript", arg.type.elem, [arg, idx], ([a, i]) => (a as Datum[])[(i as number) - lower] ?? null);
    }
    case "RowExpr":
      throw new PgError("feature_not_supported", "row constructors are not supported yet");
  }
  throw new PgError("feature_not_supported", `expression ${kind} is not supported`, pos(node["location"]));
}

/** Byte `i` of a name as a "char" value: Postgres's name[i] (0-based over NAMEDATALEN = 64 bytes). */
function nameByte(name: string, i: number): string | null {
  if (i < 0 || i >= 64) return null;
  const bytes = new TextEncoder().encode(name);
  return i < bytes.length ? String.fromCharCode(bytes[i]!) : "";
}
