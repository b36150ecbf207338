// Idle suspension at the edge: a tenant with no open session and no request for its idle time
// (TENANT_IDLE_SUSPEND_MS, default limits.tenantIdleSuspendMsDefault) is suspended. Its gateway
// isolate is released (with the catalog cache, range cache and quota grants it held), this edge
// isolate's cached route and credentials are dropped, and its TenantRouter records "suspended by
// idle". The next connection or request asks the router again, which resumes the tenant as it
// hands out the route, and gets a fresh isolate: the client sees only a slower first query.
//
// When it runs: at the start of every request this edge isolate serves (cheap: a walk over the
// tenants seen since their last suspension; a query does not wait for other tenants' suspensions,
// only a request for a tenant being suspended waits for its router's mark, see settled()) and from
// a timer that a request leaves behind
// (ctx.waitUntil, so bounded by the platform's grace after a response: only idle times up to
// limits.idleSweepTimerMaxMs are timed; longer ones wait for the next request). An edge isolate
// that serves nothing at all holds nothing either: the platform evicts it and its gateways.
//
// Several edge isolates (production): each releases what it holds. One may mark the tenant idle
// while another still serves it; that tenant is then resumed by the other's next route refresh,
// so a premature mark costs one router call and no refusal.
import { settleRpc } from "../../common/rpc.ts";
import { routerFor } from "../../durable-objects/env.ts";
import type { EdgeEnv } from "./env.ts";
import type { TenantRef } from "./gateway-env.ts";
import { limits } from "./limits.ts";

export interface Releasable {
  /** Lets go of everything this edge isolate holds for the tenant (isolate, caches, activity); resolves once its gateway reported the tenant's last usage. */
  release(tenant: TenantRef): Promise<unknown>;
  idleTenants(idleMs: number): TenantRef[];
  nextIdleInMs(idleMs: number): number | null;
}

/** TENANT_IDLE_SUSPEND_MS: decimal milliseconds, 0 = never suspend for idleness. Throws when malformed. */
export function parseIdleMs(text: string | undefined): number {
  if (text === undefined || text === "") return limits.tenantIdleSuspendMsDefault;
  if (!/^[0-9]{1,10}$/.test(text)) throw new Error(`TENANT_IDLE_SUSPEND_MS must be a non-negative integer (ms), not ${JSON.stringify(text)}`);
  return Number(text);
}

export class IdleSuspender {
  private timerPending = false;
  /** Suspensions in flight, by tenant name (settled()). */
  private readonly suspending = new Map<string, Promise<void>>();
  /** Tenants suspended for idleness by this edge isolate (metrics). */
  suspended = 0;

  private readonly env: EdgeEnv;
  private readonly tenants: Releasable;
  readonly idleMs: number;

  constructor(env: EdgeEnv, tenants: Releasable, idleMs: number) {
    this.env = env;
    this.tenants = tenants;
    this.idleMs = idleMs;
  }

  /**
   * Suspends every idle tenant now; resolves once their routers know. Each tenant's release starts
   * at once (its route and credentials are forgotten, its isolate unpinned, synchronously), so a
   * request that arrives meanwhile misses the caches and asks its router, after settled(): callers
   * on the query path need not wait for the suspensions of other tenants.
   */
  sweep(): Promise<void> {
    if (this.idleMs === 0) return Promise.resolve();
    const idle = this.tenants.idleTenants(this.idleMs);
    if (idle.length === 0) return Promise.resolve();
    this.suspended += idle.length;
    return Promise.all(idle.map((t) => this.suspend(t))).then(() => {});
  }

  /**
   * Resolves once the suspension this isolate started for `name` (if any) is recorded by its router.
   * Awaited before asking the router for the tenant's route: the router's resume (and its counter)
   * must follow the idle mark, or the mark would land after the resume and suspend an active tenant.
   */
  settled(name: string): Promise<void> {
    return this.suspending.get(name) ?? Promise.resolve();
  }

  /** The tenant's release (its gateway's last usage report) and its router's idle mark, at the same time. */
  private suspend(t: TenantRef): Promise<void> {
    const release = this.tenants.release(t);
    const mark = (async () => {
      const r = await settleRpc(routerFor(this.env, t.name).idleSuspend(t.name)).catch((err: unknown) => ({ ok: false, err }));
      if (!r.ok) console.warn(`edge: marking "${t.name}" idle failed`, r);
    })();
    const done = Promise.all([release, mark]).then(
      () => {},
      () => {},
    );
    this.suspending.set(t.name, done);
    void done.then(() => {
      if (this.suspending.get(t.name) === done) this.suspending.delete(t.name);
    });
    return done;
  }

  /** Leaves a timer behind the current request that sweeps when the next tenant becomes idle. */
  schedule(ctx: ExecutionContext): void {
    if (this.idleMs === 0 || this.idleMs > limits.idleSweepTimerMaxMs || this.timerPending) return;
    const inMs = this.tenants.nextIdleInMs(this.idleMs);
    if (inMs === null) return;
    this.timerPending = true;
    const done = new Promise<void>((resolve) => setTimeout(resolve, inMs + limits.idleSweepSlackMs))
      .then(() => {
        this.timerPending = false;
        return this.sweep();
      })
      .then(() => {
        // More tenants may go idle later: one more timer, still behind a live request context.
        const next = this.tenants.nextIdleInMs(this.idleMs);
        if (next !== null && next <= limits.idleSweepTimerMaxMs) this.schedule(ctx);
      });
    try {
      ctx.waitUntil(done);
    } catch {
      // The request's context is gone (a WebSocket closed long after its upgrade): the next request sweeps.
      this.timerPending = false;
    }
  }
}
