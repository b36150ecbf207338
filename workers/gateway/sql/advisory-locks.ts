// Advisory locks (pg_advisory_lock and its family), per tenant, on the storage node's lock table.
//
// An advisory lock is a lock on a key that is never written: /<tenant>/ADVISORY_LOCK_TABLE_ID/…
// (keys/doc.ts). The storage node's lock table (storage-node/txn/lock-table.ts) already queues
// waiters in FIFO order, detects deadlocks, and frees what a vanished gateway held once its
// heartbeat stops; the key carries the tenant prefix, so tenant A's lock 1 and tenant B's lock 1
// are different keys and never meet, and a lock is seen by every gateway isolate of the tenant.
//
//   - Transaction level (pg_advisory_xact_lock…): the key is locked by the session's current
//     transaction itself, so the node releases it exactly when that transaction commits or aborts.
//   - Session level (pg_advisory_lock…): the key is locked by the session's *holder*, a node
//     transaction that never reads nor writes anything and is never committed: it lives while the
//     session heartbeats it, `unlock` releases one key of it, and the session's end aborts it (a
//     gateway that dies stops heartbeating, and the node frees the locks txnHeartbeatExpiryMs later).
//     One holder for all of a session's locks, so a cycle of sessions waiting for each other's
//     locks is a cycle in the node's waits-for graph: 40P01, as in PostgreSQL. Its lock bytes carry
//     LockFlag.keepOnDeadlock, so that 40P01 does not drop the session's other locks.
//
// A blocking wait runs on the statement's budget: cancel or statement_timeout sends `unlock` for
// the key, which ends the wait on the node (and releases the lock if it was granted meanwhile),
// and the statement fails with 57014. The node bounds one wait (lockWaitMsMax) and answers
// `conflict` past it; the wait is then simply sent again, as PostgreSQL waits without a bound.
//
// Where this differs from PostgreSQL, on purpose (each would need a lock-conversion protocol the
// node does not have, and none is what migration tools or job queues do):
//   - A key held in share mode by this session cannot also be taken in exclusive mode (0A000);
//     held exclusively, taking it in share mode too only counts (no second lock on the node), and
//     it stays exclusive until every hold of it is released.
//   - A session lock on a key this session's open transaction holds at transaction level in an
//     incompatible way is refused (0A000) rather than waiting on itself.
//   - Interactive transactions over HTTP hand their node transaction back between requests
//     (txn.releaseNode), so transaction-level advisory locks last one HTTP request there.
//   - Locks live in the storage node's memory, like its row locks, so a storage node restart (or a
//     new leaseholder) empties its lock table. The holder's heartbeat says it holds locks only
//     (`locksOnly`), so a node that does not know it answers transaction_aborted; so does a node
//     that aborted it (a gateway frozen for longer than txnHeartbeatExpiryMs). A session whose
//     session-level locks were lost that way is ended with FATAL 57P01 (`onLost`): PostgreSQL ends
//     every session when it restarts, so its clients know their locks are gone, and a session
//     that lived on would believe it still holds them. Without a connection (HTTP) they are
//     forgotten and logged. The lag is at most one heartbeat interval (txnLimits).
import { PgError } from "../../../common/errors.ts";
import { LockFlag, LockMode } from "../../../common/kv-protocol/messages.ts";
import { keyString } from "../../../common/bytes.ts";
import { KvRequestError, kvErrorToPgError, type KvClient } from "../kv/kv-client.ts";
import { advisoryLockKey } from "../keys/doc.ts";
import { txnLimits } from "../txn/limits.ts";
import type { Txn } from "../txn/txn.ts";
import type { StatementBudget } from "./exec/budget.ts";
import { sqlLimits } from "./limits.ts";

export type AdvisoryMode = "exclusive" | "shared";

/** A lock key as the functions take it: one bigint (space 1) or two int4 (space 2). */
export interface AdvisoryKey {
  space: 1 | 2;
  key: bigint;
}

/** pg_advisory_lock(int4, int4): the pair as one 64-bit number, the first int in the high half. */
export function advisoryKeyOf(args: readonly bigint[]): AdvisoryKey {
  if (args.length === 1) return { space: 1, key: args[0]! };
  return { space: 2, key: (args[0]! << 32n) | (args[1]! & 0xffff_ffffn) };
}

interface Counts {
  exclusive: number;
  shared: number;
}

