// The PL/pgSQL interpreter: runs one call of a LANGUAGE plpgsql function (or trigger) on the tree
// of parse/plpgsql-tree.ts, inside the calling statement's transaction.
//
//   call ── Frame (one per call: variable values and types, scopes of names)
//     └─ statements ── Signal (normal / EXIT·CONTINUE with a label / RETURN with a value)
//          └─ embedded SQL (embedded.ts): bound once per text, variables passed as parameters
//
// Bounds: every statement and loop iteration charges the statement's budget (a runaway loop ends
// with 57014 at the statement timeout or on cancel, like any statement); calls nest at most
// sqlLimits.plpgsqlCallDepthMax deep (54001). An EXCEPTION block is a savepoint: its writes (a
// mark in the transaction's write buffer) and catalog changes are undone when a handler runs.
import { PgError, toPgError } from "../../../../common/errors.ts";
import type { FunctionDesc, TableDesc } from "../../catalog/descriptors.ts";
import { relationOid } from "../../catalog/oids.ts";
import type { Expr } from "../bind/bound.ts";
import { bindTypeText } from "../bind/embedded-sql.ts";
import type { Row } from "../exec/eval.ts";
import { sqlLimits } from "../limits.ts";
import type { PlExpr, PlFunction, PlHandler, PlStmt } from "../parse/plpgsql-tree.ts";
import type { Datum } from "../types/datum.ts";
import { formatText } from "../types/text-io.ts";
import { formatType, typeOfStored, Types, type SqlType } from "../types/type.ts";
import { bindText, type BoundText, type Reads, type Use } from "./embedded.ts";
import { conditionCode, conditionMatches, errorWithCode } from "./errors.ts";
import type { PlHost } from "./host.ts";
import { plpgsqlOf, TRIGGER_TYPE_OID } from "./source.ts";
import { convertValue, type PlColumn, type PlRecord } from "./values.ts";

/** One row event handed to a trigger function. */
export interface TriggerCall {
  readonly name: string;
  readonly table: TableDesc;
  readonly schemaName: string;
  readonly timing: "before" | "after";
  readonly event: "insert" | "update" | "delete";
  readonly oldRow: Row | null;
  readonly newRow: Row | null;
  readonly args: readonly string[];
}

type Signal = null | { readonly kind: "exit"; readonly isExit: boolean; readonly label: string | null } | { readonly kind: "return"; readonly value: Datum | PlRecord | null };

type Slot = Datum | PlRecord | null;

/** The columns of a table's rows as a record shape, one object per table version (bindings key on it). */
const tableShapes = new WeakMap<TableDesc, readonly PlColumn[]>();
function tableShape(t: TableDesc): readonly PlColumn[] {
  let cols = tableShapes.get(t);
  if (cols === undefined) {
    cols = t.columns.map((c) => ({ name: c.name, type: typeOfStored(c.type) }));
    tableShapes.set(t, cols);
  }
  return cols;
}

/** The record shape of a query's result, one object per bound text (bindings key on it). */
const queryShapes = new WeakMap<BoundText, readonly PlColumn[]>();

/** Bound texts per calling statement (host), per embedded text; a text in use gets a second binding. */
const boundTexts = new WeakMap<PlHost, Map<PlExpr, BoundText[]>>();

/** Types of variables per catalog and type name. */
const typeCache = new WeakMap<object, Map<string, SqlType>>();

/** How deep calls nest right now, per calling statement. */
const depths = new WeakMap<PlHost, number>();

function recordNotAssigned(name: string): PgError {
  return new PgError("object_not_in_prerequisite_state", `record "${name}" is not assigned yet`, { detail: "The tuple structure of a not-yet-assigned record is indeterminate." });
}

const STMT_NAMES: Record<PlStmt["kind"], string> = {
  block: "statement block",
  assign: "assignment",
  if: "IF",
  case: "CASE",
  loop: "LOOP",
  while: "WHILE",
  fori: "FOR with integer loop variable",
  fors: "FOR over SELECT rows",
  exit: "EXIT",
  return: "RETURN",
  raise: "RAISE",
  execsql: "SQL statement",
  perform: "PERFORM",
  getdiag: "GET DIAGNOSTICS",
  assert: "ASSERT",
  unsupported: "statement",
};

