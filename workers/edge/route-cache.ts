// The edge isolate's memory of routing decisions, so a known tenant's queries never wait on its
// TenantRouter: one router call per tenant (and per distinct password) per route TTL.
//
//   name → { route, expiresAtMs, verified credentials }
//
// A verified credential is remembered as SHA-256(isolate salt ‖ name ‖ 0 ‖ password), never the
// password: the salt is random per isolate, so the cache holds nothing that could be replayed or
// looked up elsewhere. "Unknown tenant" answers are cached briefly (limits.unknownTenantTtlMs);
// wrong passwords are not cached at all, so the router's failed-login throttle sees every attempt.
// Concurrent misses for the same key share one router call.
//
// A shortcut for a new tenant's first query (`npm run bench:tenants`): seed(), the edge isolate that
// created a tenant (admin API, system SQL) remembers its route and password at once, as the
// router's answer to a first login would have been. (A tenant suspended for idleness is simply
// forgotten: its next login asks the router, which resumes it. Handing a remembered route to work
// that could start beside that router call measured no gain, and a real resume, minutes after the
// last query, finds the route expired anyway.)
import { PgError } from "../../common/errors.ts";
import type { Route } from "../../durable-objects/router/tenant-router.ts";
import { fromWireError, type Result, type WireError } from "../../durable-objects/wire-error.ts";
import { SharedCalls } from "../../common/shared-wait.ts";
import { limits } from "./limits.ts";

export interface RouteResolver {
  lookup(name: string): Promise<Result<Route>>;
  /** `address`: the client's, for the router's per-address failed-login throttle ("" unknown). */
  authenticate(name: string, password: string, address: string): Promise<Result<Route>>;
}

interface Entry {
  route: Route | null;
  /** Set when the router refused (unknown tenant): served from cache until expiry. */
  error: WireError | null;
  expiresAtMs: number;
  /** Credential hashes verified for this route (same expiry as the route). */
  verified: Set<string>;
}

const encoder = new TextEncoder();

/** A shared router call that did not settle in time (its request may have ended). */
export function routerSilent(key: string): PgError {
  return new PgError("connection_failure", `the tenant router did not answer within ${limits.sharedCallMsMax} ms (sharedCallMsMax) for ${key}`, { hint: "Retry." });
}

export class RouteCache {
  private readonly entries = new Map<string, Entry>();
  /** Router calls in flight, shared by concurrent misses (each waits in its own request: common/shared-wait.ts). */
  private readonly inflight: SharedCalls<Route>;
  private readonly salt = crypto.getRandomValues(new Uint8Array(16));
  /** Router calls made, for tests and metrics. */
  routerCalls = 0;

  private readonly resolver: RouteResolver;
  private readonly nowMs: () => number;
  private readonly entriesMax: number;

  constructor(resolver: RouteResolver, nowMs: () => number = Date.now, entriesMax: number = limits.routeCacheEntriesMax) {
    this.resolver = resolver;
    this.nowMs = nowMs;
    this.entriesMax = entriesMax;
    this.inflight = new SharedCalls<Route>(limits.sharedCallMsMax, routerSilent, nowMs);
  }

  /** The route for `name` without a password check (WebSocket startup, before authentication). */
  async lookup(name: string): Promise<Route> {
    const hit = this.fresh(name);
    if (hit) return this.answer(hit);
    return this.once(`l:${name}`, async () => {
      this.routerCalls++;
      return this.remember(name, await this.resolver.lookup(name), null);
    });
  }

  /** The route for `name` once `password` is verified (by the router, or earlier within the TTL). */
  async authenticate(name: string, password: string, address = ""): Promise<Route> {
    const hash = await this.credentialHash(name, password);
    const hit = this.fresh(name);
    if (hit && (hit.error || hit.verified.has(hash))) return this.answer(hit);
    return this.once(`a:${name}:${hash}`, async () => {
      this.routerCalls++;
      return this.remember(name, await this.resolver.authenticate(name, password, address), hash);
    });
  }

  /** Forgets a tenant (after create, drop, suspend through this isolate, idle suspension here). */
  invalidate(name: string): void {
    this.entries.delete(name);
  }

  /**
   * This isolate just created the tenant: `route` is what its router answers now, `password` its
   * password. Serves the first login from memory, as a verified login would be within the route TTL.
   */
  async seed(name: string, route: Route, password: string): Promise<void> {
    const hash = await this.credentialHash(name, password);
    this.put(name, { route, error: null, expiresAtMs: this.nowMs() + route.ttlMs, verified: new Set([hash]) });
  }

  get size(): number {
    return this.entries.size;
  }

  private fresh(name: string): Entry | null {
    const e = this.entries.get(name);
    if (!e) return null;
    if (e.expiresAtMs <= this.nowMs()) {
      this.entries.delete(name);
      return null;
    }
    // Map order is insertion order: re-inserting keeps the most recently used entries last.
    this.entries.delete(name);
    this.entries.set(name, e);
    return e;
  }

  private answer(e: Entry): Route {
    if (e.error) throw fromWireError(e.error);
    if (!e.route) throw new PgError("internal_error", "route cache entry without a route");
    return e.route;
  }

  private remember(name: string, r: Result<Route>, credential: string | null): Route {
    const now = this.nowMs();
    if (r.ok) {
      const prev = this.entries.get(name);
      const sameRoute = prev?.route && prev.route.tenantId === r.value.tenantId && prev.expiresAtMs > now;
      const verified = sameRoute ? prev!.verified : new Set<string>();
      if (credential) verified.add(credential);
      this.put(name, { route: r.value, error: null, expiresAtMs: now + r.value.ttlMs, verified });
      return r.value;
    }
    if (r.error.condition === "invalid_catalog_name") {
      this.put(name, { route: null, error: r.error, expiresAtMs: now + limits.unknownTenantTtlMs, verified: new Set() });
    } else if (r.error.condition !== "invalid_password" && r.error.condition !== "invalid_authorization_specification") {
      // Suspended and similar states: drop any positive entry so the refusal is seen at once.
      this.entries.delete(name);
    }
    throw fromWireError(r.error);
  }

  private put(name: string, e: Entry): void {
    this.entries.delete(name);
    this.entries.set(name, e);
    while (this.entries.size > this.entriesMax) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  private once(key: string, f: () => Promise<Route>): Promise<Route> {
    return this.inflight.run(key, f);
  }

  private async credentialHash(name: string, password: string): Promise<string> {
    const n = encoder.encode(name);
    const p = encoder.encode(password);
    const buf = new Uint8Array(this.salt.length + n.length + 1 + p.length);
    buf.set(this.salt, 0);
    buf.set(n, this.salt.length);
    buf.set(p, this.salt.length + n.length + 1);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
    let hex = "";
    for (const b of digest) hex += b.toString(16).padStart(2, "0");
    return hex;
  }
}
