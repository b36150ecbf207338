// Parse trees back to SQL text, for storage: the canonical text of an expression or a query that
// the catalog keeps instead of the parser's JSON (catalog/README.md says why). The text is not
// meant for people (bind/deparse.ts prints what clients see, as ruleutils does); it is meant to
// parse back into the same tree, whatever version of the grammar reads it. So it is plain and
// redundant on purpose:
//   - every identifier is double-quoted, so no keyword list (which grows between PostgreSQL
//     versions) decides how a name reads;
//   - every operand that is not an atom is parenthesised, so no precedence table is involved
//     (parentheses add no node to PostgreSQL's raw parse tree);
//   - a node kind or form not handled here throws Unprintable instead of printing something
//     plausible; bind/stored-sql.ts also checks that the text parses back into the same tree.
import { nodeKind, type PgNode } from "./ast.ts";

/** The tree holds a node (or a form of one) this printer does not know. */
export class Unprintable extends Error {
  constructor(what: string) {
    super(`cannot print ${what} as SQL text`);
    this.name = "Unprintable";
  }
}

/** An identifier, always quoted ("a""b" for a"b). */
export function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function str(n: PgNode): string {
  const [kind, body] = nodeKind(n);
  if (kind !== "String") throw new Unprintable(`a ${kind} where a name was expected`);
  return (body["sval"] as string | undefined) ?? "";
}

function names(list: PgNode[] | undefined): string {
  return (list ?? []).map((n) => ident(str(n))).join(".");
}

function list(items: PgNode[] | undefined, each: (n: PgNode) => string = expr): string {
  return (items ?? []).map(each).join(", ");
}

/** The items of a { List: { items } } node. */
function listItems(n: PgNode | undefined): PgNode[] {
  if (n === undefined) return [];
  const [kind, body] = nodeKind(n);
  if (kind !== "List") throw new Unprintable(`a ${kind} where a list was expected`);
  return (body["items"] as PgNode[] | undefined) ?? [];
}

/** Fields that say where a node was in the text, not what it is (no text prints them). */
export const POSITION_FIELDS: ReadonlySet<string> = new Set(["location", "list_start", "list_end", "rexpr_list_start", "rexpr_list_end"]);

/** Refuses a node that carries fields this printer does not print (beyond `known`). */
function only(kind: string, body: PgNode, known: readonly string[]): void {
  for (const key of Object.keys(body)) {
    if (!POSITION_FIELDS.has(key) && !known.includes(key)) throw new Unprintable(`${kind}.${key}`);
  }
}

const ATOMS = new Set(["ColumnRef", "ParamRef", "FuncCall", "CoalesceExpr", "MinMaxExpr", "A_ArrayExpr", "SQLValueFunction", "CaseExpr", "SubLink", "GroupingFunc"]);

/** An operand: an atom as is, anything else in parentheses. */
function operand(n: PgNode): string {
  const [kind, body] = nodeKind(n);
  // `x AT TIME ZONE z` is spelled as an operator.
  if (kind === "FuncCall" && body["funcformat"] === "COERCE_SQL_SYNTAX") return `(${expr(n)})`;
  if (ATOMS.has(kind)) {
    // EXISTS / ARRAY( ) / ( ) sublinks are atoms; IN / ANY / ALL ones are comparisons.
    if (kind === "SubLink" && body["testexpr"] !== undefined) return `(${expr(n)})`;
    return expr(n);
  }
  if (kind === "A_Const" && !constIsNegative(body)) return expr(n);
  return `(${expr(n)})`;
}

function constIsNegative(c: PgNode): boolean {
  const ival = (c["ival"] as PgNode | undefined)?.["ival"] as number | undefined;
  const fval = (c["fval"] as PgNode | undefined)?.["fval"] as string | undefined;
  return (ival !== undefined && ival < 0) || (fval !== undefined && fval.startsWith("-"));
}

function aConst(c: PgNode): string {
  if (c["isnull"] === true) return "NULL";
  if (c["ival"] !== undefined) return String(((c["ival"] as PgNode)["ival"] as number | undefined) ?? 0);
  if (c["fval"] !== undefined) return (c["fval"] as PgNode)["fval"] as string;
  if (c["boolval"] !== undefined) return (c["boolval"] as PgNode)["boolval"] === true ? "TRUE" : "FALSE";
  if (c["sval"] !== undefined) return literal(((c["sval"] as PgNode)["sval"] as string | undefined) ?? "");
  if (c["bsval"] !== undefined) {
    const b = (c["bsval"] as PgNode)["bsval"] as string;
    // "b0101" / "xFF": the grammar keeps the radix letter in front of the digits.
    return `${b[0]!.toUpperCase()}${literal(b.slice(1))}`;
  }
  throw new Unprintable("an A_Const without a value");
}