class Frame {
  readonly host: PlHost;
  readonly fn: FunctionDesc;
  readonly pl: PlFunction;
  readonly vals: Slot[];
  readonly types: Array<SqlType | null>;
  /** Names visible now: innermost scope last. */
  readonly scopes: Array<Map<string, number>> = [];
  /** The error a handler is running for (RAISE; with no arguments re-throws it). */
  private handling: PgError | null = null;
  /** Slots of SQLSTATE and SQLERRM inside handlers (past the datums). */
  private readonly sqlstateSlot: number;
  private readonly sqlerrmSlot: number;
  private readonly foundSlot: number;
  private rowCount = 0;
  /** The signature for CONTEXT lines: f(integer,text). */
  readonly signature: string;

  constructor(host: PlHost, fn: FunctionDesc, pl: PlFunction) {
    this.host = host;
    this.fn = fn;
    this.pl = pl;
    const n = pl.datums.length;
    this.vals = new Array<Slot>(n + 2).fill(null);
    this.types = new Array<SqlType | null>(n + 2).fill(null);
    this.sqlstateSlot = n;
    this.sqlerrmSlot = n + 1;
    this.types[n] = Types.text;
    this.types[n + 1] = Types.text;
    this.foundSlot = pl.datums.findIndex((d) => d.kind === "var" && d.name === "found" && d.line === 0);
    const fnScope = new Map<string, number>();
    for (const i of pl.functionDecls) fnScope.set(pl.datums[i]!.name, i);
    pl.datums.forEach((d, i) => {
      if (d.kind === "var" && d.name.startsWith("__Case__Variable_")) fnScope.set(d.name, i);
    });
    this.scopes.push(fnScope);
    this.signature = `${fn.name}(${fn.argTypes.map((t) => (t.oid === TRIGGER_TYPE_OID ? "trigger" : formatType(typeOfStored(t)))).join(",")})`;
  }

