// Stored expressions and view queries back to SQL text, the way PostgreSQL 15's ruleutils prints
// them in "pretty" mode (pg_get_expr(…, true), pg_get_constraintdef(…, true),
// pg_get_viewdef(…, true)), which is what psql's \d shows. Warren keeps the parser's tree, not an
// analyzed one, so each node is typed by binding it in the relation's scope, and the casts
// Postgres's analyzer would have inserted are printed from those types:
//   - a literal takes the type its context gives it and is labelled as ruleutils labels
//     constants ('x'::text, 0::numeric, '5000000000'::bigint; int4, booleans, 1.5 unlabelled);
//   - operator and function arguments show implicit casts (d::text <> 'zz'::text), the top
//     level of a default does not (numeric DEFAULT 0 prints 0);
//   - parentheses follow ruleutils' pretty rules (arithmetic by precedence, everything else
//     nested in an operator or a different boolean operator is parenthesised).
// Nodes outside this subset print as "?" rather than as something plausible but wrong.
// Without pretty (pg_get_constraintdef(oid), pg_get_viewdef(oid), what pg_dump reads), ruleutils
// parenthesises every operator, boolean and test expression, every cast's argument and every
// join, and the layout stays the same: ((a > (0)::numeric) AND (b IS NULL)).
import { PgError } from "../../../../common/errors.ts";
import { resolveFunction, hasFunction } from "../functions/functions.ts";
import { resolveOperator } from "../functions/operators.ts";
import { quoteIdent, quoteLiteral } from "../functions/string-functions.ts";
import { nodeKind, stringList, type PgNode } from "../parse/ast.ts";
import { SQL_VALUE_FUNCTIONS } from "../parse/sql-text.ts";
import { formatText } from "../types/text-io.ts";
import { formatType, Oid, type SqlType, Types, withTypmod } from "../types/type.ts";
import type { Binder } from "./binder.ts";
import { bindExpr, bindTypeName, ctxFor } from "./expr.ts";
import { Scope } from "./scope.ts";

export interface DeparseEnv {
  binder: Binder;
  scope: Scope;
  /** Prefix column references with their relation's name or alias (view queries). */
  qualify: boolean;
  /** How a relation is named in FROM: qualified unless visible on the search path. */
  relationName(names: readonly string[]): string;
  /** ruleutils' pretty mode (psql) or not (pg_dump, pg_views): see the file comment. */
  pretty: boolean;
  /** A relation's columns as FROM names them (an alias's column list is completed from them). */
  columnsOf(names: readonly string[]): Array<{ name: string; type: SqlType }>;
}

/** An operator, boolean or test expression in non-pretty mode: wrapped, and then simple to its parent. */
function wrapped(env: DeparseEnv, p: Printed): Printed {
  return env.pretty ? p : simple(`(${p.text})`);
}

/** A cast's argument: parenthesised unless simple in pretty mode, always without pretty. */
function castArg(env: DeparseEnv, p: Printed): string {
  return env.pretty && p.form === "simple" ? p.text : `(${p.text})`;
}

interface Printed {
  text: string;
  /** What the node is, for parenthesisation. */
  form: "simple" | "op" | "arith" | "and" | "or" | "not" | "test";
  arithOp?: string;
}

const ARITH_PRECEDENCE: Record<string, number> = { "+": 1, "-": 1, "*": 2, "/": 2, "%": 2, "^": 3 };

function typeOf(env: DeparseEnv, node: PgNode): SqlType {
  try {
    return bindExpr(env.binder, node, ctxFor(env.scope, "DEFAULT")).type;
  } catch {
    return Types.unknown;
  }
}

/** A constant as ruleutils' get_const_expr prints it (value already of type `t`). */
function constText(text: string, t: SqlType): string {
  switch (t.oid) {
    case Oid.int4:
      return text.startsWith("-") ? `'${text}'::integer` : text;
    case Oid.numeric: {
      const plain = /^[0-9]/.test(text) && /^[0-9+\-eE.]+$/.test(text);
      if (!plain) return `${quoteLiteral(text)}::${formatType(t)}`;
      const floaty = /[eE.]/.test(text);
      return floaty && t.typmod < 0 ? text : `${text}::${formatType(t)}`;
    }
    case Oid.bool:
      return text === "t" || text === "true" ? "true" : "false";
    case Oid.unknown:
      return quoteLiteral(text);
    default:
      return `${quoteLiteral(text)}::${formatType(t)}`;
  }
}

