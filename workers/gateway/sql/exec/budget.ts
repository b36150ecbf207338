// The budget of one running statement: its deadline (statement_timeout), a cancel flag, counted
// work, and cooperative yielding.
//
// A gateway isolate serves many requests on one thread (locally, workerd runs every isolate on
// one thread), so a statement that computes without returning to the event loop stops everyone.
// Operators therefore count work units — roughly one row through one operator, one iteration of
// an inner loop, one element moved by a merge — with `charge(n)`, which is a counter increment;
// when it returns true the operator awaits `pause()`, a macrotask (microtasks never let another
// request run), after which the deadline and the cancel flag are checked.
//
// The cadence is counted, not timed: in production Workers the clock does not advance while
// JavaScript runs (Date.now() / performance.now() move only at I/O and timer events, a Spectre
// mitigation), so reading it mid-computation tells nothing. The clock is read after each
// resumption instead, and the slice just finished calibrates how many units make
// `sqlLimits.yieldSliceMs` of work (a unit costs a fraction of a microsecond in a count(*) over
// integers, ~10 µs in a generate_series over numeric; one fixed count could not suit both).
//
// CPU time (for Request Units) is the time the statement held the thread: from each resumption
// (start, after a yield, after I/O) to the next point where it gives the thread up. Where the clock
// runs during execution (Node, local workerd — measured) that is exact to the clock's resolution
// for a statement running alone; statements of one isolate that run at the same time interleave
// on the microtask queue, so their slices overlap, and each is charged its share of the
// overlapping time (thread-ledger.ts), not the whole of it.
// Where it is frozen (production Workers), a slice ended by a yield is measured from the pause to
// the resumption (over by the timer's latency and by whatever else ran in between), and a slice
// ended by I/O, which shows no elapsed time, is estimated from its work units at the rate the
// statement's own measured slices showed.
import { PgError } from "../../../../common/errors.ts";
import type { StatementGuard } from "../../txn/txn.ts";
import { sqlLimits } from "../limits.ts";
import type { LedgerEntry, ThreadLedger } from "./thread-ledger.ts";

/** Figures of one statement, for the session's usage counters and Request Units. */
export interface StatementStats {
  /** Time the statement held the isolate's thread, its share where statements overlapped (see the file comment for the method). */
  cpuMs: number;
  /** Wall time from start to end. */
  wallMs: number;
  /** Returns to the event loop made by `pause()`. */
  yields: number;
  /** The longest stretch the statement held the thread without returning to the event loop. */
  maxSliceMs: number;
  /** Work units counted. */
  workUnits: number;
}

export interface BudgetOptions {
  /** statement_timeout in ms (already resolved: never 0). */
  timeoutMs: number;
  /**
   * The isolate's ledger (thread-ledger.ts) for a statement that is charged for its CPU time and
   * runs beside others: its slices then take their share of the thread's time. Without one the
   * budget measures its slices as if it ran alone (a throwaway budget for describing a statement,
   * tests); such a budget can never be left open in the ledger to dilute everyone's share.
   */
  ledger?: ThreadLedger;
}

/**
 * A return to the event loop. Inside workerd: setTimeout(0). Measured there: a setTimeout(0) or
 * scheduler.wait(0) round trip takes 1.2–1.8 ms of wall time on an idle isolate — the timer's
 * granularity, not CPU: the thread is free for others meanwhile; a MessageChannel round trip takes
 * ~50 µs but starves timers and I/O exactly as microtasks do (a 5 ms timer and a request fired only
 * after 500 ms of computation returning through MessageChannel); setImmediate lets requests run but
 * starves timers (a 1 ms timer fired 7 s late). In Node (tests, tools): setImmediate, which runs
 * after due timers and I/O, where setTimeout(0) is clamped to 1 ms.
 */
