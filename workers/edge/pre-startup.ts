// `/v2` WebSockets that have not sent their startup packet yet (StartupMessage or CancelRequest),
// in one edge isolate: at most `totalMax` at once, and at most `perTenantMax` of those whose Host
// header names a tenant (before its StartupMessage a connection names no tenant otherwise). Each
// is ended by its own connection after preStartupTimeoutMs (pgwire/websocket.ts), so idle sockets
// cannot pile up against the session and login bounds, which count only connections that spoke.
//
//   admit(key) ─► room ─────────────────────────────────► tracked until started() or ended()
//              └─► full (the key's count, or the total) ─► the OLDEST of them (of the key, or of all)
//                                                         is evicted, the new one tracked
//
// Why the oldest is evicted rather than the new one refused (as the tunnel does,
// cli/limits.ts tunnelPreStartupConnectionsMax): a client that is really connecting sends its
// startup packet within a round trip, so it is almost never the oldest, while idle sockets age
// and are the ones pushed out. Refusing new ones would let anyone who holds `totalMax` idle
// sockets (re-opened every timeout) keep every tenant out.
//
// An evicted socket stops counting at once. It is closed by its own connection, not here (workerd
// lets only the request that accepted a WebSocket close it): at its next message, which gets FATAL
// 53300, or at its pre-startup timeout, whichever is first. Nothing polls: an evicted socket costs
// its memory until then, and no CPU.
import { PgError } from "../../common/errors.ts";

export interface PreStartupBounds {
  /** Connections before their startup packet, in this isolate. */
  readonly totalMax: number;
  /** Of those, connections whose Host header names one tenant. */
  readonly perTenantMax: number;
}

/** One connection's place while it has not sent its startup packet. */
export interface PreStartupTicket {
  /** Why it was evicted to make room (53300), or null. */
  readonly evicted: PgError | null;
  /** Its startup packet arrived (or it ended): it no longer counts. Idempotent. */
  done(): void;
}

interface Entry extends PreStartupTicket {
  evicted: PgError | null;
  readonly key: string | null;
}

export class PreStartupSockets {
  /** Every tracked connection, oldest first (a Set keeps insertion order). */
  private readonly all = new Set<Entry>();
  /** Tracked connections per tenant named by Host, oldest first. */
  private readonly byTenant = new Map<string, Set<Entry>>();

  /** Tracks a new connection; `tenant` is the tenant its Host header names, or null. */
  admit(tenant: string | null, bounds: PreStartupBounds): PreStartupTicket {
    const mine = tenant === null ? undefined : this.byTenant.get(tenant);
    if (mine !== undefined && mine.size >= bounds.perTenantMax) this.evict(first(mine)!, `${bounds.perTenantMax} for virtual cluster "${tenant}"`);
    if (this.all.size >= bounds.totalMax) this.evict(first(this.all)!, `${bounds.totalMax} in all`);
    const entry: Entry = {
      key: tenant,
      evicted: null,
      done: () => this.forget(entry),
    };
    this.all.add(entry);
    if (tenant !== null) {
      let set = this.byTenant.get(tenant);
      if (set === undefined) this.byTenant.set(tenant, (set = new Set()));
      set.add(entry);
    }
    return entry;
  }

  /** Connections tracked now, in all and for one tenant (tests and metrics). */
  count(tenant?: string): number {
    return tenant === undefined ? this.all.size : (this.byTenant.get(tenant)?.size ?? 0);
  }

  private evict(entry: Entry, bound: string): void {
    entry.evicted = new PgError("too_many_connections", `too many connections have not sent their startup message (at most ${bound} per edge isolate); this, the oldest, was closed to make room`, {
      hint: "Send the StartupMessage as soon as the connection is open.",
    });
    this.forget(entry);
  }

  private forget(entry: Entry): void {
    if (!this.all.delete(entry)) return;
    if (entry.key === null) return;
    const set = this.byTenant.get(entry.key);
    set?.delete(entry);
    if (set?.size === 0) this.byTenant.delete(entry.key);
  }
}

function first<T>(set: Set<T>): T | undefined {
  for (const x of set) return x;
  return undefined;
}
