// One Postgres connection inside the tenant's gateway, after the edge authenticated it: the
// startup tail, the simple and extended query protocols and COPY (both ways), over a SQL session.
//
//   bytes in ─► MessageReader (split/merge frames) ─► decodeFrontend (one table) ─► handler below
//   handler ─► session.parse / prepare / run (sql/prepared.ts) ─► backend encoders into the Outbox
//           ─► flushed as one frame
//
// pgwire never parses SQL itself and never runs a statement to describe it: the session parses a
// query string once (cached per text), Parse binds it (session.prepare: parameter types and result
// columns), Describe answers from that, and Execute runs it with the Bind's parameters.
//
// Messages are handled strictly one at a time, in order (a promise chain), as a Postgres backend
// does. A malformed message (bad length, unknown type, truncated body) is a protocol violation:
// FATAL ErrorResponse 08P01 and the connection closes, nothing of it is executed. An SQL error is
// an ERROR: in the simple protocol it ends the query string; in the extended protocol every
// message up to the next Sync is skipped, as Postgres does.
//
// How a connection ends (end()): the running statement is cancelled (session.cancel()), the
// message chain drains, and an open transaction is rolled back, whatever the reason: the client
// went away, a FATAL error, pg_terminate_backend (terminate(): FATAL 57P01), or
// idle_in_transaction_session_timeout (FATAL 25P03 once the session has waited that long for the
// client inside a transaction).
import { PgError, toPgError } from "../../../common/errors.ts";
import type { CopyCommand, ParsedStatement, PreparedStatement } from "../sql/prepared.ts";
import type { FieldDescription, SqlSession, StatementResult } from "../sql/result.ts";
import {
  AuthenticationOk,
  BackendKeyData,
  BindComplete,
  CloseComplete,
  CommandComplete,
  NoticeResponse,
  CopyInResponse,
  DataRow,
  EmptyQueryResponse,
  ErrorResponse,
  formatOf,
  NoData,
  Outbox,
  ParameterDescription,
  ParameterStatus,
  ParseComplete,
  PortalSuspended,
  ReadyForQuery,
  RowDescription,
  type TransactionStatus,
} from "./backend.ts";
import { binaryParamToText, hasBinaryResult, textToBinaryResult } from "./binary.ts";
import { returnsRows, tagOf } from "./command-tag.ts";
import { refuseServerSideCopy } from "../sql/bind/copy-statement.ts";
import { type CopyIn, startCopyIn } from "./copy-in.ts";
import { planCopyOut, runCopyOut } from "./copy-out.ts";
import { decodeFrontend, type FormatCode, type FrontendKind, type MessageOf } from "./frontend.ts";
import { pgwireLimits } from "./limits.ts";
import { type DecodeText, MessageReader } from "./reader.ts";
import { decodeUtf8Strict } from "./utf8.ts";
import { textCodec, type TextCodec } from "./encoding/codec.ts";
import { pgEncodingName, supportedEncoding } from "../sql/client-encoding.ts";
import type { BackendKey } from "./backends.ts";
import { parseDurationMs } from "./startup-settings.ts";

export interface ConnectionIO {
  send(bytes: Uint8Array): void;
  close(code: number, reason: string): void;
  /**
   * Bytes passed to send() not yet written to the client, where the transport can tell (a
   * WebSocket's bufferedAmount). COPY TO waits while it is above copyOutBufferedBytesMax.
   */
  bufferedBytes?(): number;
}

/** Request-Unit admission and charging (the gateway's LocalQuota); optional so tests can omit it. */
export interface ConnectionQuota {
  /** Resolves with the function that ends the statement's admission (called when it is over). */
  admit(): Promise<() => void>;
  chargeEgress(bytes: number): void;
}

export interface ConnectionOptions {
  session: SqlSession;
  io: ConnectionIO;
  /** The connection's role, reported as session_authorization. */
  user: string;
  quota?: ConnectionQuota;
  /** The BackendKeyData pair to report (the edge issued it); a random one when absent. */
  backendKey?: BackendKey;
}

interface Prepared {
  /** Bound by the session at Parse; null for an empty query string. */
  statement: PreparedStatement | null;
  declaredTypes: number[];
}

interface Portal {
  statement: Prepared;
  params: Array<string | null>;
  resultFormats: FormatCode[];
  result: StatementResult | null;
  /** Rows of `result` already sent. */
  sent: number;
  done: boolean;
}