export function typeName(t: PgNode): string {
  only("TypeName", t, ["names", "typmods", "typemod", "arrayBounds", "typeOid"]);
  if (t["typeOid"] !== undefined && t["typeOid"] !== 0) throw new Unprintable("a TypeName by OID");
  if (t["typemod"] !== undefined && t["typemod"] !== -1) throw new Unprintable("a TypeName with a fixed typmod");
  let s = names(t["names"] as PgNode[]);
  const mods = t["typmods"] as PgNode[] | undefined;
  if (mods !== undefined && mods.length > 0) s += `(${list(mods)})`;
  for (const b of (t["arrayBounds"] as PgNode[] | undefined) ?? []) {
    const n = ((nodeKind(b)[1]["ival"] as number | undefined) ?? 0);
    s += n < 0 ? "[]" : `[${n}]`;
  }
  return s;
}

/** An expression (a_expr) as SQL text. */
export function expr(n: PgNode): string {
  const [kind, b] = nodeKind(n);
  switch (kind) {
    case "A_Const":
      return aConst(b);
    case "ColumnRef":
      return ((b["fields"] as PgNode[]) ?? []).map((f) => (nodeKind(f)[0] === "A_Star" ? "*" : ident(str(f)))).join(".");
    case "ParamRef":
      return `$${(b["number"] as number | undefined) ?? 0}`;
    case "TypeCast":
      only(kind, b, ["arg", "typeName"]);
      return `${operand(b["arg"] as PgNode)}::${typeName(b["typeName"] as PgNode)}`;
    case "CollateClause":
      only(kind, b, ["arg", "collname"]);
      return `${operand(b["arg"] as PgNode)} COLLATE ${names(b["collname"] as PgNode[])}`;
    case "A_Expr":
      return aExpr(b);
    case "BoolExpr": {
      only(kind, b, ["boolop", "args"]);
      const args = (b["args"] as PgNode[]).map(operand);
      switch (b["boolop"]) {
        case "AND_EXPR":
          return args.join(" AND ");
        case "OR_EXPR":
          return args.join(" OR ");
        case "NOT_EXPR":
          return `NOT ${args[0]}`;
      }
      throw new Unprintable(`BoolExpr ${String(b["boolop"])}`);
    }
    case "NullTest":
      only(kind, b, ["arg", "nulltesttype"]);
      return `${operand(b["arg"] as PgNode)} ${b["nulltesttype"] === "IS_NOT_NULL" ? "IS NOT NULL" : "IS NULL"}`;
    case "BooleanTest": {
      only(kind, b, ["arg", "booltesttype"]);
      const test = BOOL_TESTS[b["booltesttype"] as string];
      if (test === undefined) throw new Unprintable(`BooleanTest ${String(b["booltesttype"])}`);
      return `${operand(b["arg"] as PgNode)} ${test}`;
    }
    case "FuncCall":
      return funcCall(b);
    case "NamedArgExpr":
      only(kind, b, ["name", "arg", "argnumber"]);
      return `${ident(b["name"] as string)} => ${operand(b["arg"] as PgNode)}`;
    case "CaseExpr": {
      only(kind, b, ["arg", "args", "defresult"]);
      let s = "CASE";
      if (b["arg"] !== undefined) s += ` ${operand(b["arg"] as PgNode)}`;
      for (const w of b["args"] as PgNode[]) {
        const [wk, wb] = nodeKind(w);
        if (wk !== "CaseWhen") throw new Unprintable(`a ${wk} in CASE`);
        only(wk, wb, ["expr", "result"]);
        s += ` WHEN ${operand(wb["expr"] as PgNode)} THEN ${operand(wb["result"] as PgNode)}`;
      }
      if (b["defresult"] !== undefined) s += ` ELSE ${operand(b["defresult"] as PgNode)}`;
      return `${s} END`;
    }
    case "CoalesceExpr":
      only(kind, b, ["args"]);
      return `COALESCE(${list(b["args"] as PgNode[])})`;
    case "MinMaxExpr":
      only(kind, b, ["op", "args"]);
      return `${b["op"] === "IS_GREATEST" ? "GREATEST" : "LEAST"}(${list(b["args"] as PgNode[])})`;
    case "A_ArrayExpr":
      only(kind, b, ["elements"]);
      return `ARRAY[${list(b["elements"] as PgNode[] | undefined)}]`;
    case "RowExpr": {
      only(kind, b, ["args", "row_format"]);
      const args = (b["args"] as PgNode[] | undefined) ?? [];
      if (b["row_format"] === "COERCE_IMPLICIT_CAST" && args.length >= 2) return `(${list(args)})`;
      if (b["row_format"] === "COERCE_EXPLICIT_CALL") return `ROW(${list(args)})`;
      throw new Unprintable("this row constructor");
    }
    case "GroupingFunc":
      only(kind, b, ["args"]);
      return `GROUPING(${list(b["args"] as PgNode[])})`;
    case "SQLValueFunction":
      return sqlValueFunction(b);
    case "A_Indirection": {
      only(kind, b, ["arg", "indirection"]);
      let s = `(${expr(b["arg"] as PgNode)})`;
      for (const i of b["indirection"] as PgNode[]) s += indirection(i);
      return s;
    }
    case "SubLink":
      return subLink(b);
    case "SetToDefault":
      return "DEFAULT";
  }
  throw new Unprintable(kind === "" ? "a malformed node" : `a ${kind}`);
}

