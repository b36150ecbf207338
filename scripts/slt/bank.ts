// The bank workload: a correctness check for serializable transactions under contention.
//
// N clients move random amounts between A accounts for a while. Each transfer is one transaction:
// debit one account, credit another, and record the transfer (unique id) in `transfers`. A
// transaction that fails with 40001 (serialization failure) is retried with the same id. An
// auditor reads the total balance over and over while the clients run. At the end:
//   - the total is unchanged (and the auditor never saw another total);
//   - every transfer the client saw commit is in `transfers`, exactly as sent;
//   - nothing is in `transfers` that was not sent (ambiguous outcomes may be either way);
//   - each balance equals the initial balance plus the sum of that account's transfers.
// The workload talks to a BankDb, so the same code runs against Warren (HTTP batches, each one
// transaction) and PostgreSQL (BEGIN ISOLATION LEVEL SERIALIZABLE … COMMIT).
import { SqlError } from "./target.ts";

export interface Statement {
  sql: string;
  params?: Array<string | number | null>;
}

export interface BankDb {
  /** One statement in its own (implicit) transaction; returns rows in text format. */
  query(sql: string, params?: Statement["params"]): Promise<Array<Array<string | null>>>;
  /** All statements in one serializable transaction; throws SqlError (40001 on conflicts). */
  transaction(statements: Statement[]): Promise<void>;
  close(): Promise<void>;
}

export interface BankOptions {
  accounts: number;
  clients: number;
  durationMs: number;
  initialBalance: number;
  /** Largest amount moved by one transfer (amounts are 1..this). */
  amountMax: number;
  /** Attempts per transfer before giving up on it (serialization failures only). */
  attemptsMax: number;
}

export const bankDefaults: BankOptions = {
  accounts: 100,
  clients: 8,
  durationMs: 60_000,
  initialBalance: 1_000,
  amountMax: 100,
  attemptsMax: 100,
};

export interface Transfer {
  src: number;
  dst: number;
  amount: number;
}

export interface BankReport {
  options: BankOptions;
  committed: Map<string, Transfer>;
  /** Transfers whose outcome the client could not learn (transport failure mid-commit). */
  ambiguous: Map<string, Transfer>;
  /** Transfers abandoned after attemptsMax serialization failures: must not be in the table. */
  abandoned: Map<string, Transfer>;
  /** Attempts rolled back with 40001 (or 40P01) and retried. */
  serializationRetries: number;
  /** Errors other than 40001, by SQLSTATE or "transport", with one example message each. */
  otherErrors: Map<string, { count: number; example: string }>;
  auditorReads: number;
  auditorWrongTotals: string[];
  /** Latency of committed transfers, including retries, in ms. */
  latenciesMs: number[];
  /** Each committed transfer's first attempt and acknowledgement (performance.now()), in the order acknowledged. */
  committedSpansMs: Array<{ startedMs: number; ackedMs: number }>;
  elapsedMs: number;
}

export async function setupBank(db: BankDb, o: BankOptions): Promise<void> {
  await db.query("CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)");
  await db.query("CREATE TABLE transfers (id TEXT PRIMARY KEY, src INT NOT NULL, dst INT NOT NULL, amount BIGINT NOT NULL)");
  const values: string[] = [];
  for (let i = 1; i <= o.accounts; i++) values.push(`(${i}, ${o.initialBalance})`);
  await db.query(`INSERT INTO accounts (id, balance) VALUES ${values.join(", ")}`);
}

/**
 * Transaction rollbacks a client should retry: serialization failure (Warren's only conflict
 * error) and deadlock (PostgreSQL's lock manager reports crossed debits as 40P01).
 */
const retryable = new Set(["40001", "40P01"]);

/** A connection lost mid-transaction (08006, 08003): like a transport failure, the outcome is unknown. */
const lostConnection = new Set(["08006", "08003"]);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function countError(report: BankReport, err: unknown): void {
  const key = err instanceof SqlError ? err.code : "transport";
  const e = report.otherErrors.get(key) ?? { count: 0, example: err instanceof Error ? err.message : String(err) };
  e.count++;
  report.otherErrors.set(key, e);
}