/** ParameterStatus names a PG 15 server reports at startup, with the SHOW that gives their value. */
const REPORTED_FROM_SESSION = [
  "application_name",
  "client_encoding",
  "DateStyle",
  "default_transaction_read_only",
  "integer_datetimes",
  "IntervalStyle",
  "server_encoding",
  "server_version",
  "standard_conforming_strings",
  "TimeZone",
] as const;

/** Values used when the session cannot SHOW a parameter (and for those it does not know). */
const REPORTED_DEFAULTS: Record<string, string> = {
  application_name: "",
  client_encoding: "UTF8",
  DateStyle: "ISO, MDY",
  default_transaction_read_only: "off",
  in_hot_standby: "off",
  integer_datetimes: "on",
  IntervalStyle: "postgres",
  is_superuser: "off",
  server_encoding: "UTF8",
  server_version: "15.0",
  standard_conforming_strings: "on",
  TimeZone: "UTC",
};

/** Statements a multi-statement simple Query outside a transaction runs in one implicit transaction. */
const WRAPPABLE = new Set<ParsedStatement["kind"]>(["query", "dml"]);

export class PgConnection {
  private readonly session: SqlSession;
  private readonly io: ConnectionIO;
  private readonly user: string;
  private readonly quota: ConnectionQuota | undefined;
  private readonly reader = new MessageReader();
  private readonly out = new Outbox();
  private readonly statements = new Map<string, Prepared>();
  private readonly portals = new Map<string, Portal>();
  private readonly reported = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();
  /** Bytes received but not yet handed to the reader (queued behind a running message). */
  private queuedBytes = 0;
  private skipUntilSync = false;
  private copy: { sink: CopyIn; rest: readonly ParsedStatement[] } | null = null;
  private readonly backendKey: BackendKey;
  /** A message is being handled now (a statement may be running). */
  private busy = false;
  /** pg_terminate_backend asked to end the connection: FATAL 57P01 once the running message ends. */
  private terminating = false;
  /** The FATAL that terminate() ends the connection with (57P01 in every case). */
  private terminateReason: PgError = ADMIN_SHUTDOWN();
  /** ReadyForQuery was the last thing sent: the session waits for the client. */
  private awaitingClient = false;
  /** idle_in_transaction_session_timeout in ms (0: off), read from the session at start and after SET. */
  private idleInTransactionTimeoutMs = 0;
  private idleTimer: ReturnType<typeof setTimeout> | null = null;
  /** client_encoding's codec (null: UTF-8); the outbox encodes with it, messages decode with decodeText. */
  private codec: TextCodec | null = null;
  private decodeText: DecodeText | undefined = undefined;
  private ended: Promise<void> | null = null;
  /**
   * Hands a pg_terminate_backend over to this connection's own request context. terminate() runs
   * in ANOTHER session's request, and workerd refuses I/O on behalf of a different request (the
   * FATAL would be dropped and the socket left open); a promise created here, though, continues
   * here when that other request resolves it.
   */
  private readonly wakeForTerminate: () => void;
  closed = false;

  constructor(opts: ConnectionOptions) {
    this.session = opts.session;
    this.io = opts.io;
    this.user = opts.user;
    this.quota = opts.quota;
    let wake!: () => void;
    void new Promise<void>((resolve) => (wake = resolve)).then(() => this.terminateNow());
    this.wakeForTerminate = wake;
    if (opts.backendKey !== undefined) {
      this.backendKey = opts.backendKey;
    } else {
      const key = crypto.getRandomValues(new Int32Array(2));
      this.backendKey = { processId: (key[0]! & 0x7fffffff) || 1, secretKey: key[1]! };
    }
  }