const BOOL_TESTS: Record<string, string> = {
  IS_TRUE: "IS TRUE",
  IS_NOT_TRUE: "IS NOT TRUE",
  IS_FALSE: "IS FALSE",
  IS_NOT_FALSE: "IS NOT FALSE",
  IS_UNKNOWN: "IS UNKNOWN",
  IS_NOT_UNKNOWN: "IS NOT UNKNOWN",
};

function indirection(i: PgNode): string {
  const [kind, b] = nodeKind(i);
  if (kind === "String") return `.${ident(str(i))}`;
  if (kind === "A_Star") return ".*";
  if (kind === "A_Indices") {
    only(kind, b, ["is_slice", "lidx", "uidx"]);
    const l = b["lidx"] === undefined ? "" : expr(b["lidx"] as PgNode);
    const u = b["uidx"] === undefined ? "" : expr(b["uidx"] as PgNode);
    return b["is_slice"] === true ? `[${l}:${u}]` : `[${u}]`;
  }
  throw new Unprintable(`a ${kind} in an indirection`);
}

function opName(name: PgNode[]): string {
  if (name.length === 1) return str(name[0]!);
  // OPERATOR(schema.op): the operator itself is not an identifier and stays unquoted.
  return `OPERATOR(${name.slice(0, -1).map((n) => ident(str(n))).join(".")}.${str(name[name.length - 1]!)})`;
}

function aExpr(b: PgNode): string {
  only("A_Expr", b, ["kind", "name", "lexpr", "rexpr", "rexpr_list_start", "rexpr_list_end"]);
  const name = (b["name"] as PgNode[] | undefined) ?? [];
  const op = name.length > 0 ? opName(name) : "";
  const l = b["lexpr"] as PgNode | undefined;
  const r = b["rexpr"] as PgNode | undefined;
  switch (b["kind"]) {
    case "AEXPR_OP":
      if (l === undefined) return `${op} ${operand(r!)}`;
      return `${operand(l)} ${op} ${operand(r!)}`;
    case "AEXPR_OP_ANY":
    case "AEXPR_OP_ALL":
      return `${operand(l!)} ${op} ${b["kind"] === "AEXPR_OP_ANY" ? "ANY" : "ALL"} (${expr(r!)})`;
    case "AEXPR_DISTINCT":
      return `${operand(l!)} IS DISTINCT FROM ${operand(r!)}`;
    case "AEXPR_NOT_DISTINCT":
      return `${operand(l!)} IS NOT DISTINCT FROM ${operand(r!)}`;
    case "AEXPR_NULLIF":
      return `NULLIF(${expr(l!)}, ${expr(r!)})`;
    case "AEXPR_IN":
      return `${operand(l!)} ${op === "<>" ? "NOT IN" : "IN"} (${list(listItems(r))})`;
    case "AEXPR_LIKE":
    case "AEXPR_ILIKE":
    case "AEXPR_SIMILAR":
      return likeExpr(b["kind"] as string, op, l!, r!);
    case "AEXPR_BETWEEN":
    case "AEXPR_NOT_BETWEEN":
    case "AEXPR_BETWEEN_SYM":
    case "AEXPR_NOT_BETWEEN_SYM": {
      const [lo, hi] = listItems(r);
      const word = { AEXPR_BETWEEN: "BETWEEN", AEXPR_NOT_BETWEEN: "NOT BETWEEN", AEXPR_BETWEEN_SYM: "BETWEEN SYMMETRIC", AEXPR_NOT_BETWEEN_SYM: "NOT BETWEEN SYMMETRIC" }[b["kind"] as string];
      return `${operand(l!)} ${word} ${operand(lo!)} AND ${operand(hi!)}`;
    }
  }
  throw new Unprintable(`A_Expr ${String(b["kind"])}`);
}

const LIKE_WORDS: Record<string, string> = { "~~": "LIKE", "!~~": "NOT LIKE", "~~*": "ILIKE", "!~~*": "NOT ILIKE", "~": "SIMILAR TO", "!~": "NOT SIMILAR TO" };