function literalText(c: PgNode): { text: string; type: SqlType } {
  if (c["isnull"]) return { text: "NULL", type: Types.unknown };
  if (c["ival"] !== undefined) return { text: String((c["ival"] as { ival?: number }).ival ?? 0), type: Types.int4 };
  if (c["fval"] !== undefined) {
    const s = (c["fval"] as { fval: string }).fval;
    if (/^[+-]?\d+$/.test(s)) return { text: s, type: BigInt(s) >= -(2n ** 31n) && BigInt(s) < 2n ** 31n ? Types.int4 : BigInt(s) >= -(2n ** 63n) && BigInt(s) < 2n ** 63n ? Types.int8 : Types.numeric };
    return { text: s, type: Types.numeric };
  }
  if (c["boolval"] !== undefined) return { text: (c["boolval"] as { boolval?: boolean }).boolval ? "true" : "false", type: Types.bool };
  return { text: (c["sval"] as { sval?: string } | undefined)?.sval ?? "", type: Types.unknown };
}

function simple(text: string): Printed {
  return { text, form: "simple" };
}

/**
 * Prints `node` as a value of `target` (null: its own type). `showImplicit`: print the cast when
 * the node's type differs from the target (operator and function arguments), as ruleutils does.
 */
export function deparseExpr(env: DeparseEnv, node: PgNode, target: SqlType | null, showImplicit: boolean): string {
  return expr(env, node, target, showImplicit).text;
}

function withCast(env: DeparseEnv, node: PgNode, target: SqlType | null, showImplicit: boolean): Printed {
  const [kind, body] = nodeKind(node);
  if (kind === "A_Const") {
    const lit = literalText(body);
    if (lit.text === "NULL") return simple(target === null || target.oid === Oid.unknown ? "NULL" : `NULL::${formatType(target)}`);
    // The literal becomes a constant of the target's base type; a typmod is applied by a
    // separate (implicit, unprinted) length coercion, so the label never shows one.
    if (lit.type.oid === Oid.unknown) return simple(constText(lit.text, target === null ? Types.unknown : withTypmod(target, -1)));
    const own = simple(constText(lit.text, lit.type));
    if (target === null || target.oid === lit.type.oid || !showImplicit) return own;
    return simple(`${castArg(env, own)}::${formatType(target)}`);
  }
  const p = expr(env, node, null, showImplicit);
  if (target === null || !showImplicit || target.oid === Oid.unknown) return p;
  const own = typeOf(env, node);
  if (own.oid === target.oid || own.oid === Oid.unknown) return p;
  return simple(`${castArg(env, p)}::${formatType(target)}`);
}

function opArg(p: Printed, parentArith: string | null, right: boolean): string {
  if (p.form === "simple" || p.form === "test") return p.text;
  if (p.form === "arith" && parentArith !== null) {
    const child = ARITH_PRECEDENCE[p.arithOp!] ?? 0;
    const parent = ARITH_PRECEDENCE[parentArith] ?? 0;
    if (child > parent || (child === parent && !right)) return p.text;
  }
  return `(${p.text})`;
}

function binaryOperator(env: DeparseEnv, name: string, l: PgNode, r: PgNode): Printed {
  let lt = typeOf(env, l);
  let rt = typeOf(env, r);
  // Postgres has cross-type operators within the integer and the float families (int8 + int4,
  // float8 < float4), so no cast appears there; elsewhere the operands are cast to the operator's.
  const family = (t: SqlType): string => (t.oid === Oid.int2 || t.oid === Oid.int4 || t.oid === Oid.int8 ? "int" : t.oid === Oid.float4 || t.oid === Oid.float8 ? "float" : `${t.oid}`);
  if (family(lt) === family(rt) && (family(lt) === "int" || family(lt) === "float")) {
    const arith = ARITH_PRECEDENCE[name] !== undefined ? name : null;
    const left = opArg(expr(env, l, null, true), arith, false);
    const right = opArg(expr(env, r, null, true), arith, true);
    return wrapped(env, { text: `${left} ${name} ${right}`, form: arith !== null ? "arith" : "op", ...(arith !== null ? { arithOp: name } : {}) });
  }
  try {
    const o = resolveOperator(name, lt, rt);
    lt = o.leftType;
    rt = o.rightType;
  } catch {
    // Print the operands as they are.
  }
  const arith = ARITH_PRECEDENCE[name] !== undefined ? name : null;
  const left = opArg(withCast(env, l, lt, true), arith, false);
  const right = opArg(withCast(env, r, rt, true), arith, true);
  return wrapped(env, { text: `${left} ${name} ${right}`, form: arith !== null ? "arith" : "op", ...(arith !== null ? { arithOp: name } : {}) });
}

