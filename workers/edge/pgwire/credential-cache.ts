// The edge isolate's memory of each tenant's SCRAM verifier, so a wire-protocol login costs no
// TenantRouter call while the entry is fresh (same TTL as routing decisions: a suspend, drop or
// password change reaches this isolate within one TTL; through this isolate's admin API at once).
//
//   name → { route, verifier, expiresAtMs }     unknown tenant → cached briefly (limits.unknownTenantTtlMs)
//
// The verifier is what Postgres keeps in pg_authid (salted, iterated): never the password. It stays
// in this isolate's memory only, and is never passed to a gateway. A failed SCRAM proof is reported
// to the router (its failed-login throttle) and drops the entry, so the next attempt asks the router,
// which refuses while the tenant is throttled.
import { PgError } from "../../../common/errors.ts";
import type { Route } from "../../../durable-objects/router/tenant-router.ts";
import { parseVerifier, type ScramVerifier } from "../../../durable-objects/router/scram.ts";
import { fromWireError, type Result, type WireError } from "../../../durable-objects/wire-error.ts";
import { SharedCalls } from "../../../common/shared-wait.ts";
import { limits } from "../limits.ts";
import { routerSilent } from "../route-cache.ts";

export interface Credentials {
  route: Route;
  verifier: ScramVerifier;
}

export interface CredentialSource {
  /** `address`: the client's, for the router's per-address failed-login throttle ("" unknown). */
  credentials(name: string, address: string): Promise<Result<{ route: Route; verifier: string }>>;
  loginFailed(name: string, address: string): Promise<unknown>;
}

interface Entry {
  value: Credentials | null;
  error: WireError | null;
  expiresAtMs: number;
}

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  /** Router calls in flight, shared by concurrent logins (each waits in its own request: common/shared-wait.ts). */
  private readonly inflight: SharedCalls<Credentials>;
  private readonly source: CredentialSource;
  private readonly nowMs: () => number;
  private readonly entriesMax: number;
  /** Router calls made (tests and metrics). */
  routerCalls = 0;

  constructor(source: CredentialSource, nowMs: () => number = Date.now, entriesMax: number = limits.routeCacheEntriesMax) {
    this.source = source;
    this.nowMs = nowMs;
    this.entriesMax = entriesMax;
    this.inflight = new SharedCalls<Credentials>(limits.sharedCallMsMax, routerSilent, nowMs);
  }

  async get(name: string, address = ""): Promise<Credentials> {
    const e = this.entries.get(name);
    if (e !== undefined && e.expiresAtMs > this.nowMs()) {
      if (e.error) throw fromWireError(e.error);
      return e.value!;
    }
    this.entries.delete(name);
    return this.inflight.run(name, () => this.fetch(name, address));
  }

  /** A SCRAM proof failed: tell the router (throttle) and forget the entry. */
  async loginFailed(name: string, address = ""): Promise<void> {
    this.entries.delete(name);
    this.routerCalls++;
    await this.source.loginFailed(name, address);
  }

  invalidate(name: string): void {
    this.entries.delete(name);
  }

  /**
   * This isolate just created the tenant: `route` and `verifier` are what its router answers now.
   * Its first wire login is served from memory, as a login within the TTL would be. An unreadable
   * verifier is not remembered (the router is asked, and says so).
   */
  seed(name: string, route: Route, verifier: string): void {
    const parsed = parseVerifier(verifier);
    if (parsed === null) return;
    this.put(name, { value: { route, verifier: parsed }, error: null, expiresAtMs: this.nowMs() + route.ttlMs });
  }

  private async fetch(name: string, address: string): Promise<Credentials> {
    this.routerCalls++;
    const r = await this.source.credentials(name, address);
    const now = this.nowMs();
    if (!r.ok) {
      if (r.error.condition === "invalid_catalog_name") this.put(name, { value: null, error: r.error, expiresAtMs: now + limits.unknownTenantTtlMs });
      throw fromWireError(r.error);
    }
    const verifier = parseVerifier(r.value.verifier);
    if (verifier === null) throw new PgError("internal_error", `stored verifier of virtual cluster "${name}" is unreadable`);
    const value = { route: r.value.route, verifier };
    this.put(name, { value, error: null, expiresAtMs: now + r.value.route.ttlMs });
    return value;
  }

  private put(name: string, e: Entry): void {
    this.entries.delete(name);
    this.entries.set(name, e);
    while (this.entries.size > this.entriesMax) this.entries.delete(this.entries.keys().next().value as string);
  }
}
