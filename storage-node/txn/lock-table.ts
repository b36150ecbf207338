// The HTTP thread's lock table: per-key locks held by transactions, FIFO wait queues, deadlock
// detection, and the liveness of every transaction that holds something (heartbeats).
//
// Locks are unreplicated and in memory (as CockroachDB's unreplicated locks): they order writers,
// they do not carry correctness. Serializability comes from commit validation (mvcc/apply.ts), which
// still checks every read span and written key; a lock lost in a crash therefore costs at most a
// retry, never a wrong answer. Intents (txn/intents.ts) are durable; a transaction with intents is
// aborted at start-up after a crash because its locks are gone.
//
// Deadlocks: a transaction about to wait adds edges "waiter -> every holder and every waiter ahead
// of it in the queue". Edges are only ever added at that moment (granting a lock makes a waiter
// ahead a holder: an edge that existed already), so checking for a cycle there finds every
// deadlock; the transaction that would close the cycle is the victim and is told at once.
import { hexOf } from "./txn-id.ts";

export type LockStrength = "exclusive" | "shared";

export interface TxnEntry {
  readonly id: string;
  readonly tenantId: number;
  readonly txnId: Uint8Array;
  lastSeenMs: number;
  /** Requests of this transaction being served: it is alive while any is. */
  busy: number;
  committing: boolean;
  aborted: boolean;
  /** It wrote intents (the writer has a record for it). */
  hasIntents: boolean;
  readonly locks: Set<string>;
  /** While waiting: what it waits for (holders and waiters ahead). */
  waitingFor: Set<TxnEntry> | null;
  /** Rejects its current wait (pushed, aborted). */
  cancelWait: ((err: Error) => void) | null;
  /** The key its current lock wait is for (null: none, or a wait for another transaction's intent). */
  waitingKey: string | null;
  /** Transactions waiting for this one to finish (they met one of its intents). */
  finishWaiters: Array<() => void>;
}

interface Waiter {
  txn: TxnEntry;
  strength: LockStrength;
  grant: () => void;
}

interface KeyLock {
  exclusive: TxnEntry | null;
  shared: Set<TxnEntry>;
  queue: Waiter[];
}

export class DeadlockError extends Error {}
export class LockWaitTimeout extends Error {}
/** A nowait lock was not free, or the wait was ended by the transaction's own `unlock`. */
export class LockNotAvailable extends Error {}
export class TxnAbortedError extends Error {}

export interface LockTableOptions {
  /** A transaction silent (no request, no heartbeat) this long is abandoned: waiters push it out. */
  heartbeatExpiryMs: number;
  /** A lock wait gives up after this long (the waiter gets `conflict`). */
  lockWaitMsMax: number;
  nowMs: () => number;
  /** Aborts an abandoned transaction (durably when it has intents), then releases its locks. */
  onAbandoned: (txn: TxnEntry) => void;
}

export class LockTable {
  private readonly txns = new Map<string, TxnEntry>();
  private readonly locks = new Map<string, KeyLock>();
  private readonly opts: LockTableOptions;
  /** Counters for stats and tests. */
  deadlocks = 0;
  waits = 0;
  pushes = 0;

  constructor(opts: LockTableOptions) {
    this.opts = opts;
  }

  static idOf(tenantId: number, txnId: Uint8Array): string {
    return `${tenantId}:${hexOf(txnId)}`;
  }

  get(tenantId: number, txnId: Uint8Array): TxnEntry | undefined {
    return this.txns.get(LockTable.idOf(tenantId, txnId));
  }

  /** The entry of a transaction, created on first use; touching it counts as a heartbeat. */
  entry(tenantId: number, txnId: Uint8Array): TxnEntry {
    const id = LockTable.idOf(tenantId, txnId);
    let e = this.txns.get(id);
    if (e === undefined) {
      e = { id, tenantId, txnId: txnId.slice(), lastSeenMs: this.opts.nowMs(), busy: 0, committing: false, aborted: false, hasIntents: false, locks: new Set(), waitingFor: null, cancelWait: null, waitingKey: null, finishWaiters: [] };
      this.txns.set(id, e);
    }
    e.lastSeenMs = this.opts.nowMs();
    return e;
  }

  get size(): number {
    return this.txns.size;
  }

  lockCount(): number {
    return this.locks.size;
  }

  private expired(t: TxnEntry, now: number): boolean {
    return !t.committing && t.busy === 0 && now - t.lastSeenMs > this.opts.heartbeatExpiryMs;
  }

  /**
   * Acquires the locks in order (each key once, the strongest strength asked). Waits in each key's
   * queue; throws DeadlockError (nothing more acquired, what is held stays held), LockWaitTimeout
   * or TxnAbortedError. With `nowait`, a lock that is not free at once throws LockNotAvailable.
   */
  async acquire(txn: TxnEntry, keys: Array<{ id: string; strength: LockStrength }>, granted?: string[], nowait = false): Promise<number> {
    let waited = 0;
    for (const k of keys) {
      if (txn.aborted) throw new TxnAbortedError("the transaction was aborted");
      const had = txn.locks.has(k.id);
      if (!this.tryGrant(txn, k.id, k.strength)) {
        if (nowait) throw new LockNotAvailable("the lock is held by another transaction");
        waited++;
        await this.wait(txn, k.id, k.strength);
      }
      if (!had) granted?.push(k.id);
    }
    return waited;
  }

