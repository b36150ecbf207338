// The gateway's local share of its tenant's Request-Unit bucket (the client half of the CockroachDB
// distributed token bucket). It spends a granted batch locally and asks the QuotaBucket (through
// env.QUOTA) only when the batch is used up or its period ends, so there is no control-plane call
// per query: about one call per gateway per ten seconds of activity.
//
// Charged, with one model (common/request-units.ts):
//   - KV work as the storage node measured it (each KV response reports its usage; the KV client
//     hands it to chargeKv as it arrives);
//   - gateway CPU time (chargeCpu: the seam for the per-statement CPU figure of exec/budget.ts);
//   - bytes sent to the client (chargeEgress).
// Charges come after the work, so the local balance can go negative (debt); the next request asks
// for that much more. Every request reports the usage since the previous one, by part, for the
// tenant's usage history.
//
// A grant is either spendable at once or trickles in evenly over a period (the tenant is out of
// burst tokens and gets its share of the refill rate). A query finding no balance waits for the
// trickle, at most quotaLimits.admitWaitMsMax, then gets 53400; so does every query while the
// bucket refuses (the spend limit with "refuse", or a spent hard limit).
import { PgError } from "../../../common/errors.ts";
import { emptyUsageReport, type QuotaGrant, type UsageReport } from "../../../common/quota-protocol.ts";
import { addKvUsage, egressRequestUnits, gatewayCpuRequestUnits, kvRequestUnits, type KvUsage } from "../../../common/request-units.ts";
import { settleRpc } from "../../../common/rpc.ts";
import { awaitShared, realTimer, type SetTimer } from "../../../common/shared-wait.ts";
import type { TenantQuotaCapability } from "../env.ts";
import { quotaLimits } from "./limits.ts";

export class LocalQuota {
  private cap: TenantQuotaCapability;
  private readonly nowMs: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Identifies this gateway to the bucket (its fair share); random, so it leaks nothing. */
  readonly instanceId: string = crypto.randomUUID();
  private seq = 0;
  /** RU spendable now; negative is debt from charges after the fact. */
  private balanceRu = 0;
  /** A trickling grant: RU still to arrive, at `ruPerMs`, accounted up to `atMs`. */
  private trickle: { leftRu: number; ruPerMs: number; atMs: number } | null = null;
  private validUntilMs = 0;
  private refusal: PgError | null = null;
  private pending: UsageReport = emptyUsageReport();
  /** Smoothed RU/s consumed, from the reports so far (null before the second request). */
  private rateRuPerSecond: number | null = null;
  private lastRequestMs: number | null = null;
  /** Whether a query had to wait for, or was refused, tokens since the last request. */
  private heldBack = false;
  /** The grant request in flight (whichever session made it) and when it was sent. */
  private refreshing: { done: Promise<void>; sinceMs: number } | null = null;
  /** QuotaBucket calls made (for tests and metrics). */
  grants = 0;
  /** When usage was last charged, and when the oldest unreported usage was (null: none unreported). */
  private lastChargeMs = 0;
  private unreportedSinceMs: number | null = null;
  /** The running flush loop (flushLater), at most one, and when it last woke (a loop whose request ended stops waking). */
  private flushing: { done: Promise<void>; beatMs: number } | null = null;
  /** Statements admitted and not ended; each reserves estimateRu of the balance (admit). */
  private running = 0;
  /** Measured RU per statement (smoothed over report periods), at least statementEstimateRuMin. */
  private estimateRu: number = quotaLimits.statementEstimateRuMin;
  /** Statements admitted since the last request to the bucket (for the estimate). */
  private periodStatements = 0;
  private estimateMeasured = false;
  /** Admissions waiting for their turn, first come first served (admit). */
  private line: Ticket[] = [];
  /**
   * The admission deciding now, and when it last showed it is alive: its request beats on a timer
   * of its own while it holds the turn (a holder whose request ended stops beating and is passed
   * over after turnSilentMsMax).
   */
  private turn: { ticket: Ticket; beatMs: number; stopBeat: () => void } | null = null;
  private readonly setTimer: SetTimer;
  /** Admissions waiting for a running statement to end. */
  private endWaiters: Array<() => void> = [];

