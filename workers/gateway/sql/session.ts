// A tenant's SQL session: the entry point the gateway's wire and HTTP handlers call.
//
//   parse → (transaction control | SET/SHOW | statement in a transaction)
//
// Statements outside BEGIN … COMMIT are their own transaction (retried internally on a catalog
// change or a serialization conflict, since nothing was returned yet). Inside an explicit
// transaction a failed statement leaves it aborted (25P02) until ROLLBACK; savepoints are marks
// into the transaction's write buffer. Every error that leaves here is a PgError.
import { PgError, toPgError } from "../../../common/errors.ts";
import type { KvRequest, KvResponse } from "../../../common/kv-protocol/messages.ts";
import { CatalogStore, StaleCatalog } from "../catalog/catalog-store.ts";
import type { Catalog } from "../catalog/catalog.ts";
import { Keyspace } from "../catalog/keyspace.ts";
import type { TenantKvCapability } from "../kv/capability.ts";
import { capabilityTransport, KvClient, type KvTransport } from "../kv/kv-client.ts";
import type { KvUsage } from "../../../common/request-units.ts";
import { Txn } from "../txn/txn.ts";
import { type TxnHandleData, txnStateFromData, txnStateToData } from "../txn/handle.ts";
import type { StatementTree } from "./parse/ast.ts";
import { bindSessionStatement, type SetCommand, type TransactionCommand } from "./bind/session-statement.ts";
import { parseSql, warmParser } from "./parse/parser.ts";
import { descriptorUpgrade } from "./bind/stored-sql.ts";
import { ParseCache } from "./parse-cache.ts";
import { SqlPreparedStatements } from "./sql-prepare.ts";
import { Parsed, toParsedStatements } from "./parsed-statement.ts";
import type { ParsedStatement, PreparedStatement, RowSink } from "./prepared.ts";
import type { FieldDescription, SqlSession, StatementResult } from "./result.ts";
import type { SessionBackend } from "./session-backend.ts";
import { Sequences } from "./sequences.ts";
import { Settings } from "./settings.ts";
import { StatementRunner, type StatementEnv, type TxnState } from "./statement.ts";
import type { CopyRowsTarget } from "./bind/copy-rows.ts";
import { buildIndexOnline } from "./index-build.ts";
import { codecCache } from "./exec/context.ts";
import { StatementBudget, type StatementStats } from "./exec/budget.ts";
import { threadLedger } from "./exec/thread-ledger.ts";
import { sqlLimits } from "./limits.ts";
import { wallClockMicros } from "./types/context.ts";
import type { RowCodec } from "./exec/row-codec.ts";
import { dataIdOf, type Descriptor, isTemp, isTempId, type TableDesc, TEMP_SCHEMA_ID } from "../catalog/descriptors.ts";
import { relationOid as relationOidOf } from "../catalog/oids.ts";
import { LocalRange } from "../kv/local-range.ts";
import { applyOnCommit, hasOnCommitActions, TempObjects } from "./temp-objects.ts";
import { AdvisoryLocks } from "./advisory-locks.ts";

export interface SessionOptions {
  kv: TenantKvCapability;
  tenantId: number;
  /** Startup parameters: user, database, application_name, search_path, TimeZone, … */
  settings?: Record<string, string>;
  /** The connection's services for pg_backend_pid() and friends (pgwire gives one; HTTP none). */
  backend?: SessionBackend;
  /**
   * The tenant's default statement_timeout in ms (sqlLimits.statementTimeoutMsDefault when not
   * given); sessions may SET another, bounded by sqlLimits.statementTimeoutMsMax.
   */
  statementTimeoutMsDefault?: number;
  /** Receives each KV response's Request-Unit usage as it arrives (the gateway's quota charges it). */
  onKvUsage?: (u: KvUsage) => void;
  /** Receives each statement's gateway CPU time in ms when it ends (the gateway's quota charges it as RU). */
  onCpuMs?: (ms: number) => void;
}

/** A session's work since it began, for Request Units (CPU) and monitoring. */
export interface SessionUsage {
  /** Statements run through the engine (SET, SHOW and transaction control are not counted). */
  statements: number;
  /** Gateway CPU time of those statements (StatementStats.cpuMs summed). */
  cpuMs: number;
  /** Returns to the event loop they made. */
  yields: number;
}

/** Retries of a statement outside an explicit transaction after a conflict (nothing was sent yet). */
const IMPLICIT_RETRIES_MAX = 3;
/** Re-runs of a statement after its catalog snapshot turned out stale. */
const STALE_CATALOG_RETRIES_MAX = 3;

interface Savepoint {
  name: string;
  mark: number;
  catalog: Catalog;
  ddl: boolean;
}

interface OpenTxn extends TxnState {
  aborted: boolean;
  savepoints: Savepoint[];
}

function ok(command: string): StatementResult {
  return { command, rowCount: null, fields: [], rows: [] };
}

/**
 * `catalog` as seen by a statement: the first access to any of its members runs `arm` (once),
 * before the value is used, so the version check is queued before any read that depends on it.
 * Lookups about the session's temporary objects (asked by a temporary id or schema, or answered
 * with a temporary object) do not arm it: those are the session's own and always current, so DML
 * on temporary tables alone sends no storage request.
 */
