// Runs one statement (other than transaction control and SET/SHOW) inside a transaction:
// binds it against the transaction's catalog snapshot, plans it, executes it and formats the
// result in Postgres's text format.
import { FIRST_USER_DESCRIPTOR_ID, TEMP_TABLE_ID_MIN, tablePrefix } from "../keys/doc.ts";
import { LockMode } from "../../../common/kv-protocol/messages.ts";
import { PgError } from "../../../common/errors.ts";
import type { Catalog } from "../catalog/catalog.ts";
import type { CatalogStore } from "../catalog/catalog-store.ts";
import { StaleCatalog } from "../catalog/catalog-store.ts";
import type { ForeignKeyDesc, TableDesc } from "../catalog/descriptors.ts";
import { decodeU64 } from "../catalog/keyspace.ts";
import type { Keyspace } from "../catalog/keyspace.ts";
import type { Txn } from "../txn/txn.ts";
import { Binder } from "./bind/binder.ts";
import type { AdvisoryLockFn, Expr, OutputColumn, Rel, SpecialFn } from "./bind/bound.ts";
import { tableScope } from "./bind/dml.ts";
import { bindExpr, coerce, coerceBool, ctxFor, withParamInference } from "./bind/expr.ts";
import { Scope } from "./bind/scope.ts";
import { bindGeneratedColumns, bindIndexPredicate, bindTableRules } from "./bind/table-rules.ts";
import { everyRow, predicateTest } from "./exec/index-predicate.ts";
import { formatText } from "./types/text-io.ts";
import { advisoryKeyOf, type AdvisoryLocks } from "./advisory-locks.ts";
import { evalContext, type EvalContext } from "./types/context.ts";
import { timeZoneFromSetting, type TimeZone } from "./types/timezone.ts";
import { compareDatums } from "./types/compare.ts";
import type { ExecContext } from "./exec/context.ts";
import type { RowCodec } from "./exec/row-codec.ts";
import { checkOidBlock } from "./exec/ddl-bounds.ts";
import { createTableFromColumns, type DdlChange, type DdlEnv } from "./exec/ddl-create-table.ts";
import { alterSequence, alterTable, createIndex, createSchema, createSequence, createTable, createView, dropObjects, renameObject, truncate, type DdlExecEnv, type OnlineIndexBuild } from "./exec/ddl.ts";
import { commentOn } from "./exec/ddl-comment.ts";
import { alterEnum, createDomain, createEnum, dropTypes } from "./exec/ddl-type.ts";
import { createFunction, dropFunctions } from "./exec/ddl-function.ts";
import { createTrigger, dropTrigger } from "./exec/ddl-trigger.ts";
import { callFunction } from "./plpgsql/interpreter.ts";
import type { PlHost } from "./plpgsql/host.ts";
import { plpgsqlOf } from "./plpgsql/source.ts";
import { fireRowTriggers } from "./plpgsql/triggers.ts";
import { runDelete, runInsert, runUpdate, type DmlResult } from "./exec/dml.ts";
import { runCopyRows } from "./exec/copy-rows.ts";
import { bindCopyRows, type CopyRowsTarget } from "./bind/copy-rows.ts";
import { compile, evalRow, type Row } from "./exec/eval.ts";
import { MemoryAccount } from "./exec/memory.ts";
import { StatementBudget } from "./exec/budget.ts";
import { TableWriter } from "./exec/table-writer.ts";
import { sqlLimits } from "./limits.ts";
import type { StatementTree } from "./parse/ast.ts";
import { formatPlan, instrument, type PlanNode } from "./exec/plan-node.ts";
import { plan } from "./plan/planner.ts";
import type { FieldDescription, Notice, StatementResult } from "./result.ts";
import type { SessionBackend } from "./session-backend.ts";
import type { Sequences } from "./sequences.ts";
import type { Settings } from "./settings.ts";
import type { Datum, Interval } from "./types/datum.ts";
import { formatType, isKnownTypeOid, isRegType, Oid, type SqlType, typeFromOid, typeOfStored, typlen, Types } from "./types/type.ts";
import { regCatalog } from "./bind/reg-catalog.ts";
import { formatReg, type RegCatalog } from "./types/reg-text.ts";
import { descIdOfOid, indexOfOid } from "../catalog/oids.ts";
import { isTempId } from "../catalog/descriptors.ts";
import { exprNode, queryNode } from "./bind/stored-sql.ts";
import { bindQuery } from "./bind/select.ts";
import { renameColumnInView } from "./bind/view-rename.ts";
import { bindDdlStatement } from "./bind/ddl/statement.ts";
import { bindCopyOutsideWire, bindDml, bindQueryTree, bindRunnable, type CreateTableAs, type DmlVerb, type ExplainTarget, paramCount, showName } from "./bind/runnable.ts";