  /** Whether the first statement runs while the first grant is asked for (admit); the gateway's are made with it. */
  firstStatementCredit = false;

  constructor(
    cap: TenantQuotaCapability,
    nowMs: () => number = Date.now,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
    setTimer: SetTimer = realTimer,
  ) {
    this.cap = cap;
    this.nowMs = nowMs;
    this.sleep = sleep;
    this.setTimer = setTimer;
  }

  /**
   * The capability the next grant request goes through. In inline mode (GATEWAY_MODE=inline) every
   * request brings its own QUOTA stub, and a stub may only be used from the request it came with
   * (workerd: "Cannot perform I/O on behalf of a different request"), so the LocalQuota shared by a
   * tenant's requests must ask through the current caller's stub, never the first request's.
   */
  useCapability(cap: TenantQuotaCapability): void {
    this.cap = cap;
  }

  /**
   * Resolves when there is budget to run a statement, with the function that ends its admission
   * (call it when the statement is over, error or not); throws 53400 when the tenant has none. `cap`:
   * the calling request's own capability (a capability passed with one request cannot be used from
   * another: see useCapability).
   *
   * Sound under concurrent statements: charges come after the work, so a balance that admits one
   * statement would admit any number started at once, each spending what only one was covered
   * for. So each admitted statement reserves the estimate of one statement's cost (estimateRu,
   * measured) until it ends, and a statement is admitted only while the balance exceeds what the
   * running ones have reserved. Statements started together then spend at most the balance plus
   * one statement's estimate (the last one admitted). A statement that finds the balance reserved
   * waits for one to end or for RU to trickle in, within admitWaitMsMax.
   */
  async admit(cap?: TenantQuotaCapability): Promise<() => void> {
    if (cap !== undefined) this.cap = cap;
    if (this.firstStatementCredit && this.seq === 0 && this.refreshing === null && this.running === 0) {
      // The first statement of a fresh gateway (a new tenant, or one resumed from suspension) runs
      // on credit while the first grant is asked for beside it, instead of waiting one QuotaBucket
      // round trip on the cold path. That is the overspend the admission allows anyway: one
      // statement's estimate, once per LocalQuota (a gateway isolate bound to the tenant); every
      // statement after it waits for the answer, a refusal included.
      this.refresh(this.cap).catch((err: unknown) => console.warn("gateway: the first quota grant request failed; the next statement asks again", err));
      return this.enter();
    }
    const deadline = this.nowMs() + quotaLimits.admitWaitMsMax;
    // Admissions are decided one at a time, first come first served: without the order, a
    // statement waiting for RU could be overtaken again and again by newer ones (each running
    // statement's end frees one estimate, and whoever looks first takes it) until it times out.
    // The sessions in line belong to different requests, so each waits on a promise of its own
    // (common/shared-wait.ts): awaiting the previous admission's promise made the statement go on
    // in that session's request, where its KV calls and its reply to the client failed (the
    // pgbench -T hang of issue 8).
    const ticket = await this.takeTurn(deadline);
    this.beat(ticket);
    try {
      // The caller's own capability, not this.cap: another request may have set that while this one
      // waited its turn, and a stub may only be used from the request it came with.
      return await this.admitInOrder(deadline, cap ?? this.cap);
    } finally {
      this.passTurn(ticket);
    }
  }


  /** Waits (on a promise of the caller's own) until this admission's turn, first come first served; 53400 at the deadline. */
  private async takeTurn(deadline: number): Promise<Ticket> {
    const ticket: Ticket = { wake: null };
    this.line.push(ticket);
    this.handOn();
    while (this.turn?.ticket !== ticket) {
      const now = this.nowMs();
      if (this.turn !== null && now - this.turn.beatMs >= quotaLimits.turnSilentMsMax) {
        // Its request ended mid-admission (workerd cancels an ended request's timers and pending
        // calls, so it would never pass the turn on): the next in line goes.
        try {
          this.turn.stopBeat();
        } catch {
          // a timer of an ended request: nothing to stop
        }
        this.turn = null;
        this.handOn();
        continue;
      }
      if (now >= deadline) {
        const at = this.line.indexOf(ticket);
        if (at >= 0) this.line.splice(at, 1);
        this.heldBack = true;
        throw this.exhausted();
      }
      const staleAt = this.turn === null ? deadline : this.turn.beatMs + quotaLimits.turnSilentMsMax;
      await this.turnPassed(ticket, Math.min(deadline, staleAt) - now);
    }
    return ticket;
  }