function checkedOnUse(catalog: Catalog, arm: () => void): Catalog {
  let armed = false;
  const fire = (): void => {
    if (!armed) {
      armed = true;
      arm();
    }
  };
  return new Proxy(catalog, {
    get(target, prop) {
      const v: unknown = Reflect.get(target, prop, target);
      if (prop === "tempSchema") return v;
      if (typeof v !== "function") {
        fire();
        return v;
      }
      const f = (v as (...a: unknown[]) => unknown).bind(target);
      const rule = typeof prop === "string" ? TEMP_AWARE_LOOKUPS[prop] : undefined;
      if (rule === undefined) {
        fire();
        return f;
      }
      return (...args: unknown[]) => {
        const r = f(...args);
        if (!rule(args, r)) fire();
        return r;
      };
    },
  });
}

/** For each catalog lookup: whether a call (arguments, answer) concerned only temporary objects. */
const TEMP_AWARE_LOOKUPS: Record<string, (args: unknown[], answer: unknown) => boolean> = {
  get: ([id]) => isTempId(id as number),
  table: ([id]) => isTempId(id as number),
  // Stored tables can never reference a temporary one (ddl-create-table.ts, resolveFk).
  referencing: ([id]) => isTempId(id as number),
  relationIn: ([schemaId]) => schemaId === TEMP_SCHEMA_ID,
  indexIn: ([schemaId]) => schemaId === TEMP_SCHEMA_ID,
  schema: (_, s) => isTempAnswer(s),
  resolveRelation: (_, d) => isTempAnswer(d),
  resolveIndex: (_, found) => isTempAnswer((found as { table?: unknown } | undefined)?.table),
  creationSchema: (_, s) => isTempAnswer(s),
  tempDescriptors: () => true,
};

function isTempAnswer(d: unknown): boolean {
  return d !== undefined && d !== null && typeof d === "object" && "kind" in d && isTemp(d as Descriptor);
}

/** What a statement runs: a parsed statement, or work of the session's own on the statement's runner (COPY FROM's rows). */
type StatementBody = StatementTree | ((runner: StatementRunner) => Promise<StatementResult>);

function abortedError(): PgError {
  return new PgError("in_failed_sql_transaction", "current transaction is aborted, commands ignored until end of transaction block");
}

function isSerializationFailure(err: unknown): boolean {
  return err instanceof PgError && err.code === "40001";
}

let rowIdCounter = 0;
/** The last row id handed out in this isolate (row ids only increase). */
let lastRowId = 0n;
/** Random bits for row ids, drawn 4,096 at a time: one getRandomValues per row cost ~20 µs of a COPY row. */
const rowIdRandom = new Uint16Array(4096);
let rowIdRandomAt = rowIdRandom.length;

/** A statement bound by Session.prepare: its parsed form, its parameter types and its columns. */
class Prepared implements PreparedStatement {
  readonly parsed: Parsed;
  readonly paramTypes: readonly number[];
  readonly fields: readonly FieldDescription[] | null;
  constructor(parsed: Parsed, paramTypes: readonly number[], fields: readonly FieldDescription[] | null) {
    this.parsed = parsed;
    this.paramTypes = Object.freeze(paramTypes.slice());
    this.fields = fields === null ? null : Object.freeze(fields.map((f) => Object.freeze({ ...f })));
    Object.freeze(this);
  }
  get text(): string {
    return this.parsed.text;
  }
  get kind(): Parsed["kind"] {
    return this.parsed.kind;
  }
  get returnsRows(): boolean {
    return this.parsed.returnsRows;
  }
  get paramCount(): number {
    return this.parsed.paramCount;
  }
  get changesSettings(): boolean {
    return this.parsed.changesSettings;
  }
  get copy(): Parsed["copy"] {
    return this.parsed.copy;
  }
}

/** The session's own form of a statement the protocols hand back (parsed or prepared by a session). */
function parsedOf(stmt: ParsedStatement): Parsed {
  if (stmt instanceof Parsed) return stmt;
  if (stmt instanceof Prepared) return stmt.parsed;
  throw new PgError("internal_error", "a statement must come from session.parse or session.prepare");
}

export class Session implements SqlSession {
  private readonly kv: KvClient;
  private readonly ks: Keyspace;
  private readonly store: CatalogStore;
  private readonly settings: Settings;
  private readonly sequences: Sequences;
  private readonly codecs: (t: TableDesc) => RowCodec;
  private open: OpenTxn | null = null;
  /** The budget of the statement running now (cancel() reaches it), null between statements. */
  private running: StatementBudget | null = null;
  private last: StatementStats | null = null;
  private readonly totals: SessionUsage = { statements: 0, cpuMs: 0, yields: 0 };
  /** The session's pg_temp_N schema number and temporary object ids. */
  private readonly temp = new TempObjects();
  private readonly user: string;
  private readonly database: string;
  private readonly backend: SessionBackend | undefined;
  private readonly onCpuMs: ((ms: number) => void) | undefined;
  /** Parsed statements by query text: each text is parsed once per session. */
  private readonly parses = new ParseCache();
  private readonly advisoryLocks: AdvisoryLocks;
  /** PREPARE / EXECUTE / DEALLOCATE in SQL (sql-prepare.ts). */
  private readonly sqlPrepared = new SqlPreparedStatements();

