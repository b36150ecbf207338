// The edge isolate's copy of the failed-login throttle (durable-objects/router/login-throttle.ts,
// the same rules), per tenant and client address. The router's throttle is the authority, but the
// edge answers logins from its caches without asking the router (RouteCache for /sql, the cached
// SCRAM verifier for /v2), so it must hold the line itself: a throttled address is refused here
// before any cache is consulted, or a right guess would slip through the cache during the backoff
// and reveal itself.
//
// Successes are told to the router (so another isolate's cache miss or a fresh isolate knows the
// address is exempt) at most once per (tenant, address) per limits.loginSuccessReportMs.
import { PgError } from "../../common/errors.ts";
import { LoginThrottle } from "../../durable-objects/router/login-throttle.ts";
import { throttledMessage } from "../../durable-objects/router/tenant-router.ts";
import { limits } from "./limits.ts";

export class LoginGuard {
  private readonly tenants = new Map<string, LoginThrottle>();
  private readonly reported = new Map<string, number>();
  private readonly nowMs: () => number;

  constructor(nowMs: () => number = Date.now) {
    this.nowMs = nowMs;
  }

  /** Throws 28000 while `address` is backing off from failed logins to `tenant`. */
  check(tenant: string, address: string): void {
    const at = this.tenants.get(tenant)?.retryAtMs(address) ?? null;
    if (at === null) return;
    throw new PgError("invalid_authorization_specification", throttledMessage(tenant, address), {
      hint: `Wait ${Math.ceil((at - this.nowMs()) / 1000)} s before trying again.`,
    });
  }

  failed(tenant: string, address: string): void {
    this.throttle(tenant).failed(address);
  }

  /** Records a success; true when the router should be told (not told recently from here). */
  succeeded(tenant: string, address: string): boolean {
    this.throttle(tenant).succeeded(address);
    const key = `${tenant}\u0000${address}`;
    const now = this.nowMs();
    const last = this.reported.get(key);
    if (last !== undefined && now - last < limits.loginSuccessReportMs) return false;
    this.reported.delete(key);
    this.reported.set(key, now);
    while (this.reported.size > limits.routeCacheEntriesMax) this.reported.delete(this.reported.keys().next().value!);
    return true;
  }

  private throttle(tenant: string): LoginThrottle {
    let t = this.tenants.get(tenant);
    if (t === undefined) {
      t = new LoginThrottle(this.nowMs);
      this.tenants.set(tenant, t);
      while (this.tenants.size > limits.routeCacheEntriesMax) this.tenants.delete(this.tenants.keys().next().value!);
    }
    return t;
  }
}