  /** Resolves when the turn is handed to `ticket` or after `ms`: a promise of the waiter's own request. */
  private turnPassed(ticket: Ticket, ms: number): Promise<void> {
    let disarm: () => void = () => {};
    return new Promise<void>((resolve) => {
      ticket.wake = resolve;
      disarm = this.setTimer(Math.max(1, ms), resolve);
    }).finally(() => {
      ticket.wake = null;
      disarm();
    });
  }

  /** The turn is over: the next in line gets it. */
  private passTurn(ticket: Ticket): void {
    if (this.turn?.ticket !== ticket) return; // passed over as stale meanwhile
    this.turn.stopBeat();
    this.turn = null;
    this.handOn();
  }

  /** While nobody holds the turn, hands it to the first in line and wakes it (in its own request). */
  private handOn(): void {
    if (this.turn !== null) return;
    const next = this.line.shift();
    if (next === undefined) return;
    const turn = { ticket: next, beatMs: this.nowMs(), stopBeat: () => {} };
    this.turn = turn;
    next.wake?.();
  }

  /** The holder's heartbeat, on timers of the holder's own request (armed once it runs with the turn). */
  private beat(ticket: Ticket): void {
    const turn = this.turn;
    if (turn?.ticket !== ticket) return;
    turn.beatMs = this.nowMs();
    turn.stopBeat = this.setTimer(quotaLimits.turnBeatMs, () => this.beat(ticket));
  }

  private async admitInOrder(deadline: number, cap: TenantQuotaCapability): Promise<() => void> {
    for (let asked = 0; ; ) {
      this.accrue();
      const now = this.nowMs();
      const freeRu = this.balanceRu - this.reservedRu();
      if (now >= this.validUntilMs || (freeRu <= 0 && this.trickle === null && this.refusal === null)) {
        // Two asks per admission at most: the second only after the first grant ran out or expired.
        if (asked < 2) {
          asked++;
          try {
            await this.refresh(cap);
          } catch (err) {
            // A grant request that went unanswered (its session may have ended): this admission
            // sends one of its own while it still may.
            if (!silentBucket.has(err as object) || asked >= 2) throw err;
          }
          continue;
        }
        // The grant is reserved by running statements: one of them ending frees it.
        if (this.running > 0 && now < this.validUntilMs && now < deadline) {
          this.heldBack = true;
          await this.statementEnded(deadline - now);
          continue;
        }
        throw this.exhausted();
      }
      if (this.refusal !== null) {
        this.heldBack = true;
        throw this.refusal;
      }
      if (freeRu > 0) return this.enter();
      // In debt (or reserved) with RU still trickling in: wait for them, or for a running statement
      // to end, within the bound.
      this.heldBack = true;
      const t = this.trickle!;
      const waitMs = Math.ceil((-freeRu + 1e-9) / t.ruPerMs) + 1;
      if (now + waitMs > deadline && this.running === 0) throw this.exhausted();
      if (now >= deadline) throw this.exhausted();
      const sliceMs = Math.max(1, Math.min(waitMs, this.validUntilMs - now, deadline - now));
      await (this.running > 0 ? this.statementEnded(sliceMs) : this.sleep(sliceMs));
    }
  }

  /** RU the running statements are covered for (one estimate each). */
  private reservedRu(): number {
    return this.running * this.estimateRu;
  }