  constructor(opts: SessionOptions, transport?: KvTransport) {
    this.backend = opts.backend;
    this.onCpuMs = opts.onCpuMs;
    this.ks = new Keyspace(opts.tenantId);
    // The span of temporary objects is served from this session's memory, never from storage.
    this.kv = new KvClient(transport ?? capabilityTransport(opts.kv), new LocalRange(this.ks.tempSpan()));
    this.kv.onUsage = opts.onKvUsage ?? null;
    this.store = new CatalogStore(opts.tenantId, this.ks, descriptorUpgrade);
    const initial = { ...(opts.settings ?? {}) };
    this.user = initial["user"] ?? "warren";
    this.database = initial["database"] ?? "defaultdb";
    delete initial["user"];
    delete initial["database"];
    delete initial["options"];
    this.settings = new Settings(initial, Math.min(opts.statementTimeoutMsDefault ?? sqlLimits.statementTimeoutMsDefault, sqlLimits.statementTimeoutMsMax));
    this.sequences = new Sequences(this.kv, this.ks);
    this.codecs = codecCache(this.ks);
    const backend = opts.backend;
    this.advisoryLocks = new AdvisoryLocks(
      this.kv,
      opts.tenantId,
      backend === undefined
        ? undefined
        : (why) => backend.terminateSelf(new PgError("admin_shutdown", `terminating connection because ${why}`, { hint: "The storage node restarted or failed over. Reconnect and take the locks again." })),
    );
  }

  /** Query texts parsed, and texts answered from the session's parse cache. */
  get parseStats(): { parses: number; hits: number } {
    return { ...this.parses.stats };
  }

  /** Counters of KV work done by this session (tests and EXPLAIN read them). */
  get kvStats(): KvClient["stats"] {
    return this.kv.stats;
  }

  /**
   * Cancels the statement running now: it fails with 57014 "canceling statement due to user
   * request" at its next check point (between batches, every few ms of work, before each storage
   * request, at once in pg_sleep). Returns whether a statement was running; between statements it
   * does nothing (a later statement is not affected).
   */
  cancel(): boolean {
    const b = this.running;
    if (b === null) return false;
    b.cancel();
    return true;
  }

  /** CPU time, wall time, yields and work units of the last statement that ran through the engine. */
  get lastStatementStats(): StatementStats | null {
    return this.last;
  }

  /** This session's statements, CPU time and yields so far (the control plane charges CPU as RU). */
  get usage(): SessionUsage {
    return { ...this.totals };
  }

  /** idle_in_transaction_session_timeout in ms (0: none), for the connection that enforces it. */
  idleInTransactionTimeoutMs(): number {
    return this.settings.idleInTransactionTimeoutMs();
  }

  get inTransaction(): boolean {
    return this.open !== null;
  }

  /**
   * The open transaction as JSON-safe data (null when none is open), for clients that carry it
   * between stateless requests; the session no longer holds it afterwards. Savepoints cannot be
   * carried (they are marks into in-memory undo state): sealing with savepoints open fails.
   * What the transaction holds on the storage node (row locks, intents) is released first
   * (Txn.releaseNode); if that dropped flushed writes, the handle is aborted and says so.
   */
  async sealTransaction(): Promise<SessionTxnHandle | null> {
    const open = this.open;
    if (open === null) return null;
    if (open.savepoints.length > 0) throw new PgError("feature_not_supported", "a transaction with open savepoints cannot be carried between requests");
    this.open = null;
    const writesLost = await open.txn.releaseNode();
    const handle: SessionTxnHandle = { txn: txnStateToData(this.withoutTempWrites(open.txn.toState())), aborted: open.aborted || writesLost, ddl: open.ddl, startedAtMicros: open.txnStartMicros.toString() };
    return writesLost ? { ...handle, writesLost } : handle;
  }

  /**
   * A sealed transaction leaves the session, and temporary objects never do (they end with the
   * session): writes to them are left out of the handle, so no gateway could ever commit them.
   */
  private withoutTempWrites(state: ReturnType<Txn["toState"]>): ReturnType<Txn["toState"]> {
    const local = this.kv.local;
    if (local === null) return state;
    return {
      ...state,
      buffer: {
        writes: state.buffer.writes.filter(([k]) => !local.owns(k)),
        rangeDeletes: state.buffer.rangeDeletes.filter(([start, end]) => local.place(start, end) !== "local"),
      },
    };
  }

  /** Continues a transaction sealed by sealTransaction (in this or another gateway). */
  async resumeTransaction(handle: SessionTxnHandle): Promise<void> {
    if (this.open !== null) throw new PgError("active_sql_transaction", "there is already a transaction in progress");
    const txn = Txn.fromState(this.kv, txnStateFromData(handle.txn));
    // A transaction that changed the schema reads its own descriptors back from its buffer.
    const catalog = handle.ddl ? await this.store.loadOwn(txn) : (null as unknown as Catalog);
    this.open = { txn, catalog, ddl: handle.ddl, txnStartMicros: BigInt(handle.startedAtMicros), aborted: handle.aborted, savepoints: [] };
  }

  /** ReadyForQuery status: idle, in a transaction block, or in a failed one. */
  transactionStatus(): "I" | "T" | "E" {
    return this.open === null ? "I" : this.open.aborted ? "E" : "T";
  }