/** What a statement runs in: the open transaction and its catalog snapshot. */
export interface TxnState {
  txn: Txn;
  catalog: Catalog;
  /** The transaction changed the schema: publish its catalog after commit. */
  ddl: boolean;
  /** now() / current_timestamp: the transaction's start, microseconds since 1970. */
  txnStartMicros: bigint;
  /** The transaction changed the session's temporary objects: keep its catalog's ones after commit. */
  temp?: boolean;
}

export interface StatementEnv {
  store: CatalogStore;
  ks: Keyspace;
  settings: Settings;
  sequences: Sequences;
  params: ReadonlyArray<string | null>;
  /** Session functions (current_setting for the session's identity values). */
  sessionValue(name: string): string | null;
  /** The connection's services for pg_backend_pid / pg_cancel_backend / pg_terminate_backend; absent over HTTP. */
  backend: SessionBackend | undefined;
  uniqueRowId(): bigint;
  /** Row codecs by table version, kept for the session (building one per statement is waste). */
  codecs: (t: TableDesc) => RowCodec;
  /** When set, SELECT rows stream here batch by batch instead of being returned (executeStreaming). */
  rowSink?: (fields: FieldDescription[], rows: Array<Array<string | null>>) => Promise<void>;
  /**
   * Before the statement is run again (an implicit retry): discards what the sink holds and says
   * whether it may (false once rows have reached the client). Without it a streamed statement is
   * never retried.
   */
  rowSinkRewind?: () => boolean;
  /** Outside an explicit transaction CREATE INDEX only adds a write-only index and records it here; the session builds it. */
  onlineIndexBuild: OnlineIndexBuild | null | undefined;
  /** The running statement's budget (deadline, cancel, yielding); null when only describing. */
  budget: StatementBudget | null;
  /** The session's temporary schema and object ids (CREATE TEMP …). */
  temp: DdlEnv["temp"];
  /** The session's advisory locks (pg_advisory_lock …). */
  advisoryLocks: AdvisoryLocks;
}

function field(c: OutputColumn): FieldDescription {
  const t = c.type;
  return { name: c.name, tableID: c.tableId, columnID: c.columnId, dataTypeID: t.oid, dataTypeSize: typlen(t), dataTypeModifier: t.typmod, format: "text" };
}

/** Text of one output value; regclass and regtype print names, as Postgres prints them. */
type ValueFormatter = (t: SqlType, d: Datum) => string | null;

function valueFormatter(names: RegCatalog, timeZone: TimeZone): ValueFormatter {
  return (t, d) => {
    return formatText(d, t, { timeZone, regCatalog: names });
  };
}

class ResultBuilder {
  rows: Array<Array<string | null>> = [];
  private bytes = 0;
  private readonly cols: readonly OutputColumn[];
  private readonly format: ValueFormatter;
  constructor(cols: readonly OutputColumn[], format: ValueFormatter) {
    this.cols = cols;
    this.format = format;
  }
  add(row: Row): void {
    if (this.rows.length >= sqlLimits.resultRowsMax) {
      throw new PgError("program_limit_exceeded", `result has more than ${sqlLimits.resultRowsMax} rows`, { hint: "add LIMIT, or fetch the rows through a cursor in pages" });
    }
    const out: Array<string | null> = new Array(this.cols.length);
    for (let i = 0; i < this.cols.length; i++) {
      const s = this.format(this.cols[i]!.type, row[i] ?? null);
      out[i] = s;
      if (s !== null) this.bytes += s.length;
    }
    if (this.bytes > sqlLimits.resultBytesMax) {
      throw new PgError("program_limit_exceeded", `result is larger than ${sqlLimits.resultBytesMax} bytes`, { hint: "add LIMIT, select fewer columns, or aggregate" });
    }
    this.rows.push(out);
  }
}

export class StatementRunner {
  private readonly env: StatementEnv;
  private readonly state: TxnState;
  private readonly binder: Binder;
  readonly ctx: ExecContext;
  private slot = 1_000_000;
  private readonly tz: TimeZone;
  /** Names for regclass, regnamespace, … values, from this statement's catalog. */
  private readonly regNames: RegCatalog;
  /** The statement's time zone and transaction time, for binding and for the executor. */
  private readonly evalContext: EvalContext;

