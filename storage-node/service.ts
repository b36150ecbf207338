// The storage node's request pipeline on the HTTP thread:
//   authenticate -> decode -> tenant span check -> limits -> rate limit (RU) -> fair admission
//   -> execute (reads here at a snapshot; commits and writing batches on the writer thread)
//   -> meter.
// Every outcome is an encoded KvResponse; errors are `{type: "error"}` with a documented code.
import { decodeRequest, decodeResponse, encodeResponse, KvProtocolError } from "../common/kv-protocol/codec.ts";
import type { KvError, KvErrorName, KvRequest, KvResponse } from "../common/kv-protocol/messages.ts";
import { addKvUsage, kvRequestUnits, kvUsageEstimate, type KvUsage } from "../common/request-units.ts";
import { SYSTEM_TENANT_ID } from "../common/tenant-prefix.ts";
import { FairScheduler, OverloadedError } from "./admission/fair-scheduler.ts";
import { TokenBucket } from "./admission/token-bucket.ts";
import { TokenVerifier } from "./auth.ts";
import type { TenantClaims } from "../common/tenant-token.ts";
import { checkClearOverlaps, checkLimits, checkTenantSpans } from "./checks.ts";
import { ClearedSpans } from "./clearing/cleared-spans.ts";
import type { Engine } from "./engine/engine.ts";
import { makeTimestamp, wallMsOf, type HybridClock } from "./hlc.ts";
import type { StorageLimits } from "./limits.ts";
import type { Metrics } from "./metrics.ts";
import { clearedReadRefusal, executeReads } from "./mvcc/apply.ts";
import type { WriterClient } from "./writer/writer-client.ts";
import { encodeRequest } from "../common/kv-protocol/codec.ts";
import { LOCK_MODE_MASK, LockFlag, LockMode, type ReadOp, type WriteOp } from "../common/kv-protocol/messages.ts";
import { readVersion, spanWrittenAfter } from "./mvcc/read.ts";
import { TS_MAX } from "./mvcc/version-key.ts";
import { DeadlockError, LockNotAvailable, LockTable, LockWaitTimeout, TxnAbortedError, type LockStrength, type TxnEntry } from "./txn/lock-table.ts";
import { txnStatus } from "./txn/intents.ts";
import { overlayOwnIntents } from "./txn/own-intents.ts";
import { lockKeyOf } from "./txn/txn-id.ts";
import { decodeIntent, intentKey } from "./node-keys.ts";
import { bytesEqual } from "../common/bytes.ts";

/** HTTP status for each outcome: the body always carries the KvResponse; the status is for logs and proxies. */
export const HTTP_STATUS: Record<KvErrorName, number> = {
  malformed_request: 400,
  unauthenticated: 401,
  token_expired: 401,
  outside_tenant_span: 403,
  limit_exceeded: 413,
  conflict: 409,
  condition_failed: 412,
  snapshot_too_old: 409,
  rate_limited: 429,
  overloaded: 503,
  too_many_open_transactions: 429,
  transaction_expired: 408,
  tenant_dropped: 410,
  internal: 500,
  deadlock: 409,
  write_too_old: 409,
  transaction_aborted: 409,
  lock_not_available: 409,
  tenant_moved: 421,
  unavailable: 503,
  outcome_unknown: 502,
};

const TXN_ABORTED_ERROR: KvError = {
  code: "transaction_aborted",
  message: "the transaction was aborted on the storage node (its heartbeat expired, it was pushed out, or the node restarted); retry it",
};

type Executed = { outcome: KvOutcome; readBytes: number; wrote: boolean };

function fail(error: KvError): Executed {
  return { outcome: errorOutcome(error), readBytes: 0, wrote: false };
}

export interface KvOutcome {
  status: number;
  /**
   * The KvResponse: an object still to be encoded (answers made on this thread), or its encoding
   * (the writer thread's). Left unencoded so a KV stream can encode it straight into its outbox
   * (kv-stream.ts); POST /v1/kv encodes it with outcomeBody().
   */
  answer: KvResponse | Uint8Array;
  /**
   * What this request added to the tenant's counters (null: nothing, it was refused before it was
   * metered). The server sends it back in the usage trailer when the client asked for it.
   */
  usage?: KvUsage | null;
  /** tenant_moved: the shard the tenant went to, when known (the TENANT_SHARD_HEADER header). */
  movedToShard?: number;
}