  /** Admits one statement: it counts as running (reserving an estimate) until the returned function is called. */
  private enter(): () => void {
    this.running++;
    this.periodStatements++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.running--;
      const waiting = this.endWaiters;
      this.endWaiters = [];
      for (const wake of waiting) wake();
    };
  }

  /** Resolves when a running statement ends, or after `ms` (then the caller looks again). */
  private statementEnded(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.endWaiters.push(resolve);
      void this.sleep(ms).then(resolve);
    });
  }

  /** Statements admitted and not yet ended (tests). */
  get runningStatements(): number {
    return this.running;
  }

  /** The current estimate of one statement's RU (tests, reporting). */
  get statementEstimateRu(): number {
    return this.estimateRu;
  }

  /** KV usage as the storage node measured it (one KV response's usage trailer). */
  chargeKv(u: KvUsage): void {
    addKvUsage(this.pending.kv, u);
    this.spend(kvRequestUnits(u));
  }

  /**
   * Gateway CPU time of a statement, in ms. The seam for exec/budget.ts's per-statement figure
   * (StatementStats.cpuMs, branch `budget`): until it is wired, nothing calls this with a real
   * measurement.
   */
  chargeCpu(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    this.pending.cpuMs += ms;
    this.spend(gatewayCpuRequestUnits(ms));
  }

  /** Bytes sent to the client. */
  chargeEgress(bytes: number): void {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) return;
    this.pending.egressBytes += bytes;
    this.spend(egressRequestUnits(bytes));
  }

  /** A Postgres wire connection was opened (for the usage history). */
  countConnection(): void {
    this.pending.connections++;
    this.charged();
  }

  /** A POST /sql request was served (for the usage history). */
  countHttpRequest(): void {
    this.pending.httpRequests++;
    this.charged();
  }

  /** RU spendable now (tests, EXPLAIN-style reporting). */
  get availableRu(): number {
    this.accrue();
    return this.balanceRu;
  }

  private spend(ru: number): void {
    this.balanceRu -= ru;
    this.pending.ru += ru;
    this.charged();
  }

  private charged(): void {
    this.lastChargeMs = this.nowMs();
    this.unreportedSinceMs ??= this.lastChargeMs;
  }

  /** Whether usage was charged (or connections and requests counted) that the bucket has not heard of. */
  get hasUnreported(): boolean {
    return this.unreportedSinceMs !== null;
  }

  /**
   * Reports unreported usage without waiting for the next grant request (quotaLimits.usageFlushMs):
   * returns the loop that does it, for the caller to keep its request alive until it ends
   * (ctx.waitUntil), or null when nothing is unreported or a loop already runs. `cap` is the caller's
   * capability; the loop uses it for its reports, so the request that lent it must outlive the loop.
   */
  flushLater(cap: TenantQuotaCapability): Promise<void> | null {
    if (!this.hasUnreported) return null;
    // A loop that stopped waking went with the request that ran it (workerd cancels an ended
    // request's timers): start another rather than leave usage unreported for good.
    if (this.flushing !== null && this.nowMs() - this.flushing.beatMs < 2 * quotaLimits.usageFlushMs + quotaLimits.grantRequestMsMax) return null;
    const loop = { done: Promise.resolve(), beatMs: this.nowMs() };
    loop.done = this.flushLoop(cap, loop).finally(() => {
      if (this.flushing === loop) this.flushing = null;
    });
    this.flushing = loop;
    return loop.done;
  }

  private async flushLoop(cap: TenantQuotaCapability, loop: { beatMs: number }): Promise<void> {
    while (this.hasUnreported) {
      await this.sleep(quotaLimits.usageFlushMs);
      loop.beatMs = this.nowMs();
      if (this.flushing !== loop) return; // replaced (this one was taken for gone)
      const now = this.nowMs();
      const quiet = now - this.lastChargeMs >= quotaLimits.usageFlushMs;
      const old = this.unreportedSinceMs !== null && now - this.unreportedSinceMs >= quotaLimits.usageReportAgeMsMax;
      if (!quiet && !old) continue;
      try {
        await this.flush(cap);
      } catch (err) {
        // Kept for the next report (ask() puts it back); a bucket that cannot be reached now is tried
        // again at the next tick rather than in a tight loop.
        console.warn("gateway: usage report failed; it goes with the next one", err);
      }
    }
  }

  /**
   * Reports everything unreported now, asking for no Request Units (a report-only request: the
   * local balance and grant stay as they are). `final`: this gateway stops spending for the tenant
   * (its isolate is being released), so it reports no demand and the bucket's fair shares stop
   * counting it as wanting any.
   */
  async flush(cap: TenantQuotaCapability = this.cap, final = false): Promise<void> {
    // Let a grant request in flight report first (it carries the same usage); a request of
    // another session is waited for through a promise of this caller's own, within its bound.
    const r = this.refreshing;
    if (r !== null) await awaitShared(r.done, r.sinceMs + quotaLimits.grantRequestMsMax - this.nowMs(), () => this.bucketSilent(), this.setTimer).catch(() => {});
    if (!this.hasUnreported) return;
    await this.ask(cap, final ? "final" : "report");
  }

  /** Moves what has trickled in by now into the balance. */
  private accrue(): void {
    const t = this.trickle;
    if (t === null) return;
    const now = this.nowMs();
    const arrived = Math.min(t.leftRu, Math.max(0, now - t.atMs) * t.ruPerMs);
    this.balanceRu += arrived;
    t.leftRu -= arrived;
    t.atMs = Math.max(t.atMs, now);
    if (t.leftRu <= 1e-9) this.trickle = null;
  }

  private exhausted(): PgError {
    return new PgError("configuration_limit_exceeded", "request unit quota exhausted for this virtual cluster", {
      hint: "It is over its Request-Unit rate: retry in a few seconds, or raise its rate (warren tenant alter NAME --ru-per-second …).",
    });
  }

  /**
   * A grant request, shared by whoever needs one while it is in flight. Each caller waits on a
   * promise of its own request (common/shared-wait.ts), at most grantRequestMsMax from when it
   * was sent: the session that sent it may end first (its pending call is then cancelled and
   * never answers), and a bucket may not answer at all. Past the bound the caller gets 53400 and
   * the next caller sends a new request.
   */
  private refresh(cap: TenantQuotaCapability): Promise<void> {
    const now = this.nowMs();
    if (this.refreshing !== null && now - this.refreshing.sinceMs >= quotaLimits.grantRequestMsMax) this.refreshing = null;
    let r = this.refreshing;
    if (r === null) {
      const fresh = { done: Promise.resolve(), sinceMs: now };
      fresh.done = this.ask(cap, "grant").finally(() => {
        if (this.refreshing === fresh) this.refreshing = null;
      });
      this.refreshing = r = fresh;
    }
    return awaitShared(r.done, r.sinceMs + quotaLimits.grantRequestMsMax - now, () => this.bucketSilent(), this.setTimer);
  }

  private bucketSilent(): PgError {
    return silent(new PgError("configuration_limit_exceeded", `the tenant's quota bucket did not answer a grant request within ${quotaLimits.grantRequestMsMax} ms (grantRequestMsMax)`, {
      hint: "Nothing was run. Retry the statement.",
    }));
  }

  /** One request to the bucket: "grant" asks for the period's need; "report" and "final" ask for nothing. */
  private async ask(cap: TenantQuotaCapability, kind: "grant" | "report" | "final"): Promise<void> {
    const now = this.nowMs();
    const consumed = this.pending;
    if (this.lastRequestMs !== null && now > this.lastRequestMs) {
      const observed = consumed.ru / ((now - this.lastRequestMs) / 1000);
      this.rateRuPerSecond = this.rateRuPerSecond === null ? observed : quotaLimits.rateSmoothing * observed + (1 - quotaLimits.rateSmoothing) * this.rateRuPerSecond;
    }
    // What has not arrived yet of a trickle still counts as ours: ask for the rest of the period's need.
    const expected = Math.max(quotaLimits.grantRuMin, (this.rateRuPerSecond ?? 0) * quotaLimits.grantTargetSeconds);
    const have = this.balanceRu + (this.trickle?.leftRu ?? 0);
    const wantRu = kind === "grant" ? Math.max(0, expected - have) : 0;
    if (this.periodStatements > 0) {
      const perStatementRu = consumed.ru / this.periodStatements;
      const blended = this.estimateMeasured ? quotaLimits.rateSmoothing * perStatementRu + (1 - quotaLimits.rateSmoothing) * this.estimateRu : perStatementRu;
      this.estimateRu = Math.max(quotaLimits.statementEstimateRuMin, blended);
      this.estimateMeasured = true;
      this.periodStatements = 0;
    }
    const seq = ++this.seq;
    const unreportedSinceMs = this.unreportedSinceMs;
    this.pending = emptyUsageReport();
    this.unreportedSinceMs = null;
    const heldBack = this.heldBack;
    if (kind === "grant") this.heldBack = false;
    const demandRuPerSecond = kind === "final" ? 0 : heldBack ? null : this.rateRuPerSecond;
    let grant: QuotaGrant;
    try {
      grant = await settleRpc(cap.acquire({ instanceId: this.instanceId, seq, wantRu, demandRuPerSecond, consumed }));
    } catch (err) {
      // The report did not arrive: keep it for the next request (the bucket skips a repeated seq).
      addReport(this.pending, consumed);
      this.unreportedSinceMs = Math.min(unreportedSinceMs ?? now, this.unreportedSinceMs ?? now);
      throw err;
    }
    this.grants++;
    this.lastRequestMs = now;
    // A report-only request leaves the local grant as it was (it asked for nothing); a refusal it
    // brings back still counts, as from any answer of the bucket.
    if (kind === "grant") this.applyGrant(grant);
    else if (grant.refusal) this.applyGrant(grant);
  }

  private applyGrant(grant: QuotaGrant): void {
    const now = this.nowMs();
    this.accrue();
    if (grant.malformed !== undefined) {
      // The bucket could not read our request: a bug here, not the tenant's quota.
      throw new PgError("internal_error", `the quota bucket refused the gateway's request: ${grant.malformed}`);
    }
    this.validUntilMs = now + grant.validForMs;
    if (grant.refusal) {
      this.refusal = new PgError("configuration_limit_exceeded", grant.refusal.message, grant.refusal.hint === undefined ? {} : { hint: grant.refusal.hint });
      return;
    }
    this.refusal = null;
    if (grant.trickleMs > 0) {
      // A trickle not yet arrived is folded into the new one (it was counted in the request).
      const leftRu = grant.grantedRu + (this.trickle?.leftRu ?? 0);
      this.trickle = { leftRu, ruPerMs: leftRu / grant.trickleMs, atMs: now };
    } else {
      this.balanceRu += grant.grantedRu;
    }
  }
}