  /**
   * An error was reported to the client. In Postgres every ERROR inside a transaction block puts
   * the block in the failed state (25P02 for every later statement, COMMIT rolls back), whatever
   * raised it: the parser, the protocol layer (Parse, Bind, Describe), COPY or the executor. The
   * session marks its own errors; the wire layer calls this for the errors it raises itself.
   */
  failTransactionBlock(): void {
    if (this.open !== null) this.open.aborted = true;
  }

  /**
   * The statements of a query string, parsed once per text for the session (a bounded cache,
   * sqlLimits.parseCache*). Nothing is bound or run. A syntax error (42601 with its position)
   * fails the open transaction block, as every ERROR does.
   */
  async parse(sql: string): Promise<readonly ParsedStatement[]> {
    try {
      return await this.parseOwn(sql);
    } catch (err) {
      this.failTransactionBlock();
      throw toPgError(err);
    }
  }

  private parseOwn(sql: string): Promise<readonly Parsed[]> {
    return this.parses.get(sql, async (text) => toParsedStatements(text, await parseSql(text)));
  }

  /**
   * Binds ONE parsed statement against the current catalog (inside the open transaction when
   * there is one) without running it: the types of its parameters (declared, else inferred from
   * context, else text) and its result columns — the extended query protocol's Parse and
   * Describe. With the catalog cached, this sends no storage request.
   */
  async prepare(stmt: ParsedStatement, paramTypes: readonly number[] = []): Promise<PreparedStatement> {
    try {
      const parsed = parsedOf(stmt);
      // The catalog's stored expressions are parsed synchronously while binding (bind/stored-sql.ts).
      await warmParser();
      const node = parsed.tree;
      // Postgres refuses to even prepare a statement in a failed block, except ROLLBACK / COMMIT.
      if (this.open?.aborted && parsed.kind !== "transaction") throw abortedError();
      const env = this.env([]);
      const run = async (state: TxnState): Promise<{ paramTypes: number[]; fields: FieldDescription[] }> => {
        try {
          return new StatementRunner(env, state).describe(node, paramTypes);
        } catch (err) {
          // A name that does not resolve may only mean the cached catalog is stale: check, reload, retry once.
          if (!(err instanceof PgError) || !state.txn.hasPiggyback()) throw err;
          try {
            await state.txn.flushPiggyback();
          } catch (check) {
            if (!(check instanceof StaleCatalog)) throw check;
            state.catalog = await this.store.load(state.txn, state.temp ? state.catalog.tempDescriptors() : undefined);
            return new StatementRunner(env, state).describe(node, paramTypes);
          }
          throw err;
        }
      };
      let d: { paramTypes: number[]; fields: FieldDescription[] };
      if (this.open !== null) {
        if (this.open.catalog === null) this.open.catalog = await this.store.load(this.open.txn);
        d = await run(this.open);
      } else {
        const txn = new Txn(this.kv, { readOnly: true });
        const cached = this.store.cached() ?? (await this.store.prefetched());
        const state: TxnState = { txn, catalog: cached ?? (await this.store.load(txn)), ddl: false, txnStartMicros: wallClockMicros() };
        if (cached !== undefined) this.store.armCheck(txn, cached);
        try {
          d = await run(state);
        } finally {
          txn.cancelPiggyback();
          await txn.rollback();
        }
      }
      return new Prepared(parsed, d.paramTypes, d.fields.length > 0 || parsed.returnsRows ? d.fields : null);
    } catch (err) {
      this.failTransactionBlock();
      throw toPgError(err);
    }
  }

  /**
   * Parameter types and result columns of ONE statement given as text, without running it
   * (parse + prepare; for callers that hold SQL text, such as tests).
   */
  async describe(sql: string, paramTypes: readonly number[] = []): Promise<{ paramTypes: number[]; fields: FieldDescription[] }> {
    const stmts = await this.parse(sql);
    if (stmts.length > 1) {
      this.failTransactionBlock();
      throw new PgError("syntax_error", "cannot insert multiple commands into a prepared statement");
    }
    if (stmts.length === 0) return { paramTypes: [], fields: [] };
    const p = await this.prepare(stmts[0]!, paramTypes);
    return { paramTypes: [...p.paramTypes], fields: p.fields === null ? [] : [...p.fields] };
  }

  async execute(sql: string, params: Array<string | null> = []): Promise<StatementResult[]> {
    try {
      const stmts = await this.parseOwn(sql);
      const out: StatementResult[] = [];
      // Several statements in one query string without BEGIN run as one implicit transaction,
      // as Postgres runs a multi-statement simple query: all of them commit, or none.
      const implicit = stmts.length > 1 && this.open === null && !stmts.some((s) => s.kind === "transaction" || s.nodeName === "VacuumStmt");
      if (!implicit) {
        for (const s of stmts) out.push(await this.runOne(s.tree, params));
        return out;
      }
      this.beginOpen([]);
      try {
        for (const s of stmts) out.push(await this.runOne(s.tree, params));
      } catch (err) {
        const open = this.open;
        this.open = null;
        await open?.txn.rollback();
        throw err;
      }
      await this.transactionStmt({ kind: "commit" });
      return out;
    } catch (err) {
      // A parse error, too, fails the open transaction block (the statements were never run).
      this.failTransactionBlock();
      if (err instanceof StaleCatalog) throw new PgError("serialization_failure", "the schema changed during the transaction", { hint: "retry the transaction" });
      throw toPgError(err);
    }
  }