/** LIKE / ILIKE / SIMILAR TO; an ESCAPE (and SIMILAR TO always) wraps the pattern in a function call. */
function likeExpr(kind: string, op: string, l: PgNode, r: PgNode): string {
  const word = LIKE_WORDS[op];
  if (word === undefined) throw new Unprintable(`${kind} ${op}`);
  const [rk, rb] = nodeKind(r);
  const escapeFn = kind === "AEXPR_SIMILAR" ? "similar_to_escape" : "like_escape";
  if (rk === "FuncCall" && str((rb["funcname"] as PgNode[]).at(-1)!) === escapeFn && rb["funcformat"] === "COERCE_EXPLICIT_CALL") {
    const args = rb["args"] as PgNode[];
    if (args.length === 2) return `${operand(l)} ${word} ${operand(args[0]!)} ESCAPE ${operand(args[1]!)}`;
    if (args.length === 1 && kind === "AEXPR_SIMILAR") return `${operand(l)} ${word} ${operand(args[0]!)}`;
  }
  if (kind === "AEXPR_SIMILAR") throw new Unprintable("this SIMILAR TO");
  return `${operand(l)} ${word} ${operand(r)}`;
}

function funcCall(b: PgNode): string {
  only("FuncCall", b, ["funcname", "args", "agg_order", "agg_filter", "over", "agg_within_group", "agg_star", "agg_distinct", "func_variadic", "funcformat"]);
  const fname = b["funcname"] as PgNode[];
  const args = (b["args"] as PgNode[] | undefined) ?? [];
  if (b["funcformat"] === "COERCE_SQL_SYNTAX") return sqlSyntaxCall(fname, args, b);
  if (b["funcformat"] !== "COERCE_EXPLICIT_CALL") throw new Unprintable(`a function call of format ${String(b["funcformat"])}`);
  let inner: string;
  if (b["agg_star"] === true) inner = "*";
  else {
    const printed = args.map(expr);
    if (b["func_variadic"] === true && printed.length > 0) printed[printed.length - 1] = `VARIADIC ${printed[printed.length - 1]}`;
    inner = (b["agg_distinct"] === true ? "DISTINCT " : "") + printed.join(", ");
  }
  const order = b["agg_order"] as PgNode[] | undefined;
  if (order !== undefined && b["agg_within_group"] !== true) inner += ` ORDER BY ${list(order, sortBy)}`;
  let s = `${names(fname)}(${inner})`;
  if (b["agg_within_group"] === true) s += ` WITHIN GROUP (ORDER BY ${list(order, sortBy)})`;
  if (b["agg_filter"] !== undefined) s += ` FILTER (WHERE ${expr(b["agg_filter"] as PgNode)})`;
  if (b["over"] !== undefined) s += ` OVER ${overClause(b["over"] as PgNode)}`;
  return s;
}

/** The functions the grammar spells with keywords (funcformat COERCE_SQL_SYNTAX). */
function sqlSyntaxCall(fname: PgNode[], args: PgNode[], b: PgNode): string {
  for (const k of ["agg_order", "agg_filter", "over", "agg_star", "agg_distinct", "func_variadic"]) {
    if (b[k] !== undefined) throw new Unprintable(`${k} on a SQL-syntax function`);
  }
  if (fname.length !== 2 || str(fname[0]!) !== "pg_catalog") throw new Unprintable("a SQL-syntax function outside pg_catalog");
  const o = args.map(operand);
  switch (str(fname[1]!)) {
    case "extract":
      if (args.length === 2) return `EXTRACT(${expr(args[0]!)} FROM ${o[1]})`;
      break;
    case "position":
      if (args.length === 2) return `POSITION(${o[1]} IN ${o[0]})`;
      break;
    case "substring":
      if (args.length === 2) return `SUBSTRING(${o[0]} FROM ${o[1]})`;
      if (args.length === 3) return `SUBSTRING(${o[0]} FROM ${o[1]} FOR ${o[2]})`;
      break;
    case "overlay":
      if (args.length === 3) return `OVERLAY(${o[0]} PLACING ${o[1]} FROM ${o[2]})`;
      if (args.length === 4) return `OVERLAY(${o[0]} PLACING ${o[1]} FROM ${o[2]} FOR ${o[3]})`;
      break;
    case "btrim":
    case "ltrim":
    case "rtrim": {
      const side = { btrim: "BOTH", ltrim: "LEADING", rtrim: "TRAILING" }[str(fname[1]!)]!;
      if (args.length === 1) return `TRIM(${side} ${o[0]})`;
      if (args.length === 2) return `TRIM(${side} ${o[1]} FROM ${o[0]})`;
      break;
    }
    case "timezone":
      if (args.length === 2) return `${o[1]} AT TIME ZONE ${o[0]}`;
      if (args.length === 1) return `${o[0]} AT LOCAL`;
      break;
    case "collation_for":
      if (args.length === 1) return `COLLATION FOR (${expr(args[0]!)})`;
      break;
  }
  throw new Unprintable(`the SQL-syntax function ${str(fname[1]!)}`);
}

