// Runs one sqllogictest script against one target in validation mode and counts outcomes.
//
// Counting: every statement and query record that applies to the target's engine is "run" and
// either passes or fails; records excluded by skipif/onlyif are "skipped". A failing record does
// not stop the script (the next records still run against whatever state the database is in),
// unless stopOnFirstFailure is set. Outcomes are kept as line numbers (the record's id), so that a
// caller can compare two targets record by record without holding results in memory.
import { hashValues, renderResult } from "./format.ts";
import { appliesTo, parseFile, type QueryRecord, type SltRecord, type StatementRecord } from "./parser.ts";
import { SqlError, type SqlSession, type SqlTarget } from "./target.ts";

export type FailureReason =
  | "error" // the database rejected a statement or query that should work
  | "unexpected-success" // `statement error` succeeded
  | "column-count" // the query returned a different number of columns than its type string
  | "wrong-result"
  | "label-mismatch" // same label, different results than an earlier query
  | "transport"; // no answer from the database (connection, HTTP, timeout)

export interface Failure {
  file: string;
  line: number;
  kind: "statement" | "query";
  reason: FailureReason;
  sql: string;
  /** Error message (with SQLSTATE) for error/transport failures. */
  message?: string;
  code?: string;
  expected?: string[];
  actual?: string[];
}

export interface Tally {
  run: number;
  passed: number;
}

export interface FileResult {
  file: string;
  target: string;
  statements: Tally;
  queries: Tally;
  skipped: number;
  /** Lines of counted records that ran and failed, in order. */
  failedLines: number[];
  /**
   * Records in RunOptions.exclude (ones the reference PostgreSQL fails): they still run, since
   * later records may depend on their effects, but count in neither tally.
   */
  excluded: { statements: number; queries: number; passed: number };
  /** The first failures in full, for reports (bounded by failureDetailsMax). */
  failures: Failure[];
  /** Error counts by normalized cause, for "what to fix next". */
  causes: Map<string, number>;
  halted: boolean;
  /** Query records re-sent after a transport failure (see queryTransportRetryDelaysMs). */
  transportRetries: number;
  /** Stopped after RunOptions.recordsMax records. */
  truncated: boolean;
  /** A problem that stopped the script early (parse error, database setup failure). */
  abortedBy?: string;
  durationMs: number;
}

export interface RunOptions {
  /** Stop the script at its first failing record. */
  stopOnFirstFailure?: boolean;
  /** Called for each failure as it happens (for --verbose). */
  onFailure?: (f: Failure) => void;
  /** How many failures per file keep their full detail. */
  failureDetailsMax?: number;
  /**
   * Run at most this many statement/query records of the script (a bounded sample of a big
   * script: its setup and first queries), then stop with `truncated` set.
   */
  recordsMax?: number;
  /** Lines of records to run but not count (the ones real PostgreSQL fails). */
  exclude?: ReadonlySet<number>;
  signal?: AbortSignal;
}

/** Consecutive transport failures after which the target is considered gone for this file. */
const transportFailuresMax = 20;
/**
 * Waits before re-sending a query record whose request got no answer. The local runtime
 * restarts (a few seconds) when files of the tree it serves change; a query record is a read, so
 * re-sending it is safe. Statement records are never re-sent: their outcome is unknown.
 */
const queryTransportRetryDelaysMs = [1_000, 2_000, 4_000];

/** Groups error messages into causes: identifiers, literals and numbers vary, the cause does not. */
export function normalizeCause(f: Failure): string {
  if (f.reason === "error" || f.reason === "transport") {
    const msg = (f.message ?? "")
      .split("\n")[0]!
      .replace(/"[^"]*"/g, '"…"')
      .replace(/'[^']*'/g, "'…'")
      .replace(/\d+(\.\d+)?/g, "N")
      .slice(0, 160);
    return `${f.reason}${f.code ? ` ${f.code}` : ""}: ${msg}`;
  }
  return `${f.kind} ${f.reason}`;
}

function compare(record: QueryRecord, actual: string[]): { ok: boolean; shownExpected: string[] } {
  const exp = record.expected;
  if (exp.kind === "hash") {
    const got = `${actual.length} values hashing to ${hashValues(actual)}`;
    const want = `${exp.count} values hashing to ${exp.hash}`;
    return { ok: got === want, shownExpected: [want] };
  }
  if (exp.values.length === actual.length) {
    for (let i = 0; i < actual.length; i++) if (exp.values[i] !== actual[i]) return { ok: false, shownExpected: exp.values };
    return { ok: true, shownExpected: exp.values };
  }
  // Some scripts write one row per line, values separated by spaces.
  const cols = record.types.length;
  if (cols > 1 && exp.values.length * cols === actual.length) {
    for (let r = 0; r < exp.values.length; r++) {
      if (exp.values[r] !== actual.slice(r * cols, (r + 1) * cols).join(" ")) return { ok: false, shownExpected: exp.values };
    }
    return { ok: true, shownExpected: exp.values };
  }
  return { ok: false, shownExpected: exp.values };
}

function shownActual(record: QueryRecord, actual: string[], threshold: number): string[] {
  if (record.expected.kind === "hash" || (threshold > 0 && actual.length > threshold)) {
    // Show both the hash (to compare) and the first values (to debug).
    return [`${actual.length} values hashing to ${hashValues(actual)}`, ...actual.slice(0, 40)];
  }
  return actual;
}