  /**
   * Runs ONE statement (from parse or prepare) with its parameters ($1 …, text format, null for
   * SQL NULL). Without `sink` the result holds its rows. With `sink` the rows of a query go to it
   * batch by batch as they are produced (back-pressure: the next batch waits for the sink), so a
   * result larger than the isolate's memory can be paged to the client; the returned result then
   * has the command tag and row count, and no rows. Other statements behave as in execute().
   */
  async run(stmt: ParsedStatement, params: ReadonlyArray<string | null> = [], sink?: RowSink, rewind?: () => boolean): Promise<StatementResult> {
    try {
      const parsed = parsedOf(stmt);
      // The catalog's stored expressions are parsed synchronously while binding (bind/stored-sql.ts).
      await warmParser();
      if (sink === undefined || parsed.nodeName !== "SelectStmt") {
        const r = await this.runOne(parsed.tree, params);
        if (sink === undefined) return r;
        if (r.rows.length > 0) await sink(r.fields, r.rows);
        return { ...r, rows: [] };
      }
      if (this.open?.aborted) throw abortedError();
      const env = this.env(params);
      env.rowSink = sink;
      if (rewind !== undefined) env.rowSinkRewind = rewind;
      return await this.inTransaction_(parsed.tree, params, env);
    } catch (err) {
      this.failTransactionBlock();
      if (err instanceof StaleCatalog) throw new PgError("serialization_failure", "the schema changed during the transaction", { hint: "retry the transaction" });
      throw toPgError(err);
    }
  }

  async copyRows(target: CopyRowsTarget, rows: ReadonlyArray<ReadonlyArray<string | null>>): Promise<number> {
    try {
      if (this.open?.aborted) throw abortedError();
      try {
        const r = await this.inTransaction_((runner) => runner.copyRows(target, rows), []);
        return r.rowCount ?? 0;
      } catch (err) {
        if (this.open !== null) this.open.aborted = true;
        throw err;
      }
    } catch (err) {
      this.failTransactionBlock();
      if (err instanceof StaleCatalog) throw new PgError("serialization_failure", "the schema changed during the transaction", { hint: "retry the transaction" });
      throw toPgError(err);
    }
  }

  /** ONE statement given as text, its rows streamed to `sink` (parse + run; for callers that hold SQL text). */
  async executeStreaming(sql: string, params: Array<string | null>, sink: RowSink): Promise<StatementResult> {
    const stmts = await this.parse(sql);
    if (stmts.length !== 1) {
      this.failTransactionBlock();
      throw new PgError("syntax_error", "executeStreaming takes exactly one statement");
    }
    return this.run(stmts[0]!, params, sink);
  }

  private env(params: ReadonlyArray<string | null>): StatementEnv {
    return {
      store: this.store,
      ks: this.ks,
      settings: this.settings,
      sequences: this.sequences,
      codecs: this.codecs,
      params,
      sessionValue: (name) => {
        switch (name) {
          case "warren.current_user":
          case "warren.session_user":
          case "warren.user":
            return this.user;
          case "warren.current_database":
            return this.database;
          case "warren.current_schema":
            return this.settings.searchPath().find((s) => s !== this.user) ?? "public";
          case "is_superuser":
            return "off";
          case "session_authorization":
            return this.user;
        }
        return null;
      },
      onlineIndexBuild: undefined,
      backend: this.backend,
      budget: null,
      temp: this.temp,
      advisoryLocks: this.advisoryLocks,
      uniqueRowId: () => {
        // Time in ms, a counter, then 12 random bits: unique across gateways without coordination,
        // and increasing within this isolate, so a table without a primary key returns its rows
        // in insertion order as Postgres's heap does (pg_dump of a restored tenant matches).
        rowIdCounter = (rowIdCounter + 1) & 0x3ff;
        if (rowIdRandomAt === rowIdRandom.length) {
          crypto.getRandomValues(rowIdRandom);
          rowIdRandomAt = 0;
        }
        const rand = rowIdRandom[rowIdRandomAt++]! & 0xfff;
        let id = (BigInt(Date.now()) << 22n) | (BigInt(rowIdCounter) << 12n) | BigInt(rand);
        if (id <= lastRowId) id = ((lastRowId >> 12n) + 1n) << 12n | BigInt(rand);
        lastRowId = id;
        return id;
      },
    };
  }