function transferStatements(id: string, t: Transfer): Statement[] {
  return [
    { sql: "UPDATE accounts SET balance = balance - $1 WHERE id = $2", params: [t.amount, t.src] },
    { sql: "UPDATE accounts SET balance = balance + $1 WHERE id = $2", params: [t.amount, t.dst] },
    { sql: "INSERT INTO transfers (id, src, dst, amount) VALUES ($1, $2, $3, $4)", params: [id, t.src, t.dst, t.amount] },
  ];
}

/**
 * Runs the workload; `connect` gives each client (and the auditor) its own connection. It runs for
 * o.durationMs, or, with `keepRunning`, for as long as that says so (a fault-injection run whose
 * length is not known in advance).
 */
export async function runBank(connect: () => Promise<BankDb>, o: BankOptions, keepRunning?: () => boolean): Promise<BankReport> {
  const report: BankReport = {
    options: o,
    committed: new Map(),
    ambiguous: new Map(),
    abandoned: new Map(),
    serializationRetries: 0,
    otherErrors: new Map(),
    auditorReads: 0,
    auditorWrongTotals: [],
    latenciesMs: [],
    committedSpansMs: [],
    elapsedMs: 0,
  };
  const expectedTotal = BigInt(o.accounts) * BigInt(o.initialBalance);
  const started = performance.now();
  const deadline = started + o.durationMs;
  const running = keepRunning ?? (() => performance.now() < deadline);

  const client = async (c: number): Promise<void> => {
    const db = await connect();
    try {
      for (let seq = 1; running(); seq++) {
        const id = `c${c}-${seq}`;
        const src = 1 + Math.floor(Math.random() * o.accounts);
        let dst = 1 + Math.floor(Math.random() * (o.accounts - 1));
        if (dst >= src) dst++;
        const t: Transfer = { src, dst, amount: 1 + Math.floor(Math.random() * o.amountMax) };
        const t0 = performance.now();
        let outcome: "committed" | "abandoned" | "ambiguous" = "abandoned";
        let uncertain = false; // an earlier attempt may have committed
        for (let attempt = 1; attempt <= o.attemptsMax; attempt++) {
          try {
            await db.transaction(transferStatements(id, t));
            outcome = "committed";
            break;
          } catch (err) {
            if (err instanceof SqlError && retryable.has(err.code)) {
              report.serializationRetries++;
              // Jittered backoff so the same conflicting pair does not collide again at once.
              await sleep(Math.random() * Math.min(50, 2 ** attempt));
              continue;
            }
            if (uncertain && err instanceof SqlError && err.code === "23505") {
              // The transfer id is already there: an earlier, unacknowledged attempt committed.
              outcome = "committed";
              break;
            }
            countError(report, err);
            if (err instanceof SqlError && err.code === "57P01") {
              // Storage unavailable (restarting, failing over): nothing was applied; try again.
              await sleep(100);
              continue;
            }
            if (err instanceof SqlError && !lostConnection.has(err.code)) {
              outcome = uncertain ? "ambiguous" : "abandoned"; // a definite failure: nothing committed
              break;
            }
            // Transport failure: the commit may or may not have happened; retry to find out.
            uncertain = true;
            outcome = "ambiguous";
            await sleep(100);
          }
        }
        if (outcome === "committed") {
          report.committed.set(id, t);
          report.latenciesMs.push(performance.now() - t0);
          report.committedSpansMs.push({ startedMs: t0, ackedMs: performance.now() });
        } else if (outcome === "ambiguous" || uncertain) report.ambiguous.set(id, t);
        else report.abandoned.set(id, t);
      }
    } finally {
      await db.close();
    }
  };

  const auditor = async (): Promise<void> => {
    const db = await connect();
    try {
      while (running()) {
        try {
          const rows = await db.query("SELECT sum(balance), count(*) FROM accounts");
          report.auditorReads++;
          const total = rows[0]?.[0];
          if (total === undefined || total === null || BigInt(total) !== expectedTotal || rows[0]?.[1] !== String(o.accounts)) {
            report.auditorWrongTotals.push(`sum ${total}, count ${rows[0]?.[1]}`);
          }
        } catch (err) {
          if (!(err instanceof SqlError && retryable.has(err.code))) countError(report, err);
        }
        await sleep(50);
      }
    } finally {
      await db.close();
    }
  };

  await Promise.all([...Array.from({ length: o.clients }, (_, c) => client(c + 1)), auditor()]);
  report.elapsedMs = performance.now() - started;
  return report;
}

