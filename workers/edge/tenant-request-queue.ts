// Per-tenant admission of `/sql` requests in one edge isolate: at most `sqlRequestsMax` of a
// tenant's requests run at once; the next `sqlQueueMax` wait in arrival order (FIFO) for at most
// `sqlQueueWaitMs`; anything beyond is refused at once. Refusals are 53300, the SQLSTATE Postgres
// uses when a connection limit is reached, with the limit named in the message.
//
//   acquire ─► running < max ──────────────► run, release() when the response is done
//          └─► waiting < queueMax ─► wait ─► a release hands this request its slot (FIFO)
//                                        └─► waited sqlQueueWaitMs / client went away ─► refused
//          └─► otherwise ─────────────────► refused at once
//   full ─► refuse: a request whose line is full, before its body is read ─► held ~refusalHoldMs ─► refused
//                   (refusalsHeldMax of the tenant held already ─► refused at once)
//                   the tenant's refusals leave at most refusalsPerSecond apart, so with many held
//                   each is held longer, up to refusalHoldMsMax
//
// Why a refusal is held: a client that loops (a flood, a pool retrying without backoff) sends its
// next request as soon as the refusal arrives, so an instant refusal makes the flood as fast as the
// edge can refuse, and every refusal costs the shared thread an HTTP request's work. Held for about
// the Retry-After it carries, each looping client costs at most one request per hold; the hold
// itself is a timer (no CPU), and refusalsHeldMax bounds what one tenant parks in the isolate.
//
// Why refusals are also paced per tenant: a hold bounds each connection, not the tenant, so a
// flood's request rate grew with its number of connections (200 looping clients: ~200 requests a
// second). Every request costs the edge's CPU share whether it is admitted or refused (locally
// ~4 ms of it, three quarters in wrangler's proxy; test/isolation/README.md), and another tenant's
// latency grows with that rate. Paced, a tenant's refusals leave at most refusalsPerSecond, so its
// clients get refusals at about that rate together, whatever their number, until refusalHoldMsMax
// (past which the rate is clients / refusalHoldMsMax, bounded by refusalsHeldMax).
//
// Tenants do not share slots, so one tenant's flood waits in its own line: another tenant's
// request never queues behind it in this isolate. State exists only for tenants with requests
// running or waiting.
//
// The same line bounds `/v2` logins in progress per tenant (app.ts: a second instance, with its
// own bounds and wording): see limits.loginsPerTenantMax.
import { PgError } from "../../common/errors.ts";
import type { TenantRef } from "./gateway-env.ts";
import type { TenantLimits } from "./tenant-limits.ts";

type Bounds = Pick<TenantLimits, "sqlRequestsMax" | "sqlQueueMax" | "sqlQueueWaitMs"> &
  Partial<Pick<TenantLimits, "refusalHoldMs" | "refusalsHeldMax" | "refusalsPerSecond" | "refusalHoldMsMax">>;

interface Waiter {
  grant(): void;
  refuse(err: PgError): void;
}

interface Line {
  running: number;
  waiting: Waiter[];
  /** Refusals being held before they are sent (see the file comment). */
  held: number;
  /** Earliest time (Date.now()) the tenant's next held refusal may be sent: the pacing of refusals. */
  nextRefusalAtMs: number;
}

/** How refusals name what is queued. */
export interface QueueWording {
  /** Plural, e.g. "/sql requests". */
  readonly things: string;
  /** One, with its article, e.g. "a /sql request". */
  readonly one: string;
  readonly hint: string;
}

const SQL_REQUESTS: QueueWording = {
  things: "/sql requests",
  one: "a /sql request",
  hint: "Retry after a short pause, send fewer requests at once, or put several queries in one request ({\"queries\": […]}).",
};

export class TenantRequestQueue {
  private readonly lines = new Map<number, Line>();
  private readonly wording: QueueWording;

  constructor(wording: QueueWording = SQL_REQUESTS) {
    this.wording = wording;
  }