/** A parser list: a JSON array or a { List: { items } } node. */
function listItems(n: PgNode): PgNode[] {
  if (Array.isArray(n)) return n as PgNode[];
  return (((n["List"] as PgNode | undefined)?.["items"] as PgNode[] | undefined) ?? [n]);
}

const LIKE_OPERATORS: Record<string, string> = { "~~": "~~", "!~~": "!~~", "~~*": "~~*", "!~~*": "!~~*" };

function aExpr(env: DeparseEnv, node: PgNode): Printed {
  const kind = node["kind"] as string;
  const name = stringList(node["name"] as PgNode[]).pop() ?? "";
  const l = node["lexpr"] as PgNode | undefined;
  const r = node["rexpr"] as PgNode | undefined;
  switch (kind) {
    case "AEXPR_OP":
      if (l === undefined) {
        const arg = expr(env, r!, null, true);
        return wrapped(env, { text: env.pretty ? `${name}${opArg(arg, null, true)}` : `${name} ${arg.text}`, form: "op" });
      }
      return binaryOperator(env, name === "!=" ? "<>" : name, l, r!);
    case "AEXPR_LIKE":
    case "AEXPR_ILIKE":
      return binaryOperator(env, LIKE_OPERATORS[name] ?? name, l!, r!);
    case "AEXPR_IN": {
      const items = listItems(r!);
      const lt = typeOf(env, l!);
      const elem = lt.oid === Oid.unknown ? Types.text : lt;
      const list = items.map((i) => withCast(env, i, elem, true).text).join(", ");
      const left = opArg(withCast(env, l!, elem, true), null, false);
      return wrapped(env, { text: `${left} ${name === "<>" ? "<> ALL" : "= ANY"} (ARRAY[${list}])`, form: "op" });
    }
    case "AEXPR_BETWEEN":
    case "AEXPR_NOT_BETWEEN": {
      const [lo, hi] = listItems(r!);
      const ge = binaryOperator(env, kind === "AEXPR_BETWEEN" ? ">=" : "<", l!, lo!);
      const le = binaryOperator(env, kind === "AEXPR_BETWEEN" ? "<=" : ">", l!, hi!);
      return wrapped(env, { text: `${ge.text} ${kind === "AEXPR_BETWEEN" ? "AND" : "OR"} ${le.text}`, form: kind === "AEXPR_BETWEEN" ? "and" : "or" });
    }
    case "AEXPR_DISTINCT":
    case "AEXPR_NOT_DISTINCT": {
      const lt = typeOf(env, l!);
      const rt = typeOf(env, r!);
      const t = lt.oid === Oid.unknown ? rt : lt;
      return wrapped(env, { text: `${opArg(withCast(env, l!, t, true), null, false)} IS ${kind === "AEXPR_DISTINCT" ? "" : "NOT "}DISTINCT FROM ${opArg(withCast(env, r!, t, true), null, true)}`, form: "op" });
    }
  }
  return simple("?");
}