/** The SQL keyword of each SQLValueFunction op without a precision (the deparser uses it too). */
export const SQL_VALUE_FUNCTIONS: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: "CURRENT_DATE",
  SVFOP_CURRENT_TIME: "CURRENT_TIME",
  SVFOP_CURRENT_TIMESTAMP: "CURRENT_TIMESTAMP",
  SVFOP_LOCALTIME: "LOCALTIME",
  SVFOP_LOCALTIMESTAMP: "LOCALTIMESTAMP",
  SVFOP_CURRENT_ROLE: "CURRENT_ROLE",
  SVFOP_CURRENT_USER: "CURRENT_USER",
  SVFOP_USER: "USER",
  SVFOP_SESSION_USER: "SESSION_USER",
  SVFOP_CURRENT_CATALOG: "CURRENT_CATALOG",
  SVFOP_CURRENT_SCHEMA: "CURRENT_SCHEMA",
};

function sqlValueFunction(b: PgNode): string {
  only("SQLValueFunction", b, ["op", "typmod"]);
  // The _N forms carry their precision, which the tree leaves out when it is 0.
  const n = `(${(b["typmod"] as number | undefined) ?? 0})`;
  const withN: Record<string, string> = {
    SVFOP_CURRENT_TIME_N: "CURRENT_TIME",
    SVFOP_CURRENT_TIMESTAMP_N: "CURRENT_TIMESTAMP",
    SVFOP_LOCALTIME_N: "LOCALTIME",
    SVFOP_LOCALTIMESTAMP_N: "LOCALTIMESTAMP",
  };
  const op = b["op"] as string;
  if (SQL_VALUE_FUNCTIONS[op] !== undefined) return SQL_VALUE_FUNCTIONS[op];
  if (withN[op] !== undefined) return `${withN[op]}${n}`;
  throw new Unprintable(`SQLValueFunction ${op}`);
}

function subLink(b: PgNode): string {
  only("SubLink", b, ["subLinkType", "testexpr", "operName", "subselect"]);
  const q = `(${selectStmt(b["subselect"] as PgNode)})`;
  const operName = b["operName"] as PgNode[] | undefined;
  switch (b["subLinkType"]) {
    case "EXISTS_SUBLINK":
      return `EXISTS ${q}`;
    case "EXPR_SUBLINK":
      return q;
    case "ARRAY_SUBLINK":
      return `ARRAY${q}`;
    case "ANY_SUBLINK":
      if (operName === undefined) return `${operand(b["testexpr"] as PgNode)} IN ${q}`;
      return `${operand(b["testexpr"] as PgNode)} ${opName(operName)} ANY ${q}`;
    case "ALL_SUBLINK":
      return `${operand(b["testexpr"] as PgNode)} ${opName(operName!)} ALL ${q}`;
  }
  throw new Unprintable(`SubLink ${String(b["subLinkType"])}`);
}

function sortBy(n: PgNode): string {
  const [kind, b] = nodeKind(n);
  if (kind !== "SortBy") throw new Unprintable(`a ${kind} in ORDER BY`);
  only(kind, b, ["node", "sortby_dir", "sortby_nulls", "useOp"]);
  let s = operand(b["node"] as PgNode);
  switch (b["sortby_dir"]) {
    case "SORTBY_ASC":
      s += " ASC";
      break;
    case "SORTBY_DESC":
      s += " DESC";
      break;
    case "SORTBY_USING":
      s += ` USING ${opName(b["useOp"] as PgNode[])}`;
      break;
  }
  if (b["sortby_nulls"] === "SORTBY_NULLS_FIRST") s += " NULLS FIRST";
  if (b["sortby_nulls"] === "SORTBY_NULLS_LAST") s += " NULLS LAST";
  return s;
}

// parsenodes.h FRAMEOPTION_* bits.
const F = {
  NONDEFAULT: 0x1,
  RANGE: 0x2,
  ROWS: 0x4,
  GROUPS: 0x8,
  BETWEEN: 0x10,
  START_UNBOUNDED_PRECEDING: 0x20,
  END_UNBOUNDED_PRECEDING: 0x40,
  START_UNBOUNDED_FOLLOWING: 0x80,
  END_UNBOUNDED_FOLLOWING: 0x100,
  START_CURRENT_ROW: 0x200,
  END_CURRENT_ROW: 0x400,
  START_OFFSET_PRECEDING: 0x800,
  END_OFFSET_PRECEDING: 0x1000,
  START_OFFSET_FOLLOWING: 0x2000,
  END_OFFSET_FOLLOWING: 0x4000,
  EXCLUDE_CURRENT_ROW: 0x8000,
  EXCLUDE_GROUP: 0x10000,
  EXCLUDE_TIES: 0x20000,
} as const;