interface SessionHold {
  key: Uint8Array;
  /** What the holder holds on the node. */
  strength: AdvisoryMode;
  counts: Counts;
}

interface XactHold {
  txn: Txn;
  strength: AdvisoryMode;
  counts: Counts;
}

function upgradeRefused(): PgError {
  return new PgError("feature_not_supported", "cannot take an advisory lock in exclusive mode that this session holds in share mode", {
    hint: "Release the share lock first (pg_advisory_unlock_shared), then take the exclusive one.",
  });
}

function lockByte(mode: AdvisoryMode, wait: boolean): number {
  return (mode === "exclusive" ? LockMode.exclusive : LockMode.shared) | LockFlag.keepOnDeadlock | (wait ? 0 : LockFlag.nowait);
}

export class AdvisoryLocks {
  private readonly kv: KvClient;
  private readonly tenantId: number;
  /** The node transaction holding this session's session-level locks (null: none held). */
  private holderId: Uint8Array | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private readonly session = new Map<string, SessionHold>();
  /** Transaction-level holds; an entry whose transaction is no longer open is stale (its lock is gone). */
  private readonly xact = new Map<string, XactHold>();

  /** Called once when session-level locks were lost (not released by the session), with why. */
  private readonly onLost: ((why: string) => void) | undefined;

  constructor(kv: KvClient, tenantId: number, onLost?: (why: string) => void) {
    this.kv = kv;
    this.tenantId = tenantId;
    this.onLost = onLost;
  }

  private keyOf(k: AdvisoryKey): Uint8Array {
    return advisoryLockKey(this.tenantId, k.space, k.key);
  }

  private liveXact(id: string): XactHold | undefined {
    const h = this.xact.get(id);
    if (h !== undefined && h.txn.status !== "open") {
      this.xact.delete(id);
      return undefined;
    }
    return h;
  }

  private held(): number {
    for (const id of [...this.xact.keys()]) this.liveXact(id);
    return this.session.size + this.xact.size;
  }

  /**
   * pg_[try_]advisory_[xact_]lock[_shared]: true when taken; false only for a try that found the
   * lock held elsewhere. `txn` is the statement's transaction (transaction level).
   */
  async lock(k: AdvisoryKey, mode: AdvisoryMode, level: "session" | "xact", wait: boolean, txn: Txn, budget: StatementBudget): Promise<boolean> {
    const key = this.keyOf(k);
    const id = keyString(key);
    const mine = this.session.get(id);
    const inXact = this.liveXact(id);
    const counts: Counts = { exclusive: mode === "exclusive" ? 1 : 0, shared: mode === "shared" ? 1 : 0 };
    // A hold of this session that is strong enough covers the request: PostgreSQL grants a
    // backend's own locks at once. A session hold outlives the transaction, so it covers both
    // levels; a transaction-level hold covers only the transaction level.
    const covers = (h: { strength: AdvisoryMode } | undefined): boolean => h !== undefined && (h.strength === "exclusive" || mode === "shared");
    if (level === "session" && mine !== undefined) {
      if (!covers(mine)) throw upgradeRefused();
      mine.counts[mode]++;
      return true;
    }
    if (level === "xact" && (covers(inXact) || covers(mine))) {
      if (inXact !== undefined) inXact.counts[mode]++;
      else this.xact.set(id, { txn, strength: mode, counts });
      return true;
    }
    if (level === "xact" && (inXact !== undefined || mine !== undefined)) throw upgradeRefused();
    if (level === "session" && inXact !== undefined && (inXact.strength === "exclusive" || mode === "exclusive")) {
      // The holder would wait for this session's own transaction.
      throw new PgError("feature_not_supported", "cannot take a session-level advisory lock on a key this transaction holds at transaction level in another mode", {
        hint: "Take the session-level lock before the transaction-level one, or after the transaction ends.",
      });
    }
    if (this.held() >= sqlLimits.advisoryLocksPerSessionMax) {
      throw new PgError("out_of_memory", "out of shared memory", { hint: `A session holds at most ${sqlLimits.advisoryLocksPerSessionMax} advisory locks (advisoryLocksPerSessionMax).` });
    }
    if (level === "xact") {
      const got = await this.acquire(key, wait, budget, () => txn.lockKey(key, lockByte(mode, wait)));
      if (got) this.xact.set(id, { txn, strength: mode, counts });
      return got;
    }
    const holder = this.holder();
    const got = await this.acquire(key, wait, budget, () => ({ txnId: holder, granted: this.kv.txnRead(holder, null, [{ op: "get", key }], [lockByte(mode, wait)]).then(() => undefined) }));
    if (got) this.session.set(id, { key, strength: mode, counts });
    else this.dropHolderIfIdle();
    return got;
  }