function funcCall(env: DeparseEnv, node: PgNode): Printed {
  const names = stringList(node["funcname"] as PgNode[]);
  const name = names[names.length - 1]!.toLowerCase();
  const argNodes = (node["args"] as PgNode[] | undefined) ?? [];
  if (node["agg_star"] === true) return simple(`${name}(*)`);
  if ((name === "nextval" || name === "currval") && argNodes.length === 1) {
    const [k, body] = nodeKind(argNodes[0]!);
    const lit = k === "A_Const" ? literalText(body) : null;
    if (lit !== null && lit.type.oid === Oid.unknown) {
      const relName = env.relationName(lit.text.split(".").map((p) => p.replace(/^"(.*)"$/, "$1")));
      return simple(`${name}(${quoteLiteral(relName)}::regclass)`);
    }
  }
  let argTypes: readonly SqlType[] = argNodes.map((a) => typeOf(env, a));
  if (hasFunction(name)) {
    try {
      argTypes = resolveFunction(name, argTypes).argTypes;
    } catch {
      // Print the arguments as they are.
    }
  }
  const distinct = node["agg_distinct"] === true ? "DISTINCT " : "";
  const args = argNodes.map((a, i) => withCast(env, a, argTypes[i] ?? null, true).text).join(", ");
  const qualified = names.length > 1 && names[0] !== "pg_catalog" ? `${names.slice(0, -1).map(quoteIdent).join(".")}.` : "";
  return simple(`${qualified}${name}(${distinct}${args})`);
}

function columnRef(env: DeparseEnv, node: PgNode): Printed {
  const fields = (node["fields"] as PgNode[]).map((f) => (nodeKind(f)[1] as { sval?: string }).sval ?? "*");
  const name = fields[fields.length - 1]!;
  if (!env.qualify) return simple(quoteIdent(name));
  const table = fields.length >= 2 ? fields[fields.length - 2]! : null;
  const col = env.scope.find(table, name, undefined);
  return simple(`${quoteIdent(col?.table ?? table ?? "?")}.${quoteIdent(name)}`);
}

function boolExpr(env: DeparseEnv, node: PgNode): Printed {
  const op = node["boolop"] as string;
  const args = (node["args"] as PgNode[]).map((a) => expr(env, a, Types.bool, false));
  if (op === "NOT_EXPR") {
    const a = args[0]!;
    return wrapped(env, { text: `NOT ${a.form === "simple" || a.form === "op" || a.form === "test" || a.form === "arith" ? a.text : `(${a.text})`}`, form: "not" });
  }
  const form = op === "AND_EXPR" ? "and" : "or";
  return wrapped(env, { text: args.map((a) => (a.form === "and" || a.form === "or") && a.form !== form ? `(${a.text})` : a.text).join(form === "and" ? " AND " : " OR "), form });
}

function caseExpr(env: DeparseEnv, node: PgNode, target: SqlType | null): Printed {
  const t = target ?? typeOf(env, { CaseExpr: node });
  const parts = ["CASE"];
  const arg = node["arg"] as PgNode | undefined;
  if (arg !== undefined) parts.push(expr(env, arg, null, true).text);
  for (const w of node["args"] as PgNode[]) {
    const cw = w["CaseWhen"] as PgNode;
    parts.push(`WHEN ${expr(env, cw["expr"] as PgNode, null, true).text} THEN ${withCast(env, cw["result"] as PgNode, t, false).text}`);
  }
  if (node["defresult"] !== undefined) parts.push(`ELSE ${withCast(env, node["defresult"] as PgNode, t, false).text}`);
  parts.push("END");
  return simple(parts.join(" "));
}

