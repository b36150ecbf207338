// Per-tenant admission of `/sql` requests in one edge isolate: at most `sqlRequestsMax` of a
// tenant's requests run at once; the next `sqlQueueMax` wait in arrival order (FIFO) for at most
// `sqlQueueWaitMs`; anything beyond is refused at once. Refusals are 53300, the SQLSTATE Postgres
// uses when a connection limit is reached, with the limit named in the message.
//
//   acquire ─► running < max ──────────────► run, release() when the response is done
//          └─► waiting < queueMax ─► wait ─► a release hands this request its slot (FIFO)
//                                        └─► waited sqlQueueWaitMs / client went away ─► refused
//          └─► otherwise ─────────────────► refused at once
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

type Bounds = Pick<TenantLimits, "sqlRequestsMax" | "sqlQueueMax" | "sqlQueueWaitMs">;

interface Waiter {
  grant(): void;
  refuse(err: PgError): void;
}

interface Line {
  running: number;
  waiting: Waiter[];
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
      line = { running: 0, waiting: [] };
      this.lines.set(tenant.tenantId, line);
    }
    const release = this.releaser(tenant.tenantId, line);
    if (line.running < bounds.sqlRequestsMax && line.waiting.length === 0) {
      line.running++;
      return release;
    }
    if (line.waiting.length >= bounds.sqlQueueMax) {
      this.forgetIfIdle(tenant.tenantId, line);
      throw new PgError(
        "too_many_connections",
        `too many concurrent ${this.wording.things} for virtual cluster "${tenant.name}": ${bounds.sqlRequestsMax} running and ${bounds.sqlQueueMax} waiting (per edge isolate)`,
        { hint: this.wording.hint },
      );
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

  /** Requests of a tenant running and waiting now (tests and diagnostics). */
  stats(tenantId: number): { running: number; waiting: number } {
    const line = this.lines.get(tenantId);
    return { running: line?.running ?? 0, waiting: line?.waiting.length ?? 0 };
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
    if (line.running === 0 && line.waiting.length === 0 && this.lines.get(tenantId) === line) this.lines.delete(tenantId);
  }
}
