// The isolate's one thread, shared out among the statements that hold it, for CPU accounting.
//
// A statement measures its CPU as the time between the start of its slice (it began, returned
// from a pause, or came back from I/O) and the end of it (the next pause or I/O wait). That is
// exact while it alone runs. But statements of one isolate can interleave: a slice also ends only
// where the statement gives the thread up through its budget, and between two of its own `await`s
// on already-settled promises (microtasks) another statement's continuation may run — several
// statements that start in one batch of requests, or whose timers workerd fires in one batch, take
// turns at every `await`, so each one's slice also spans the others' work. Measured inside workerd
// with 8 concurrent count(*) statements: 1–2 % of the time charged was such overlap (up to all
// eight open at once); without the ledger each open slice would count
// it whole. (The far larger error there — 8 statements charged 22.8 s in 5.8 s of wall time — was
// budget.ts taking workerd's 1 ms clock grain for a frozen clock; see clockRunsWhileComputing.)
//
// The ledger fixes that without timing each microtask: time between two slice boundaries (of any
// statement) is divided equally among the slices open during it. One statement alone gets all of
// it, as before; n interleaved statements get 1/n each; the sum charged can never exceed the wall
// time the slices covered. Equal shares are an approximation of who did what inside an
// interleaved stretch (the statements' per-step costs may differ), but the total is right and
// every statement pays for the stretch in proportion to its presence in it.
//
//   time ──────────────────────────────────────────────►
//   A    [=========== open ===========]
//   B              [======= open =======]
//   share  A: dt₁   A,B: dt₂/2 each    B: dt₃
//
// One ledger per isolate (module state): everything in it runs on the isolate's one thread.

/** A slice holder the ledger credits with its share of the thread's time. */
export interface LedgerEntry {
  /** Adds `ms` to the entry's current slice. */
  credit(ms: number): void;
  /** After this time (performance.now() ms) an open slice is abandoned and no longer shares (its statement is past its deadline). */
  readonly abandonAfterMs: number;
}

export class ThreadLedger {
  private readonly open = new Set<LedgerEntry>();
  /** Slices that ended at the current reading of a frozen clock, whose length the next reading shows. */
  private readonly unmeasured = new Set<LedgerEntry>();
  private lastMs = 0;

  /** A slice of `e` begins at `nowMs`. */
  begin(e: LedgerEntry, nowMs: number): void {
    this.settle(nowMs);
    // Begun again before the frozen clock moved: no time of its last slice can be told apart.
    this.unmeasured.delete(e);
    this.open.add(e);
  }

  /**
   * The slice of `e` ends at `nowMs` (it has been credited its share up to then). `unmeasured`: the
   * clock is frozen while JavaScript runs (production Workers), so the slice showed no length; it
   * then also shares the time from `nowMs` to the next reading that moved (the thread ran it, or
   * whoever ended with it at this reading, until the next event), credited to `e` at that reading.
   * That time includes any idle wait for the next event (the over-estimate a frozen clock forces),
   * but it is shared, never counted once per statement.
   */
  end(e: LedgerEntry, nowMs: number, unmeasured = false): void {
    this.settle(nowMs);
    this.open.delete(e);
    if (unmeasured) this.unmeasured.add(e);
  }

  /** Slices open now (tests). */
  get openSlices(): number {
    return this.open.size;
  }

  /** Shares the time since the last boundary among the slices open during it (and unmeasured ones before it). */
  private settle(nowMs: number): void {
    const dt = nowMs - this.lastMs;
    if (!(dt > 0)) return;
    this.lastMs = nowMs;
    // A slice left open by a statement that never finished (a throwaway budget, a bug) must not
    // dilute everyone's share forever: past its statement's deadline it is dropped.
    for (const e of this.open) if (nowMs > e.abandonAfterMs) this.open.delete(e);
    const n = this.open.size + this.unmeasured.size;
    if (n === 0) return;
    const share = dt / n;
    for (const e of this.open) e.credit(share);
    for (const e of this.unmeasured) e.credit(share);
    this.unmeasured.clear();
  }
}

/** The isolate's ledger. */
export const threadLedger = new ThreadLedger();