function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown; navigator?: { userAgent?: string } };
  return new Promise<void>((resolve) => {
    if (g.navigator?.userAgent !== "Cloudflare-Workers" && typeof g.setImmediate === "function") g.setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

/**
 * Whether this isolate's clock has been seen to move while JavaScript ran (a slice measured more
 * than zero): true in Node and local workerd (1 ms grain there), never in production Workers, whose
 * clock moves only at I/O and timer events. Until it is seen, a slice that measures zero is taken to
 * be a frozen clock's, not a short slice.
 */
let clockRunsWhileComputing = false;

/** A wait at least this long (ms) went through the event loop (microtask chains take microseconds). */
const RETURNED_TO_EVENT_LOOP_MS = 1;

export class StatementBudget implements StatementGuard {
  readonly timeoutMs: number;
  readonly startedAtMs: number;
  private readonly deadlineMs: number;
  private canceled = false;
  /** Work units counted so far, and the count at which the next pause is due. */
  private units = 0;
  private pauseAtUnits: number = sqlLimits.yieldUnitsInitial;
  private unitsPerSlice: number = sqlLimits.yieldUnitsInitial;
  /** The current slice of held time: when it began, and the unit count then. */
  private sliceStart: number;
  private sliceStartUnits = 0;
  /** Nesting of suspend() (a statement may wait on two things at once), and when the wait began. */
  private suspended = 0;
  private suspendedAt = 0;
  /** Measured cost of one unit (ms), from slices long enough to time; null until one was. */
  private msPerUnit: number | null = null;
  private cpu = 0;
  private maxSlice = 0;
  private yieldCount = 0;
  private endedAtMs: number | null = null;
  /** Wakes a pending sleep() early (cancel). */
  private wake: (() => void) | null = null;
  /** This statement's share of the thread's time in its current slice (thread-ledger.ts). */
  private sliceShareMs = 0;
  /** The ledger and its entry in it, or null when it has none. */
  private readonly ledger: ThreadLedger | null;
  private readonly ledgerEntry: LedgerEntry;

  constructor(o: BudgetOptions) {
    if (!(o.timeoutMs > 0)) throw new PgError("internal_error", `statement budget needs a positive timeout, got ${o.timeoutMs}`);
    this.timeoutMs = o.timeoutMs;
    this.startedAtMs = Date.now();
    this.deadlineMs = this.startedAtMs + o.timeoutMs;
    this.sliceStart = performance.now();
    this.ledger = o.ledger ?? null;
    this.ledgerEntry = {
      credit: (ms) => {
        this.sliceShareMs += ms;
      },
      // Past its deadline (and a second for the check that notices it) a statement has ended or
      // been abandoned; its slice must stop taking a share.
      abandonAfterMs: this.sliceStart + o.timeoutMs + sqlLimits.ledgerAbandonGraceMs,
    };
    this.beginSlice(this.sliceStart);
  }

  /** Counts `units` of work; true when the caller should `await pause()` before going on. */
  charge(units: number): boolean {
    this.units += units;
    return this.units >= this.pauseAtUnits;
  }

  /**
   * Returns to the event loop (other requests, timers, a cancel arriving), then throws 57014 if
   * the statement was canceled or is past its deadline.
   */
  async pause(): Promise<void> {
    const t0 = performance.now();
    const held = t0 - this.sliceStart;
    if (held > 0) clockRunsWhileComputing = true;
    const own = this.endSlice(t0, !clockRunsWhileComputing);
    await macrotask();
    const t1 = performance.now();
    const afterEnd = this.beginSlice(t1);
    // A frozen clock shows no time for the work just done; the resumption's time bounds it. A
    // clock that runs but shows none (a slice shorter than its 1 ms grain in workerd) is not
    // frozen: the ledger's share is right on average, where the resumption's time would add every
    // other statement's work done meanwhile (8 concurrent statements were charged 4x the wall time).
    // With a frozen clock and a ledger, the statement's share of the time from its pause to the
    // next reading that moved (thread-ledger.ts) is the slice: it holds what ran until the next
    // event, shared with the statements that paused at the same reading, not every statement's work.
    const slice = clockRunsWhileComputing ? held : this.ledger !== null ? afterEnd : t1 - t0;
    this.cpu += clockRunsWhileComputing ? own : slice;
    // The cadence and the longest slice are about how long the thread went without a return to
    // the event loop: the whole stretch, whoever else's work it held.
    if (slice > this.maxSlice) this.maxSlice = slice;
    this.calibrate(this.units - this.sliceStartUnits, slice);
    this.sliceStart = t1;
    this.sliceStartUnits = this.units;
    this.pauseAtUnits = this.units + this.unitsPerSlice;
    this.yieldCount++;
    this.check();
  }

  check(): void {
    if (this.canceled) throw new PgError("query_canceled", "canceling statement due to user request");
    if (Date.now() > this.deadlineMs) throw new PgError("query_canceled", "canceling statement due to statement timeout");
  }

  suspend(): void {
    if (this.suspended++ > 0) return;
    this.suspendedAt = performance.now();
    const held = this.suspendedAt - this.sliceStart;
    const own = this.endSlice(this.suspendedAt);
    const units = this.units - this.sliceStartUnits;
    if (held > 0) clockRunsWhileComputing = true;
    if (clockRunsWhileComputing) this.cpu += own;
    if (held > 0) {
      if (held > this.maxSlice) this.maxSlice = held;
      this.calibrate(units, held);
    } else if (!clockRunsWhileComputing && this.msPerUnit !== null) {
      this.cpu += units * this.msPerUnit;
    }
  }

  resume(): void {
    if (this.suspended === 0) throw new PgError("internal_error", "statement budget resumed without a suspend");
    if (--this.suspended > 0) return;
    const now = performance.now();
    // A wait that took real time (storage I/O, a slow client) returned to the event loop: other
    // requests ran, so a full slice starts over and the statement need not pause again soon. A
    // wait answered by microtasks alone (an in-memory store) shows no time and lets nothing else
    // run: the next pause stays due where it was. (Production's frozen clock advances exactly at
    // I/O, so there too only real I/O shows time.)
    if (now - this.suspendedAt >= RETURNED_TO_EVENT_LOOP_MS) this.pauseAtUnits = this.units + this.unitsPerSlice;
    this.beginSlice(now);
    this.sliceStart = now;
    this.sliceStartUnits = this.units;
  }

  /**
   * Cancels the statement: it fails with 57014 "canceling statement due to user request" at its
   * next check point (a pending sleep wakes at once).
   */
  cancel(): void {
    this.canceled = true;
    this.wake?.();
  }

  get isCanceled(): boolean {
    return this.canceled;
  }

  /** Waits `ms` (pg_sleep), ending early with 57014 on cancel or at the deadline. */
  async sleep(ms: number): Promise<void> {
    this.check();
    const until = Date.now() + Math.max(0, ms);
    this.suspend();
    try {
      for (;;) {
        // Wake at the deadline rather than sleep past it; the check below then reports it.
        const left = Math.min(until, this.deadlineMs + 1) - Date.now();
        if (left <= 0 || this.canceled) break;
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            this.wake = null;
            resolve();
          };
          const timer = setTimeout(done, left);
          this.wake = done;
        });
      }
    } finally {
      this.resume();
    }
    this.check();
  }

  /**
   * Waits for `pending` (a lock wait on the storage node), ending early on cancel or at the
   * deadline: `interrupt` then runs (it must end the wait on the node, which may also have just
   * granted the lock: it must release it then), and 57014 is thrown. `pending`'s later outcome is
   * ignored.
   */
  async waitFor<T>(pending: Promise<T>, interrupt: () => Promise<void>): Promise<T> {
    this.check();
    this.suspend();
    let timer: ReturnType<typeof setTimeout> | null = null;
    try {
      const interrupted = new Promise<{ interrupted: true }>((resolve) => {
        const done = (): void => resolve({ interrupted: true });
        this.wake = done;
        // Wake just past the deadline so that check() reports it.
        timer = setTimeout(done, Math.max(0, this.deadlineMs + 1 - Date.now()));
      });
      const r = await Promise.race([pending.then((value) => ({ interrupted: false as const, value })), interrupted]);
      if (!r.interrupted) return r.value;
      pending.catch(() => undefined);
      await interrupt();
      this.check();
      throw new PgError("internal_error", "a wait was interrupted with neither a cancel nor a deadline");
    } finally {
      if (timer !== null) clearTimeout(timer);
      this.wake = null;
      this.resume();
    }
  }

  /** Ends the statement's accounting; stats() stays fixed afterwards. */
  finish(): StatementStats {
    if (this.endedAtMs === null) {
      if (this.suspended === 0) this.suspend();
      this.suspended = 1;
      this.endedAtMs = Date.now();
    }
    return this.stats();
  }

  stats(): StatementStats {
    return { cpuMs: this.cpu, wallMs: (this.endedAtMs ?? Date.now()) - this.startedAtMs, yields: this.yieldCount, workUnits: this.units, maxSliceMs: this.maxSlice };
  }

  /** Units per pause for the next slice: what `yieldSliceMs` took at the rate just measured. */
  private calibrate(units: number, ms: number): void {
    if (units < sqlLimits.yieldUnitsMin || ms <= 0) return;
    const rate = ms / units;
    this.msPerUnit = rate;
    const want = sqlLimits.yieldSliceMs / rate;
    // At most 4x up or down per slice: one odd slice (a GC pause, another request run in
    // between) must not swing the cadence far.
    const next = Math.min(this.unitsPerSlice * 4, Math.max(this.unitsPerSlice / 4, want));
    this.unitsPerSlice = Math.round(Math.min(sqlLimits.yieldUnitsMax, Math.max(sqlLimits.yieldUnitsMin, next)));
  }

  /** Begins a slice in the ledger; returns what the ledger credited since the last slice ended (an unmeasured slice's share). */
  private beginSlice(nowMs: number): number {
    this.ledger?.begin(this.ledgerEntry, nowMs);
    const sinceEnd = this.sliceShareMs;
    this.sliceShareMs = 0;
    return sinceEnd;
  }

  /** Ends the current slice in the ledger (`unmeasured`: see ThreadLedger.end); returns this statement's share of it (ms). */
  private endSlice(nowMs: number, unmeasured = false): number {
    if (this.ledger === null) return nowMs - this.sliceStart;
    this.ledger.end(this.ledgerEntry, nowMs, unmeasured);
    const own = this.sliceShareMs;
    this.sliceShareMs = 0;
    return own;
  }

  /** Units per slice at the current calibration (tests and the overhead script read it). */
  get cadenceUnits(): number {
    return this.unitsPerSlice;
  }
}