  /** AuthenticationOk, ParameterStatus…, BackendKeyData, ReadyForQuery: what follows a successful login. */
  start(): Promise<void> {
    return this.enqueue(async () => {
      AuthenticationOk(this.out);
      const values = await this.sessionParameters();
      values.set("is_superuser", REPORTED_DEFAULTS["is_superuser"]!);
      values.set("in_hot_standby", REPORTED_DEFAULTS["in_hot_standby"]!);
      values.set("session_authorization", this.user);
      for (const name of [...values.keys()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()))) {
        ParameterStatus(this.out, name, values.get(name)!);
        this.reported.set(name, values.get(name)!);
      }
      this.useClientEncoding(values.get("client_encoding")!);
      BackendKeyData(this.out, this.backendKey.processId, this.backendKey.secretKey);
      await this.readIdleInTransactionTimeout();
      this.readyForQuery();
    });
  }

  /** Bytes from the client, in order. Never throws; a fatal problem closes the connection. */
  receive(bytes: Uint8Array): Promise<void> {
    if (this.closed) return Promise.resolve();
    // The client spoke: whatever it sends, the session is no longer idle in its transaction.
    this.awaitingClient = false;
    this.clearIdleTimer();
    this.queuedBytes += bytes.length;
    if (this.queuedBytes > pgwireLimits.pendingBytesMax) {
      this.fatal(new PgError("program_limit_exceeded", `more than ${pgwireLimits.pendingBytesMax} bytes received ahead of the server`, { hint: "Read the server's responses before sending more." }));
      return Promise.resolve();
    }
    return this.enqueue(async () => {
      this.queuedBytes -= bytes.length;
      this.reader.push(bytes);
      for (let frame = this.reader.next(); frame !== null && !this.closed; frame = this.reader.next()) {
        this.awaitingClient = false;
        let m: ReturnType<typeof decodeFrontend>;
        try {
          m = decodeFrontend(frame, this.decodeText);
        } catch (err) {
          // A malformed message is a protocol violation (FATAL); text the client encoding cannot
          // decode is an ordinary ERROR of that message, as in Postgres.
          const e = toPgError(err);
          if (e.code === "08P01" || this.copy !== null) throw e;
          await this.undecodable(frame.type, e);
          continue;
        }
        await this.dispatch(m);
      }
      this.flush();
    });
  }

  /**
   * The connection is over (the client went away, or it ended itself): nothing more is read, the
   * running statement is cancelled, and once it has stopped an open transaction is rolled back.
   * Idempotent; resolves when the rollback is done.
   */
  end(): Promise<void> {
    this.ended ??= (async () => {
      this.closed = true;
      this.clearIdleTimer();
      this.session.cancel();
      await this.chain; // never rejects: enqueue catches
      if (this.session.inTransaction) await this.session.execute("ROLLBACK").catch(() => undefined);
      // The session ends with the connection: its temporary tables go.
      this.session.close();
    })();
    return this.ended;
  }

  /**
   * pg_terminate_backend: FATAL 57P01 and the end of the connection. A running statement is
   * cancelled first, and its results are not sent; between statements it happens at once.
   */
  terminate(reason: PgError = ADMIN_SHUTDOWN()): void {
    if (this.closed || this.terminating) return;
    this.terminating = true;
    this.terminateReason = reason;
    this.session.cancel(); // a statement running now stops at its next check point
    this.wakeForTerminate();
  }

  /** terminate(), continued in this connection's own context. */
  private terminateNow(): void {
    // While a message is being handled, enqueue reports it when that message ends.
    if (this.closed || this.busy) return;
    this.fatal(this.terminateReason);
  }

  private enqueue(f: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.closed) return;
      this.busy = true;
      try {
        await f();
      } catch (err) {
        if (!this.terminating) this.fatal(toPgError(err));
      } finally {
        this.busy = false;
      }
      if (this.terminating) {
        this.out.take(); // results of a terminated session are not delivered, as in Postgres
        this.fatal(this.terminateReason);
        return;
      }
      this.armIdleTimer();
    });
    return this.chain;
  }

  private fatal(err: PgError): void {
    if (this.closed) return;
    this.terminating = false; // so flush() sends this last message
    try {
      ErrorResponse(this.out, err, "FATAL");
    } catch (unsendable) {
      ErrorResponse(this.out, toPgError(unsendable), "FATAL"); // as sendError
    }
    this.flush();
    this.closed = true;
    this.io.close(1000, err.code);
    void this.end();
  }

  // ---- idle_in_transaction_session_timeout ----

  /** After a message: if the session now waits for the client inside a transaction, start the clock. */
  private armIdleTimer(): void {
    this.clearIdleTimer();
    if (this.closed || !this.awaitingClient || this.copy !== null || this.queuedBytes > 0) return;
    const ms = this.idleInTransactionTimeoutMs;
    if (ms <= 0 || this.status() === "I") return;
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      this.fatal(new PgError("idle_in_transaction_session_timeout", "terminating connection due to idle-in-transaction timeout"));
    }, ms);
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /** Reads the setting through SHOW (the session's only interface); a session without it has it off. */
  private async readIdleInTransactionTimeout(): Promise<void> {
    try {
      const [r] = await this.session.execute("SHOW idle_in_transaction_session_timeout");
      const v = r?.rows[0]?.[0];
      this.idleInTransactionTimeoutMs = typeof v === "string" ? (parseDurationMs(v) ?? 0) : 0;
    } catch {
      // Unknown to the session, or not readable now (an aborted transaction): keep the last value.
    }
  }

  private flush(): void {
    if (this.out.size === 0 || this.closed || this.terminating) return;
    const bytes = this.out.take();
    this.quota?.chargeEgress(bytes.length);
    this.io.send(bytes);
  }

  private readonly handlers: { [K in FrontendKind]: (m: MessageOf<K>) => Promise<void> } = {
    Query: (m) => this.Query(m),
    Parse: (m) => this.extended(() => this.Parse(m)),
    Bind: (m) => this.extended(() => this.Bind(m)),
    Describe: (m) => this.extended(() => this.Describe(m)),
    Execute: (m) => this.extended(() => this.Execute(m)),
    Close: (m) => this.extended(() => this.Close(m)),
    Sync: () => this.Sync(),
    Flush: async () => this.flush(),
    Terminate: async () => {
      this.flush();
      this.closed = true;
      this.io.close(1000, "terminate");
      void this.end();
    },
    // Outside COPY, Postgres accepts and ignores these (a failed COPY leaves the client sending).
    CopyData: async () => {},
    CopyDone: async () => {},
    CopyFail: async () => {},
    FunctionCall: (m) =>
      this.extended(async () => {
        void m;
        throw new PgError("feature_not_supported", "the fast-path function call interface is not supported");
      }),
    PasswordMessage: async () => {
      throw new PgError("protocol_violation", "unexpected password message: the connection is already authenticated");
    },
  };

  private async dispatch(m: ReturnType<typeof decodeFrontend>): Promise<void> {
    if (this.copy !== null) return this.duringCopy(m);
    const h = this.handlers[m.kind] as (x: typeof m) => Promise<void>;
    await h(m);
  }

  // ---- transaction status ----

  private status(): TransactionStatus {
    return this.session.transactionStatus();
  }

  private async run(stmt: ParsedStatement, params: ReadonlyArray<string | null>): Promise<StatementResult> {
    // An error goes to the caller, which reports it through sendError (that fails the block).
    const result = await this.admitted(() => this.session.run(stmt, params));
    if (stmt.changesSettings) {
      await this.reportChangedParameters();
      await this.readIdleInTransactionTimeout();
    }
    return result;
  }

  private async sessionParameters(): Promise<Map<string, string>> {
    const values = new Map<string, string>(Object.entries(REPORTED_DEFAULTS).filter(([k]) => (REPORTED_FROM_SESSION as readonly string[]).includes(k)));
    try {
      const results = await this.session.execute(REPORTED_FROM_SESSION.map((n) => `SHOW ${n}`).join("; "));
      REPORTED_FROM_SESSION.forEach((name, i) => {
        const v = results[i]?.rows[0]?.[0];
        if (typeof v === "string") values.set(name, v);
      });
    } catch {
      // A session that cannot SHOW one of them reports Postgres's defaults for all.
    }
    return values;
  }

  /** After SET / RESET / DISCARD: a ParameterStatus for each reported value that changed, as Postgres sends. */
  private async reportChangedParameters(): Promise<void> {
    const values = await this.sessionParameters();
    for (const [name, value] of values) {
      if (this.reported.get(name) === value) continue;
      this.reported.set(name, value);
      ParameterStatus(this.out, name, value);
      // Everything after the ParameterStatus is in the new encoding, both ways.
      if (name === "client_encoding") this.useClientEncoding(value);
    }
  }

  /** client_encoding as SHOW reports it (a name the session accepted) → the codec both directions use. */
  private useClientEncoding(name: string): void {
    const codec = textCodec(supportedEncoding(pgEncodingName(name) ?? name, "client_encoding"));
    this.codec = codec;
    this.out.encodeText = codec === null ? null : (s) => codec.encode(s);
    this.decodeText = codec === null ? undefined : (b) => codec.decode(b);
  }

  /** A message whose text the client encoding cannot decode: an ERROR in its protocol's way. */
  private async undecodable(type: string, err: PgError): Promise<void> {
    if (type === "Q") {
      this.sendError(err);
      return this.readyForQuery();
    }
    await this.extended(async () => {
      throw err;
    });
  }

  // ---- sending results ----

  private sendRow(row: ReadonlyArray<string | null>, fields: readonly FieldDescription[], formats: readonly FormatCode[]): void {
    if (formats.length === 0 || formats.every((f) => f === 0)) {
      DataRow(this.out, row);
    } else {
      DataRow(this.out, row.map((v, i) => (v === null || formatOf(formats, i) === 0 ? v : textToBinaryResult(fields[i]!.dataTypeID, v))));
    }
    // Stream big results in frames of bounded size instead of one huge buffer.
    if (this.out.size >= OUTBOX_FLUSH_BYTES) this.flush();
  }

  /**
   * A SELECT of the simple query protocol, its rows sent as they are produced rather than gathered
   * first: a result of any size then costs bounded memory, and a runaway `select g from
   * generate_series(1, 1e10)` runs into its statement_timeout (57014) instead of a row-count bound.
   * The first `pgwireLimits.streamHoldBytes` of a result are held back, so a small result (the
   * usual case) can still be discarded and the statement rerun when its implicit transaction meets
   * a serialization failure; once rows have gone out it cannot. An error after some rows follows
   * them (RowDescription, DataRow…, ErrorResponse), as in Postgres.
   */
  private async streamSelect(stmt: ParsedStatement): Promise<void> {
    await this.admitted(() => this.streamSelectAdmitted(stmt));
  }

  /**
   * Runs `work` under one Request-Unit admission and always ends it: an admission reserves one
   * statement's estimate of the tenant's grant until ended, so one left open would hold that
   * reservation for the isolate's life (enough of them refuse every statement with 53400). Every
   * admission in this connection goes through here.
   */
  private async admitted<T>(work: () => Promise<T>): Promise<T> {
    const end = await this.quota?.admit();
    try {
      return await work();
    } finally {
      end?.();
    }
  }

  private async streamSelectAdmitted(stmt: ParsedStatement): Promise<void> {
    let held: Array<{ fields: FieldDescription[]; rows: Array<Array<string | null>> }> = [];
    let heldBytes = 0;
    let streaming = false;
    let unflushedBytes = 0;
    let described = false;
    const send = (fields: FieldDescription[], rows: Array<Array<string | null>>): void => {
      if (!described) {
        RowDescription(this.out, fields);
        described = true;
      }
      for (const row of rows) {
        this.sendRow(row, fields, []);
        for (const v of row) unflushedBytes += v === null ? 4 : 4 + v.length;
      }
    };
    const sink = async (fields: FieldDescription[], rows: Array<Array<string | null>>): Promise<void> => {
      if (!streaming) {
        held.push({ fields, rows });
        for (const row of rows) for (const v of row) heldBytes += v === null ? 4 : 4 + v.length;
        if (heldBytes < pgwireLimits.streamHoldBytes) return;
        streaming = true;
        for (const h of held) send(h.fields, h.rows);
        held = [];
      } else {
        send(fields, rows);
      }
      // A turn for the transport (and back-pressure) per frame's worth of rows, as COPY TO does.
      if (unflushedBytes >= pgwireLimits.copyOutFrameBytes) {
        unflushedBytes = 0;
        await this.flushCopyOut();
      }
    };
    const rewind = (): boolean => {
      if (streaming) return false;
      held = [];
      heldBytes = 0;
      return true;
    };
    const r = await this.session.run(stmt, [], sink, rewind);
    if (!described && (held.length > 0 || returnsRows(r, stmt.returnsRows))) {
      RowDescription(this.out, held[0]?.fields ?? r.fields);
      described = true;
    }
    // Notices after RowDescription, before the rows still held (see sendNotices).
    this.sendNotices(r);
    for (const h of held) send(h.fields, h.rows);
    CommandComplete(this.out, tagOf(r));
  }

  /**
   * RAISE NOTICE and the like of the statement's PL/pgSQL functions. They are sent where
   * PostgreSQL sends them for a statement that raises them while computing its rows: after the
   * RowDescription and before the first DataRow (here all of them; PostgreSQL interleaves them
   * with rows produced in between).
   */
  private sendNotices(r: StatementResult): void {
    for (const n of r.notices ?? []) NoticeResponse(this.out, n.error, n.severity);
  }

  private sendResult(r: StatementResult, stmt: ParsedStatement): void {
    if (returnsRows(r, stmt.returnsRows)) RowDescription(this.out, r.fields);
    this.sendNotices(r);
    for (const row of r.rows) this.sendRow(row, r.fields, []);
    CommandComplete(this.out, tagOf(r));
  }

  // ---- simple query protocol ----

  private async Query(m: MessageOf<"Query">): Promise<void> {
    let statements: readonly ParsedStatement[];
    try {
      statements = await this.session.parse(m.sql);
    } catch (err) {
      this.sendError(err);
      return this.readyForQuery();
    }
    if (statements.length === 0) {
      EmptyQueryResponse(this.out);
      return this.readyForQuery();
    }
    // A query string of several statements is one implicit transaction in Postgres: all or nothing.
    // Warren wraps plain DML/SELECT strings that way; strings with DDL or transaction control run
    // statement by statement (see README.md).
    const wrap = statements.length > 1 && this.status() === "I" && statements.every((s) => WRAPPABLE.has(s.kind));
    if (wrap) await this.session.execute("BEGIN");
    await this.runStatements(statements, wrap);
  }

  private async runStatements(statements: readonly ParsedStatement[], wrapped: boolean): Promise<void> {
    for (let i = 0; i < statements.length; i++) {
      const s = statements[i]!;
      try {
        if (s.copy !== null) {
          if (s.copy.statement.direction === "from") {
            await this.startCopyIn(s.copy, statements.slice(i + 1));
            return; // continues when CopyDone / CopyFail arrives
          }
          await this.copyOut(s.copy);
          continue;
        }
        if (s.kind === "query") {
          await this.streamSelect(s);
          continue;
        }
        this.sendResult(await this.run(s, []), s);
      } catch (err) {
        this.sendError(err);
        if (wrapped) await this.session.execute("ROLLBACK").catch(() => undefined);
        return this.readyForQuery();
      }
    }
    if (wrapped) {
      try {
        await this.session.execute("COMMIT");
      } catch (err) {
        this.sendError(err);
      }
    }
    this.readyForQuery();
  }

  /**
   * An ERROR for the client. Whatever raised it (the parser, Bind, Describe, COPY, the executor),
   * inside a transaction block the block is now failed, as in Postgres: later statements get
   * 25P02 and COMMIT rolls back.
   */
  private sendError(err: unknown): void {
    try {
      ErrorResponse(this.out, toPgError(err));
    } catch (unsendable) {
      // The message holds a character the client encoding lacks: Postgres then reports that
      // conversion error instead (its text is ASCII).
      ErrorResponse(this.out, toPgError(unsendable));
    }
    this.session.failTransactionBlock();
  }

  private readyForQuery(): void {
    ReadyForQuery(this.out, this.status());
    this.flush();
    this.awaitingClient = true;
  }

  // ---- COPY (copy-in.ts, copy-out.ts) ----

  // A failed COPY fails the transaction block it is in, whoever raised the error (options, data,
  // CopyFail): its errors are reported through sendError like every other.
  private async startCopyIn(cmd: CopyCommand, rest: readonly ParsedStatement[]): Promise<void> {
    refuseServerSideCopy(cmd.statement);
    // The start is admitted, and each CopyData chunk below.
    const sink = await this.admitted(() => startCopyIn(this.session, cmd, this.codec));
    this.copy = { sink, rest };
    CopyInResponse(this.out, sink.columnCount, sink.binary ? 1 : 0);
    this.flush();
  }

  private async copyOut(cmd: CopyCommand): Promise<void> {
    refuseServerSideCopy(cmd.statement);
    await this.admitted(async () => {
      const plan = await planCopyOut(this.session, cmd);
      await runCopyOut(this.session, plan, { out: this.out, flush: () => this.flushCopyOut() });
    });
  }

  /**
   * Sends the outbox, then waits while the transport holds more than copyOutBufferedBytesMax
   * unsent. A transport that cannot tell (workerd's WebSocket has no bufferedAmount) still gets a
   * turn of the event loop per frame: rows that need no storage round trip (COPY (SELECT … FROM
   * generate_series …)) would otherwise be produced in one go, every frame queued before the first
   * is written.
   */
  private async flushCopyOut(): Promise<void> {
    if (this.closed) throw new PgError("connection_failure", "the client went away during COPY TO");
    this.flush();
    const buffered = this.io.bufferedBytes;
    if (buffered === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      return;
    }
    while (!this.closed && buffered.call(this.io) > pgwireLimits.copyOutBufferedBytesMax) {
      await new Promise((resolve) => setTimeout(resolve, COPY_DRAIN_POLL_MS));
    }
  }

  private async duringCopy(m: ReturnType<typeof decodeFrontend>): Promise<void> {
    const copy = this.copy!;
    try {
      switch (m.kind) {
        case "CopyData":
          await this.admitted(() => copy.sink.data(m.data));
          return;
        case "CopyDone": {
          const n = await copy.sink.done();
          this.copy = null;
          CommandComplete(this.out, `COPY ${n}`);
          return this.runStatements(copy.rest, false);
        }
        case "CopyFail":
          throw new PgError("query_canceled", `COPY from stdin failed: ${m.message}`);
        case "Flush":
        case "Sync":
          return; // ignored during COPY, as in Postgres
        default:
          throw new PgError("protocol_violation", `unexpected message type ${m.kind} during COPY from stdin`);
      }
    } catch (err) {
      this.copy = null;
      // A transaction the COPY began for itself ends with it (nothing written); the error is the COPY's.
      await copy.sink.abort().catch(() => undefined);
      this.sendError(err);
      this.readyForQuery();
    }
  }

  // ---- extended query protocol ----

  private async extended(f: () => Promise<void>): Promise<void> {
    if (this.skipUntilSync) return;
    try {
      await f();
    } catch (err) {
      this.sendError(err);
      this.skipUntilSync = true;
    }
  }

  private async Sync(): Promise<void> {
    this.skipUntilSync = false;
    // Portals live until the end of their transaction; outside a transaction block that is now.
    if (this.status() === "I") this.portals.clear();
    this.readyForQuery();
  }

  private async Parse(m: MessageOf<"Parse">): Promise<void> {
    if (m.name !== "" && this.statements.has(m.name)) {
      throw new PgError("duplicate_prepared_statement", `prepared statement "${m.name}" already exists`);
    }
    if (m.name !== "" && this.statements.size >= pgwireLimits.preparedStatementsMax) {
      throw new PgError("program_limit_exceeded", `more than ${pgwireLimits.preparedStatementsMax} prepared statements on one connection`, { hint: "DEALLOCATE (Close) statements you no longer use." });
    }
    const all = await this.session.parse(m.sql);
    if (all.length > 1) throw new PgError("syntax_error", "cannot insert multiple commands into a prepared statement");
    const parsed = all[0] ?? null;
    if (parsed?.copy) {
      refuseServerSideCopy(parsed.copy.statement);
      throw new PgError("feature_not_supported", "COPY is served in the simple query protocol only", { hint: "Send the COPY statement as a simple Query." });
    }
    // Postgres analyses the statement at Parse: an unknown table or column fails here, and the
    // name stays free for the client's next Parse. Describe answers from what prepare bound.
    const statement = parsed === null ? null : await this.session.prepare(parsed, m.paramTypes);
    this.statements.set(m.name, { statement, declaredTypes: m.paramTypes });
    ParseComplete(this.out);
  }

  private statement(name: string): Prepared {
    const p = this.statements.get(name);
    if (p === undefined) {
      throw new PgError("invalid_sql_statement_name", name === "" ? "unnamed prepared statement does not exist" : `prepared statement "${name}" does not exist`);
    }
    return p;
  }

  private portal(name: string): Portal {
    const p = this.portals.get(name);
    if (p === undefined) throw new PgError("invalid_cursor_name", name === "" ? "unnamed portal does not exist" : `portal "${name}" does not exist`);
    return p;
  }

  private paramCount(p: Prepared): number {
    return Math.max(p.declaredTypes.length, p.statement?.paramCount ?? 0);
  }

  private async Bind(m: MessageOf<"Bind">): Promise<void> {
    const stmt = this.statement(m.statement);
    const need = this.paramCount(stmt);
    if (m.params.length !== need) {
      throw new PgError("protocol_violation", `bind message supplies ${m.params.length} parameters, but prepared statement "${m.statement}" requires ${need}`);
    }
    if (m.portal !== "" && this.portals.has(m.portal)) throw new PgError("duplicate_cursor", `cursor "${m.portal}" already exists`);
    if (this.portals.size >= pgwireLimits.portalsMax && !this.portals.has(m.portal)) {
      throw new PgError("program_limit_exceeded", `more than ${pgwireLimits.portalsMax} open portals on one connection`);
    }
    const params = m.params.map((v, i) => {
      if (v === null) return null;
      if (formatOf(m.paramFormats, i) === 0) return (this.decodeText ?? decodeUtf8Strict)(v);
      const type = stmt.declaredTypes[i] || stmt.statement?.paramTypes[i] || 0;
      return binaryParamToText(type, v);
    });
    for (const f of m.resultFormats) void f;
    this.portals.set(m.portal, { statement: stmt, params, resultFormats: m.resultFormats, result: null, sent: 0, done: false });
    BindComplete(this.out);
  }

  private async Describe(m: MessageOf<"Describe">): Promise<void> {
    if (m.target === "S") {
      const p = this.statement(m.name);
      ParameterDescription(this.out, p.statement?.paramTypes.slice(0, this.paramCount(p)) ?? []);
      const fields = p.statement?.fields ?? null;
      if (fields === null) NoData(this.out);
      else RowDescription(this.out, fields);
      return;
    }
    const portal = this.portal(m.name);
    const fields = portal.statement.statement?.fields ?? null;
    if (fields === null) return NoData(this.out);
    checkResultFormats(fields, portal.resultFormats);
    RowDescription(this.out, fields, portal.resultFormats);
  }

  private async executePortal(portal: Portal): Promise<StatementResult> {
    if (portal.result !== null) return portal.result;
    portal.result = await this.run(portal.statement.statement!, portal.params);
    return portal.result;
  }

  private async Execute(m: MessageOf<"Execute">): Promise<void> {
    const portal = this.portal(m.portal);
    const info = portal.statement.statement;
    if (info === null) return EmptyQueryResponse(this.out);
    if (portal.done) {
      CommandComplete(this.out, tagOf({ ...portal.result!, rowCount: info.returnsRows ? 0 : portal.result!.rowCount }));
      return;
    }
    const fresh = portal.result === null;
    const r = await this.executePortal(portal);
    if (fresh) this.sendNotices(r);
    if (portal.resultFormats.some((f) => f === 1)) checkResultFormats(r.fields, portal.resultFormats);
    const end = m.maxRows > 0 ? Math.min(r.rows.length, portal.sent + m.maxRows) : r.rows.length;
    const from = portal.sent;
    for (let i = from; i < end; i++) this.sendRow(r.rows[i]!, r.fields, portal.resultFormats);
    portal.sent = end;
    if (end < r.rows.length) return PortalSuspended(this.out);
    portal.done = true;
    // A SELECT fetched in pieces reports the rows of this Execute, as Postgres does.
    CommandComplete(this.out, tagOf(returnsRows(r, info.returnsRows) && r.command.toUpperCase() === "SELECT" ? { ...r, rowCount: end - from } : r));
    // The rows are sent; only the tag is needed if the portal is executed again.
    portal.result = { ...r, rows: [] };
  }

  private async Close(m: MessageOf<"Close">): Promise<void> {
    if (m.target === "S") this.statements.delete(m.name);
    else this.portals.delete(m.name);
    CloseComplete(this.out);
  }
}

/** COPY TO: how long to wait before asking the transport for its unsent bytes again. */
const COPY_DRAIN_POLL_MS = 2;
const ADMIN_SHUTDOWN = () => new PgError("admin_shutdown", "terminating connection due to administrator command");

/** Frames of at most ~256 KiB while streaming a result. */
const OUTBOX_FLUSH_BYTES = 256 * 1024;

function checkResultFormats(fields: readonly FieldDescription[], formats: readonly FormatCode[]): void {
  if (formats.length > 1 && formats.length !== fields.length) {
    throw new PgError("protocol_violation", `bind message has ${formats.length} result formats but query has ${fields.length} columns`);
  }
  fields.forEach((f, i) => {
    if (formatOf(formats, i) === 1 && !hasBinaryResult(f.dataTypeID)) {
      throw new PgError("feature_not_supported", `binary format for results of type OID ${f.dataTypeID} (column "${f.name}") is not supported`, {
        hint: "Request text format (format code 0) for this column.",
      });
    }
  });
}