  constructor(env: StatementEnv, state: TxnState, analyze = false) {
    this.env = env;
    this.state = state;
    this.tz = timeZoneFromSetting(env.settings.get("timezone"));
    this.regNames = regCatalog(() => this.state.catalog, env.sessionValue("warren.current_user") ?? "warren", env.settings.searchPath());
    this.evalContext = evalContext({ timeZone: this.tz, transactionTimestamp: state.txnStartMicros, regCatalog: this.regNames });
    this.binder = this.newBinder();
    const codec = env.codecs;
    const cteRows = new Map<number, Row[]>();
    const self = this;
    this.ctx = {
      txn: state.txn,
      get catalog() {
        return self.state.catalog;
      },
      ks: env.ks,
      evalContext: this.evalContext,
      memory: new MemoryAccount(env.settings.workMemBytes(sqlLimits.workMemBytes)),
      // Describe binds and plans only; its throwaway budget is never charged.
      budget: env.budget ?? new StatementBudget({ timeoutMs: sqlLimits.statementTimeoutMsMax }),
      params: [],
      outerRows: [],
      subquerySlots: new Map(),
      cteRows,
      analyze,
      runRel: (rel: Rel) => plan(rel).run(this.ctx),
      special: (name: SpecialFn, args: Datum[]) => this.special(name, args),
      callRoutine: async (fn, args) => {
        if (fn.strict && args.some((a) => a === null)) return null;
        return (await callFunction(this.plHost(), fn, args, null)) as Datum;
      },
      fireTriggers: (call) => fireRowTriggers(this.plHost(), call),
      nextSlot: () => this.slot++,
      codec,
      findReferencing: (child, fk, values) => this.findReferencing(child, fk, values),
      writerFor: async (t: TableDesc) => new TableWriter(this.ctx, t, bindTableRules(this.newBinder(), t)),
    };
  }

  /** RAISE NOTICE / WARNING / INFO of PL/pgSQL functions the statement ran, for the client. */
  readonly notices: Notice[] = [];
  private plHostMemo: PlHost | null = null;

  /** What the PL/pgSQL interpreter reaches of this statement (one per statement: bindings are cached on it). */
  private plHost(): PlHost {
    if (this.plHostMemo === null) {
      this.plHostMemo = {
        ctx: this.ctx,
        searchPath: this.env.settings.searchPath(),
        binder: () => this.newBinder(),
        catalog: () => this.state.catalog,
        restoreCatalog: (c) => {
          this.state.catalog = c;
        },
        runUtility: (node) => this.run(node),
        notice: (error, severity) => {
          if (this.notices.length < sqlLimits.noticesPerStatementMax) this.notices.push({ severity, error });
        },
      };
    }
    return this.plHostMemo;
  }

  private newBinder(): Binder {
    return new Binder({
      catalog: this.state.catalog,
      evalContext: this.evalContext,
      searchPath: this.env.settings.searchPath(),
      params: this.env.params,
      user: this.env.sessionValue("warren.current_user") ?? "warren",
      database: this.env.sessionValue("warren.current_database") ?? "defaultdb",
      settings: () => this.env.settings.rows(),
    });
  }

  private async special(name: SpecialFn, args: Datum[]): Promise<Datum> {
    const seqs = this.env.sequences;
    const seq = (): ReturnType<Sequences["resolve"]> => seqs.resolve(this.state.catalog, args[0] as string, this.env.settings.searchPath());
    switch (name) {
      case "nextval":
        if (args[0] === null) return null;
        return seqs.nextval(seq());
      case "currval":
        if (args[0] === null) return null;
        return seqs.currval(seq());
      case "lastval":
        return seqs.lastval();
      case "setval":
        if (args[0] === null || args[1] === null) return null;
        return seqs.setval(seq(), args[1] as bigint, args[2] === undefined ? true : args[2] === true);
      case "pg_sequence_last_value":
      case "sequence_last_value":
      case "sequence_is_called": {
        if (args[0] === null) return null;
        const st = await seqs.state(seq());
        if (name === "sequence_is_called") return st.isCalled;
        return name === "pg_sequence_last_value" && !st.isCalled ? null : st.lastValue;
      }
      case "current_setting": {
        const n = args[0] as string | null;
        if (n === null) return null;
        const v = this.env.sessionValue(n);
        if (v !== null) return v;
        if (!this.env.settings.has(n)) {
          if (args[1] === true) return null;
          throw new PgError("undefined_object", `unrecognized configuration parameter "${n}"`);
        }
        return this.env.settings.get(n);
      }
      case "set_config": {
        if (args[0] === null) return null;
        this.env.settings.set(args[0] as string, (args[1] as string | null) ?? "");
        return this.env.settings.get(args[0] as string);
      }
      case "unique_rowid":
        return this.env.uniqueRowId();
      case "pg_backend_pid":
        return this.env.backend?.processId ?? 0;
      case "pg_cancel_backend":
      case "pg_terminate_backend":
        if (args[0] === null) return null;
        return this.env.backend?.signal(args[0] as number, name === "pg_cancel_backend" ? "cancel" : "terminate") ?? false;
      case "pg_sleep":
      case "pg_sleep_for":
      case "pg_sleep_until": {
        if (args[0] === null) return null;
        await this.ctx.budget.sleep(sleepMs(name, args[0]!));
        return "";
      }
      default:
        return this.advisory(name, args);
    }
  }