function expr(env: DeparseEnv, n: PgNode, target: SqlType | null, showImplicit: boolean): Printed {
  const [kind, node] = nodeKind(n);
  switch (kind) {
    case "A_Const": {
      const lit = literalText(node);
      if (lit.text === "NULL") return simple("NULL");
      return simple(constText(lit.text, lit.type.oid === Oid.unknown && target !== null ? target : lit.type.oid === Oid.unknown ? Types.text : lit.type));
    }
    case "ColumnRef":
      return columnRef(env, node);
    case "A_Expr":
      return aExpr(env, node);
    case "BoolExpr":
      return boolExpr(env, node);
    case "NullTest": {
      const a = expr(env, node["arg"] as PgNode, null, true);
      return wrapped(env, { text: `${a.form === "simple" ? a.text : `(${a.text})`} IS ${node["nulltesttype"] === "IS_NOT_NULL" ? "NOT " : ""}NULL`, form: "test" });
    }
    case "BooleanTest": {
      const a = expr(env, node["arg"] as PgNode, null, true);
      const test = (node["booltesttype"] as string).replace(/^IS_/, "IS ").replace(/_/g, " ");
      return wrapped(env, { text: `${a.form === "simple" ? a.text : `(${a.text})`} ${test}`, form: "test" });
    }
    case "TypeCast": {
      const t = bindTypeName(node["typeName"] as PgNode, env.binder);
      const arg = node["arg"] as PgNode;
      const [ak, ab] = nodeKind(arg);
      if (ak === "A_Const" && literalText(ab).type.oid === Oid.unknown) {
        // The literal becomes a constant of the target type: print that constant's text.
        const lit = literalText(ab).text;
        if (t.oid === Oid.regclass) return simple(`${quoteLiteral(env.relationName(lit.split(".").map((p) => p.replace(/^"(.*)"$/, "$1"))))}::regclass`);
        let text = lit;
        try {
          const bound = bindExpr(env.binder, n, ctxFor(env.scope, "DEFAULT"));
          if (bound.kind === "const" && bound.value !== null) text = formatText(bound.value, t) ?? lit;
        } catch {
          // keep the literal as written
        }
        return simple(constText(text, t));
      }
      const p = expr(env, arg, null, true);
      return simple(`${castArg(env, p)}::${formatType(t)}`);
    }
    case "FuncCall":
      return funcCall(env, node);
    case "SQLValueFunction":
      return simple(SQL_VALUE_FUNCTIONS[node["op"] as string] ?? "?");
    case "CoalesceExpr": {
      const t = typeOf(env, n);
      return simple(`COALESCE(${(node["args"] as PgNode[]).map((a) => withCast(env, a, t, false).text).join(", ")})`);
    }
    case "MinMaxExpr": {
      const t = typeOf(env, n);
      return simple(`${node["op"] === "IS_GREATEST" ? "GREATEST" : "LEAST"}(${(node["args"] as PgNode[]).map((a) => withCast(env, a, t, false).text).join(", ")})`);
    }
    case "CaseExpr":
      return caseExpr(env, node, target);
    case "A_ArrayExpr": {
      const t = typeOf(env, n);
      const elems = ((node["elements"] as PgNode[] | undefined) ?? []).map((e) => withCast(env, e, t.elem ?? null, true).text);
      return simple(`ARRAY[${elems.join(", ")}]`);
    }
    case "CollateClause":
      return expr(env, node["arg"] as PgNode, target, showImplicit);
  }
  return simple("?");
}

/**
 * A column default or CHECK expression of table `t` as pg_get_expr(…, true) prints it. The top
 * level shows no implicit cast to `target` (a default's column type).
 */
export function deparseStored(env: DeparseEnv, node: PgNode, target: SqlType | null): string {
  return withCast(env, node, target, false).text;
}

// ---- view queries ----

/** The name a select-list entry gets when it has no alias (Postgres's FigureColname, simplified). */
function naturalName(n: PgNode): string | null {
  const [kind, node] = nodeKind(n);
  if (kind === "ColumnRef") {
    const fields = (node["fields"] as PgNode[]).map((f) => (nodeKind(f)[1] as { sval?: string }).sval ?? "*");
    return fields[fields.length - 1]!;
  }
  if (kind === "FuncCall") return stringList(node["funcname"] as PgNode[]).pop()!.toLowerCase();
  if (kind === "TypeCast") return naturalName(node["arg"] as PgNode) ?? formatType(bindTypeName(node["typeName"] as PgNode));
  return null;
}

/** A RangeVar's name parts and the name its columns go by (its alias, else its relation name). */
function rangeVarNames(node: PgNode): { names: string[]; label: string; aliasColumns: string[] | null } {
  const names = [node["schemaname"] as string | undefined, node["relname"] as string].filter((x): x is string => x !== undefined);
  const alias = node["alias"] as PgNode | undefined;
  const colnames = alias?.["colnames"] as PgNode[] | undefined;
  return { names, label: (alias?.["aliasname"] as string | undefined) ?? (node["relname"] as string), aliasColumns: colnames === undefined ? null : stringList(colnames) };
}