  /**
   * Releases some of the transaction's locks (keys its durable intents now guard, or `unlock`);
   * with `endWait`, a wait of the transaction for one of those keys ends with LockNotAvailable.
   */
  release(txn: TxnEntry, keys: string[], endWait = false): void {
    if (endWait && txn.waitingKey !== null && keys.includes(txn.waitingKey)) txn.cancelWait?.(new LockNotAvailable("the wait for the lock was ended by unlock"));
    for (const key of keys) {
      if (!txn.locks.delete(key)) continue;
      const l = this.locks.get(key);
      if (l === undefined) continue;
      if (l.exclusive === txn) l.exclusive = null;
      l.shared.delete(txn);
      this.grantQueued(key, l);
    }
  }

  /**
   * Waits until `holder` finishes (commits or aborts): `txn` met one of its intents. The same
   * deadlock check as a lock wait (the edge is txn -> holder), and an abandoned holder is pushed.
   */
  waitForTxn(txn: TxnEntry, holder: TxnEntry): Promise<void> {
    if (holder === txn) return Promise.resolve();
    let onFinish: () => void = () => undefined;
    return this.park(txn, new Set([holder]), { cycle: "this transaction's intent", timeout: "another transaction's intent" }, {
      attach: (wake) => {
        onFinish = wake;
        holder.finishWaiters.push(onFinish);
      },
      detach: () => {
        const i = holder.finishWaiters.indexOf(onFinish);
        if (i >= 0) holder.finishWaiters.splice(i, 1);
      },
      blockersNow: () => [holder],
    });
  }

  /**
   * The one wait loop both kinds of wait share: refuse at once with 40P01 when waiting on
   * `blockers` would close a cycle; otherwise park `txn` until the wait's wake-up is called, it is
   * cancelled (txn.cancelWait), or it outlasts lockWaitMsMax. Meanwhile, for liveness, a blocker
   * whose heartbeat expired is pushed out (onAbandoned), and the waiter's own lastSeen stays fresh.
   */
  private park(
    txn: TxnEntry,
    blockers: Set<TxnEntry>,
    what: { cycle: string; timeout: string },
    w: { attach(wake: () => void): void; detach(failed: boolean): void; blockersNow(): Iterable<TxnEntry> },
  ): Promise<void> {
    if (this.reaches(blockers, txn)) {
      this.deadlocks++;
      return Promise.reject(new DeadlockError(`waiting for ${what.cycle} would close a cycle of transactions waiting for each other`));
    }
    this.waits++;
    return new Promise<void>((resolve, reject) => {
      const started = this.opts.nowMs();
      let timer: ReturnType<typeof setInterval> | null = null;
      const done = (err: Error | null): void => {
        if (timer !== null) clearInterval(timer);
        txn.waitingFor = null;
        txn.cancelWait = null;
        w.detach(err !== null);
        if (err === null) resolve();
        else reject(err);
      };
      w.attach(() => done(null));
      txn.waitingFor = blockers;
      txn.cancelWait = (err) => done(err);
      timer = setInterval(() => {
        const now = this.opts.nowMs();
        txn.lastSeenMs = now;
        for (const b of w.blockersNow()) {
          if (this.expired(b, now)) {
            this.pushes++;
            this.opts.onAbandoned(b);
          }
        }
        if (now - started > this.opts.lockWaitMsMax) done(new LockWaitTimeout(`waited more than ${this.opts.lockWaitMsMax} ms for ${what.timeout} (lockWaitMsMax)`));
      }, Math.max(20, Math.min(500, this.opts.heartbeatExpiryMs / 4)));
      (timer as { unref?: () => void }).unref?.();
    });
  }

  private lockOf(key: string): KeyLock {
    let l = this.locks.get(key);
    if (l === undefined) {
      l = { exclusive: null, shared: new Set(), queue: [] };
      this.locks.set(key, l);
    }
    return l;
  }

  private holds(txn: TxnEntry, l: KeyLock, strength: LockStrength): boolean {
    if (l.exclusive === txn) return true;
    return strength === "shared" && l.shared.has(txn);
  }

  private compatible(txn: TxnEntry, l: KeyLock, strength: LockStrength): boolean {
    if (l.exclusive !== null && l.exclusive !== txn) return false;
    if (strength === "shared") return true;
    for (const s of l.shared) if (s !== txn) return false;
    return true;
  }

  private give(txn: TxnEntry, key: string, l: KeyLock, strength: LockStrength): void {
    if (strength === "exclusive") {
      l.shared.delete(txn);
      l.exclusive = txn;
    } else if (l.exclusive !== txn) l.shared.add(txn);
    txn.locks.add(key);
  }