  /** pg_advisory_lock and its family: strict, like PostgreSQL's (a NULL key gives NULL and locks nothing). */
  private async advisory(name: AdvisoryLockFn, args: Datum[]): Promise<Datum> {
    const locks = this.env.advisoryLocks;
    if (name === "pg_advisory_unlock_all") {
      await locks.unlockAll();
      return "";
    }
    if (args.some((a) => a === null)) return null;
    const key = advisoryKeyOf(args.map((a) => BigInt(a as number | bigint)));
    const mode = name.endsWith("_shared") ? "shared" : "exclusive";
    if (name === "pg_advisory_unlock" || name === "pg_advisory_unlock_shared") return locks.unlock(key, mode);
    const level = name.includes("_xact_") ? "xact" : "session";
    const tryOnly = name.startsWith("pg_try_");
    const got = await locks.lock(key, mode, level, !tryOnly, this.ctx.txn, this.ctx.budget);
    return tryOnly ? got : "";
  }

  private async findReferencing(child: TableDesc, fk: ForeignKeyDesc, values: Datum[]): Promise<Row[]> {
    const cols = tableScope(child, child.name, 0, null);
    const conds: Expr[] = fk.columnIds.map((id, i) => {
      const p = child.columns.findIndex((c) => c.id === id);
      const col: Expr = { kind: "col", type: cols[p]!.type, index: p };
      const type = cols[p]!.type;
      const val: Expr = { kind: "const", type, value: values[i]! };
      return { kind: "call", type: Types.bool, name: "=", args: [col, val], fn: ([a, b]) => compareDatums(a!, b!, type) === 0, strict: true, volatile: false };
    });
    const scan: Rel = { kind: "scan", table: child, alias: child.name, cols: cols.map((c) => ({ name: c.name, type: c.type, tableId: child.id, columnId: c.columnId })) };
    const rel: Rel = { kind: "filter", cols: scan.cols, input: scan, pred: conds.length === 1 ? conds[0]! : { kind: "and", type: Types.bool, args: conds } };
    const out: Row[] = [];
    for await (const b of plan(rel).run(this.ctx)) out.push(...b);
    return out;
  }

  /**
   * SELECT … FOR UPDATE / FOR NO KEY UPDATE (exclusive) and FOR SHARE / FOR KEY SHARE (shared):
   * every row the statement reads from a user table is locked on the storage node before it is
   * read (PostgreSQL locks the rows of every table in FROM when no OF list is given; an OF list
   * is treated the same, which locks more, never less). Catalog and temporary tables are not locked.
   */
  private async lockingSelect(lock: "exclusive" | "shared" | null, run: () => Promise<StatementResult>): Promise<StatementResult> {
    if (lock === null) return run();
    const exclusive = lock === "exclusive";
    const txn = this.state.txn;
    const before = txn.lockScope;
    const tenantId = this.env.ks.tenantId;
    txn.lockScope = { start: tablePrefix(tenantId, FIRST_USER_DESCRIPTOR_ID), end: tablePrefix(tenantId, TEMP_TABLE_ID_MIN), mode: exclusive ? LockMode.exclusive : LockMode.shared };
    try {
      return await run();
    } finally {
      txn.lockScope = before;
    }
  }

  private async collect(rel: Rel): Promise<StatementResult> {
    const fields = rel.cols.map(field);
    const sink = this.env.rowSink;
    if (sink !== undefined) {
      // Streaming: each batch goes to the client as it is produced; nothing accumulates here.
      let count = 0;
      for await (const batch of plan(rel).run(this.ctx)) {
        const format = valueFormatter(this.regNames, this.tz);
        const out: Array<Array<string | null>> = new Array(batch.length);
        for (let i = 0; i < batch.length; i++) {
          const row = batch[i]!;
          const o: Array<string | null> = new Array(rel.cols.length);
          for (let j = 0; j < rel.cols.length; j++) o[j] = format(rel.cols[j]!.type, row[j] ?? null);
          out[i] = o;
        }
        count += out.length;
        // The client's pace is not the statement's work: waiting on the sink is not CPU time.
        const sent = sink(fields, out);
        this.ctx.budget.suspend();
        try {
          await sent;
        } finally {
          this.ctx.budget.resume();
        }
      }
      return { command: "SELECT", rowCount: count, fields, rows: [] };
    }
    const rb = new ResultBuilder(rel.cols, valueFormatter(this.regNames, this.tz));
    for await (const batch of plan(rel).run(this.ctx)) {
      for (const r of batch) rb.add(r);
    }
    return { command: "SELECT", rowCount: rb.rows.length, fields, rows: rb.rows };
  }

