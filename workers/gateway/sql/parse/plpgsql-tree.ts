// A PL/pgSQL function as small readonly typed nodes, converted from the JSON that PostgreSQL's own
// PL/pgSQL grammar (pl_gram.y, in libpg-query's WebAssembly module) produces. Only this file reads
// that JSON; the interpreter (../plpgsql/) works on these nodes.
//
// Why libpg-query's grammar and not a parser of our own: it is PostgreSQL's grammar itself (every
// statement form, its error messages, the same treatment of `:=` and `=`, of INTO, of labels), it
// is already loaded with the SQL parser (no new dependency, no bundle growth), and measured here it
// parses a 25-line function in about 0.1 ms — a hand parser would cost weeks to reach the same
// fidelity. Its JSON has two gaps this file fills:
//  - Blocks do not list the variables they declare. Datums are numbered in the order the grammar
//    creates them and carry their declaration line; a block's BEGIN line is its `lineno`. So a
//    pre-order walk gives each block the unclaimed declared datums up to its BEGIN line (FOR loop
//    variables are claimed by their loops first). Two blocks whose DECLARE sections share one
//    source line cannot be told apart; their variables go to the outer block.
//  - Integer fields equal to 0 are omitted (a datum number 0, a record's `dno`): readers default them.
import { PgError } from "../../../../common/errors.ts";
import type { PgNode } from "./ast.ts";

/** An SQL text embedded in the function: an expression (`SELECT <query>`), an assignment, or a statement. */
export interface PlExpr {
  readonly query: string;
  readonly mode: "expr" | "assign" | "sql";
}

export type PlDatum =
  | { readonly kind: "var"; readonly name: string; readonly typeName: string; readonly isConst: boolean; readonly notNull: boolean; readonly defaultValue: PlExpr | null; readonly line: number }
  | { readonly kind: "rec"; readonly name: string; readonly typeName: string; readonly notNull: boolean; readonly defaultValue: PlExpr | null; readonly line: number }
  /** A list of variables as one INTO / FOR target. */
  | { readonly kind: "row"; readonly name: string; readonly fields: ReadonlyArray<{ readonly name: string; readonly dno: number }>; readonly line: number }
  /** `rec.field` as an assignment target. */
  | { readonly kind: "recfield"; readonly name: string; readonly field: string; readonly parent: number; readonly line: number };

export interface PlHandler {
  /** Condition names as written (lower case) or five-character SQLSTATEs; `others`. */
  readonly conditions: readonly string[];
  readonly body: readonly PlStmt[];
}

export type RaiseOption = "errcode" | "message" | "detail" | "hint" | "column" | "constraint" | "datatype" | "table" | "schema";

export type PlStmt =
  | { readonly kind: "block"; readonly line: number; readonly label: string | null; readonly decls: readonly number[]; readonly body: readonly PlStmt[]; readonly handlers: readonly PlHandler[] | null }
  | { readonly kind: "assign"; readonly line: number; readonly target: number; readonly expr: PlExpr }
  | { readonly kind: "if"; readonly line: number; readonly branches: ReadonlyArray<{ readonly cond: PlExpr; readonly body: readonly PlStmt[] }>; readonly otherwise: readonly PlStmt[] }
  | { readonly kind: "case"; readonly line: number; readonly test: PlExpr | null; readonly testVar: number; readonly whens: ReadonlyArray<{ readonly cond: PlExpr; readonly body: readonly PlStmt[] }>; readonly otherwise: readonly PlStmt[] | null }
  | { readonly kind: "loop"; readonly line: number; readonly label: string | null; readonly body: readonly PlStmt[] }
  | { readonly kind: "while"; readonly line: number; readonly label: string | null; readonly cond: PlExpr; readonly body: readonly PlStmt[] }
  | { readonly kind: "fori"; readonly line: number; readonly label: string | null; readonly variable: number; readonly lower: PlExpr; readonly upper: PlExpr; readonly step: PlExpr | null; readonly reverse: boolean; readonly body: readonly PlStmt[] }
  | { readonly kind: "fors"; readonly line: number; readonly label: string | null; readonly target: number; readonly query: PlExpr; readonly body: readonly PlStmt[] }
  | { readonly kind: "exit"; readonly line: number; readonly isExit: boolean; readonly label: string | null; readonly cond: PlExpr | null }
  | { readonly kind: "return"; readonly line: number; readonly expr: PlExpr | null; readonly variable: number | null }
  | { readonly kind: "raise"; readonly line: number; readonly level: RaiseLevel; readonly condition: string | null; readonly message: string | null; readonly params: readonly PlExpr[]; readonly options: ReadonlyArray<{ readonly option: RaiseOption; readonly expr: PlExpr }> }
  | { readonly kind: "execsql"; readonly line: number; readonly sql: PlExpr; readonly into: boolean; readonly strict: boolean; readonly target: number | null }
  | { readonly kind: "perform"; readonly line: number; readonly expr: PlExpr }
  | { readonly kind: "getdiag"; readonly line: number; readonly stacked: boolean; readonly items: ReadonlyArray<{ readonly item: string; readonly target: number }> }
  | { readonly kind: "assert"; readonly line: number; readonly cond: PlExpr; readonly message: PlExpr | null }
  /** A statement the interpreter does not run (EXECUTE, cursors, RETURN NEXT / QUERY, COMMIT, …): 0A000 when reached. */
  | { readonly kind: "unsupported"; readonly line: number; readonly what: string };