  private tryGrant(txn: TxnEntry, key: string, strength: LockStrength): boolean {
    const l = this.lockOf(key);
    if (this.holds(txn, l, strength)) return true;
    // FIFO: a newcomer waits behind queued waiters (no starvation of a waiting writer); a
    // transaction that already holds the key (upgrading) goes first.
    const holdsSome = l.exclusive === txn || l.shared.has(txn);
    if ((l.queue.length === 0 || holdsSome) && this.compatible(txn, l, strength)) {
      this.give(txn, key, l, strength);
      return true;
    }
    return false;
  }

  private blockers(txn: TxnEntry, l: KeyLock, strength: LockStrength, upTo: number): Set<TxnEntry> {
    const out = new Set<TxnEntry>();
    if (l.exclusive !== null && l.exclusive !== txn) out.add(l.exclusive);
    if (strength === "exclusive") for (const s of l.shared) if (s !== txn) out.add(s);
    for (let i = 0; i < upTo && i < l.queue.length; i++) if (l.queue[i]!.txn !== txn) out.add(l.queue[i]!.txn);
    return out;
  }

  /** True when `from` reaches `target` along waits-for edges. */
  private reaches(from: Set<TxnEntry>, target: TxnEntry): boolean {
    const seen = new Set<TxnEntry>();
    const stack = [...from];
    while (stack.length > 0) {
      const t = stack.pop()!;
      if (t === target) return true;
      if (seen.has(t)) continue;
      seen.add(t);
      if (t.waitingFor !== null) for (const n of t.waitingFor) stack.push(n);
    }
    return false;
  }

  private wait(txn: TxnEntry, key: string, strength: LockStrength): Promise<void> {
    const l = this.lockOf(key);
    let waiter: Waiter | null = null;
    return this.park(txn, this.blockers(txn, l, strength, l.queue.length), { cycle: "this lock", timeout: "a lock" }, {
      attach: (wake) => {
        waiter = { txn, strength, grant: wake };
        l.queue.push(waiter);
        txn.waitingKey = key;
      },
      detach: (failed) => {
        txn.waitingKey = null;
        const i = waiter === null ? -1 : l.queue.indexOf(waiter);
        if (i >= 0) l.queue.splice(i, 1);
        // Leaving the queue may let the waiters behind go.
        if (failed) this.grantQueued(key, l);
      },
      // Only those ahead of this waiter block it (the holders, and the queue before it).
      blockersNow: () => this.blockers(txn, l, strength, waiter === null ? 0 : l.queue.indexOf(waiter)),
    });
  }

  /** Grants queued waiters in order while they are compatible. */
  private grantQueued(key: string, l: KeyLock): void {
    while (l.queue.length > 0) {
      const w = l.queue[0]!;
      if (!this.compatible(w.txn, l, w.strength)) break;
      this.give(w.txn, key, l, w.strength);
      w.grant();
    }
    // Waiters further back now wait for the new holders (edges that already existed).
    for (const w of l.queue) w.txn.waitingFor = this.blockers(w.txn, l, w.strength, l.queue.indexOf(w));
    if (l.exclusive === null && l.shared.size === 0 && l.queue.length === 0) this.locks.delete(key);
  }

  /** Releases every lock of the transaction and forgets it (commit, abort, push). */
  finish(txn: TxnEntry): void {
    txn.cancelWait?.(new TxnAbortedError("the transaction ended while waiting for a lock"));
    for (const key of txn.locks) {
      const l = this.locks.get(key);
      if (l === undefined) continue;
      if (l.exclusive === txn) l.exclusive = null;
      l.shared.delete(txn);
      this.grantQueued(key, l);
    }
    txn.locks.clear();
    if (this.txns.delete(txn.id) && txn.hasIntents) {
      const n = (this.intentTxns.get(txn.tenantId) ?? 1) - 1;
      if (n <= 0) this.intentTxns.delete(txn.tenantId);
      else this.intentTxns.set(txn.tenantId, n);
    }
    const waiters = txn.finishWaiters.splice(0);
    for (const w of waiters) w();
  }

  private readonly intentTxns = new Map<number, number>();

  /** The transaction now has durable intents (its first txnWrite succeeded). */
  markIntents(t: TxnEntry): void {
    if (t.hasIntents) return;
    t.hasIntents = true;
    this.intentTxns.set(t.tenantId, (this.intentTxns.get(t.tenantId) ?? 0) + 1);
  }

  /** Live transactions of the tenant with intents: writers look for intents on disk only when there are some. */
  intentHolders(tenantId: number): number {
    return this.intentTxns.get(tenantId) ?? 0;
  }

  /** Transactions silent past the expiry with nothing in flight (the sweeper aborts them). */
  abandoned(): TxnEntry[] {
    const now = this.opts.nowMs();
    const out: TxnEntry[] = [];
    for (const t of this.txns.values()) if (this.expired(t, now)) out.push(t);
    return out;
  }
}
