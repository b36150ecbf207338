// Who may connect, decided at the edge before a tenant's gateway is involved (the routing proxy):
//
//   deny list       address or tenant on the directory's deny list → 28000 (deny-cache.ts)
//   login throttle  the address is backing off after wrong passwords for this tenant → 28000
//                   (login-guard.ts here; the TenantRouter's login-throttle.ts is the authority)
//   allowed CIDRs   the tenant's allowedCidrs setting (carried on its route) → 28000 unless the
//                   client's address is in one of them
//   max connections the tenant's maxConnections setting (on its route) → 53300 for session N+1
//
// The client's address comes from client-address.ts ("" when unknown: never in an allowed network,
// and one throttle bucket of its own).
import { PgError } from "../../common/errors.ts";
import { settleRpc } from "../../common/rpc.ts";
import { addressAllowed, type DenyList } from "../../durable-objects/directory/deny-list.ts";
import { directoryOf, routerFor } from "../../durable-objects/env.ts";
import type { Route } from "../../durable-objects/router/tenant-router.ts";
import { DenyCache } from "./deny-cache.ts";
import type { EdgeEnv } from "./env.ts";
import { LoginGuard } from "./login-guard.ts";
import type { TenantActivity } from "./tenant-activity.ts";

export class EdgeAccess {
  readonly guard = new LoginGuard();
  readonly deny: DenyCache;
  private readonly env: EdgeEnv;

  constructor(env: EdgeEnv, activity: TenantActivity) {
    this.env = env;
    this.deny = new DenyCache(
      () => settleRpc(directoryOf(env).denyList()),
      (list: DenyList) => {
        // Live work that a new entry matches ends here (within limits.liveWorkPollMs).
        const err = (why: string) => new PgError("admin_shutdown", `terminating connection due to administrator command: ${why}`);
        for (const e of activity.entries()) if (list.tenants.includes(e.tenant.name)) activity.end(e.tenant.tenantId, err(`virtual cluster "${e.tenant.name}" is on the deny list`));
        for (const a of list.addresses) activity.endWhere((address) => address !== "" && addressAllowed([a], address), err(`connections from ${a} are denied`));
      },
    );
  }

  /** Before anything about the password: the deny list and the throttle. */
  async admit(tenant: string, address: string): Promise<void> {
    await this.deny.check(tenant, address);
    this.guard.check(tenant, address);
  }

  /** The tenant's allowed client networks (its route carries them). */
  allowedNetwork(route: Route, address: string): void {
    const cidrs = route.allowedCidrs ?? [];
    if (addressAllowed(cidrs, address)) return;
    throw new PgError("invalid_authorization_specification", `no entry in the allowed networks of virtual cluster "${route.name}" for host "${address === "" ? "unknown" : address}"`, {
      hint: address === "" ? "The client's address is not known here: connect through `warren tunnel` or Cloudflare." : "An operator can allow it: warren tenant alter NAME --allow CIDR,…",
    });
  }

  /** The tenant's own connection cap, over the sessions it has open here. */
  maxConnections(route: Route, open: number): void {
    const max = route.maxConnections;
    if (max === null || max === undefined || open < max) return;
    throw new PgError("too_many_connections", `too many connections for virtual cluster "${route.name}": its limit is ${max}`, {
      hint: "Close idle connections, or ask an operator to raise it: warren tenant alter NAME --max-connections N.",
    });
  }

  /** A wrong password from `address` (the router was told already, or is told by the caller). */
  failed(tenant: string, address: string): void {
    this.guard.failed(tenant, address);
  }

  /** A right password: the address is exempt from the throttle here, and the router hears of it (rarely). */
  succeeded(tenant: string, address: string): Promise<void> {
    if (!this.guard.succeeded(tenant, address)) return Promise.resolve();
    return settleRpc(routerFor(this.env, tenant).loginSucceeded(tenant, address)).catch((err: unknown) => console.warn("edge: loginSucceeded failed", err));
  }
}