  private lookup(name: string): number | undefined {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      const d = this.scopes[i]!.get(name);
      if (d !== undefined) return d;
    }
    return undefined;
  }

  /** Binder.variables for this frame: a variable or a record's field as a parameter of the text. */
  private resolve(names: readonly string[], reads: Reads): Expr | null {
    if (names.length === 0 || names.length > 2) return null;
    const first = names[0]!;
    const dno = this.lookup(first);
    if (dno === undefined) return null;
    const d = this.pl.datums[dno];
    if (names.length === 1) {
      if (dno >= this.pl.datums.length || d?.kind === "var") return reads.param(dno, -1, this.types[dno] ?? Types.unknown);
      throw new PgError("feature_not_supported", `a whole record variable ("${first}") cannot be used in an expression; name its fields`);
    }
    if (d?.kind !== "rec") return null;
    const rec = this.vals[dno] as PlRecord | null;
    if (rec === null) throw recordNotAssigned(first);
    const col = rec.cols.findIndex((c) => c.name === names[1]);
    if (col < 0) throw new PgError("undefined_column", `record "${first}" has no field "${names[1]}"`);
    if (!reads.shapes.some((s) => s.slot === dno)) reads.shapes.push({ slot: dno, cols: rec.cols });
    return reads.param(dno, col, rec.cols[col]!.type);
  }

  /** The bound form of a text that fits the catalog and record shapes of this moment. */
  private async bound(text: PlExpr, use: Use): Promise<BoundText> {
    let byText = boundTexts.get(this.host);
    if (byText === undefined) {
      byText = new Map();
      boundTexts.set(this.host, byText);
    }
    const list = byText.get(text) ?? [];
    const catalog = this.host.catalog();
    const fit = list.find((b) => b.fits(catalog, (slot) => this.vals[slot] as PlRecord | null));
    if (fit !== undefined) return fit;
    const b = await bindText(argvFromZero(text), use, this.host, (names, _loc, reads) => this.resolve(names, reads));
    // Keep the newest few forms of a text only (a shape that changes on every row would pile up).
    list.push(b);
    if (list.length > 4) list.shift();
    byText.set(text, list);
    return b;
  }

  private params(b: BoundText): Datum[] {
    return b.reads.refs.map((r) => {
      const v = this.vals[r.slot] ?? null;
      if (r.col < 0) return v as Datum;
      const rec = v as PlRecord | null;
      if (rec === null) throw recordNotAssigned(this.pl.datums[r.slot]?.name ?? "?");
      return rec.values[r.col] ?? null;
    });
  }

  /** The value of an expression text, converted to `type` (null: as it is). */
  async value(text: PlExpr, type: SqlType | null): Promise<{ value: Datum; type: SqlType }> {
    const b = await this.bound(text, { kind: "value", type });
    const params = this.params(b);
    b.busy = true;
    try {
      if (b.isValue) return { value: await b.value(params), type: b.valueType };
      const r = await b.rows(params, 2, this.host);
      if (r.rows.length > 1) throw new PgError("cardinality_violation", `query "${text.query}" returned more than one row`);
      return { value: r.rows[0]?.[0] ?? null, type: b.valueType };
    } finally {
      b.busy = false;
    }
  }

  async condition(text: PlExpr): Promise<boolean> {
    const b = await this.bound(text, { kind: "condition" });
    const params = this.params(b);
    b.busy = true;
    try {
      const v = b.isValue ? await b.value(params) : ((await b.rows(params, 1, this.host)).rows[0]?.[0] ?? null);
      return v === true;
    } finally {
      b.busy = false;
    }
  }

  private async statementRows(text: PlExpr, rowsMax: number): Promise<{ cols: readonly PlColumn[]; rows: Row[]; count: number; isQuery: boolean }> {
    const b = await this.bound(text, { kind: "statement" });
    const params = this.params(b);
    b.busy = true;
    try {
      const r = await b.rows(params, rowsMax, this.host);
      let cols = queryShapes.get(b);
      if (cols === undefined) {
        cols = r.cols.map((c) => ({ name: c.name, type: c.type }));
        queryShapes.set(b, cols);
      }
      return { cols, rows: r.rows, count: r.count, isQuery: b.isQuery };
    } finally {
      b.busy = false;
    }
  }

  async typeOf(typeName: string): Promise<SqlType> {
    const catalog = this.host.catalog();
    let m = typeCache.get(catalog);
    if (m === undefined) {
      m = new Map();
      typeCache.set(catalog, m);
    }
    const hit = m.get(typeName);
    if (hit !== undefined) return hit;
    if (typeName === "refcursor") throw new PgError("feature_not_supported", "cursors (refcursor variables) are not supported in PL/pgSQL functions");
    if (typeName.includes("%")) throw new PgError("feature_not_supported", `%TYPE and %ROWTYPE declarations are not supported ("${typeName}")`);
    const t = await bindTypeText(this.host.binder(), typeName);
    m.set(typeName, t);
    return t;
  }

  private setFound(v: boolean): void {
    if (this.foundSlot >= 0) this.vals[this.foundSlot] = v;
  }

  /** Assigns a value of type `from` to a target datum (variable, record field, row of variables, record). */
  private assignTo(target: number, value: Datum, from: SqlType): void {
    const d = this.pl.datums[target]!;
    switch (d.kind) {
      case "var":
        if (d.notNull && value === null) throw new PgError("null_value_not_allowed", `null value cannot be assigned to variable "${d.name}" declared NOT NULL`);
        this.vals[target] = convertValue(value, from, this.types[target] ?? from, this.host.ctx.evalContext);
        return;
      case "recfield": {
        const rec = this.vals[d.parent] as PlRecord | null;
        const parent = this.pl.datums[d.parent]!;
        if (rec === null) throw recordNotAssigned(parent.name);
        const col = rec.cols.findIndex((c) => c.name === d.field);
        if (col < 0) throw new PgError("undefined_column", `record "${parent.name}" has no field "${d.field}"`);
        rec.values[col] = convertValue(value, from, rec.cols[col]!.type, this.host.ctx.evalContext);
        return;
      }
      default:
        throw new PgError("feature_not_supported", `assignment to ${d.kind === "rec" ? "a whole record" : "a row"} variable is not supported`);
    }
  }

  /** SELECT … INTO / FOR … IN query: one row into the target (a record or a list of variables). */
  private assignRow(target: number, cols: readonly PlColumn[], row: Row | null): void {
    const d = this.pl.datums[target]!;
    if (d.kind === "rec") {
      this.vals[target] = row === null ? null : { cols, values: row.slice(0, cols.length) };
      return;
    }
    if (d.kind === "row") {
      d.fields.forEach((f, i) => {
        const c = cols[i];
        this.assignTo(f.dno, row === null || c === undefined ? null : (row[i] ?? null), c?.type ?? Types.unknown);
      });
      return;
    }
    this.assignTo(target, row?.[0] ?? null, cols[0]?.type ?? Types.unknown);
  }

  async initDecl(dno: number): Promise<void> {
    const d = this.pl.datums[dno]!;
    if (d.kind === "var") {
      const t = await this.typeOf(d.typeName);
      this.types[dno] = t;
      this.vals[dno] = null;
      if (d.defaultValue !== null) {
        const v = await this.value(d.defaultValue, t);
        this.vals[dno] = convertValue(v.value, v.type, t, this.host.ctx.evalContext);
      }
      if (d.notNull && this.vals[dno] === null) throw new PgError("null_value_not_allowed", `null value cannot be assigned to variable "${d.name}" declared NOT NULL`);
    } else if (d.kind === "rec") {
      if (d.typeName !== "record") throw new PgError("feature_not_supported", `record variables of a named row type ("${d.name} ${d.typeName}") are not supported; declare it RECORD`);
      this.vals[dno] = null;
    }
  }

  async stmts(list: readonly PlStmt[]): Promise<Signal> {
    const budget = this.host.ctx.budget;
    for (const s of list) {
      if (budget.charge(1)) await budget.pause();
      let sig: Signal;
      try {
        sig = await this.stmt(s);
      } catch (err) {
        throw this.withContext(err, s);
      }
      if (sig !== null) return sig;
    }
    return null;
  }

  /** Adds PostgreSQL's CONTEXT line (function, line, statement) to an error leaving a statement. */
  private withContext(err: unknown, s: PlStmt): unknown {
    if (!(err instanceof PgError) || s.kind === "block" || s.kind === "if" || s.kind === "case" || s.kind === "loop" || s.kind === "while" || s.kind === "fori" || s.kind === "fors") return err;
    if (contextAdded.has(err)) return err;
    const line = `PL/pgSQL function ${this.signature} line ${s.line} at ${STMT_NAMES[s.kind]}`;
    const out = err.with({ where: err.where === undefined ? line : `${err.where}\n${line}` });
    if (err.code !== out.code) Object.defineProperty(out, "code", { value: err.code });
    contextAdded.add(out);
    return out;
  }

  private async stmt(s: PlStmt): Promise<Signal> {
    switch (s.kind) {
      case "block":
        return this.block(s);
      case "assign": {
        const d = this.pl.datums[s.target]!;
        let type: SqlType | null = null;
        if (d.kind === "var") {
          if (d.isConst) throw new PgError("syntax_error", `variable "${d.name}" is declared CONSTANT`);
          type = this.types[s.target] ?? null;
        } else if (d.kind === "recfield") {
          const rec = this.vals[d.parent] as PlRecord | null;
          if (rec === null) throw recordNotAssigned(this.pl.datums[d.parent]!.name);
          type = rec.cols.find((c) => c.name === d.field)?.type ?? null;
        }
        const v = await this.value(s.expr, type);
        this.assignTo(s.target, v.value, v.type);
        return null;
      }
      case "if": {
        for (const br of s.branches) if (await this.condition(br.cond)) return this.stmts(br.body);
        return this.stmts(s.otherwise);
      }
      case "case": {
        if (s.test !== null) {
          const v = await this.value(s.test, null);
          this.types[s.testVar] = v.type;
          this.vals[s.testVar] = v.value;
        }
        for (const w of s.whens) if (await this.condition(w.cond)) return this.stmts(w.body);
        if (s.otherwise === null) throw new PgError("case_not_found", "case not found", { hint: "CASE statement is missing ELSE part." });
        return this.stmts(s.otherwise);
      }
      case "loop":
        for (;;) {
          const r = await this.loopBody(s.label, s.body);
          if (r !== "next") return r;
        }
      case "while":
        while (await this.condition(s.cond)) {
          const r = await this.loopBody(s.label, s.body);
          if (r !== "next") return r;
        }
        return null;
      case "fori":
        return this.forInteger(s);
      case "fors": {
        const { cols, rows } = await this.statementRows(s.query, Infinity);
        this.setFound(false);
        for (const row of rows) {
          this.assignRow(s.target, cols, row);
          const r = await this.loopBody(s.label, s.body);
          if (r !== "next") {
            this.setFound(true);
            return r;
          }
        }
        this.setFound(rows.length > 0);
        return null;
      }
      case "exit":
        if (s.cond !== null && !(await this.condition(s.cond))) return null;
        return { kind: "exit", isExit: s.isExit, label: s.label };
      case "return":
        return { kind: "return", value: await this.returnValue(s) };
      case "raise":
        return this.raise(s);
      case "execsql":
        return this.execSql(s);
      case "perform": {
        const r = await this.statementRows(s.expr, 0);
        this.rowCount = r.count;
        this.setFound(r.count > 0);
        return null;
      }
      case "getdiag":
        if (s.stacked) throw new PgError("feature_not_supported", "GET STACKED DIAGNOSTICS is not supported");
        for (const it of s.items) {
          if (it.item !== "ROW_COUNT") throw new PgError("feature_not_supported", `GET DIAGNOSTICS ${it.item} is not supported`);
          this.assignTo(it.target, BigInt(this.rowCount), Types.int8);
        }
        return null;
      case "assert": {
        const ok = await this.value(s.cond, Types.bool);
        if (ok.value === true) return null;
        const msg = s.message === null ? null : await this.value(s.message, Types.text);
        throw new PgError("assert_failure", msg === null || msg.value === null ? "assertion failed" : String(msg.value));
      }
      case "unsupported":
        throw new PgError("feature_not_supported", `PL/pgSQL statement ${s.what} is not supported`);
    }
  }

  /** One pass of a loop body: "next" to go on, or the signal that ends the loop (its own EXIT is consumed). */
  private async loopBody(label: string | null, body: readonly PlStmt[]): Promise<Signal | "next"> {
    const sig = await this.stmts(body);
    if (sig === null) return "next";
    if (sig.kind === "return") return sig;
    if (sig.label !== null && sig.label !== label) return sig;
    return sig.isExit ? null : "next";
  }

  private async forInteger(s: PlStmt & { kind: "fori" }): Promise<Signal> {
    const lower = (await this.value(s.lower, Types.int4)).value;
    const upper = (await this.value(s.upper, Types.int4)).value;
    if (lower === null) throw new PgError("null_value_not_allowed", "lower bound of FOR loop cannot be null");
    if (upper === null) throw new PgError("null_value_not_allowed", "upper bound of FOR loop cannot be null");
    let step = 1;
    if (s.step !== null) {
      const st = (await this.value(s.step, Types.int4)).value;
      if (st === null) throw new PgError("null_value_not_allowed", "BY value of FOR loop cannot be null");
      step = st as number;
      if (step <= 0) throw new PgError("invalid_parameter_value", "BY value of FOR loop must be greater than zero");
    }
    this.types[s.variable] = Types.int4;
    // The loop variable exists inside the loop only (it hides an outer one of the same name).
    this.scopes.push(new Map([[this.pl.datums[s.variable]!.name, s.variable]]));
    let found = false;
    try {
      for (let i = lower as number; s.reverse ? i >= (upper as number) : i <= (upper as number); i += s.reverse ? -step : step) {
        found = true;
        this.vals[s.variable] = i;
        const r = await this.loopBody(s.label, s.body);
        if (r !== "next") {
          this.setFound(true);
          return r;
        }
      }
    } finally {
      this.scopes.pop();
    }
    this.setFound(found);
    return null;
  }

  private async returnValue(s: PlStmt & { kind: "return" }): Promise<Datum | PlRecord | null> {
    const isTrigger = this.fn.returnType.oid === TRIGGER_TYPE_OID;
    if (s.variable !== null) {
      const d = this.pl.datums[s.variable]!;
      const v = this.vals[s.variable] ?? null;
      if (d.kind === "rec") {
        if (!isTrigger) throw new PgError("feature_not_supported", "returning a record is not supported");
        return v === null ? null : { cols: (v as PlRecord).cols, values: (v as PlRecord).values.slice() };
      }
      return isTrigger ? this.triggerReturnScalar(v as Datum) : convertValue(v as Datum, this.types[s.variable] ?? Types.unknown, typeOfStored(this.fn.returnType), this.host.ctx.evalContext);
    }
    if (s.expr === null) {
      if (s.line === 0 && this.fn.returnType.oid !== 2278) {
        throw new PgError("function_executed_no_return_statement", `control reached end of ${isTrigger ? "trigger procedure" : "function"} without RETURN`);
      }
      return null;
    }
    if (isTrigger) return this.triggerReturnScalar((await this.value(s.expr, null)).value);
    const v = await this.value(s.expr, typeOfStored(this.fn.returnType));
    return v.value;
  }

  private triggerReturnScalar(v: Datum): null {
    if (v !== null) throw new PgError("datatype_mismatch", "cannot return non-composite value from function returning composite type");
    return null;
  }

  private async raise(s: PlStmt & { kind: "raise" }): Promise<Signal> {
    if (s.message === null && s.condition === null && s.options.length === 0) {
      if (this.handling === null) throw new PgError("stacked_diagnostics_accessed_without_active_handler", "RAISE without parameters cannot be used outside an exception handler");
      throw this.handling;
    }
    const ctx = this.host.ctx.evalContext;
    let message = s.condition ?? "";
    if (s.message !== null) {
      const values: Array<string> = [];
      for (const p of s.params) {
        const v = await this.value(p, null);
        values.push(v.value === null ? "<NULL>" : (formatText(v.value, v.type, ctx) ?? "<NULL>"));
      }
      let i = 0;
      message = s.message.replace(/%%|%/g, (m) => (m === "%%" ? "%" : (values[i++] ?? "")));
      if (s.params.length !== (s.message.match(/%%|%/g) ?? []).filter((m) => m === "%").length) {
        throw new PgError("syntax_error", "mismatched number of parameters to RAISE");
      }
    }
    let code = s.condition !== null ? conditionCode(s.condition) : s.level === "exception" ? "P0001" : "00000";
    const fields: { detail?: string; hint?: string; column?: string; constraint?: string; table?: string } = {};
    for (const o of s.options) {
      const v = await this.value(o.expr, Types.text);
      if (v.value === null) throw new PgError("null_value_not_allowed", `RAISE statement option cannot be null`);
      const text = String(v.value);
      switch (o.option) {
        case "errcode":
          code = conditionCode(text);
          break;
        case "message":
          message = text;
          break;
        case "detail":
          fields.detail = text;
          break;
        case "hint":
          fields.hint = text;
          break;
        case "column":
          fields.column = text;
          break;
        case "constraint":
          fields.constraint = text;
          break;
        case "table":
          fields.table = text;
          break;
        default:
          break;
      }
    }
    if (s.level === "exception") throw errorWithCode(code, message, fields);
    // DEBUG and LOG go to the server log only, under client_min_messages = notice (its default).
    if (s.level === "notice" || s.level === "warning" || s.level === "info") {
      this.host.notice(errorWithCode(code === "P0001" ? "00000" : code, message, fields), s.level === "notice" ? "NOTICE" : s.level === "warning" ? "WARNING" : "INFO");
    }
    return null;
  }

  private async execSql(s: PlStmt & { kind: "execsql" }): Promise<Signal> {
    const r = await this.statementRows(s.sql, s.into ? (s.strict ? 2 : 1) : 0);
    if (!s.into && r.isQuery) {
      throw new PgError("syntax_error", "query has no destination for result data", { hint: "If you want to discard the results of a SELECT, use PERFORM instead." });
    }
    this.rowCount = r.count;
    if (s.into && s.target !== null) {
      if (s.strict && r.rows.length === 0) throw new PgError("no_data_found", "query returned no rows");
      if (s.strict && r.count > 1) throw new PgError("too_many_rows", "query returned more than one row", { hint: "Make sure the query returns a single row, or use LIMIT 1." });
      this.assignRow(s.target, r.cols, r.rows[0] ?? null);
    }
    this.setFound(r.count > 0);
    return null;
  }

  async block(s: PlStmt & { kind: "block" }): Promise<Signal> {
    this.scopes.push(new Map(s.decls.map((d) => [this.pl.datums[d]!.name, d])));
    try {
      if (s.handlers === null) {
        for (const d of s.decls) await this.initDecl(d);
        return this.blockSignal(s, await this.stmts(s.body));
      }
      const txn = this.host.ctx.txn;
      const mark = txn.buffer.mark();
      const catalog = this.host.catalog();
      try {
        for (const d of s.decls) await this.initDecl(d);
        return this.blockSignal(s, await this.stmts(s.body));
      } catch (thrown) {
        const err = toPgError(thrown);
        if (txn.status !== "open") throw err;
        const handler = s.handlers.find((h) => h.conditions.some((c) => conditionMatches(c, err)));
        if (handler === undefined) throw err;
        txn.buffer.rollbackTo(mark);
        this.host.restoreCatalog(catalog);
        return this.blockSignal(s, await this.handle(handler, err));
      }
    } finally {
      this.scopes.pop();
    }
  }

  /** EXIT with the block's own label ends the block. */
  private blockSignal(s: PlStmt & { kind: "block" }, sig: Signal): Signal {
    if (sig !== null && sig.kind === "exit" && sig.label !== null && sig.label === s.label) {
      if (!sig.isExit) throw new PgError("syntax_error", `CONTINUE cannot be used outside a loop`);
      return null;
    }
    return sig;
  }

  private async handle(h: PlHandler, err: PgError): Promise<Signal> {
    const saved = [this.vals[this.sqlstateSlot] ?? null, this.vals[this.sqlerrmSlot] ?? null, this.handling] as const;
    this.vals[this.sqlstateSlot] = err.code;
    this.vals[this.sqlerrmSlot] = err.message;
    this.handling = err;
    this.scopes.push(new Map([["sqlstate", this.sqlstateSlot], ["sqlerrm", this.sqlerrmSlot]]));
    try {
      return await this.stmts(h.body);
    } finally {
      this.scopes.pop();
      this.vals[this.sqlstateSlot] = saved[0];
      this.vals[this.sqlerrmSlot] = saved[1];
      this.handling = saved[2];
    }
  }
}

