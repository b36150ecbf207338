// Turns on the isolate's thread for computing statements: one slice per return to the event loop,
// whatever the number of statements computing.
//
// Each tenant has its own gateway isolate, and locally workerd runs every isolate (the edge and
// every tenant's gateway) on one thread. A statement that has used its slice (budget.ts) returns to
// the event loop. If every computing statement just returned on its own timer, a tenant running
// eight statements would have eight slices ready each time round the event loop, and another
// tenant's request (each hop of it: the edge, its gateway, the storage call) would wait behind all
// eight. So the statements of one isolate take turns instead:
//
//   pause() ─► join the back of the line ─► wait a macrotask ─► at the head of the line, and no
//              slice of this isolate ended since the wait began? ─► yes: resume, compute one slice
//                                                               └► no: wait another macrotask
//
// So between two slices of one isolate there is always a whole return to the event loop in which
// no slice of it runs: whatever arrived meanwhile (other tenants' requests, storage answers) goes
// first. A tenant then costs the thread about one slice per round, as one computing statement
// would, whatever its concurrency; its statements are served in arrival order (round robin). A
// statement resumed by I/O (a storage answer) or just started is not in the line: it computes at
// most one slice before it joins it, which bounds what it adds.
//
// Each waiter waits on a macrotask of its own rather than being resumed by another statement's:
// in workerd a timer belongs to the request that set it (it is dropped when that request ends), and
// a request whose only pending work is a promise another request would resolve is ended as hung
// ("The Workers runtime canceled this request because it detected that your Worker's code had
// hung"). Measured with 200 concurrent /sql requests when one shared timer resumed the line.
//
// The resumption must be a macrotask, not a microtask: a promise resolved from a microtask runs in
// the same turn, and no other request or timer would get in between. Which macrotask: see
// `macrotask()` below.

/**
 * A return to the event loop. Inside workerd: setTimeout(0). Measured there (exec/budget.worker.test.ts
 * prints it): a setTimeout(0) or scheduler.wait(0) round trip takes 1.2–1.8 ms of wall time on an
 * idle isolate — the timer's granularity, not CPU: the thread is free for others meanwhile; a
 * MessageChannel round trip takes ~50 µs but starves timers and I/O exactly as microtasks do (a
 * 5 ms timer and a request fired only after 500 ms of computation with MessageChannel returns); and
 * setImmediate lets requests run but starves timers (a 1 ms timer fired 7 s late). In Node (tests,
 * tools): setImmediate, which runs after due timers and I/O, where setTimeout(0) is clamped to 1 ms.
 */
export function macrotask(): Promise<void> {
  const g = globalThis as { setImmediate?: (cb: () => void) => unknown; navigator?: { userAgent?: string } };
  return new Promise<void>((resolve) => {
    if (g.navigator?.userAgent !== "Cloudflare-Workers" && typeof g.setImmediate === "function") g.setImmediate(resolve);
    else setTimeout(resolve, 0);
  });
}

export class CpuTurns {
  /** Waiters, in arrival order; each is a distinct object. */
  private readonly line: object[] = [];
  /**
   * Moves at every pause (end of a slice) and every turn taken (start of one), so a waiter can tell
   * whether a slice of this isolate ran while it waited. Waits on I/O do not move it: a statement
   * that pauses joins the line and cannot pause again before its turn, so the count cannot keep
   * moving and starve the head of the line, where a stream of short I/O-bound statements could.
   */
  private epoch = 0;
  private readonly next: () => Promise<void>;

  constructor(next: () => Promise<void> = macrotask) {
    this.next = next;
  }

  /**
   * Ends the caller's slice and gives the thread up; resolves in a later macrotask when it is the
   * caller's turn again. `leave`: checked at every wake; true lets the caller leave the line at
   * once (a canceled or timed-out statement need not wait its turn to fail).
   */
  async yieldTurn(leave?: () => boolean): Promise<void> {
    const me = {};
    this.line.push(me);
    this.epoch++;
    try {
      for (;;) {
        const seen = this.epoch;
        await this.next();
        if (leave?.() === true) return;
        if (this.line[0] === me && this.epoch === seen) {
          this.epoch++;
          return;
        }
      }
    } finally {
      const at = this.line.indexOf(me);
      if (at >= 0) this.line.splice(at, 1);
    }
  }

  /** Statements waiting for their turn (tests, diagnostics). */
  get waiting(): number {
    return this.line.length;
  }
}

/** The isolate's turns (a module is instantiated once per isolate). */
export const isolateCpuTurns = new CpuTurns();