export async function runFile(path: string, target: SqlTarget, options: RunOptions = {}): Promise<FileResult> {
  const started = performance.now();
  const detailsMax = options.failureDetailsMax ?? 50;
  const result: FileResult = {
    file: path,
    target: target.name,
    statements: { run: 0, passed: 0 },
    queries: { run: 0, passed: 0 },
    skipped: 0,
    failedLines: [],
    excluded: { statements: 0, queries: 0, passed: 0 },
    failures: [],
    causes: new Map(),
    halted: false,
    truncated: false,
    transportRetries: 0,
    durationMs: 0,
  };
  const label = path.split("/").slice(-2).join("_").replace(/\.test$/, "");
  let session: SqlSession | undefined;
  let transportStreak = 0;
  let lastTransportMessage = "";
  const fail = (f: Failure): void => {
    result.failedLines.push(f.line);
    if (result.failures.length < detailsMax) result.failures.push(f);
    const cause = normalizeCause(f);
    result.causes.set(cause, (result.causes.get(cause) ?? 0) + 1);
    options.onFailure?.(f);
    transportStreak = f.reason === "transport" ? transportStreak + 1 : 0;
    if (f.reason === "transport") lastTransportMessage = f.message ?? "";
  };
  try {
    session = await target.openSession(label);
    let threshold = 0;
    const labels = new Map<string, string>();
    let recordsRun = 0;
    for await (const record of parseFile(path) as AsyncIterable<SltRecord>) {
      if (options.signal?.aborted) {
        result.abortedBy = "aborted";
        break;
      }
      if (record.kind === "hash-threshold") {
        threshold = record.threshold;
        continue;
      }
      if (!appliesTo(record.conditions, target.engine)) {
        if (record.kind !== "halt") result.skipped++;
        continue;
      }
      if (record.kind === "halt") {
        result.halted = true;
        break;
      }
      if (options.recordsMax !== undefined && ++recordsRun > options.recordsMax) {
        result.truncated = true;
        break;
      }
      const excluded = options.exclude?.has(record.line) === true;
      // An excluded record runs into a scratch result, so it touches neither tally nor failures.
      const into = excluded ? scratchResult(result) : result;
      const failInto = excluded ? (): void => {} : fail;
      const failed =
        record.kind === "statement"
          ? await runStatement(record, session, into, path, failInto)
          : await runQuery(record, session, into, path, threshold, labels, failInto);
      if (excluded) {
        if (record.kind === "statement") result.excluded.statements++;
        else result.excluded.queries++;
        if (!failed) result.excluded.passed++;
        continue;
      }
      if (failed && options.stopOnFirstFailure) {
        result.abortedBy = `stopped at first failure (line ${record.line})`;
        break;
      }
      if (transportStreak >= transportFailuresMax) {
        result.abortedBy = `${transportFailuresMax} transport failures in a row; last: ${lastTransportMessage}`;
        break;
      }
    }
  } catch (err) {
    result.abortedBy = err instanceof Error ? err.message : String(err);
  } finally {
    await session?.close().catch(() => {});
    result.durationMs = performance.now() - started;
  }
  return result;
}

type Fail = (f: Failure) => void;

function scratchResult(r: FileResult): FileResult {
  return { ...r, statements: { run: 0, passed: 0 }, queries: { run: 0, passed: 0 } };
}

function errorFields(err: unknown): { reason: FailureReason; message: string; code?: string } {
  if (err instanceof SqlError) return { reason: "error", message: err.message, code: err.code };
  return { reason: "transport", message: err instanceof Error ? err.message : String(err) };
}

async function runStatement(r: StatementRecord, s: SqlSession, res: FileResult, file: string, fail: Fail): Promise<boolean> {
  res.statements.run++;
  try {
    await s.execute(r.sql);
  } catch (err) {
    const e = errorFields(err);
    if (r.expectError && e.reason === "error") {
      res.statements.passed++;
      return false;
    }
    fail({ file, line: r.line, kind: "statement", sql: r.sql, ...e });
    return true;
  }
  if (r.expectError) {
    fail({ file, line: r.line, kind: "statement", sql: r.sql, reason: "unexpected-success" });
    return true;
  }
  res.statements.passed++;
  return false;
}

async function runQuery(
  r: QueryRecord,
  s: SqlSession,
  res: FileResult,
  file: string,
  threshold: number,
  labels: Map<string, string>,
  fail: Fail,
): Promise<boolean> {
  res.queries.run++;
  let out;
  for (let attempt = 0; ; attempt++) {
    try {
      out = await s.execute(r.sql);
      break;
    } catch (err) {
      const e = errorFields(err);
      const delay = queryTransportRetryDelaysMs[attempt];
      if (e.reason === "transport" && delay !== undefined) {
        res.transportRetries++;
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      fail({ file, line: r.line, kind: "query", sql: r.sql, ...e });
      return true;
    }
  }
  if (out.columns !== r.types.length) {
    fail({
      file, line: r.line, kind: "query", sql: r.sql, reason: "column-count",
      message: `expected ${r.types.length} columns (${r.types}), got ${out.columns}`,
    });
    return true;
  }
  const actual = renderResult(out.rows, r.types, r.sortMode);
  const { ok, shownExpected } = compare(r, actual);
  if (!ok) {
    fail({
      file, line: r.line, kind: "query", sql: r.sql, reason: "wrong-result",
      expected: shownExpected, actual: shownActual(r, actual, threshold),
    });
    return true;
  }
  if (r.label !== undefined) {
    const hash = hashValues(actual);
    const earlier = labels.get(r.label);
    if (earlier === undefined) labels.set(r.label, hash);
    else if (earlier !== hash) {
      fail({
        file, line: r.line, kind: "query", sql: r.sql, reason: "label-mismatch",
        message: `results differ from an earlier query labelled ${r.label}`,
      });
      return true;
    }
  }
  res.queries.passed++;
  return false;
}