/**
 * TG_ARGV is subscripted from 0 in PostgreSQL, but arrays here have their lower bound in the
 * type (1 for every text[]), not in the value; so a text reading `TG_ARGV[i]` is bound as
 * `TG_ARGV[1+i]`. (A slice `TG_ARGV[i:j]` would be off by one at its upper end; none is known in use.)
 */
const argvRewrites = new WeakMap<PlExpr, PlExpr>();
function argvFromZero(text: PlExpr): PlExpr {
  if (!/\btg_argv\s*\[/i.test(text.query)) return text;
  let r = argvRewrites.get(text);
  if (r === undefined) {
    r = { ...text, query: text.query.replace(/\b(tg_argv\s*)\[/gi, "$1[1+") };
    argvRewrites.set(text, r);
  }
  return r;
}

/** Errors that already carry the CONTEXT line of the statement they left. */
const contextAdded = new WeakSet<PgError>();

/** Trigger variables (TG_*) and NEW / OLD of a trigger call. */
function setTriggerVars(f: Frame, t: TriggerCall): void {
  const set = (name: string, v: Datum): void => {
    const i = f.pl.datums.findIndex((d) => d.kind === "var" && d.name === name && d.line === 0);
    if (i >= 0) f.vals[i] = v;
  };
  set("tg_name", t.name);
  set("tg_when", t.timing.toUpperCase());
  set("tg_level", "ROW");
  set("tg_op", t.event.toUpperCase());
  set("tg_relid", relationOid(t.table.id));
  set("tg_relname", t.table.name);
  set("tg_table_name", t.table.name);
  set("tg_table_schema", t.schemaName);
  set("tg_nargs", t.args.length);
  set("tg_argv", t.args.slice());
  const cols = tableShape(t.table);
  if (f.pl.newVar !== null) f.vals[f.pl.newVar] = t.newRow === null ? null : { cols, values: t.newRow.slice() };
  if (f.pl.oldVar !== null) f.vals[f.pl.oldVar] = t.oldRow === null ? null : { cols, values: t.oldRow.slice() };
}

/**
 * Runs one call. A function returns its value; a trigger function returns the row to write
 * (NEW as the function left it, OLD, …) converted to the table's columns, or null.
 */
export async function callFunction(host: PlHost, fn: FunctionDesc, args: readonly Datum[], trigger: TriggerCall | null): Promise<Datum | Row | null> {
  const depth = depths.get(host) ?? 0;
  if (depth >= sqlLimits.plpgsqlCallDepthMax) {
    throw new PgError("statement_too_complex", "stack depth limit exceeded", { hint: `PL/pgSQL functions and triggers may call each other at most ${sqlLimits.plpgsqlCallDepthMax} deep.` });
  }
  if (fn.returnType.oid === TRIGGER_TYPE_OID && trigger === null) {
    throw new PgError("feature_not_supported", "trigger functions can only be called as triggers");
  }
  const pl = await plpgsqlOf(fn);
  const f = new Frame(host, fn, pl);
  depths.set(host, depth + 1);
  try {
    // Arguments are the first datums, in order; FOUND starts false.
    for (let i = 0; i < fn.argTypes.length; i++) {
      const t = typeOfStored(fn.argTypes[i]!);
      f.types[i] = t;
      f.vals[i] = args[i] ?? null;
      if (f.scopes[0]!.get(`$${i + 1}`) === undefined) f.scopes[0]!.set(`$${i + 1}`, i);
    }
    for (const i of pl.functionDecls) {
      const d = pl.datums[i]!;
      if (i >= fn.argTypes.length && d.kind === "var") f.types[i] = await f.typeOf(d.typeName);
    }
    const foundSlot = pl.datums.findIndex((d) => d.kind === "var" && d.name === "found" && d.line === 0);
    if (foundSlot >= 0) f.vals[foundSlot] = false;
    if (trigger !== null) setTriggerVars(f, trigger);
    const sig = await f.block(pl.body);
    const value = sig !== null && sig.kind === "return" ? sig.value : null;
    if (trigger === null) return value as Datum;
    if (value === null) return null;
    const rec = value as PlRecord;
    const cols = tableShape(trigger.table);
    if (rec.cols.length !== cols.length) throw new PgError("datatype_mismatch", "returned row structure does not match the structure of the triggering table", { detail: "Number of returned columns does not match expected column count." });
    return rec.values.map((v, i) => convertValue(v, rec.cols[i]!.type, cols[i]!.type, host.ctx.evalContext));
  } finally {
    depths.set(host, depth);
  }
}