/** A relation's columns under its alias's column list (which renames the first ones). */
function aliasedColumns(env: { columnsOf: DeparseEnv["columnsOf"] }, node: PgNode): Array<{ name: string; type: SqlType }> {
  const { names, aliasColumns } = rangeVarNames(node);
  return env.columnsOf(names).map((c, i) => ({ name: aliasColumns?.[i] ?? c.name, type: c.type }));
}

/** The column names a JOIN merges: USING's, or NATURAL's (the names both sides have, in the left's order). */
function joinUsing(node: PgNode, left: readonly FromColumn[], right: readonly FromColumn[]): string[] {
  const using = node["usingClause"] as PgNode[] | undefined;
  if (using !== undefined) return stringList(using);
  if (node["isNatural"] !== true) return [];
  const rightNames = new Set(right.filter((c) => !c.merged).map((c) => c.name));
  return left.filter((c) => !c.merged && rightNames.has(c.name)).map((c) => c.name);
}

function fromItem(env: DeparseEnv, n: PgNode, indent: string): string {
  const [kind, node] = nodeKind(n);
  if (kind === "RangeVar") {
    const { names, label, aliasColumns } = rangeVarNames(node);
    const alias = (node["alias"] as PgNode | undefined)?.["aliasname"] as string | undefined;
    // ruleutils prints an alias's column list whole: t x(p, q, c) for t x(p, q).
    const cols = aliasColumns === null ? "" : `(${aliasedColumns(env, node).map((c) => quoteIdent(c.name)).join(", ")})`;
    return `${env.relationName(names)}${alias !== undefined || aliasColumns !== null ? ` ${quoteIdent(alias ?? label)}${cols}` : ""}`;
  }
  if (kind === "JoinExpr") {
    const left = fromItem(env, node["larg"] as PgNode, indent);
    const right = fromItem(env, node["rarg"] as PgNode, indent);
    const jt = node["jointype"] as string;
    const using = joinUsing(node, fromColumns(env, node["larg"] as PgNode), fromColumns(env, node["rarg"] as PgNode));
    const word = jt === "JOIN_LEFT" ? "LEFT JOIN" : jt === "JOIN_RIGHT" ? "RIGHT JOIN" : jt === "JOIN_FULL" ? "FULL JOIN" : node["quals"] === undefined && using.length === 0 ? "CROSS JOIN" : "JOIN";
    const quals = node["quals"] !== undefined ? expr(env, node["quals"] as PgNode, Types.bool, false).text : null;
    // NATURAL is printed as the USING it amounts to, as ruleutils does.
    const on = using.length > 0 ? ` USING (${using.map(quoteIdent).join(", ")})` : quals === null ? "" : env.pretty ? ` ON ${quals}` : ` ON (${quals})`;
    return env.pretty ? `${left}\n${indent}  ${word} ${right}${on}` : `(${left}\n${indent}  ${word} ${right}${on})`;
  }
  throw new PgError("feature_not_supported", `cannot print ${kind} in a view definition`);
}

/**
 * A view's SELECT as pg_get_viewdef(view, true) prints it: " SELECT a,\n    b\n   FROM t\n  WHERE …;".
 * `outputNames` are the view's column names (CREATE VIEW v (x, y) renames them).
 */