/** Rows of the transfers table, read in pages so no single response is large. */
async function readTransfers(db: BankDb): Promise<Map<string, Transfer>> {
  const pageRowsMax = 5_000;
  const out = new Map<string, Transfer>();
  let after = "";
  for (;;) {
    const rows = await db.query(
      "SELECT id, src, dst, amount FROM transfers WHERE id > $1 ORDER BY id LIMIT $2",
      [after, pageRowsMax],
    );
    for (const [id, src, dst, amount] of rows) {
      out.set(id!, { src: Number(src), dst: Number(dst), amount: Number(amount) });
    }
    if (rows.length < pageRowsMax) return out;
    after = rows[rows.length - 1]![0]!;
  }
}

/** Checks the end state; returns the problems found (empty when everything holds). */
export async function verifyBank(db: BankDb, report: BankReport): Promise<string[]> {
  const o = report.options;
  const problems: string[] = [];
  const accountRows = await db.query("SELECT id, balance FROM accounts ORDER BY id");
  const balances = new Map(accountRows.map(([id, b]) => [Number(id), BigInt(b!)]));
  if (balances.size !== o.accounts) problems.push(`expected ${o.accounts} accounts, found ${balances.size}`);
  let total = 0n;
  for (const b of balances.values()) total += b;
  const expectedTotal = BigInt(o.accounts) * BigInt(o.initialBalance);
  if (total !== expectedTotal) problems.push(`total balance is ${total}, expected ${expectedTotal}`);

  const table = await readTransfers(db);
  const missing: string[] = [];
  for (const [id, t] of report.committed) {
    const row = table.get(id);
    if (!row) missing.push(id);
    else if (row.src !== t.src || row.dst !== t.dst || row.amount !== t.amount) {
      problems.push(`transfer ${id} is ${JSON.stringify(row)} in the table, but ${JSON.stringify(t)} was committed`);
    }
  }
  if (missing.length > 0) problems.push(`${missing.length} committed transfers are missing, e.g. ${missing.slice(0, 5).join(", ")}`);
  const unexpected = [...table.keys()].filter((id) => !report.committed.has(id) && !report.ambiguous.has(id));
  if (unexpected.length > 0) {
    problems.push(`${unexpected.length} transfers are in the table but never committed, e.g. ${unexpected.slice(0, 5).join(", ")}`);
  }

  const expected = new Map<number, bigint>();
  for (let i = 1; i <= o.accounts; i++) expected.set(i, BigInt(o.initialBalance));
  for (const t of table.values()) {
    expected.set(t.src, (expected.get(t.src) ?? 0n) - BigInt(t.amount));
    expected.set(t.dst, (expected.get(t.dst) ?? 0n) + BigInt(t.amount));
  }
  const wrong: string[] = [];
  for (const [id, want] of expected) {
    const got = balances.get(id);
    if (got !== want) wrong.push(`account ${id}: ${got} instead of ${want}`);
  }
  if (wrong.length > 0) problems.push(`${wrong.length} balances disagree with the transfers, e.g. ${wrong.slice(0, 5).join("; ")}`);
  if (report.auditorWrongTotals.length > 0) {
    problems.push(`the auditor saw ${report.auditorWrongTotals.length} wrong totals, e.g. ${report.auditorWrongTotals.slice(0, 3).join("; ")}`);
  }
  return problems;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function summarizeBank(r: BankReport): string {
  const lat = [...r.latenciesMs].sort((a, b) => a - b);
  const other = [...r.otherErrors].map(([k, v]) => `${k}×${v.count} (${v.example.slice(0, 80)})`).join(", ");
  return (
    `${r.committed.size} transfers committed in ${(r.elapsedMs / 1000).toFixed(1)} s ` +
    `(${(r.committed.size / (r.elapsedMs / 1000)).toFixed(1)}/s), p50 ${percentile(lat, 50).toFixed(1)} ms, ` +
    `p99 ${percentile(lat, 99).toFixed(1)} ms; ${r.serializationRetries} retries on 40001/40P01, ` +
    `${r.abandoned.size} abandoned, ${r.ambiguous.size} ambiguous; auditor ${r.auditorReads} reads` +
    (other ? `; other errors: ${other}` : "")
  );
}