function frameBound(opts: number, end: boolean, offset: PgNode | undefined): string {
  const bit = (start: number, endBit: number): boolean => (opts & (end ? endBit : start)) !== 0;
  if (bit(F.START_UNBOUNDED_PRECEDING, F.END_UNBOUNDED_PRECEDING)) return "UNBOUNDED PRECEDING";
  if (bit(F.START_UNBOUNDED_FOLLOWING, F.END_UNBOUNDED_FOLLOWING)) return "UNBOUNDED FOLLOWING";
  if (bit(F.START_CURRENT_ROW, F.END_CURRENT_ROW)) return "CURRENT ROW";
  if (bit(F.START_OFFSET_PRECEDING, F.END_OFFSET_PRECEDING)) return `${operand(offset!)} PRECEDING`;
  if (bit(F.START_OFFSET_FOLLOWING, F.END_OFFSET_FOLLOWING)) return `${operand(offset!)} FOLLOWING`;
  throw new Unprintable(`frame options ${opts}`);
}

/** A window specification's body: [existing] [PARTITION BY] [ORDER BY] [frame]. */
function windowSpec(w: PgNode): string {
  only("WindowDef", w, ["name", "refname", "partitionClause", "orderClause", "frameOptions", "startOffset", "endOffset"]);
  const parts: string[] = [];
  if (w["refname"] !== undefined) parts.push(ident(w["refname"] as string));
  if (w["partitionClause"] !== undefined) parts.push(`PARTITION BY ${list(w["partitionClause"] as PgNode[], operand)}`);
  if (w["orderClause"] !== undefined) parts.push(`ORDER BY ${list(w["orderClause"] as PgNode[], sortBy)}`);
  const opts = (w["frameOptions"] as number | undefined) ?? 0;
  if ((opts & F.NONDEFAULT) !== 0) {
    const mode = (opts & F.ROWS) !== 0 ? "ROWS" : (opts & F.GROUPS) !== 0 ? "GROUPS" : "RANGE";
    const start = frameBound(opts, false, w["startOffset"] as PgNode | undefined);
    let frame = (opts & F.BETWEEN) !== 0 ? `${mode} BETWEEN ${start} AND ${frameBound(opts, true, w["endOffset"] as PgNode | undefined)}` : `${mode} ${start}`;
    if ((opts & F.EXCLUDE_CURRENT_ROW) !== 0) frame += " EXCLUDE CURRENT ROW";
    if ((opts & F.EXCLUDE_GROUP) !== 0) frame += " EXCLUDE GROUP";
    if ((opts & F.EXCLUDE_TIES) !== 0) frame += " EXCLUDE TIES";
    parts.push(frame);
  }
  return parts.join(" ");
}

function overClause(n: PgNode): string {
  const w = n["WindowDef"] as PgNode | undefined;
  const body = w ?? n;
  const keys = Object.keys(body).filter((k) => k !== "location");
  // OVER w (a named window, nothing added) reads back as a WindowDef with only `name`.
  if (keys.length === 2 && body["name"] !== undefined && body["frameOptions"] !== undefined && (body["frameOptions"] as number) === 1058) return ident(body["name"] as string);
  if (body["name"] !== undefined) throw new Unprintable("a named window in OVER with more");
  return `(${windowSpec(body)})`;
}

function alias(a: PgNode | undefined): string {
  if (a === undefined) return "";
  only("Alias", a, ["aliasname", "colnames"]);
  const cols = a["colnames"] as PgNode[] | undefined;
  return ` AS ${ident(a["aliasname"] as string)}${cols === undefined ? "" : `(${cols.map((c) => ident(str(c))).join(", ")})`}`;
}