  private async runOne(stmt: StatementTree, params: ReadonlyArray<string | null>): Promise<StatementResult> {
    const s = bindSessionStatement(stmt);
    if (s.kind === "transaction") return this.transactionStmt(s.command);
    if (this.open?.aborted) {
      throw new PgError("in_failed_sql_transaction", "current transaction is aborted, commands ignored until end of transaction block");
    }
    try {
      switch (s.kind) {
        case "set":
          return this.setStmt(s.command);
        case "show":
          return this.showStmt(s.name);
        case "discard":
          return await this.discard(s.target);
        case "prepare":
          this.sqlPrepared.prepare(s.name, s.statement, s.paramCount);
          return ok("PREPARE");
        case "execute": {
          const ex = this.sqlPrepared.execute(s.name, s.params);
          return await this.runOne(ex.statement, ex.params);
        }
        case "deallocate":
          this.sqlPrepared.deallocate(s.name);
          return ok(s.name === null ? "DEALLOCATE ALL" : "DEALLOCATE");
        case "listen":
          throw new PgError("feature_not_supported", "LISTEN/NOTIFY is not supported");
        case "lock":
          if (this.open === null) throw new PgError("no_active_sql_transaction", "LOCK TABLE can only be used in transaction blocks");
          return ok("LOCK TABLE");
        case "ok":
          return ok(s.tag);
        case "statement":
          return await this.inTransaction_(stmt, params, undefined, s.createIndex);
      }
    } catch (err) {
      if (this.open !== null) this.open.aborted = true;
      throw err;
    }
  }

  /** Runs a statement in the open transaction, or in its own, under a fresh budget (timeout, cancel). */
  private async inTransaction_(stmt: StatementBody, params: ReadonlyArray<string | null>, envIn?: StatementEnv, createIndex = false): Promise<StatementResult> {
    const env = envIn ?? this.env(params);
    const budget = new StatementBudget({ timeoutMs: this.settings.statementTimeoutMs(sqlLimits.statementTimeoutMsMax), ledger: threadLedger });
    this.running = budget;
    env.budget = budget;
    try {
      return await this.budgeted(stmt, env, createIndex);
    } finally {
      this.running = null;
      const st = budget.finish();
      this.last = st;
      this.totals.statements++;
      this.totals.cpuMs += st.cpuMs;
      this.totals.yields += st.yields;
      this.onCpuMs?.(st.cpuMs);
    }
  }

  private async budgeted(stmt: StatementBody, env: StatementEnv, createIndex: boolean): Promise<StatementResult> {
    const budget = env.budget!;
    if (this.open !== null) return this.withCatalog(this.open, env, stmt, true);
    // CREATE INDEX on its own builds the index in chunks after adding it write-only.
    if (createIndex) env.onlineIndexBuild = null;
    for (let attempt = 0; ; attempt++) {
      const txn = new Txn(this.kv, { readOnly: this.settings.get("default_transaction_read_only") === "on" });
      const state: TxnState = { txn, catalog: null as unknown as Catalog, ddl: false, txnStartMicros: wallClockMicros() };
      try {
        const result = await this.withCatalog(state, env, stmt, false);
        this.beforeCommit(state);
        await txn.commit();
        this.afterCommit(state);
        const build = env.onlineIndexBuild;
        if (build !== null && build !== undefined) await buildIndexOnline({ kv: this.kv, store: this.store, ks: this.ks, budget, covers: build.covers }, build.tableId, build.indexId);
        return result;
      } catch (err) {
        await txn.rollback();
        if (err instanceof StaleCatalog && attempt < STALE_CATALOG_RETRIES_MAX) {
          this.store.invalidate();
          continue;
        }
        // Retry only while nothing has reached the client.
        if (isSerializationFailure(err) && attempt < IMPLICIT_RETRIES_MAX && (env.rowSink === undefined || env.rowSinkRewind?.() === true)) continue;
        throw err;
      }
    }
  }

  /** Runs `stmt` with a current catalog; a stale snapshot discards the statement's writes and reruns it. */
  private async withCatalog(state: TxnState, env: StatementEnv, stmt: StatementBody, explicit: boolean): Promise<StatementResult> {
    const txn = state.txn;
    // The statement's deadline and cancel cover its catalog reads too.
    txn.guard = env.budget ?? null;
    if (state.catalog === null) {
      // A prefetch running for the tenant (catalog-prefetch.ts) is awaited rather than repeated.
      const cached = this.store.cached() ?? (await this.store.prefetched());
      if (cached !== undefined) {
        // The cached catalog is checked against storage by a get riding on the transaction's
        // first read, armed only when something looks at the catalog: a statement that names no
        // relation, type or sequence (SELECT 1, SELECT now()) needs no check and, reading no
        // table and writing nothing, sends no storage request at all.
        state.catalog = checkedOnUse(cached, () => this.store.armCheck(txn, cached));
      } else {
        state.catalog = await this.store.load(txn);
      }
    }
    for (let attempt = 0; ; attempt++) {
      txn.buffer.beginStatement();
      this.sequences.beginStatement();
      const mark = txn.buffer.mark();
      const catalogBefore = state.catalog;
      const ddlBefore = state.ddl;
      const tempBefore = state.temp;
      try {
        const runner = new StatementRunner(env, state);
        const result = typeof stmt === "function" ? await stmt(runner) : await runner.run(stmt);
        txn.guard = null;
        return runner.notices.length === 0 ? result : { ...result, notices: runner.notices };
      } catch (err0) {
        txn.guard = null;
        let err = err0;
        // An error raised before the statement read anything (a name that does not resolve, …)
        // may come from a stale cached catalog: verify the version before reporting it.
        if (!(err instanceof StaleCatalog) && txn.hasPiggyback()) {
          try {
            await txn.flushPiggyback();
          } catch (check) {
            err = check;
          }
        }
        if (!(err instanceof StaleCatalog)) throw err;
        txn.buffer.rollbackTo(mark);
        txn.cancelPiggyback();
        state.catalog = catalogBefore;
        state.ddl = ddlBefore;
        state.temp = tempBefore;
        // Inside an explicit transaction that already changed the schema, its own catalog is
        // authoritative; otherwise reload the catalog at the transaction's snapshot.
        if (attempt >= STALE_CATALOG_RETRIES_MAX || (explicit && state.ddl)) {
          throw new PgError("serialization_failure", "the schema changed concurrently", { hint: "retry the transaction" });
        }
        // The transaction's own temporary objects are not in storage: carry them over.
        state.catalog = await this.store.load(txn, state.temp ? catalogBefore.tempDescriptors() : undefined);
      }
    }
  }

