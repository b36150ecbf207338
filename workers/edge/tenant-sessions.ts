// Postgres sessions (`/v2` WebSockets past authentication) per tenant in one edge isolate: bounded
// by TenantLimits.pgSessionsMax (the next one is refused with FATAL 53300), and remembered by
// tenant id so a CancelRequest, which names only the tenant's id, can reach the gateway those
// sessions run in. State exists only for tenants with open sessions.
import { PgError } from "../../common/errors.ts";
import type { TenantRef } from "./gateway-env.ts";

interface Entry {
  tenant: TenantRef;
  open: number;
}

export class TenantSessions {
  private readonly tenants = new Map<number, Entry>();

  /**
   * Counts one more session of `tenant`; returns the function that ends it (idempotent). Throws
   * PgError 53300 when the tenant already has `max` sessions here.
   */
  open(tenant: TenantRef, max: number): () => void {
    let entry = this.tenants.get(tenant.tenantId);
    if (entry === undefined) {
      entry = { tenant: { tenantId: tenant.tenantId, name: tenant.name }, open: 0 };
      this.tenants.set(tenant.tenantId, entry);
    }
    if (entry.open >= max) {
      throw new PgError("too_many_connections", `too many connections for virtual cluster "${tenant.name}": the limit is ${max} sessions per edge isolate`, {
        hint: "Close idle connections, or use a smaller connection pool.",
      });
    }
    entry.open++;
    const owner = entry;
    let closed = false;
    return () => {
      if (closed) return;
      closed = true;
      owner.open--;
      if (owner.open === 0 && this.tenants.get(tenant.tenantId) === owner) this.tenants.delete(tenant.tenantId);
    };
  }

  /** The tenant of an id, while it has sessions open here (a CancelRequest's route); else undefined. */
  tenant(tenantId: number): TenantRef | undefined {
    return this.tenants.get(tenantId)?.tenant;
  }

  count(tenantId: number): number {
    return this.tenants.get(tenantId)?.open ?? 0;
  }
}
