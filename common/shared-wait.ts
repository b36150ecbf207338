// Waiting, from one request, for something another request is doing (workerd).
//
// Several requests of one isolate share work: a tenant's sessions share its quota grant and take
// turns at admission, concurrent logins share one router lookup. workerd gives such sharing two
// traps, and both ended in a client waiting forever (issue 8's pgbench -T hang):
//
// 1. Continuing in the wrong request. Under load, pgbench -S sessions queued at admission behind
//    another session's grant request failed their next KV call with "Cannot perform I/O on behalf
//    of a different request", and the error reply itself never reached the client (the send from
//    there was dropped): their code ran in another session's request. workerd tags each promise
//    with the request that made it and reroutes a continuation that crosses requests, so a plain
//    await does not always show this (a test that queues four sessions behind a held grant
//    request passes either way); what was observed is the failure above, whatever the path.
// 2. When A ends (its client went away) while the shared work is in flight, workerd cancels A's
//    pending I/O: the promise never settles, and whoever waits on it waits forever. Proven:
//    test/clients/queued-sessions.test.ts's leaving client left the other session with no answer
//    for good before this module was used.
//
// The rule, then: a request never awaits a promise another request made. It waits on a promise
// of its own (created here, in the caller's request), which the other side settles; workerd runs
// the continuation of a promise settled from another request in the request that created it, so
// the waiter resumes in its own request. And every such wait has a bound of its own, a timer
// armed in the waiter's request, because the other request may never settle anything.

/** Arms a timer; returns the function that disarms it. Injectable so tests can drive the bound. */
export type SetTimer = (ms: number, f: () => void) => () => void;

export const realTimer: SetTimer = (ms, f) => {
  const t = setTimeout(f, ms);
  return () => clearTimeout(t);
};

/**
 * Settles like `shared` (which another request may have made), but as a promise of the caller's
 * request, so the caller resumes in its own request; rejects with `timeout()` after `ms` if
 * `shared` has not settled by then (it may never: see trap 2 above).
 */
export function awaitShared<T>(shared: PromiseLike<T>, ms: number, timeout: () => Error, setTimer: SetTimer = realTimer): Promise<T> {
  let disarm: () => void = () => {};
  const own = new Promise<T>((resolve, reject) => {
    disarm = setTimer(Math.max(0, ms), () => reject(timeout()));
    shared.then(resolve, reject);
  });
  // Runs in the caller's request (own was made there), so the timer is disarmed by its owner.
  return own.finally(() => disarm());
}

/**
 * Waiters that another request wakes. Each wait is a promise made by the waiter, bounded by the
 * waiter's own timer: it resolves true when woken, false when `ms` passed first.
 */
export class WakeList {
  private readonly waiters = new Set<() => void>();
  private readonly setTimer: SetTimer;

  constructor(setTimer: SetTimer = realTimer) {
    this.setTimer = setTimer;
  }

  get size(): number {
    return this.waiters.size;
  }

  wait(ms: number): Promise<boolean> {
    let disarm: () => void = () => {};
    let wake!: () => void;
    const own = new Promise<boolean>((resolve) => {
      wake = () => resolve(true);
      this.waiters.add(wake);
      disarm = this.setTimer(Math.max(0, ms), () => resolve(false));
    });
    return own.finally(() => {
      this.waiters.delete(wake);
      disarm();
    });
  }

  /** Wakes every waiter (each resumes in its own request). */
  wakeAll(): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const wake of all) wake();
  }
}

/**
 * One call per key shared by whoever asks while it runs (a router lookup several logins need).
 * Each caller waits through awaitShared, in its own request, until `ms` after the call started;
 * a call older than that is forgotten, so the next caller starts a new one rather than waiting on
 * a call whose request ended (and which will never settle).
 */
export class SharedCalls<V> {
  private readonly running = new Map<string, { done: Promise<V>; sinceMs: number }>();
  private readonly ms: number;
  private readonly timeout: (key: string) => Error;
  private readonly nowMs: () => number;
  private readonly setTimer: SetTimer;

  constructor(ms: number, timeout: (key: string) => Error, nowMs: () => number = Date.now, setTimer: SetTimer = realTimer) {
    this.ms = ms;
    this.timeout = timeout;
    this.nowMs = nowMs;
    this.setTimer = setTimer;
  }

  /** Calls in flight (tests). */
  get size(): number {
    return this.running.size;
  }

  run(key: string, call: () => Promise<V>): Promise<V> {
    const now = this.nowMs();
    let r = this.running.get(key);
    if (r !== undefined && now - r.sinceMs >= this.ms) {
      this.running.delete(key);
      r = undefined;
    }
    if (r === undefined) {
      const fresh: { done: Promise<V>; sinceMs: number } = { done: Promise.resolve(undefined as V), sinceMs: now };
      fresh.done = (Promise.resolve().then(call) as Promise<V>).finally(() => {
        if (this.running.get(key) === fresh) this.running.delete(key);
      });
      this.running.set(key, fresh);
      r = fresh;
    }
    return awaitShared(r.done, r.sinceMs + this.ms - now, () => this.timeout(key), this.setTimer);
  }
}