export function deparseViewQuery(env: DeparseEnv, select: PgNode, outputNames: readonly string[]): string {
  const s = (select["SelectStmt"] as PgNode | undefined) ?? select;
  if (s["op"] !== undefined && s["op"] !== "SETOP_NONE") throw new PgError("feature_not_supported", "cannot print a set operation in a view definition");
  const targets = ((s["targetList"] as PgNode[] | undefined) ?? []).map((t, i) => {
    const rt = t["ResTarget"] as PgNode;
    const val = rt["val"] as PgNode;
    const [vk] = nodeKind(val);
    const fields = vk === "ColumnRef" ? ((val["ColumnRef"] as PgNode)["fields"] as PgNode[]) : [];
    if (fields.some((f) => nodeKind(f)[0] === "A_Star")) {
      // t.* lists t's columns only; * every column FROM brings.
      const table = fields.length > 1 ? ((nodeKind(fields[fields.length - 2]!)[1] as { sval?: string }).sval ?? null) : null;
      return env.scope.star(table).map((c) => `${quoteIdent(c.table ?? "?")}.${quoteIdent(c.name)}`).join(",\n    ");
    }
    const text = expr(env, val, null, false).text;
    const name = outputNames[i] ?? (rt["name"] as string | undefined) ?? naturalName(val) ?? "?column?";
    // ruleutils omits AS only for a plain column reference that keeps its column's name.
    return vk === "ColumnRef" && naturalName(val) === name ? text : `${text} AS ${quoteIdent(name)}`;
  });
  let out = ` SELECT ${targets.join(",\n    ")}`;
  const from = (s["fromClause"] as PgNode[] | undefined) ?? [];
  if (from.length > 0) out += `\n   FROM ${from.map((f) => fromItem(env, f, "   ")).join(",\n    ")}`;
  if (s["whereClause"] !== undefined) out += `\n  WHERE ${expr(env, s["whereClause"] as PgNode, Types.bool, false).text}`;
  const group = (s["groupClause"] as PgNode[] | undefined) ?? [];
  if (group.length > 0) out += `\n  GROUP BY ${group.map((g) => expr(env, g, null, false).text).join(", ")}`;
  if (s["havingClause"] !== undefined) out += `\n HAVING ${expr(env, s["havingClause"] as PgNode, Types.bool, false).text}`;
  const order = (s["sortClause"] as PgNode[] | undefined) ?? [];
  if (order.length > 0) {
    out += `\n  ORDER BY ${order.map((o) => {
      const sb = o["SortBy"] as PgNode;
      const dir = sb["sortby_dir"] === "SORTBY_DESC" ? " DESC" : "";
      return `${expr(env, sb["node"] as PgNode, null, false).text}${dir}`;
    }).join(", ")}`;
  }
  if (s["limitCount"] !== undefined) out += `\n LIMIT ${expr(env, s["limitCount"] as PgNode, null, false).text}`;
  if (s["limitOffset"] !== undefined) out += `\n OFFSET ${expr(env, s["limitOffset"] as PgNode, null, false).text}`;
  return `${out};`;
}


interface FromColumn {
  table: string;
  name: string;
  type: SqlType;
  /** The other side's copy of a JOIN … USING column: reachable only qualified. */
  merged: boolean;
}

/**
 * The columns one FROM item brings, in the order `*` lists them: a relation's under its alias
 * (and the alias's column list); a JOIN … USING / NATURAL's merged columns first (from the left,
 * from the right for a RIGHT JOIN), then the left's other columns, then the right's.
 */
function fromColumns(env: { columnsOf: DeparseEnv["columnsOf"] }, n: PgNode): FromColumn[] {
  const [kind, node] = nodeKind(n);
  if (kind === "RangeVar") {
    const label = rangeVarNames(node).label;
    return aliasedColumns(env, node).map((c) => ({ table: label, name: c.name, type: c.type, merged: false }));
  }
  if (kind === "JoinExpr") {
    const left = fromColumns(env, node["larg"] as PgNode);
    const right = fromColumns(env, node["rarg"] as PgNode);
    const using = new Set(joinUsing(node, left, right));
    if (using.size === 0) return [...left, ...right];
    const fromRight = node["jointype"] === "JOIN_RIGHT";
    const [keep, other] = fromRight ? [right, left] : [left, right];
    const mergedCols = [...using].map((name) => keep.find((c) => !c.merged && c.name === name)).filter((c): c is FromColumn => c !== undefined);
    const rest = (side: FromColumn[], isKeep: boolean): FromColumn[] =>
      side.map((c) => (!c.merged && using.has(c.name) ? (isKeep ? null : { ...c, merged: true }) : c)).filter((c): c is FromColumn => c !== null);
    return [...mergedCols, ...rest(left, !fromRight), ...rest(right, fromRight)];
  }
  return [];
}

/** The scope a view's FROM clause makes: each relation's columns under its alias or name. */
export function fromScope(binder: Binder, from: readonly PgNode[], columnsOf: DeparseEnv["columnsOf"]): Scope {
  const cols = from.flatMap((f) => fromColumns({ columnsOf }, f));
  void binder;
  return new Scope(cols.map((c, i) => ({ table: c.table, name: c.name, type: c.type, index: i, hidden: false, tableId: 0, columnId: 0, ...(c.merged ? { merged: true } : {}) })), null);
}