export interface PlFunction {
  readonly datums: readonly PlDatum[];
  readonly body: PlStmt & { readonly kind: "block" };
  /** Datums the function itself declares (arguments, FOUND, trigger variables): visible everywhere. */
  readonly functionDecls: readonly number[];
  /** Trigger functions: the datums of NEW and OLD. */
  readonly newVar: number | null;
  readonly oldVar: number | null;
}

function int(v: unknown): number {
  return typeof v === "number" ? v : 0;
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

const PARSE_MODES: Record<number, PlExpr["mode"]> = { 0: "sql", 2: "expr", 3: "assign", 4: "assign", 5: "assign" };

function expr(n: unknown): PlExpr | null {
  const e = (n as PgNode | undefined)?.["PLpgSQL_expr"] as PgNode | undefined;
  if (e === undefined) return null;
  const mode = PARSE_MODES[int(e["parseMode"])];
  if (mode === undefined) throw new PgError("feature_not_supported", `PL/pgSQL expression mode ${String(e["parseMode"])} is not supported`);
  return { query: String(e["query"] ?? ""), mode };
}

function mustExpr(n: unknown): PlExpr {
  const e = expr(n);
  if (e === null) throw new PgError("internal_error", "PL/pgSQL tree: an expression is missing");
  return e;
}

function typeName(d: PgNode): string {
  return str(((d["datatype"] as PgNode | undefined)?.["PLpgSQL_type"] as PgNode | undefined)?.["typname"]) ?? "record";
}

function datum(n: PgNode): PlDatum {
  const [kind] = Object.keys(n);
  const d = n[kind!] as PgNode;
  const line = int(d["lineno"]);
  switch (kind) {
    case "PLpgSQL_var":
      return { kind: "var", name: String(d["refname"]), typeName: typeName(d), isConst: d["isconst"] === true, notNull: d["notnull"] === true, defaultValue: expr(d["default_val"]), line };
    case "PLpgSQL_rec":
      return { kind: "rec", name: String(d["refname"]), typeName: typeName(d), notNull: d["notnull"] === true, defaultValue: expr(d["default_val"]), line };
    case "PLpgSQL_row":
      return { kind: "row", name: String(d["refname"] ?? ""), fields: ((d["fields"] as PgNode[] | undefined) ?? []).map((f) => ({ name: String(f["name"]), dno: int(f["varno"]) })), line };
    case "PLpgSQL_recfield":
      return { kind: "recfield", name: "", field: String(d["fieldname"]), parent: int(d["recparentno"]), line };
    default:
      throw new PgError("feature_not_supported", `PL/pgSQL ${String(kind).replace("PLpgSQL_", "")} variables are not supported`);
  }
}

/** Datums the grammar creates by itself inside a body (not from a DECLARE section). */
function implicit(d: PlDatum): boolean {
  if (d.kind === "row" || d.kind === "recfield") return true;
  if (d.line === 0) return true;
  if (d.name.startsWith("__Case__Variable_")) return true;
  return d.kind === "var" && d.isConst && (d.name === "sqlstate" || d.name === "sqlerrm");
}

export type RaiseLevel = "debug" | "log" | "info" | "notice" | "warning" | "exception";

/** PostgreSQL's elog levels (utils/elog.h) up to each name: DEBUG5..DEBUG1 = 10..14, LOG 15, … */
const ELOG_LEVELS: ReadonlyArray<readonly [number, RaiseLevel]> = [
  [14, "debug"],
  [16, "log"],
  [17, "info"],
  [18, "notice"],
  [20, "warning"],
];

function raiseLevel(n: number): RaiseLevel {
  for (const [max, level] of ELOG_LEVELS) if (n <= max) return level;
  return "exception";
}

const RAISE_OPTIONS: readonly RaiseOption[] = ["errcode", "message", "detail", "hint", "column", "constraint", "datatype", "table", "schema"];

class Converter {
  readonly datums: PlDatum[];
  /** Declared datums not yet given to a block or loop, in creation order. */
  private readonly unclaimed: number[];

  constructor(datums: PlDatum[]) {
    this.datums = datums;
    this.unclaimed = datums.map((_, i) => i).filter((i) => !implicit(datums[i]!));
  }

  /** Integer FOR loop variables, claimed before any block (a loop's variable may share its line with a DECLARE). */
  private readonly loopVars: number[] = [];

  /** Takes every integer FOR loop's variable out of the unclaimed datums, in pre-order (the order `stmt` meets the loops). */
  preclaimLoopVars(n: unknown): void {
    if (Array.isArray(n)) {
      for (const x of n) this.preclaimLoopVars(x);
      return;
    }
    if (n === null || typeof n !== "object") return;
    const o = n as PgNode;
    const fori = o["PLpgSQL_stmt_fori"] as PgNode | undefined;
    if (fori !== undefined) {
      const v = (fori["var"] as PgNode)["PLpgSQL_var"] as PgNode;
      const name = String(v["refname"]);
      const line = int(v["lineno"]);
      const at = this.unclaimed.findIndex((i) => {
        const d = this.datums[i]!;
        return d.kind === "var" && d.name === name && d.line === line;
      });
      if (at < 0) throw new PgError("internal_error", `PL/pgSQL tree: loop variable "${name}" not found`);
      this.loopVars.push(this.unclaimed.splice(at, 1)[0]!);
      this.preclaimLoopVars(fori["body"]);
      return;
    }
    for (const k of Object.keys(o)) this.preclaimLoopVars(o[k]);
  }

  private claimLoopVar(name: string): number {
    const dno = this.loopVars.shift();
    if (dno === undefined) throw new PgError("internal_error", `PL/pgSQL tree: loop variable "${name}" not found`);
    return dno;
  }

  private claimBlockDecls(beginLine: number): number[] {
    const out: number[] = [];
    while (this.unclaimed.length > 0 && this.datums[this.unclaimed[0]!]!.line <= beginLine) out.push(this.unclaimed.shift()!);
    return out;
  }

  stmts(list: unknown): PlStmt[] {
    return ((list as PgNode[] | undefined) ?? []).map((s) => this.stmt(s));
  }

  block(b: PgNode): PlStmt & { kind: "block" } {
    const line = int(b["lineno"]);
    const decls = this.claimBlockDecls(line);
    const body = this.stmts(b["body"]);
    const exc = (b["exceptions"] as PgNode | undefined)?.["PLpgSQL_exception_block"] as PgNode | undefined;
    const handlers =
      exc === undefined
        ? null
        : ((exc["exc_list"] as PgNode[] | undefined) ?? []).map((h) => {
            const e = h["PLpgSQL_exception"] as PgNode;
            const conditions = ((e["conditions"] as PgNode[] | undefined) ?? []).map((c) => String((c["PLpgSQL_condition"] as PgNode)["condname"]));
            return { conditions, body: this.stmts(e["action"]) };
          });
    return { kind: "block", line, label: str(b["label"]), decls, body, handlers };
  }

  stmt(n: PgNode): PlStmt {
    const [kind] = Object.keys(n);
    const s = n[kind!] as PgNode;
    const line = int(s["lineno"]);
    const label = str(s["label"]);
    switch (kind) {
      case "PLpgSQL_stmt_block":
        return this.block(s);
      case "PLpgSQL_stmt_assign":
        return { kind: "assign", line, target: int(s["varno"]), expr: mustExpr(s["expr"]) };
      case "PLpgSQL_stmt_if": {
        const branches = [{ cond: mustExpr(s["cond"]), body: this.stmts(s["then_body"]) }];
        for (const e of (s["elsif_list"] as PgNode[] | undefined) ?? []) {
          const x = e["PLpgSQL_if_elsif"] as PgNode;
          branches.push({ cond: mustExpr(x["cond"]), body: this.stmts(x["stmts"]) });
        }
        return { kind: "if", line, branches, otherwise: this.stmts(s["else_body"]) };
      }
      case "PLpgSQL_stmt_case": {
        const whens = ((s["case_when_list"] as PgNode[] | undefined) ?? []).map((w) => {
          const x = w["PLpgSQL_case_when"] as PgNode;
          return { cond: mustExpr(x["expr"]), body: this.stmts(x["stmts"]) };
        });
        return { kind: "case", line, test: expr(s["t_expr"]), testVar: int(s["t_varno"]), whens, otherwise: s["have_else"] === true ? this.stmts(s["else_stmts"]) : null };
      }
      case "PLpgSQL_stmt_loop":
        return { kind: "loop", line, label, body: this.stmts(s["body"]) };
      case "PLpgSQL_stmt_while":
        return { kind: "while", line, label, cond: mustExpr(s["cond"]), body: this.stmts(s["body"]) };
      case "PLpgSQL_stmt_fori": {
        const v = (s["var"] as PgNode)["PLpgSQL_var"] as PgNode;
        const variable = this.claimLoopVar(String(v["refname"]));
        return { kind: "fori", line, label, variable, lower: mustExpr(s["lower"]), upper: mustExpr(s["upper"]), step: expr(s["step"]), reverse: s["reverse"] === true, body: this.stmts(s["body"]) };
      }
      case "PLpgSQL_stmt_fors": {
        const v = s["var"] as PgNode;
        const target = v["PLpgSQL_rec"] !== undefined ? int((v["PLpgSQL_rec"] as PgNode)["dno"]) : this.rowDno(v["PLpgSQL_row"] as PgNode);
        return { kind: "fors", line, label, target, query: mustExpr(s["query"]), body: this.stmts(s["body"]) };
      }
      case "PLpgSQL_stmt_exit":
        return { kind: "exit", line, isExit: s["is_exit"] === true, label, cond: expr(s["cond"]) };
      case "PLpgSQL_stmt_return":
        return { kind: "return", line, expr: expr(s["expr"]), variable: s["retvarno"] === undefined ? null : int(s["retvarno"]) };
      case "PLpgSQL_stmt_raise": {
        const options = ((s["options"] as PgNode[] | undefined) ?? []).map((o) => {
          const x = o["PLpgSQL_raise_option"] as PgNode;
          return { option: RAISE_OPTIONS[int(x["opt_type"])] ?? "message", expr: mustExpr(x["expr"]) };
        });
        return { kind: "raise", line, level: raiseLevel(int(s["elog_level"])), condition: str(s["condname"]), message: str(s["message"]), params: ((s["params"] as unknown[] | undefined) ?? []).map(mustExpr), options };
      }
      case "PLpgSQL_stmt_execsql": {
        const t = s["target"] as PgNode | undefined;
        const target = t === undefined ? null : t["PLpgSQL_rec"] !== undefined ? int((t["PLpgSQL_rec"] as PgNode)["dno"]) : this.rowDno(t["PLpgSQL_row"] as PgNode);
        return { kind: "execsql", line, sql: mustExpr(s["sqlstmt"]), into: s["into"] === true, strict: s["strict"] === true, target };
      }
      case "PLpgSQL_stmt_perform":
        return { kind: "perform", line, expr: mustExpr(s["expr"]) };
      case "PLpgSQL_stmt_getdiag":
        return {
          kind: "getdiag",
          line,
          stacked: s["is_stacked"] === true,
          items: ((s["diag_items"] as PgNode[] | undefined) ?? []).map((i) => {
            const x = i["PLpgSQL_diag_item"] as PgNode;
            return { item: String(x["kind"]), target: int(x["target"]) };
          }),
        };
      case "PLpgSQL_stmt_assert":
        return { kind: "assert", line, cond: mustExpr(s["cond"]), message: expr(s["message"]) };
      default:
        return { kind: "unsupported", line, what: String(kind).replace("PLpgSQL_stmt_", "").replace(/_/g, " ").toUpperCase() };
    }
  }

  /** The datum number of an INTO / FOR target list (an unnamed row), found by its fields and line. */
  private rowDno(r: PgNode): number {
    const line = int(r["lineno"]);
    const fields = JSON.stringify(((r["fields"] as PgNode[] | undefined) ?? []).map((f) => int(f["varno"])));
    const i = this.datums.findIndex((d) => d.kind === "row" && d.line === line && JSON.stringify(d.fields.map((f) => f.dno)) === fields);
    if (i < 0) throw new PgError("internal_error", "PL/pgSQL tree: target row not found");
    return i;
  }
}

/** Converts PLpgSQL_function JSON (parse/parser.ts parsePlpgsql) into typed nodes. */
export function plpgsqlFunction(fn: PgNode): PlFunction {
  const datums = ((fn["datums"] as PgNode[] | undefined) ?? []).map(datum);
  const c = new Converter(datums);
  const action = (fn["action"] as PgNode)["PLpgSQL_stmt_block"] as PgNode;
  // The grammar wraps the body in a block of its own (no line, no declarations) ending in an
  // implicit RETURN; the function's own datums (arguments, FOUND, trigger variables) have no line.
  const functionDecls = datums.map((d, i) => (d.line === 0 && (d.kind === "var" || d.kind === "rec") ? i : -1)).filter((i) => i >= 0);
  c.preclaimLoopVars(action);
  const body = c.block(action);
  const newVar = fn["new_varno"] !== undefined || datums.some((d) => d.kind === "rec" && d.name === "new" && d.line === 0) ? datums.findIndex((d) => d.kind === "rec" && d.name === "new" && d.line === 0) : null;
  const oldVar = datums.findIndex((d) => d.kind === "rec" && d.name === "old" && d.line === 0);
  return { datums, body, functionDecls, newVar: newVar !== null && newVar >= 0 ? newVar : null, oldVar: oldVar >= 0 ? oldVar : null };
}