  /** Parameter types and result columns of one statement, without running it. */
  describe(tree: StatementTree, declared: readonly number[]): { paramTypes: number[]; fields: FieldDescription[] } {
    const r = bindRunnable(tree);
    const show = showName(tree);
    const b = this.newBinder();
    b.describing = declared.map((oid) => (oid > 0 ? typeFromOid(oid) : undefined));
    const inferred: number[] = declared.slice();
    let fields: FieldDescription[] = [];
    withParamInference(
      (i, t) => {
        if (!inferred[i]) inferred[i] = t.oid;
      },
      () => {
        if (r.kind === "select") fields = bindQueryTree(b, r.query).cols.map(field);
        // SELECT … INTO is described by its query, as it always was here.
        else if (r.kind === "create-table-as" && r.tag === "SELECT") fields = bindQueryTree(b, r.createAs.query).cols.map(field);
        else if (r.kind === "dml") fields = bindDml(b, r.verb, r.statement, false).returning?.cols.map(field) ?? [];
        else if (r.kind === "explain") fields = [{ name: "QUERY PLAN", tableID: 0, columnID: 0, dataTypeID: 25, dataTypeSize: -1, dataTypeModifier: -1, format: "text" }];
        else if (show !== null) fields = [{ name: show, tableID: 0, columnID: 0, dataTypeID: 25, dataTypeSize: -1, dataTypeModifier: -1, format: "text" }];
      },
    );
    const count = Math.max(declared.length, paramCount(tree));
    const paramTypes: number[] = [];
    for (let i = 0; i < count; i++) paramTypes.push(inferred[i] || 25);
    return { paramTypes, fields };
  }

  async run(tree: StatementTree): Promise<StatementResult> {
    const r = bindRunnable(tree);
    switch (r.kind) {
      case "create-table-as":
        return this.createTableAs(r.createAs, r.tag);
      case "select":
        return this.lockingSelect(r.lock, () => this.collect(bindQueryTree(this.binder, r.query)));
      case "dml":
        return this.dml(r.verb, r.statement);
      case "explain":
        return this.explain(r.analyze, r.target);
      case "ddl":
        return this.ddl(r.statement);
      case "vacuum":
        return { command: r.analyze ? "ANALYZE" : "VACUUM", rowCount: null, fields: [], rows: [] };
      case "copy":
        return bindCopyOutsideWire(r.statement);
      case "unsupported":
        throw new PgError("feature_not_supported", `${r.name} statements are not supported`);
    }
  }

  private async dml(verb: DmlVerb, statement: StatementTree): Promise<StatementResult> {
    // A read-only transaction may still write the session's temporary tables, as in Postgres.
    const writable = (t: TableDesc): void => {
      if (this.state.txn.readOnly && !isTempId(t.id)) throw new PgError("read_only_sql_transaction", `cannot execute ${verb.toUpperCase()} in a read-only transaction`);
    };
    let res: DmlResult;
    let returning: { cols: OutputColumn[] } | null;
    let command: string;
    if (verb === "insert") {
      // WITH queries of a data-modifying statement are visible to it (read-only WITH queries only).
      const ins = bindDml(this.binder, verb, statement, true);
      writable(ins.table);
      returning = ins.returning;
      command = "INSERT";
      res = await runInsert(ins, bindTableRules(this.binder, ins.table), this.ctx, plan);
    } else if (verb === "update") {
      const up = bindDml(this.binder, verb, statement, true);
      writable(up.table);
      returning = up.returning;
      command = "UPDATE";
      res = await runUpdate(up, bindTableRules(this.binder, up.table), this.ctx, plan);
    } else {
      const del = bindDml(this.binder, "delete", statement, true);
      writable(del.table);
      returning = del.returning;
      command = "DELETE";
      res = await runDelete(del, bindTableRules(this.binder, del.table), this.ctx, plan);
    }
    if (returning === null) return { command, rowCount: res.count, fields: [], rows: [] };
    const rb = new ResultBuilder(returning.cols, valueFormatter(this.regNames, this.tz));
    for (const r of res.returned) rb.add(r);
    return { command, rowCount: res.count, fields: returning.cols.map(field), rows: rb.rows };
  }

  /** COPY FROM's rows (bind/copy-rows.ts): written as `INSERT … OVERRIDING SYSTEM VALUE` of untyped literals would be, without SQL text. */
  async copyRows(target: CopyRowsTarget, rows: ReadonlyArray<ReadonlyArray<string | null>>): Promise<StatementResult> {
    const bound = bindCopyRows(this.binder, target);
    const table = bound.insert.table;
    if (this.state.txn.readOnly && !isTempId(table.id)) throw new PgError("read_only_sql_transaction", "cannot execute COPY FROM in a read-only transaction");
    const res = await runCopyRows(bound, bindTableRules(this.binder, table), this.ctx, rows);
    return { command: "COPY", rowCount: res.count, fields: [], rows: [] };
  }