/** The 53400s of grant requests that went unanswered (an admission may send its own after one). */
const silentBucket = new WeakSet<object>();
function silent(err: PgError): PgError {
  silentBucket.add(err);
  return err;
}

/** One admission in line for the turn; `wake` is set while it waits. */
interface Ticket {
  wake: (() => void) | null;
}

function addReport(into: UsageReport, r: UsageReport): void {
  addKvUsage(into.kv, r.kv);
  into.cpuMs += r.cpuMs;
  into.egressBytes += r.egressBytes;
  into.ru += r.ru;
  into.connections += r.connections;
  into.httpRequests += r.httpRequests;
}

const byTenant = new Map<string, LocalQuota>();

/** The tenant's LocalQuota in this isolate, if it has one (the release path flushes it). */
export function existingLocalQuota(tenantId: string): LocalQuota | undefined {
  return byTenant.get(tenantId);
}

/** Forgets the tenant's LocalQuota (after its final flush): the isolate is let go of, or serves others. */
export function forgetLocalQuota(tenantId: string): void {
  byTenant.delete(tenantId);
}

/**
 * One LocalQuota per tenant in this isolate (inline mode serves several tenants from one isolate),
 * asking through `cap`, the calling request's own capability (see useCapability).
 */
export function localQuotaFor(tenantId: string, cap: TenantQuotaCapability): LocalQuota {
  let q = byTenant.get(tenantId);
  if (!q) {
    q = new LocalQuota(cap);
    q.firstStatementCredit = true;
    byTenant.set(tenantId, q);
  }
  q.useCapability(cap);
  return q;
}
