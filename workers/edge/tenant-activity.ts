// What each tenant is doing in this edge isolate right now: its live work (Postgres sessions and
// `/sql` requests, each with a way to end it) and when it last did anything. Two uses:
//
//   - idle suspension: a tenant with no live work whose last activity is older than the idle time
//     is idle (idleTenants); the edge then releases its gateway isolate and caches.
//   - ending live work: an operator's suspend or a deny-list entry ends every session and request
//     of a tenant here at once (end), or only those from one client address (endFrom).
//
// Ending work from another request: workerd lets a request touch only its own I/O objects (a
// session's WebSocket belongs to the /v2 request that accepted it), so the admin request that
// suspends a tenant cannot close the socket itself. It marks the work instead, and each piece of
// work watches its mark with a timer of its own (created in its own request), every
// limits.liveWorkPollMs: a suspend or deny reaches every session within that period.
//
// An open session counts as activity for as long as it is open, even without queries (the issue's
// "without a query or an open session"), so a session-holding tenant never goes idle. State exists
// only for tenants seen since their last suspension.
import type { PgError } from "../../common/errors.ts";
import type { TenantRef } from "./gateway-env.ts";
import { limits } from "./limits.ts";

export type WorkKind = "session" | "request";

interface Work {
  kind: WorkKind;
  /** The client's address, when known ("" otherwise). */
  address: string;
  end(err: PgError): void;
  /** Set by end()/endFrom(); the work's own timer ends it. */
  doomed: PgError | null;
}

interface Entry {
  tenant: TenantRef;
  lastActiveMs: number;
  work: Set<Work>;
}

export class TenantActivity {
  private readonly tenants = new Map<number, Entry>();
  private readonly nowMs: () => number;

  constructor(nowMs: () => number = Date.now) {
    this.nowMs = nowMs;
  }

  /**
   * Counts a session or request of `tenant` as live until the returned function is called
   * (idempotent). `end` is how the edge stops it early (operator suspension, deny list).
   */
  enter(tenant: TenantRef, kind: WorkKind, address: string, end: (err: PgError) => void): () => void {
    const entry = this.entry(tenant);
    entry.lastActiveMs = this.nowMs();
    const work: Work = { kind, address, end, doomed: null };
    entry.work.add(work);
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      clearInterval(watch);
      entry.work.delete(work);
      entry.lastActiveMs = this.nowMs();
    };
    // Runs in the request that entered (see the top of this file).
    const watch = setInterval(() => {
      if (work.doomed === null) return;
      const err = work.doomed;
      leave();
      try {
        end(err);
      } catch (cause) {
        console.error("edge: ending a session failed", cause);
      }
    }, limits.liveWorkPollMs);
    return leave;
  }

  /** Tenants with no live work here, idle for at least `idleMs`. */
  idleTenants(idleMs: number): TenantRef[] {
    const now = this.nowMs();
    const out: TenantRef[] = [];
    for (const e of this.tenants.values()) if (e.work.size === 0 && now - e.lastActiveMs >= idleMs) out.push(e.tenant);
    return out;
  }

  /** Milliseconds until the next tenant without live work becomes idle, or null when none will. */
  nextIdleInMs(idleMs: number): number | null {
    const now = this.nowMs();
    let next: number | null = null;
    for (const e of this.tenants.values()) {
      if (e.work.size > 0) continue;
      const inMs = Math.max(0, e.lastActiveMs + idleMs - now);
      if (next === null || inMs < next) next = inMs;
    }
    return next;
  }

  /** Marks every session and request of the tenant here to end with `err` (within liveWorkPollMs); returns how many. */
  end(tenantId: number, err: PgError): number {
    return this.endOf(tenantId, () => true, err);
  }

  /** Marks the sessions and requests of every tenant that came from `address` to end; returns how many. */
  endFrom(address: string, err: PgError): number {
    return this.endWhere((a) => a === address, err);
  }

  /** Marks the work of every tenant whose client address satisfies `which`; returns how many. */
  endWhere(which: (address: string) => boolean, err: PgError): number {
    let n = 0;
    for (const id of [...this.tenants.keys()]) n += this.endOf(id, (w) => which(w.address), err);
    return n;
  }

  /** Forgets a tenant (after it was suspended here); its live work, if any, is not ended. */
  forget(tenantId: number): void {
    const e = this.tenants.get(tenantId);
    if (e !== undefined && e.work.size === 0) this.tenants.delete(tenantId);
  }

  /** Live sessions and requests of a tenant here. */
  live(tenantId: number): { sessions: number; requests: number } {
    let sessions = 0;
    let requests = 0;
    for (const w of this.tenants.get(tenantId)?.work ?? []) {
      if (w.kind === "session") sessions++;
      else requests++;
    }
    return { sessions, requests };
  }

  /** Every tenant known here, with its live work (metrics). */
  *entries(): IterableIterator<{ tenant: TenantRef; lastActiveMs: number; sessions: number; requests: number }> {
    for (const e of this.tenants.values()) yield { tenant: e.tenant, lastActiveMs: e.lastActiveMs, ...this.live(e.tenant.tenantId) };
  }

  private entry(tenant: TenantRef): Entry {
    let e = this.tenants.get(tenant.tenantId);
    if (e === undefined) {
      e = { tenant: { tenantId: tenant.tenantId, name: tenant.name }, lastActiveMs: this.nowMs(), work: new Set() };
      this.tenants.set(tenant.tenantId, e);
    }
    return e;
  }

  private endOf(tenantId: number, which: (w: Work) => boolean, err: PgError): number {
    const e = this.tenants.get(tenantId);
    if (e === undefined) return 0;
    let n = 0;
    for (const w of e.work) {
      if (!which(w) || w.doomed !== null) continue;
      n++;
      w.doomed = err;
    }
    return n;
  }
}