function fromItem(n: PgNode): string {
  const [kind, b] = nodeKind(n);
  switch (kind) {
    case "RangeVar": {
      only(kind, b, ["catalogname", "schemaname", "relname", "inh", "relpersistence", "alias"]);
      if (b["relpersistence"] !== "p") throw new Unprintable("a RangeVar that is not permanent");
      const parts = [b["catalogname"], b["schemaname"], b["relname"]].filter((p) => p !== undefined).map((p) => ident(p as string));
      return `${b["inh"] === true ? "" : "ONLY "}${parts.join(".")}${alias(b["alias"] as PgNode | undefined)}`;
    }
    case "RangeSubselect":
      only(kind, b, ["lateral", "subquery", "alias"]);
      return `${b["lateral"] === true ? "LATERAL " : ""}(${selectStmt(b["subquery"] as PgNode)})${alias(b["alias"] as PgNode | undefined)}`;
    case "RangeFunction": {
      only(kind, b, ["lateral", "ordinality", "is_rowsfrom", "functions", "alias"]);
      const fns = (b["functions"] as PgNode[]).map((f) => {
        const [fn, coldefs] = listItems(f);
        if (coldefs !== undefined && Object.keys(coldefs).length > 0) throw new Unprintable("a column definition list");
        return expr(fn!);
      });
      const call = b["is_rowsfrom"] === true ? `ROWS FROM (${fns.join(", ")})` : fns[0]!;
      return `${b["lateral"] === true ? "LATERAL " : ""}${call}${b["ordinality"] === true ? " WITH ORDINALITY" : ""}${alias(b["alias"] as PgNode | undefined)}`;
    }
    case "JoinExpr": {
      only(kind, b, ["jointype", "isNatural", "larg", "rarg", "usingClause", "join_using_alias", "quals", "alias"]);
      const type = { JOIN_INNER: "", JOIN_LEFT: "LEFT ", JOIN_FULL: "FULL ", JOIN_RIGHT: "RIGHT " }[b["jointype"] as string];
      if (type === undefined) throw new Unprintable(`JoinExpr ${String(b["jointype"])}`);
      const side = (x: PgNode): string => (nodeKind(x)[0] === "JoinExpr" ? `(${fromItem(x)})` : fromItem(x));
      const using = b["usingClause"] as PgNode[] | undefined;
      let s: string;
      if (b["isNatural"] === true) s = `${side(b["larg"] as PgNode)} NATURAL ${type}JOIN ${side(b["rarg"] as PgNode)}`;
      else if (using !== undefined) {
        s = `${side(b["larg"] as PgNode)} ${type}JOIN ${side(b["rarg"] as PgNode)} USING (${using.map((u) => ident(str(u))).join(", ")})`;
        if (b["join_using_alias"] !== undefined) s += alias(b["join_using_alias"] as PgNode);
      } else if (b["quals"] !== undefined) s = `${side(b["larg"] as PgNode)} ${type}JOIN ${side(b["rarg"] as PgNode)} ON ${expr(b["quals"] as PgNode)}`;
      else if (type === "") s = `${side(b["larg"] as PgNode)} CROSS JOIN ${side(b["rarg"] as PgNode)}`;
      else throw new Unprintable("an outer join without a condition");
      return b["alias"] === undefined ? s : `(${s})${alias(b["alias"] as PgNode)}`;
    }
  }
  throw new Unprintable(`a ${kind} in FROM`);
}

function target(n: PgNode): string {
  const [kind, b] = nodeKind(n);
  if (kind !== "ResTarget") throw new Unprintable(`a ${kind} in a target list`);
  only(kind, b, ["name", "val"]);
  const v = b["val"] as PgNode;
  const [vk] = nodeKind(v);
  // `*` and `t.*` cannot be parenthesised.
  const text = vk === "ColumnRef" ? expr(v) : operand(v);
  return b["name"] === undefined ? text : `${text} AS ${ident(b["name"] as string)}`;
}

function groupItem(n: PgNode): string {
  const [kind, b] = nodeKind(n);
  if (kind !== "GroupingSet") return operand(n);
  only(kind, b, ["kind", "content"]);
  const content = (b["content"] as PgNode[] | undefined) ?? [];
  switch (b["kind"]) {
    case "GROUPING_SET_EMPTY":
      return "()";
    case "GROUPING_SET_ROLLUP":
      return `ROLLUP (${list(content, groupItem)})`;
    case "GROUPING_SET_CUBE":
      return `CUBE (${list(content, groupItem)})`;
    case "GROUPING_SET_SETS":
      return `GROUPING SETS (${list(content, groupItem)})`;
  }
  throw new Unprintable(`GroupingSet ${String(b["kind"])}`);
}

function withClause(w: PgNode): string {
  only("WithClause", w, ["ctes", "recursive"]);
  const ctes = (w["ctes"] as PgNode[]).map((c) => {
    const [kind, b] = nodeKind(c);
    if (kind !== "CommonTableExpr") throw new Unprintable(`a ${kind} in WITH`);
    only(kind, b, ["ctename", "aliascolnames", "ctematerialized", "ctequery"]);
    const cols = b["aliascolnames"] as PgNode[] | undefined;
    const mat = { CTEMaterializeDefault: "", CTEMaterializeAlways: "MATERIALIZED ", CTEMaterializeNever: "NOT MATERIALIZED " }[b["ctematerialized"] as string];
    if (mat === undefined) throw new Unprintable(`ctematerialized ${String(b["ctematerialized"])}`);
    const [qk, qb] = nodeKind(b["ctequery"] as PgNode);
    if (qk !== "SelectStmt") throw new Unprintable(`a ${qk} in WITH`);
    return `${ident(b["ctename"] as string)}${cols === undefined ? "" : `(${cols.map((x) => ident(str(x))).join(", ")})`} AS ${mat}(${selectBody(qb)})`;
  });
  return `WITH ${w["recursive"] === true ? "RECURSIVE " : ""}${ctes.join(", ")} `;
}

/** A SelectStmt node ({ SelectStmt: … }) as the text of a query. */
export function selectStmt(n: PgNode): string {
  const [kind, b] = nodeKind(n);
  if (kind !== "SelectStmt") throw new Unprintable(`a ${kind} where a query was expected`);
  return selectBody(b);
}