  private async explain(analyze: boolean, target: ExplainTarget): Promise<StatementResult> {
    if (target.kind === "dml") return this.explainDml(target.verb, target.statement, analyze);
    if (target.kind === "unsupported") throw new PgError("feature_not_supported", `EXPLAIN of ${target.name} is not supported`);
    const rel = bindQueryTree(this.binder, target.query);
    const root: PlanNode = plan(rel);
    const lines: string[] = [];
    if (analyze) {
      instrument(root);
      const kv0 = { ...this.state.txn.kv.stats };
      const t0 = performance.now();
      let rows = 0;
      for await (const b of root.run(this.ctx)) rows += b.length;
      const ms = performance.now() - t0;
      const kv = this.state.txn.kv.stats;
      lines.push(...formatPlan(root, true));
      lines.push(`KV: requests=${kv.requests - kv0.requests} gets=${kv.gets - kv0.gets} scans=${kv.scans - kv0.scans} rows_read=${kv.rowsRead - kv0.rowsRead} bytes_read=${kv.bytesRead - kv0.bytesRead} catalog_checks=${kv.metaGets - kv0.metaGets}`);
      lines.push(`Peak Memory: ${this.ctx.memory.peakBytes} bytes`);
      lines.push(`Execution Time: ${ms.toFixed(3)} ms (${rows} rows)`);
    } else {
      lines.push(...formatPlan(root, false));
    }
    return {
      command: "EXPLAIN",
      rowCount: lines.length,
      fields: [{ name: "QUERY PLAN", tableID: 0, columnID: 0, dataTypeID: 25, dataTypeSize: -1, dataTypeModifier: -1, format: "text" }],
      rows: lines.map((l) => [l]),
    };
  }

  /** EXPLAIN [ANALYZE] of INSERT / UPDATE / DELETE: the write node over the plan of its source rows. */
  private async explainDml(dmlVerb: DmlVerb, statement: StatementTree, analyze: boolean): Promise<StatementResult> {
    const verb = dmlVerb === "insert" ? "Insert" : dmlVerb === "update" ? "Update" : "Delete";
    const b = this.binder;
    const bound = bindDml(b, dmlVerb, statement, false);
    const source = plan(bound.source);
    const lines: string[] = [];
    if (!analyze) {
      lines.push(`${verb} on ${bound.table.name}  (rows=${Math.max(1, Math.round(source.estRows))})`);
      lines.push(...formatPlan(source, false).map((l) => `  ->  ${l}`.replace(/^  ->  (\s+)/, "      $1")));
    } else {
      if (this.state.txn.readOnly) throw new PgError("read_only_sql_transaction", `cannot execute ${verb.toUpperCase()} in a read-only transaction`);
      const kv0 = { ...this.state.txn.kv.stats };
      const t0 = performance.now();
      const rules = bindTableRules(b, bound.table);
      const res = bound.kind === "insert" ? await runInsert(bound, rules, this.ctx, plan) : bound.kind === "update" ? await runUpdate(bound, rules, this.ctx, plan) : await runDelete(bound, rules, this.ctx, plan);
      const ms = performance.now() - t0;
      const kv = this.state.txn.kv.stats;
      lines.push(`${verb} on ${bound.table.name}  (actual rows=${res.count})`);
      lines.push(...formatPlan(source, false).map((l) => `  ->  ${l}`.replace(/^  ->  (\s+)/, "      $1")));
      lines.push(`KV: requests=${kv.requests - kv0.requests} gets=${kv.gets - kv0.gets} scans=${kv.scans - kv0.scans} rows_read=${kv.rowsRead - kv0.rowsRead} bytes_read=${kv.bytesRead - kv0.bytesRead} catalog_checks=${kv.metaGets - kv0.metaGets} buffered_writes=${this.state.txn.buffer.size}`);
      lines.push(`Execution Time: ${ms.toFixed(3)} ms`);
    }
    return {
      command: "EXPLAIN",
      rowCount: lines.length,
      fields: [{ name: "QUERY PLAN", tableID: 0, columnID: 0, dataTypeID: 25, dataTypeSize: -1, dataTypeModifier: -1, format: "text" }],
      rows: lines.map((l) => [l]),
    };
  }