  /** ON COMMIT DELETE ROWS / DROP of temporary tables, applied to the transaction before it commits. */
  private beforeCommit(state: TxnState): void {
    // Sessions without such tables pay nothing (and do not touch a catalog not yet looked at).
    if (!state.temp && !hasOnCommitActions(this.store.tempDescriptors())) return;
    if (state.catalog === null) return;
    const after = applyOnCommit(state.catalog, state.txn, this.ks);
    if (after !== state.catalog) {
      state.catalog = after;
      state.temp = true;
    }
  }

  /** After a commit: schema changes go to the shared cache, temporary objects stay the session's own. */
  private afterCommit(state: TxnState): void {
    if (state.ddl) this.store.publish(state.catalog);
    if (state.temp) this.store.setTempDescriptors(state.catalog.tempDescriptors());
  }

  /**
   * The session ended (its connection closed, its HTTP request is done): its temporary objects
   * and their data go with it, and an open transaction is rolled back (nothing of it was stored).
   */
  close(): void {
    const open = this.open;
    this.open = null;
    if (open !== null) void open.txn.rollback();
    this.advisoryLocks.close();
    this.kv.local?.clear();
    this.store.setTempDescriptors([]);
    this.temp.release();
  }

  /** DISCARD ALL | TEMP | PLANS | SEQUENCES (connection poolers send DISCARD ALL between clients). */
  private async discard(target: string): Promise<StatementResult> {
    switch (target) {
      case "DISCARD_ALL":
        if (this.open !== null) throw new PgError("active_sql_transaction", "DISCARD ALL cannot run inside a transaction block");
        this.sqlPrepared.clear();
        this.settings.resetAll();
        await this.discardTemp();
        await this.advisoryLocks.unlockAll();
        return ok("DISCARD ALL");
      case "DISCARD_TEMP":
        await this.discardTemp();
        return ok("DISCARD TEMP");
      case "DISCARD_SEQUENCES":
        return ok("DISCARD SEQUENCES");
      default:
        return ok("DISCARD PLANS");
    }
  }

  /**
   * Drops every temporary object of the session (its pg_temp_N schema stays, as in Postgres).
   * Inside a transaction block this is part of the transaction and undone by its rollback.
   */
  newInSubtransaction(relationOid: number): boolean {
    const open = this.open;
    if (open === null || open.catalog === null) return false;
    const id = relationOid - relationOidOf(0);
    const now = open.catalog.get(id);
    if (now?.kind !== "table") return false;
    // What the current subtransaction started from: the latest savepoint's catalog, else the
    // committed one (the session's cached catalog: a table created in this transaction is not in
    // it; one truncated here has another data id there). A cache newer than this transaction's
    // snapshot, after another session's TRUNCATE, can only make this answer true where
    // PostgreSQL refuses; FREEZE is a hint here (COPY writes rows like INSERT), so nothing wrong
    // is written either way.
    const base = open.savepoints.at(-1)?.catalog ?? this.store.cached();
    const before = base?.get(id);
    return before?.kind !== "table" || dataIdOf(before) !== dataIdOf(now);
  }

  private async discardTemp(): Promise<void> {
    const open = this.open;
    if (open === null) {
      this.kv.local?.clear();
      this.store.setTempDescriptors(this.store.tempDescriptors().filter((d) => d.kind === "schema"));
      return;
    }
    if (open.catalog === null) open.catalog = await this.store.load(open.txn);
    const gone = open.catalog.tempDescriptors().filter((d) => d.kind !== "schema");
    if (gone.length === 0) return;
    const span = this.ks.tempSpan();
    open.txn.deleteRange(span.start, span.end);
    open.catalog = open.catalog.withChanges(open.catalog.version, [], gone.map((d) => d.id));
    open.temp = true;
  }

  private beginOpen(opts: Extract<TransactionCommand, { kind: "begin" }>["options"]): void {
    let readOnly = this.settings.get("default_transaction_read_only") === "on";
    for (const o of opts) {
      if ("readOnly" in o) readOnly = o.readOnly;
      else if (!["serializable", "repeatable read", "read committed", "read uncommitted"].includes(o.isolation)) {
        throw new PgError("invalid_parameter_value", `invalid transaction isolation level "${o.isolation}"`);
      }
    }
    const txn = new Txn(this.kv, { readOnly });
    this.open = { txn, catalog: null as unknown as Catalog, ddl: false, txnStartMicros: wallClockMicros(), aborted: false, savepoints: [] };
  }