function errorOutcome(error: KvError): KvOutcome {
  return { status: HTTP_STATUS[error.code], answer: { type: "error", error } };
}

function ok(res: KvResponse): KvOutcome {
  return { status: 200, answer: res };
}

/** The outcome's KvResponse, encoded. */
export function outcomeBody(out: KvOutcome): Uint8Array {
  return out.answer instanceof Uint8Array ? out.answer : encodeResponse(out.answer);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface ServiceDeps {
  engine: Engine;
  writer: WriterClient;
  clock: HybridClock;
  limits: StorageLimits;
  metrics: Metrics;
  fleetSecret: string;
  gcThresholdTs: bigint;
  droppedTenants: Iterable<number>;
  /** Tenants this node does not serve (moved away, or arriving and not adopted): storage-node/moves/. */
  movedTenants?: Iterable<number>;
  nowMs?: () => number;
}

export class KvService {
  private readonly engine: Engine;
  private readonly writer: WriterClient;
  private readonly clock: HybridClock;
  readonly limits: StorageLimits;
  private readonly metrics: Metrics;
  private readonly verifier: TokenVerifier;
  private readonly scheduler: FairScheduler;
  private readonly buckets = new Map<number, TokenBucket>();
  private readonly rateWaiting = new Map<number, number>();
  /** Open transactions per tenant: readTs -> how many begins at that readTs are still open. */
  private readonly openTxns = new Map<number, Map<bigint, number>>();
  readonly dropped: Set<number>;
  /**
   * Refused with tenant_moved (HTTP 421, nothing applied): see ServiceDeps.movedTenants. The value
   * is the shard the tenant went to when this node knows it (set by the fence of a move; kept in
   * memory only, so a new leaseholder refuses without it and edges ask the FleetDirectory), sent
   * as the `warren-tenant-shard` header so edges go there without waiting for the placement switch.
   */
  readonly moved: Map<number, number | null>;
  /** This thread's copy of the clear records (the writer reports changes; writer-client.ts). */
  readonly cleared = new ClearedSpans();
  gcThresholdTs: bigint;
  private readonly nowMs: () => number;
  /** Locks, wait queues and liveness of transactions that hold something (txn/lock-table.ts). */
  readonly locks: LockTable;
  private readonly sweeper: ReturnType<typeof setInterval>;

  constructor(d: ServiceDeps) {
    this.engine = d.engine;
    this.writer = d.writer;
    this.clock = d.clock;
    this.limits = d.limits;
    this.metrics = d.metrics;
    this.verifier = new TokenVerifier(d.fleetSecret, d.limits.tokenCacheEntriesMax, d.limits.authHeaderBytesMax);
    this.scheduler = new FairScheduler(d.limits.inFlightMax, d.limits.admissionWaitMsMax);
    this.gcThresholdTs = d.gcThresholdTs;
    this.dropped = new Set(d.droppedTenants);
    this.moved = new Map([...(d.movedTenants ?? [])].map((t) => [t, null]));
    this.nowMs = d.nowMs ?? Date.now;
    this.locks = new LockTable({
      heartbeatExpiryMs: d.limits.txnHeartbeatExpiryMs,
      lockWaitMsMax: d.limits.lockWaitMsMax,
      nowMs: this.nowMs,
      onAbandoned: (t) => void this.abortTxn(t),
    });
    // Abandoned transactions lose their locks and intents even when nobody waits for them.
    this.sweeper = setInterval(() => {
      for (const t of this.locks.abandoned()) void this.abortTxn(t);
    }, Math.max(50, Math.min(1000, d.limits.txnHeartbeatExpiryMs / 4)));
    this.sweeper.unref?.();
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  /** Aborts a transaction: its locks go at once; its intents go durably (abortTxn writer job). */
  private async abortTxn(t: TxnEntry): Promise<void> {
    if (t.aborted) return;
    t.aborted = true;
    t.cancelWait?.(new TxnAbortedError("the transaction was aborted"));
    if (t.hasIntents) {
      // Its locks are released only once its intents are gone, so whoever waited finds the keys free.
      const body = encodeRequest({ type: "abort", txnId: t.txnId, readTs: 0n });
      try {
        await this.writer.submit({ kind: "abortTxn", tenantId: t.tenantId, body });
      } catch {
        // The writer failed or is closing: the record stays pending on disk and the next start aborts it.
      }
    }
    this.locks.finish(t);
  }

  /**
   * Another live transaction's intent on one of the keys (its owner), or null. An intent whose
   * owner this thread does not know is an orphan (its transaction's abort is under way, or the
   * record outlived its entry): it is aborted here, durably, and the keys are looked at again.
   */
  private async foreignIntent(t: TxnEntry, keys: Uint8Array[]): Promise<TxnEntry | null> {
    if (this.locks.intentHolders(t.tenantId) === 0) return null;
    for (const k of keys) {
      const stored = this.engine.get(intentKey(k));
      if (stored === undefined) continue;
      const owner = decodeIntent(stored).txnId;
      if (bytesEqual(owner, t.txnId)) continue;
      const holder = this.locks.get(t.tenantId, owner);
      if (holder !== undefined) return holder;
      if (txnStatus(this.engine, t.tenantId, owner) === "pending") {
        await this.writer.submit({ kind: "abortTxn", tenantId: t.tenantId, body: encodeRequest({ type: "abort", txnId: owner, readTs: 0n }) });
      }
    }
    return null;
  }

  /**
   * Locks the keys for the transaction: the in-memory locks (waiting in each key's queue), and no
   * other transaction's intent on them (waiting for its owner to finish). Durable intents are the
   * locks of keys written by txnWrite: the in-memory lock of such a key is released once the intent
   * is stored, so a transaction writing a million rows holds no million in-memory locks. Returns
   * the keys newly locked in memory.
   */
  private async lockKeys(t: TxnEntry, keys: Uint8Array[], strength: LockStrength, nowait = false): Promise<{ granted: string[]; waited: number }> {
    const ids = [...new Set(keys.map(lockKeyOf))].sort().map((id) => ({ id, strength }));
    let waited = 0;
    for (;;) {
      const granted: string[] = [];
      waited += await this.locks.acquire(t, ids, granted, nowait);
      const holder = await this.foreignIntent(t, keys);
      if (holder === null) return { granted, waited };
      this.locks.release(t, granted);
      waited++;
      await this.locks.waitForTxn(t, holder);
    }
  }

  /** Keys of the point writes of a request. */
  private writeKeys(writes: WriteOp[]): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const w of writes) if (w.op === "put" || w.op === "delete" || w.op === "cput") out.push(w.key);
    return out;
  }

  /**
   * Runs fn as a request of the transaction: alive while it runs; lock errors become KV errors.
   * A deadlock aborts the transaction unless the request asked to keep it (LockFlag.keepOnDeadlock).
   */
  private async asTxn(t: TxnEntry, fn: () => Promise<Executed>, keepOnDeadlock = false): Promise<Executed> {
    if (t.aborted) return fail(TXN_ABORTED_ERROR);
    t.busy++;
    try {
      return await fn();
    } catch (err) {
      if (err instanceof DeadlockError) {
        if (keepOnDeadlock) return fail({ code: "deadlock", message: `deadlock detected: ${err.message}; the lock was not taken` });
        void this.abortTxn(t);
        return fail({ code: "deadlock", message: `deadlock detected: ${err.message}; this transaction was aborted` });
      }
      if (err instanceof LockNotAvailable) return fail({ code: "lock_not_available", message: `could not obtain lock: ${err.message}` });
      if (err instanceof LockWaitTimeout) return fail({ code: "conflict", message: `transaction conflict: ${err.message}; retry the transaction` });
      if (err instanceof TxnAbortedError) return fail(TXN_ABORTED_ERROR);
      throw err;
    } finally {
      t.busy--;
      t.lastSeenMs = this.nowMs();
    }
  }


  /** Authenticates an admin request: only the system tenant's token is accepted. */
  async authenticateSystem(header: string | undefined): Promise<KvError | null> {
    const claims = await this.verifier.verify(header, this.nowMs());
    if ("code" in claims) return claims;
    if (claims.tenantId !== SYSTEM_TENANT_ID) {
      return { code: "unauthenticated", message: "admin operations need the system tenant's token (tenant 1)" };
    }
    return null;
  }

  get executing(): number {
    return this.scheduler.executing;
  }

  openTransactions(tenantId: number): number {
    let n = 0;
    for (const c of this.openTxns.get(tenantId)?.values() ?? []) n += c;
    return n;
  }

  async handle(authHeader: string | undefined, body: Uint8Array): Promise<KvOutcome> {
    const claims = await this.authenticate(authHeader);
    if ("code" in claims) return errorOutcome(claims);
    return await this.handleAs(claims, body);
  }

  /** Checks a request's (or a KV stream's) bearer token: its claims, or the error to refuse it with. */
  async authenticate(authHeader: string | undefined): Promise<TenantClaims | KvError> {
    const claims = await this.verifier.verify(authHeader, this.nowMs());
    if ("code" in claims) this.metrics.unauthenticated++;
    return claims;
  }

  /**
   * One request of an authenticated tenant. A KV stream authenticates once per connection and calls
   * this per request, so the token's expiry is checked here again, on every request.
   *
   * The outcome itself when nothing had to wait, else a promise of it. Why not always a promise: a
   * single-key read does ~10 µs of work, and the chain of async steps around it (rate limit,
   * admission, execution, metering) cost several promises and microtask turns per request, a
   * large share of the node's CPU per request (storage-node/README.md, "The single-key path").
   * Every step below runs synchronously while it need not wait, and turns into a promise only
   * where it does (a rate-limit wait, an admission queue, a snapshot waiting for a commit, the
   * writer thread, locks). The checks are the same either way.
   */
  handleAs(claims: TenantClaims, body: Uint8Array): KvOutcome | Promise<KvOutcome> {
    const now = this.nowMs();
    if (claims.expiresAtMs <= now) {
      this.metrics.unauthenticated++;
      return errorOutcome({ code: "token_expired", message: "tenant token has expired; fetch a fresh one" });
    }
    const tenantId = claims.tenantId;
    const counters = this.metrics.tenant(tenantId);
    counters.requests++;
    const outcome = this.handleForTenant(tenantId, body, now);
    if (outcome instanceof Promise) return outcome.then((o) => countError(counters, o));
    return countError(counters, outcome);
  }

  private handleForTenant(tenantId: number, body: Uint8Array, now: number): KvOutcome | Promise<KvOutcome> {
    if (this.dropped.has(tenantId)) return errorOutcome({ code: "tenant_dropped", message: `tenant ${tenantId} has been dropped` });
    if (this.moved.has(tenantId)) {
      const to = this.moved.get(tenantId) ?? undefined;
      const where = to === undefined ? "another shard" : `shard ${to}`;
      return { ...errorOutcome({ code: "tenant_moved", message: `tenant ${tenantId} is not served by this storage node (it moved, or is moving, to ${where}); nothing was applied` }), movedToShard: to };
    }
    let req: KvRequest;
    try {
      req = decodeRequest(body);
    } catch (err) {
      if (err instanceof KvProtocolError) return errorOutcome({ code: "malformed_request", message: `malformed request: ${err.message}` });
      throw err;
    }
    const refusal = checkTenantSpans(req, tenantId) ?? checkLimits(req, this.limits) ?? checkClearOverlaps(req);
    if (refusal) return errorOutcome(refusal);

    // Rate limit on the cost known up front; bytes read are charged after execution.
    const estimate = kvUsageEstimate(req);
    const limited = this.takeTokens(tenantId, kvRequestUnits(estimate), now);
    if (limited === null) return this.admit(tenantId, req, body, estimate);
    return limited.then((e) => (e !== null ? errorOutcome(e) : this.admit(tenantId, req, body, estimate)));
  }

  /** Fair admission (a slot of inFlightMax), then execution; release() exactly once either way. */
  private admit(tenantId: number, req: KvRequest, body: Uint8Array, estimate: KvUsage): KvOutcome | Promise<KvOutcome> {
    const admitted = this.scheduler.acquire(tenantId);
    if (admitted === null) return this.executeAdmitted(tenantId, req, body, estimate);
    return admitted.then(
      () => this.executeAdmitted(tenantId, req, body, estimate),
      (err: unknown) => {
        if (err instanceof OverloadedError) return errorOutcome({ code: "overloaded", message: err.message, retryAfterMs: err.retryAfterMs });
        throw err;
      },
    );
  }

  private executeAdmitted(tenantId: number, req: KvRequest, body: Uint8Array, estimate: KvUsage): KvOutcome | Promise<KvOutcome> {
    let executed: Executed | Promise<Executed>;
    try {
      executed = this.execute(tenantId, req, body);
    } catch (err) {
      this.scheduler.release();
      throw err;
    }
    if (executed instanceof Promise) {
      return executed.then((e) => this.meter(tenantId, estimate, e)).finally(() => this.scheduler.release());
    }
    try {
      return this.meter(tenantId, estimate, executed);
    } finally {
      this.scheduler.release();
    }
  }

  /** Charges what the request did (bytes read are known only now) and counts it for the tenant. */
  private meter(tenantId: number, estimate: KvUsage, { outcome, readBytes, wrote }: Executed): KvOutcome {
    const c = this.metrics.tenant(tenantId);
    const usage: KvUsage = { ...estimate, readBytes };
    if (!wrote) {
      usage.writeBatches = 0;
      usage.writeRequests = 0;
      usage.writeBytes = 0;
    }
    const ru = kvRequestUnits(usage);
    const extra = ru - kvRequestUnits(estimate);
    if (extra > 0) this.bucket(tenantId).charge(extra, this.nowMs());
    addKvUsage(c, usage);
    c.requestUnits += ru;
    return { ...outcome, usage };
  }

  private bucket(tenantId: number): TokenBucket {
    let b = this.buckets.get(tenantId);
    if (!b) {
      b = new TokenBucket(this.limits.tenantRuPerSecond, this.limits.tenantBurstRu, this.nowMs());
      this.buckets.set(tenantId, b);
    }
    return b;
  }

  /**
   * Takes the tenant's tokens: null when they were there; otherwise a promise that waits (up to the
   * bound) and settles with null, or with the rate_limited error.
   */
  private takeTokens(tenantId: number, cost: number, now: number): Promise<KvError | null> | null {
    // The system tenant (control plane, admin) is not rate limited.
    if (tenantId === SYSTEM_TENANT_ID) return null;
    const bucket = this.bucket(tenantId);
    const waiting = this.rateWaiting.get(tenantId) ?? 0;
    const waitMs = waiting >= this.limits.tenantQueueMax ? -1 : bucket.reserve(cost, now, this.limits.rateLimitWaitMsMax);
    if (waitMs === 0) return null;
    return this.waitForTokens(tenantId, bucket, waiting, waitMs);
  }

  private async waitForTokens(tenantId: number, bucket: TokenBucket, waiting: number, waitMs: number): Promise<KvError | null> {
    this.rateWaiting.set(tenantId, waiting + 1);
    try {
      // Over the limit: hold the request for the bound anyway before refusing. That is
      // backpressure: a client that floods without pausing is slowed to its share instead of
      // spinning the node on instant refusals.
      await sleep(waitMs > 0 ? waitMs : this.limits.rateLimitWaitMsMax);
    } finally {
      this.rateWaiting.set(tenantId, (this.rateWaiting.get(tenantId) ?? 1) - 1);
    }
    if (waitMs > 0) return null;
    this.metrics.tenant(tenantId).rateLimited++;
    return {
      code: "rate_limited",
      message: `tenant ${tenantId} is over its rate limit of ${this.limits.tenantRuPerSecond} RU/s (burst ${this.limits.tenantBurstRu} RU); slow down and retry`,
      retryAfterMs: Math.max(1, bucket.msUntilPositive(this.nowMs())),
    };
  }

  private readTsError(readTs: bigint): KvError | null {
    if (readTs < this.gcThresholdTs) {
      return {
        code: "snapshot_too_old",
        message: "the transaction's snapshot is older than the node's MVCC history (gcWindowMs); retry the transaction",
      };
    }
    // Against what the node can have issued by now, not `current()`: after a restart the clock starts
    // at the highest committed timestamp, below read timestamps handed out just before the crash,
    // which a client (or the edge's retry) legitimately sends again.
    if (readTs > this.clock.issuedBound()) {
      return { code: "malformed_request", message: "read timestamp is in the future: it was not issued by this storage fleet" };
    }
    // A valid read timestamp from before a restart can be above the restarted clock: move the clock
    // past it, so every commit timestamp handed out from now on is above the snapshots in use.
    this.clock.observe(readTs);
    return null;
  }

  /** Reads run here, synchronously unless their snapshot waits for a commit; the rest in executeAsync. */
  private execute(tenantId: number, req: KvRequest, body: Uint8Array): Executed | Promise<Executed> {
    if (req.type === "read") return this.read(tenantId, req.readTs, req.ops);
    if (req.type === "batch" && req.writes.length === 0) {
      // Without writes a batch is a read at a fresh snapshot (no waiting: a fresh one is visible).
      const readTs = this.writer.readTimestamp();
      const r = executeReads(this.engine, readTs, req.reads, this.limits, { spans: this.cleared, tenantId });
      if ("error" in r) return fail(r.error);
      return { outcome: ok({ type: "batch", commitTs: readTs, results: r.results }), readBytes: r.readBytes, wrote: false };
    }
    return this.executeAsync(tenantId, req, body);
  }

  /** A read at readTs (null: a fresh snapshot, returned with the results). */
  private read(tenantId: number, askedTs: bigint | null, ops: ReadOp[]): Executed | Promise<Executed> {
    const readTs = askedTs ?? this.writer.readTimestamp();
    const bad = this.readTsError(readTs);
    if (bad) return fail(bad);
    const wait = this.writer.waitVisible(readTs);
    if (wait) return wait.then(() => this.readAt(tenantId, readTs, ops));
    return this.readAt(tenantId, readTs, ops);
  }

  private readAt(tenantId: number, readTs: bigint, ops: ReadOp[]): Executed {
    const view = { spans: this.cleared, tenantId };
    const stale = clearedReadRefusal(view, readTs, ops);
    if (stale) return fail(stale);
    const r = executeReads(this.engine, readTs, ops, this.limits, view);
    if ("error" in r) return fail(r.error);
    return { outcome: ok({ type: "read", readTs, results: r.results }), readBytes: r.readBytes, wrote: false };
  }

  private async executeAsync(tenantId: number, req: Exclude<KvRequest, { type: "read" }>, body: Uint8Array): Promise<Executed> {
    switch (req.type) {
      case "begin": {
        const open = this.openTxnMap(tenantId);
        if (this.openTransactions(tenantId) >= this.limits.openTxnsPerTenantMax) {
          return {
            outcome: errorOutcome({
              code: "too_many_open_transactions",
              message: `tenant ${tenantId} has ${this.limits.openTxnsPerTenantMax} open transactions (openTxnsPerTenantMax); commit or abort some first`,
              retryAfterMs: 100,
            }),
            readBytes: 0,
            wrote: false,
          };
        }
        const readTs = this.writer.readTimestamp();
        open.set(readTs, (open.get(readTs) ?? 0) + 1);
        return { outcome: ok({ type: "begin", readTs }), readBytes: 0, wrote: false };
      }
      case "abort": {
        this.closeTxn(tenantId, req.readTs);
        const t = this.locks.get(tenantId, req.txnId);
        if (t !== undefined) await this.abortTxn(t);
        else if (txnStatus(this.engine, tenantId, req.txnId) === "pending") {
          // Intents written before a restart of this thread's memory: remove them durably.
          await this.writer.submit({ kind: "abortTxn", tenantId, body });
        }
        return { outcome: ok({ type: "abort" }), readBytes: 0, wrote: false };
      }
      case "heartbeat": {
        const t = this.locks.get(tenantId, req.txnId);
        if (t === undefined && txnStatus(this.engine, tenantId, req.txnId) === "aborted") return fail(TXN_ABORTED_ERROR);
        // A holder of locks only (advisory locks) that this node does not know lost them: the lock
        // table is memory, emptied by a restart. Accepting the beat would let its session believe
        // it still holds them.
        if (t === undefined && req.locksOnly === true) return fail(TXN_ABORTED_ERROR);
        if (t?.aborted === true) return fail(TXN_ABORTED_ERROR);
        if (t !== undefined) t.lastSeenMs = this.nowMs();
        return { outcome: ok({ type: "ack" }), readBytes: 0, wrote: false };
      }
      case "unlock": {
        const t = this.locks.get(tenantId, req.txnId);
        if (t?.aborted === true) return fail(TXN_ABORTED_ERROR);
        if (t !== undefined) {
          t.lastSeenMs = this.nowMs();
          this.locks.release(t, req.keys.map(lockKeyOf), true);
        }
        return { outcome: ok({ type: "ack" }), readBytes: 0, wrote: false };
      }
      case "txnRead":
        return this.txnRead(tenantId, req);
      case "txnWrite": {
        const bad = this.readTsError(req.readTs);
        if (bad) return fail(bad);
        const t = this.locks.entry(tenantId, req.txnId);
        return this.asTxn(t, async () => {
          const { granted } = await this.lockKeys(t, this.writeKeys(req.writes), "exclusive");
          try {
            const reply = await this.writer.submit({ kind: "txnWrite", tenantId, body });
            if (!reply.ok) return { outcome: { status: statusOfEncodedError(reply.response), answer: reply.response }, readBytes: 0, wrote: false };
            this.locks.markIntents(t);
            return { outcome: { status: 200, answer: reply.response }, readBytes: 0, wrote: true };
          } finally {
            // The stored intents guard these keys now (a refused request stored none).
            this.locks.release(t, granted);
          }
        });
      }
      case "refresh": {
        const bad = this.readTsError(req.readTs);
        if (bad) return fail(bad);
        // Every commit at or below newTs is visible to this thread now (the snapshot rule), so
        // "nothing in the spans after readTs" here means "nothing in (readTs, newTs]".
        const newTs = this.writer.readTimestamp();
        const wait = this.writer.waitVisible(newTs);
        if (wait) await wait;
        for (const sp of req.spans) {
          const hit = spanWrittenAfter(this.engine, sp.start, sp.end, req.readTs);
          const cleared = hit === null ? this.cleared.first(tenantId, sp.start, sp.end, (r) => r.clearTs > req.readTs) : null;
          if (hit !== null || cleared !== null) {
            return fail({ code: "conflict", message: "transaction conflict: a key this transaction read was written after its snapshot; retry the transaction", key: hit ?? cleared!.start });
          }
        }
        return { outcome: ok({ type: "refresh", readTs: newTs }), readBytes: 0, wrote: false };
      }
      case "commit": {
        this.closeTxn(tenantId, req.readTs);
        const badReadTs = this.readTsError(req.readTs);
        if (badReadTs !== null) return { outcome: errorOutcome(badReadTs), readBytes: 0, wrote: false };
        const held = this.locks.get(tenantId, req.txnId);
        if (held?.aborted === true) return fail(TXN_ABORTED_ERROR);
        const onDisk = held?.hasIntents === true || txnStatus(this.engine, tenantId, req.txnId) !== "none";
        if (req.writes.length === 0 && !onDisk) {
          // A read-only transaction read one consistent snapshot: it serializes at readTs as is.
          if (held !== undefined) this.locks.finish(held);
          return { outcome: ok({ type: "commit", commitTs: req.readTs }), readBytes: 0, wrote: false };
        }
        return this.lockedWrite(held ?? this.locks.entry(tenantId, req.txnId), tenantId, "commit", req.writes, body);
      }
      case "batch": {
        // With writes (execute() answers a batch without): a single-shot write waits for other
        // transactions' locks like any writer.
        return this.lockedWrite(this.locks.entry(tenantId, crypto.getRandomValues(new Uint8Array(16))), tenantId, "batch", req.writes, body);
      }
    }
  }

  /** A commit or writing batch as transaction t: its point writes locked (waiting), then the writer thread; t ends. */
  private async lockedWrite(t: TxnEntry, tenantId: number, kind: "commit" | "batch", writes: WriteOp[], body: Uint8Array): Promise<Executed> {
    const r = await this.asTxn(t, async () => {
      await this.lockKeys(t, this.writeKeys(writes), "exclusive");
      t.committing = true;
      return this.viaWriter(tenantId, kind, body);
    });
    this.locks.finish(t);
    return r;
  }

  /** A read of a pessimistic transaction: locks first (waiting), then the snapshot, then own intents. */
  private async txnRead(tenantId: number, req: Extract<KvRequest, { type: "txnRead" }>): Promise<Executed> {
    const locking = req.locks.some((m) => (m & LOCK_MODE_MASK) !== LockMode.none);
    const keepOnDeadlock = req.locks.some((m) => (m & LockFlag.keepOnDeadlock) !== 0);
    const t = locking ? this.locks.entry(tenantId, req.txnId) : this.locks.get(tenantId, req.txnId);
    const run = async (): Promise<Executed> => {
      const lockedKeys: Uint8Array[] = [];
      if (t !== undefined && locking) {
        for (let i = 0; i < req.ops.length; i++) {
          const mode = req.locks[i]! & LOCK_MODE_MASK;
          if (mode === LockMode.none) continue;
          const strength: LockStrength = mode === LockMode.exclusive ? "exclusive" : "shared";
          const nowait = (req.locks[i]! & LockFlag.nowait) !== 0;
          const op = req.ops[i]!;
          if (op.op === "get") {
            await this.lockKeys(t, [op.key], strength, nowait);
            lockedKeys.push(op.key);
          } else {
            // Lock the rows the page holds now; rows that appear later are phantoms, which commit
            // validation of the scanned span catches.
            for (let round = 0; ; round++) {
              const page = executeReads(this.engine, TS_MAX, [op], this.limits, { spans: this.cleared, tenantId });
              if ("error" in page) return fail(page.error);
              const res = page.results[0]!;
              const keys = res.op === "scan" ? res.rows.map((r) => r.key.slice()) : [];
              const { waited } = await this.lockKeys(t, keys, strength, nowait);
              lockedKeys.push(...keys);
              // After a wait the page may have changed (rows deleted or added): lock it again.
              if (waited === 0 || round >= 3) break;
            }
          }
        }
      }
      const readTs = req.readTs ?? this.writer.readTimestamp();
      const bad = this.readTsError(readTs);
      if (bad) return fail(bad);
      const wait = this.writer.waitVisible(readTs);
      if (wait) await wait;
      // A locked key changed after the snapshot: reading it there would lose that update. The
      // gateway refreshes its snapshot (refresh) and reads again; the lock stays held meanwhile.
      for (const k of lockedKeys) {
        const latest = readVersion(this.engine, k, TS_MAX);
        if (latest !== undefined && latest.ts > readTs) {
          return fail({ code: "write_too_old", message: "a row this transaction locks was changed after its snapshot; refresh the snapshot", key: k });
        }
      }
      const view = { spans: this.cleared, tenantId };
      const stale = clearedReadRefusal(view, readTs, req.ops);
      if (stale) return fail(stale);
      const r = executeReads(this.engine, readTs, req.ops as ReadOp[], this.limits, view);
      if ("error" in r) return fail(r.error);
      if (t?.hasIntents === true || (t === undefined && txnStatus(this.engine, tenantId, req.txnId) === "pending")) {
        overlayOwnIntents(this.engine, req.txnId, req.ops, r.results);
      }
      return { outcome: ok({ type: "read", readTs, results: r.results }), readBytes: r.readBytes, wrote: false };
    };
    return t === undefined ? run() : this.asTxn(t, run, keepOnDeadlock);
  }

  private async viaWriter(
    tenantId: number,
    kind: "commit" | "batch",
    body: Uint8Array,
  ): Promise<{ outcome: KvOutcome; readBytes: number; wrote: boolean }> {
    // The writer decodes the same frame again (decoding is deterministic, so it applies exactly
    // what was checked here); passing bytes is cheaper across threads than the decoded objects.
    const reply = await this.writer.submit({ kind, tenantId, body });
    if (!reply.ok) {
      const status = statusOfEncodedError(reply.response);
      if (status === HTTP_STATUS.conflict) this.metrics.tenant(tenantId).conflicts++;
      // Refused by a move's fence in the writer (it passed the check above first): name the target too.
      const movedToShard = status === HTTP_STATUS.tenant_moved ? (this.moved.get(tenantId) ?? undefined) : undefined;
      return { outcome: { status, answer: reply.response, movedToShard }, readBytes: reply.readBytes, wrote: false };
    }
    return { outcome: { status: 200, answer: reply.response }, readBytes: reply.readBytes, wrote: true };
  }

  private openTxnMap(tenantId: number): Map<bigint, number> {
    let m = this.openTxns.get(tenantId);
    if (!m) {
      m = new Map();
      this.openTxns.set(tenantId, m);
    }
    // Transactions never committed or aborted stop counting once they are past the duration limit.
    const cutoff = makeTimestamp(Math.max(0, this.nowMs() - this.limits.txnDurationMsMax));
    for (const ts of m.keys()) if (ts < cutoff) m.delete(ts);
    return m;
  }

  private closeTxn(tenantId: number, readTs: bigint): void {
    const m = this.openTxns.get(tenantId);
    const n = m?.get(readTs);
    if (!m || n === undefined) return;
    if (n <= 1) m.delete(readTs);
    else m.set(readTs, n - 1);
  }

  /** For stats: the wall-clock age of the oldest open transaction, per tenant. */
  oldestOpenTxnMs(tenantId: number): number {
    let oldest: bigint | null = null;
    for (const ts of this.openTxns.get(tenantId)?.keys() ?? []) if (oldest === null || ts < oldest) oldest = ts;
    return oldest === null ? 0 : Math.max(0, this.nowMs() - wallMsOf(oldest));
  }
}

function countError(counters: { errors: number }, outcome: KvOutcome): KvOutcome {
  if (outcome.status !== 200) counters.errors++;
  return outcome;
}

function statusOfEncodedError(bytes: Uint8Array): number {
  const res = decodeResponse(bytes);
  return res.type === "error" ? HTTP_STATUS[res.error.code] : 200;
}