  private ddlEnv(): DdlExecEnv {
    return {
      catalog: this.state.catalog,
      searchPath: this.env.settings.searchPath(),
      allocateId: () => this.env.store.allocateId(this.state.txn),
      temp: this.env.temp,
      ctx: this.ctx,
      user: this.env.sessionValue("warren.current_user") ?? "warren",
      bindGenerated: (t) => void bindGeneratedColumns(this.newBinder(), t),
      withChanges: async (changed, fn) => {
        // The statement's own descriptor changes (the altered table, a serial column's new
        // sequence) are not in the catalog until the statement ends; binding and running its
        // defaults, checks and foreign keys needs them.
        const saved = this.state.catalog;
        this.state.catalog = saved.withChanges(saved.version, [...changed], []);
        try {
          return await fn();
        } finally {
          this.state.catalog = saved;
        }
      },
      compileDefault: (expr, oid, typmod) => {
        const b = this.newBinder();
        const c = compile(coerce(b, bindExpr(b, exprNode(expr), ctxFor(new Scope([], null), "DEFAULT")), typeFromOid(oid, typmod)), this.ctx);
        return () => evalRow(c, [], this.ctx);
      },
      compileCheck: (t, check, name) => {
        const scope = new Scope(tableScope(t, t.name, 0, null), null);
        const b = this.newBinder();
        const c = compile(coerceBool(b, bindExpr(b, exprNode(check), ctxFor(scope, "check constraints")), "CHECK"), this.ctx);
        return async (row) => {
          if ((await evalRow(c, row, this.ctx)) === false) throw new PgError("check_violation", `check constraint "${name}" of relation "${t.name}" is violated by some row`, { table: t.name, constraint: name });
        };
      },
      foreignKeyCheck: (t) => {
        const w = new TableWriter(this.ctx, t, bindTableRules(this.newBinder(), t));
        return (row) => w.checkForeignKeys(row);
      },
      viewReads: (v) => {
        // Every relation the view's query reads, through other views too; a view that no longer
        // binds reads nothing that could stop a DROP.
        const b = this.newBinder();
        try {
          bindQuery(b, queryNode(v.query), null);
        } catch {
          return new Set();
        }
        return b.usedTables;
      },
      viewReadsColumn: (v, t, column) => {
        const b = this.newBinder();
        let hit = false;
        b.columnRefSeen = (_ref, c) => {
          if (c.base?.tableId === t.id && c.base.columnId === column.id) hit = true;
        };
        try {
          bindQuery(b, queryNode(v.query), null);
        } catch {
          return false;
        } finally {
          b.columnRefSeen = null;
        }
        return hit;
      },
      indexTest: (t, ix) => (ix.predicate === undefined ? everyRow : predicateTest(bindIndexPredicate(this.newBinder(), t, exprNode(ix.predicate)), this.ctx)),
      viewWithColumnRenamed: (view, t, column, newName) => renameColumnInView(this.newBinder(), view, t, column, newName),
    };
  }

  /** CREATE TABLE … AS SELECT: the table is created in this transaction, then filled from the query. */
  private async createTableAs(createAs: CreateTableAs, command: string): Promise<StatementResult> {
    if (createAs.materialized) throw new PgError("feature_not_supported", "CREATE MATERIALIZED VIEW is not supported");
    const colNames = createAs.columnNames;
    const rel = bindQueryTree(this.binder, createAs.query);
    const cols = rel.cols.map((c, i) => ({ name: colNames[i] ?? c.name, type: c.type }));
    const created = await this.applyDdl(async (env) => createTableFromColumns(env, createAs.relation, cols, createAs.ifNotExists, createAs.onCommit));
    const table = (created as DdlChange & { table: TableDesc | null }).table;
    if (table === null) return { command, rowCount: 0, fields: [], rows: [] };
    const fresh = this.state.catalog.table(table.id);
    const writer = new TableWriter(this.ctx, fresh, bindTableRules(this.newBinder(), fresh));
    let count = 0;
    for await (const batch of plan(rel).run(this.ctx)) {
      const rows: Row[] = [];
      for (const r of batch) {
        const row = [...r, await writer.defaultFor(fresh.columns.length - 1)];
        rows.push(row);
      }
      count += (await writer.insert(rows, null)).length;
    }
    return { command: "SELECT", rowCount: count, fields: [], rows: [] };
  }