  private async transactionStmt(cmd: TransactionCommand): Promise<StatementResult> {
    const open = this.open;
    switch (cmd.kind) {
      case "begin":
        // Postgres warns and keeps the current transaction when one is already open.
        if (open === null) this.beginOpen(cmd.options);
        return ok("BEGIN");
      case "commit": {
        if (open === null) return ok("COMMIT");
        this.open = null;
        if (open.aborted) {
          await open.txn.rollback();
          return ok("ROLLBACK");
        }
        try {
          this.beforeCommit(open);
          await open.txn.commit();
        } catch (err) {
          if (err instanceof StaleCatalog) throw new PgError("serialization_failure", "the schema changed during the transaction", { hint: "retry the transaction" });
          throw err;
        }
        this.afterCommit(open);
        return ok("COMMIT");
      }
      case "rollback":
        if (open !== null) {
          this.open = null;
          await open.txn.rollback();
        }
        return ok("ROLLBACK");
      case "savepoint": {
        if (open === null) throw new PgError("no_active_sql_transaction", "SAVEPOINT can only be used in transaction blocks");
        if (open.aborted) throw new PgError("in_failed_sql_transaction", "current transaction is aborted, commands ignored until end of transaction block");
        open.savepoints.push({ name: cmd.name, mark: open.txn.buffer.mark(), catalog: open.catalog, ddl: open.ddl });
        return ok("SAVEPOINT");
      }
      case "release":
      case "rollback-to": {
        const what = cmd.kind === "release" ? "RELEASE SAVEPOINT" : "ROLLBACK TO SAVEPOINT";
        if (open === null) throw new PgError("no_active_sql_transaction", `${what} can only be used in transaction blocks`);
        const name = cmd.name;
        let i = open.savepoints.length - 1;
        while (i >= 0 && open.savepoints[i]!.name !== name) i--;
        if (i < 0) throw new PgError("invalid_savepoint_specification", `savepoint "${name}" does not exist`);
        const sp = open.savepoints[i]!;
        if (cmd.kind === "release") {
          if (open.aborted) throw new PgError("in_failed_sql_transaction", "current transaction is aborted, commands ignored until end of transaction block");
          open.savepoints.length = i;
          return ok("RELEASE");
        }
        open.txn.buffer.rollbackTo(sp.mark);
        open.catalog = sp.catalog;
        open.ddl = sp.ddl;
        open.savepoints.length = i + 1;
        open.aborted = false;
        return ok("ROLLBACK");
      }
      case "two-phase":
        throw new PgError("feature_not_supported", "two-phase commit is not supported");
      case "unsupported":
        throw new PgError("feature_not_supported", `transaction statement ${cmd.what} is not supported`);
    }
  }

  private setStmt(cmd: SetCommand): StatementResult {
    switch (cmd.kind) {
      case "set": {
        const name = cmd.name;
        if (name === "transaction_isolation" || name === "default_transaction_isolation") {
          const v = cmd.value.toLowerCase();
          if (!["serializable", "repeatable read", "read committed", "read uncommitted"].includes(v)) {
            throw new PgError("invalid_parameter_value", `invalid value for parameter "${name}": "${v}"`);
          }
        }
        this.settings.set(name, cmd.value);
        return ok("SET");
      }
      case "reset":
        this.settings.reset(cmd.name);
        return ok(cmd.tag);
      case "reset-all":
        this.settings.resetAll();
        return ok("RESET");
      case "set-transaction":
        // SET TRANSACTION … / SET SESSION CHARACTERISTICS: isolation is always serializable.
        if (cmd.name === "TRANSACTION" && this.open !== null) {
          for (const readOnly of cmd.readOnly) {
            if (readOnly && this.open.txn.hasWrites()) throw new PgError("active_sql_transaction", "transaction read-write mode must be set before any query");
            (this.open.txn as { readOnly: boolean }).readOnly = readOnly;
          }
        }
        return ok("SET");
      case "unsupported":
        throw new PgError("feature_not_supported", `SET ${cmd.what} is not supported`);
    }
  }

  private showStmt(showName: string): StatementResult {
    const name = showName.toLowerCase();
    const text = (n: string) => ({ name: n, tableID: 0, columnID: 0, dataTypeID: 25, dataTypeSize: -1, dataTypeModifier: -1, format: "text" as const });
    if (name === "all") {
      const rows = this.settings.all().map(([k, v]) => [k, v, ""]);
      return { command: "SHOW", rowCount: rows.length, fields: [text("name"), text("setting"), text("description")], rows };
    }
    let value: string;
    if (name === "transaction_isolation" || name === "transaction isolation level") value = "serializable";
    else if (name === "transaction_read_only") value = this.open?.txn.readOnly ? "on" : this.settings.get(name);
    else if (name === "session_authorization") value = this.user;
    else value = this.settings.get(name);
    const display = name === "transaction isolation level" ? "transaction_isolation" : this.settings.displayName(name);
    return { command: "SHOW", rowCount: 1, fields: [text(display)], rows: [[value]] };
  }
}

export interface SessionTxnHandle {
  txn: TxnHandleData;
  aborted: boolean;
  ddl: boolean;
  startedAtMicros: string;
  /** Set (never carried further) when sealing dropped writes that had been flushed to the node. */
  writesLost?: boolean;
}

export function createSession(opts: SessionOptions): SqlSession {
  return new Session(opts);
}