function selectBody(b: PgNode): string {
  only("SelectStmt", b, [
    "distinctClause", "targetList", "fromClause", "whereClause", "groupClause", "groupDistinct", "havingClause", "windowClause",
    "valuesLists", "sortClause", "limitOffset", "limitCount", "limitOption", "lockingClause", "withClause", "op", "all", "larg", "rarg",
  ]);
  let s = b["withClause"] === undefined ? "" : withClause(b["withClause"] as PgNode);
  const op = b["op"] as string;
  if (op !== "SETOP_NONE") {
    const word = { SETOP_UNION: "UNION", SETOP_INTERSECT: "INTERSECT", SETOP_EXCEPT: "EXCEPT" }[op];
    if (word === undefined) throw new Unprintable(`SelectStmt op ${op}`);
    s += `(${selectBody(b["larg"] as PgNode)}) ${word}${b["all"] === true ? " ALL" : ""} (${selectBody(b["rarg"] as PgNode)})`;
  } else if (b["valuesLists"] !== undefined) {
    s += `VALUES ${(b["valuesLists"] as PgNode[]).map((row) => `(${list(listItems(row))})`).join(", ")}`;
  } else {
    s += "SELECT";
    const distinct = b["distinctClause"] as PgNode[] | undefined;
    if (distinct !== undefined) {
      const plain = distinct.length === 1 && Object.keys(distinct[0]!).length === 0;
      s += plain ? " DISTINCT" : ` DISTINCT ON (${list(distinct)})`;
    }
    const targets = (b["targetList"] as PgNode[] | undefined) ?? [];
    if (targets.length > 0) s += ` ${list(targets, target)}`;
    if (b["fromClause"] !== undefined) s += ` FROM ${list(b["fromClause"] as PgNode[], fromItem)}`;
    if (b["whereClause"] !== undefined) s += ` WHERE ${expr(b["whereClause"] as PgNode)}`;
    if (b["groupClause"] !== undefined) s += ` GROUP BY ${b["groupDistinct"] === true ? "DISTINCT " : ""}${list(b["groupClause"] as PgNode[], groupItem)}`;
    else if (b["groupDistinct"] === true) throw new Unprintable("GROUP BY DISTINCT without a GROUP BY");
    if (b["havingClause"] !== undefined) s += ` HAVING ${expr(b["havingClause"] as PgNode)}`;
    if (b["windowClause"] !== undefined) {
      s += ` WINDOW ${(b["windowClause"] as PgNode[]).map((w) => {
        const body = (w["WindowDef"] as PgNode | undefined) ?? w;
        return `${ident(body["name"] as string)} AS (${windowSpec({ ...body, name: undefined })})`;
      }).join(", ")}`;
    }
  }
  if (b["sortClause"] !== undefined) s += ` ORDER BY ${list(b["sortClause"] as PgNode[], sortBy)}`;
  const limitOption = b["limitOption"] as string | undefined;
  if (limitOption === "LIMIT_OPTION_WITH_TIES") {
    s += `${b["limitOffset"] === undefined ? "" : ` OFFSET ${operand(b["limitOffset"] as PgNode)} ROWS`} FETCH FIRST ${operand(b["limitCount"] as PgNode)} ROWS WITH TIES`;
  } else {
    if (b["limitCount"] !== undefined) s += ` LIMIT ${operand(b["limitCount"] as PgNode)}`;
    else if (limitOption === "LIMIT_OPTION_COUNT") s += " LIMIT ALL";
    if (b["limitOffset"] !== undefined) s += ` OFFSET ${operand(b["limitOffset"] as PgNode)}`;
  }
  for (const l of (b["lockingClause"] as PgNode[] | undefined) ?? []) s += lockingClause(l);
  return s;
}

const LOCK_STRENGTHS: Record<string, string> = { LCS_FORUPDATE: "UPDATE", LCS_FORNOKEYUPDATE: "NO KEY UPDATE", LCS_FORSHARE: "SHARE", LCS_FORKEYSHARE: "KEY SHARE" };
const LOCK_WAITS: Record<string, string> = { LockWaitBlock: "", LockWaitSkip: " SKIP LOCKED", LockWaitError: " NOWAIT" };

function lockingClause(n: PgNode): string {
  const [kind, b] = nodeKind(n);
  if (kind !== "LockingClause") throw new Unprintable(`a ${kind} in a locking clause`);
  only(kind, b, ["lockedRels", "strength", "waitPolicy"]);
  const strength = LOCK_STRENGTHS[b["strength"] as string];
  const wait = LOCK_WAITS[(b["waitPolicy"] as string | undefined) ?? "LockWaitBlock"];
  if (strength === undefined || wait === undefined) throw new Unprintable(`locking clause ${String(b["strength"])} ${String(b["waitPolicy"])}`);
  const rels = b["lockedRels"] as PgNode[] | undefined;
  return ` FOR ${strength}${rels === undefined ? "" : ` OF ${list(rels, fromItem)}`}${wait}`;
}