  /**
   * Waits for a running slot for one request of `tenant`; resolves with the function that gives it
   * back (call it exactly once, when the request is done). Throws PgError 53300 when the tenant's
   * queue is full or the wait ran out, 57014 when `signal` aborts while waiting.
   */
  async acquire(tenant: TenantRef, bounds: Bounds, signal?: AbortSignal): Promise<() => void> {
    let line = this.lines.get(tenant.tenantId);
    if (line === undefined) {
      line = { running: 0, waiting: [], held: 0, nextRefusalAtMs: 0 };
      this.lines.set(tenant.tenantId, line);
    }
    const release = this.releaser(tenant.tenantId, line);
    if (line.running < bounds.sqlRequestsMax && line.waiting.length === 0) {
      line.running++;
      return release;
    }
    if (line.waiting.length >= bounds.sqlQueueMax) {
      this.forgetIfIdle(tenant.tenantId, line);
      throw this.lineFull(tenant, bounds);
    }
    const owner = line;
    return new Promise<() => void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        const at = owner.waiting.indexOf(waiter);
        if (at >= 0) owner.waiting.splice(at, 1);
      };
      const waiter: Waiter = {
        grant: () => {
          done();
          resolve(release);
        },
        refuse: (err) => {
          done();
          this.forgetIfIdle(tenant.tenantId, owner);
          reject(err);
        },
      };
      const timer = setTimeout(
        () =>
          waiter.refuse(
            new PgError(
              "too_many_connections",
              `${this.wording.one} for virtual cluster "${tenant.name}" waited ${bounds.sqlQueueWaitMs} ms for one of its ${bounds.sqlRequestsMax} concurrent slots (per edge isolate)`,
              { hint: this.wording.hint },
            ),
          ),
        bounds.sqlQueueWaitMs,
      );
      const onAbort = () => waiter.refuse(new PgError("query_canceled", `canceling statement due to user request: the client went away while ${this.wording.one} waited for a slot`));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort);
      owner.waiting.push(waiter);
    });
  }

  /** Whether a request of the tenant would be refused now (its line is full). */
  full(tenantId: number, bounds: Bounds): boolean {
    const line = this.lines.get(tenantId);
    return line !== undefined && line.waiting.length >= bounds.sqlQueueMax && line.running >= bounds.sqlRequestsMax;
  }

  /**
   * Refuses a request of a tenant whose line is full (`full()`), after holding it about
   * refusalHoldMs (0.5–1.5 times it, at random) and at least until the tenant's refusals paced at
   * refusalsPerSecond reach it (at most refusalHoldMsMax), unless refusalsHeldMax refusals of the
   * tenant are held already or its client went away. Always throws PgError 53300. Called before the
   * request's body is read, so a held refusal keeps no body.
   */
  async refuse(tenant: TenantRef, bounds: Bounds, signal?: AbortSignal): Promise<never> {
    const err = this.lineFull(tenant, bounds);
    const line = this.lines.get(tenant.tenantId);
    const holdMs = bounds.refusalHoldMs ?? 0;
    if (line !== undefined && holdMs > 0 && line.held < (bounds.refusalsHeldMax ?? 0) && signal?.aborted !== true) {
      // Spread over half to one and a half holds: refusals sent together come back together, and a
      // flood's clients, refused in one burst, would otherwise return as one burst every hold.
      await this.hold(line, this.holdFor(line, holdMs * (0.5 + Math.random()), bounds), signal);
      this.forgetIfIdle(tenant.tenantId, line);
    }
    throw err;
  }

  /**
   * How long to hold the next refusal of `line`: `jitteredMs`, or longer if the tenant's paced
   * refusals have not reached it yet (one every 1000 / refusalsPerSecond ms), but never longer than
   * refusalHoldMsMax. Takes the refusal's place in the pacing.
   */
  private holdFor(line: Line, jitteredMs: number, bounds: Bounds): number {
    const perSecond = bounds.refusalsPerSecond ?? 0;
    if (perSecond <= 0) return jitteredMs;
    const nowMs = Date.now();
    const maxMs = Math.max(jitteredMs, bounds.refusalHoldMsMax ?? jitteredMs);
    const leaveAtMs = Math.min(Math.max(nowMs + jitteredMs, line.nextRefusalAtMs), nowMs + maxMs);
    line.nextRefusalAtMs = Math.max(line.nextRefusalAtMs, leaveAtMs + 1000 / perSecond);
    return leaveAtMs - nowMs;
  }

  private lineFull(tenant: TenantRef, bounds: Bounds): PgError {
    return new PgError(
      "too_many_connections",
      `too many concurrent ${this.wording.things} for virtual cluster "${tenant.name}": ${bounds.sqlRequestsMax} running and ${bounds.sqlQueueMax} waiting (per edge isolate)`,
      { hint: this.wording.hint },
    );
  }

  /** Requests of a tenant running and waiting now (tests and diagnostics). */
  stats(tenantId: number): { running: number; waiting: number } {
    const line = this.lines.get(tenantId);
    return { running: line?.running ?? 0, waiting: line?.waiting.length ?? 0 };
  }

  /** Refusals of a tenant being held now (tests and diagnostics). */
  heldRefusals(tenantId: number): number {
    return this.lines.get(tenantId)?.held ?? 0;
  }

  /** Waits `ms` (or until `signal` aborts: a client that went away needs no answer) as one of the line's held refusals. */
  private async hold(line: Line, ms: number, signal: AbortSignal | undefined): Promise<void> {
    line.held++;
    try {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener("abort", done);
      });
    } finally {
      line.held--;
    }
  }

  /** Tenants with state here (tests check it stays bounded by activity). */
  get tenantsTracked(): number {
    return this.lines.size;
  }

  private releaser(tenantId: number, line: Line): () => void {
    let released = false;
    return () => {
      if (released) return; // a second call would hand out a slot twice
      released = true;
      const next = line.waiting[0];
      if (next !== undefined) {
        // The slot passes straight to the oldest waiter: `running` is unchanged.
        next.grant();
        return;
      }
      line.running--;
      this.forgetIfIdle(tenantId, line);
    };
  }

  private forgetIfIdle(tenantId: number, line: Line): void {
    if (line.running === 0 && line.waiting.length === 0 && line.held === 0 && this.lines.get(tenantId) === line) this.lines.delete(tenantId);
  }
}