  /**
   * Runs one schema change: catalog version check, descriptor writes, version bump, new snapshot.
   * Temporary objects are the session's own: their descriptors are never written and do not move
   * the catalog version (other sessions have nothing to reload); only the snapshot changes.
   */
  private async applyDdl(make: (env: DdlExecEnv) => Promise<DdlChange>): Promise<DdlChange> {
    if (this.state.txn.readOnly) throw new PgError("read_only_sql_transaction", "cannot execute DDL in a read-only transaction");
    const store = this.env.store;
    const change = await make(this.ddlEnv());
    for (const d of change.changed) if (d.kind === "table") checkOidBlock(d);
    const stored = change.changed.filter((d) => !isTempId(d.id));
    const storedRemoved = change.removed.filter((id) => !isTempId(id));
    let next = this.state.catalog.version;
    if (stored.length > 0 || storedRemoved.length > 0) {
      // The change was made from this snapshot of the catalog: it must still be the current one
      // (read at the transaction's snapshot, after what `make` read; a concurrent schema change
      // also conflicts at commit through the version key written below).
      const version = Number(decodeU64(await this.state.txn.get(this.env.ks.versionKey())));
      if (version !== this.state.catalog.version) throw new StaleCatalog(version);
      for (const d of stored) store.writeDescriptor(this.state.txn, d);
      for (const id of storedRemoved) store.deleteDescriptor(this.state.txn, id);
      next = this.state.catalog.version + 1;
      store.writeVersion(this.state.txn, next);
      this.state.ddl = true;
    }
    if (stored.length < change.changed.length || storedRemoved.length < change.removed.length) this.state.temp = true;
    if (change.changed.length > 0 || change.removed.length > 0) this.state.catalog = this.state.catalog.withChanges(next, change.changed, change.removed);
    return change;
  }

  private async ddl(statement: StatementTree): Promise<StatementResult> {
    let schemaElements: { schema: string; elements: readonly StatementTree[] } | null = null;
    const change = await this.applyDdl(async (env) => {
      const cmd = bindDdlStatement(statement, env, (q) => void bindQueryTree(this.newBinder(), q));
      switch (cmd.kind) {
        case "create-table":
          return createTable(env, cmd);
        case "create-index": {
          const c = await createIndex(env, cmd, this.env.onlineIndexBuild === null);
          if (c.built !== undefined) this.env.onlineIndexBuild = c.built;
          return c;
        }
        case "drop-function":
          return dropFunctions(env, cmd);
        case "drop-trigger":
          return dropTrigger(env, cmd);
        case "drop-type":
          return dropTypes(env, cmd);
        case "drop":
          return dropObjects(env, cmd);
        case "create-enum":
          return createEnum(env, cmd);
        case "create-domain":
          return createDomain(env, cmd);
        case "create-function": {
          const c = await createFunction(env, cmd);
          // PL/pgSQL bodies are checked by PostgreSQL's grammar now, as CREATE FUNCTION does (42601).
          for (const d of c.changed) if (d.kind === "function" && d.language === "plpgsql") await plpgsqlOf(d);
          return c;
        }
        case "create-trigger":
          return createTrigger(env, cmd);
        case "alter-enum":
          return alterEnum(env, cmd);
        case "alter-table":
          return alterTable(env, cmd);
        case "create-view":
          return createView(env, cmd);
        case "create-sequence":
          return createSequence(env, cmd);
        case "alter-sequence":
          return alterSequence(env, cmd);
        case "create-schema":
          if (cmd.elements.length > 0) schemaElements = { schema: cmd.name, elements: cmd.elements };
          return createSchema(env, cmd);
        case "truncate":
          return truncate(env, cmd);
        case "comment":
          return commentOn(env, cmd);
        case "rename":
          return renameObject(env, cmd);
      }
    });
    if (schemaElements !== null) await this.schemaElements(schemaElements);
    return { command: change.tag, rowCount: null, fields: [], rows: [] };
  }

  /**
   * CREATE SCHEMA's elements, each run as its own statement in this transaction with the new
   * schema first on the search path (PostgreSQL overrides the search path the same way), so
   * unqualified names are created in the schema and found there first.
   */
  private async schemaElements(s: { schema: string; elements: readonly StatementTree[] }): Promise<void> {
    const settings = this.env.settings;
    const saved = settings.get("search_path");
    settings.set("search_path", `"${s.schema.replace(/"/g, '""')}", ${saved}`);
    try {
      for (const e of s.elements) await this.run(e);
    } finally {
      settings.set("search_path", saved);
    }
  }

}

/**
 * How long pg_sleep(seconds), pg_sleep_for(interval) or pg_sleep_until(timestamptz) waits, in ms.
 * A month counts 30 days and a day 24 hours, as Postgres's interval-to-epoch conversion does;
 * NaN and negative durations do not wait.
 */
function sleepMs(name: "pg_sleep" | "pg_sleep_for" | "pg_sleep_until", arg: Datum): number {
  let ms: number;
  if (name === "pg_sleep") ms = (arg as number) * 1000;
  else if (name === "pg_sleep_for") {
    const iv = arg as Interval;
    ms = (iv.months * 30 + iv.days) * 86_400_000 + Number(iv.micros) / 1000;
  } else ms = Number(arg as bigint) / 1000 - Date.now();
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

export { Types };