  /** Sends the lock request until granted (or refused, for a try), waiting on the statement's budget. */
  private async acquire(key: Uint8Array, wait: boolean, budget: StatementBudget, send: () => { txnId: Uint8Array; granted: Promise<void> }): Promise<boolean> {
    for (;;) {
      const { txnId, granted } = send();
      try {
        await budget.waitFor(granted, () => this.kv.unlock(txnId, [key]).catch(() => undefined));
        return true;
      } catch (err) {
        if (!(err instanceof KvRequestError)) throw err;
        const code = err.kvError.code;
        if (code === "lock_not_available" && !wait) return false;
        // The node's bound on one wait (lockWaitMsMax): keep waiting, as PostgreSQL does.
        if (code === "conflict" && wait) continue;
        if (code === "transaction_aborted" && txnId === this.holderId) this.forgetHolder("the storage node aborted it");
        if (code === "deadlock") throw new PgError("deadlock_detected", "deadlock detected", { detail: err.kvError.message, hint: "See server log for query details." });
        throw kvErrorToPgError(err.kvError);
      }
    }
  }

  /**
   * pg_advisory_unlock[_shared]: releases one session-level hold; false when this session holds
   * none in that mode (PostgreSQL also warns then).
   */
  async unlock(k: AdvisoryKey, mode: AdvisoryMode): Promise<boolean> {
    const id = keyString(this.keyOf(k));
    const h = this.session.get(id);
    if (h === undefined || h.counts[mode] === 0) return false;
    h.counts[mode]--;
    if (h.counts.exclusive + h.counts.shared > 0) return true;
    this.session.delete(id);
    await this.release([h.key]);
    return true;
  }

  /** pg_advisory_unlock_all(): every session-level lock (transaction-level ones stay). */
  async unlockAll(): Promise<void> {
    const keys = [...this.session.values()].map((h) => h.key);
    this.session.clear();
    if (keys.length > 0) await this.release(keys);
  }

  private async release(keys: Uint8Array[]): Promise<void> {
    const holder = this.holderId;
    if (holder === null) return;
    if (this.session.size === 0) {
      // Nothing left: the holder goes, which releases everything it had.
      this.forgetHolder(null);
      await this.kv.abort(holder, 0n).catch(() => undefined);
      return;
    }
    try {
      await this.kv.unlock(holder, keys);
    } catch (err) {
      if (err instanceof KvRequestError) throw kvErrorToPgError(err.kvError);
      throw err;
    }
  }

  /** The session ended: its session-level locks go now (transaction-level ones go with its transaction). */
  close(): void {
    this.session.clear();
    this.xact.clear();
    const holder = this.holderId;
    this.forgetHolder(null);
    if (holder !== null) void this.kv.abort(holder, 0n).catch(() => undefined);
  }

  /** Session-level locks held, for tests and pg_locks-like views: key space, key, mode. */
  sessionLocks(): number {
    return this.session.size;
  }

  private holder(): Uint8Array {
    if (this.holderId !== null) return this.holderId;
    const id = crypto.getRandomValues(new Uint8Array(16));
    this.holderId = id;
    const timer = setInterval(() => {
      this.kv.heartbeat(id, true).catch((err: unknown) => {
        if (err instanceof KvRequestError && err.kvError.code === "transaction_aborted" && this.holderId === id) this.forgetHolder("its heartbeat was refused");
      });
    }, txnLimits.heartbeatIntervalMs);
    (timer as { unref?: () => void }).unref?.();
    this.heartbeat = timer;
    return id;
  }

  private dropHolderIfIdle(): void {
    if (this.session.size > 0 || this.holderId === null) return;
    const holder = this.holderId;
    this.forgetHolder(null);
    void this.kv.abort(holder, 0n).catch(() => undefined);
  }

  private forgetHolder(lostBecause: string | null): void {
    if (lostBecause !== null && this.session.size > 0) {
      console.warn(`advisory locks: the session's ${this.session.size} session-level lock(s) were lost: ${lostBecause}`);
      this.onLost?.(`${this.session.size} session-level advisory lock(s) were lost: ${lostBecause}`);
    }
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.holderId = null;
    if (lostBecause !== null) this.session.clear();
  }
}
