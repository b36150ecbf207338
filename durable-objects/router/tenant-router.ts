// TenantRouter: one Durable Object per virtual cluster, addressed by the tenant's name
// (`idFromName(name)`). It is the authority the edge Worker asks before routing a tenant's
// traffic: does the tenant exist, is it active, is this password right. The edge caches the
// answer for `ttlMs`, so the router sees about one call per tenant per edge isolate per TTL,
// not one per query.
//
// Stored: one record (id, name, lifecycle state, SCRAM verifier, timestamps, counters). Kept in
// memory only: the failed-login windows (losing them on eviction merely resets the throttle).
//
// The lifecycle (lifecycle.ts) lives here: an idle-suspended tenant is resumed by whoever asks for
// its route (lookup, authenticate, credentials), so the first connection after a suspension costs
// one router call and one store write, and the client never sees the suspension.
import { DurableObject } from "cloudflare:workers";
import { assertTenantId } from "../../common/tenant-prefix.ts";
import { limits } from "../limits.ts";
import { isTenantName } from "../tenant-name.ts";
import { fail, ok, type Result } from "../wire-error.ts";
import { transition, type LifecycleEvent, type SuspendedBy, type TenantState } from "./lifecycle.ts";
import { LoginThrottle } from "./login-throttle.ts";
import { checkPassword, formatVerifier, makeVerifier, parseVerifier } from "./scram.ts";

export type { TenantState, SuspendedBy };

export interface TenantRecord {
  tenantId: number;
  name: string;
  state: TenantState;
  /** SCRAM-SHA-256 verifier in Postgres's rolpassword format; never the password. */
  verifier: string;
  createdAtMs: number;
  stateChangedAtMs: number;
  /** While suspended: by the edge for idleness (resumed on the next connection) or by an operator. */
  suspendedBy?: SuspendedBy | undefined;
  /** Times the tenant was suspended for idleness, and resumed by a connection (metrics). */
  idleSuspensions?: number;
  resumes?: number;
  /** Connections the edge admits at once (a TenantDirectory setting); absent/null = the edge's default. */
  maxConnections?: number | null;
  /** Client networks allowed to connect, canonical CIDR text (a TenantDirectory setting); absent/empty = any. */
  allowedCidrs?: string[];
  /** Web origins whose pages may use the tenant (a TenantDirectory setting); absent/empty = any. */
  allowedOrigins?: string[];
}

/** Connection limits the edge enforces per tenant (the directory sets them; the route carries them). */
export interface ConnectionLimits {
  maxConnections: number | null;
  allowedCidrs: string[];
  /** Canonical web origins (directory/origin.ts) allowed to use the tenant from a browser; empty = any. */
  allowedOrigins?: string[];
}

/**
 * What the edge needs to route a tenant, and how long it may cache that. The connection limits ride
 * along (always set by the router; optional so a Route built elsewhere, as tests do, needs none):
 * the edge's per-tenant connection cap and network check read them from the cached route.
 */
export interface Route extends Partial<ConnectionLimits> {
  tenantId: number;
  name: string;
  ttlMs: number;
}

export type TenantInfo = Omit<TenantRecord, "verifier">;

const RECORD_KEY = "tenant";
const encoder = new TextEncoder();

export class TenantRouter extends DurableObject {
  /** Failed and successful logins per client address (in memory; login-throttle.ts). */
  private readonly logins = new LoginThrottle();

  private async record(): Promise<TenantRecord | undefined> {
    return this.ctx.storage.get<TenantRecord>(RECORD_KEY);
  }

  /**
   * Creates the tenant (called by the TenantDirectory only). A dropped tenant's name may be
   * reused: the record is replaced, with the new id.
   */
  async initialize(tenantId: number, name: string, password: string): Promise<Result<TenantInfo & { verifier: string }>> {
    assertTenantId(tenantId);
    if (!isTenantName(name)) return fail("invalid_name", `invalid virtual cluster name ${JSON.stringify(name)}`);
    const bad = passwordProblem(password);
    if (bad) return fail("invalid_parameter_value", bad);
    const existing = await this.record();
    if (existing && existing.state !== "dropped") {
      return fail("duplicate_database", `virtual cluster "${name}" already exists`);
    }
    const now = Date.now();
    // creating → active in one write: the record is complete (id, verifier) before anyone can ask.
    const rec: TenantRecord = {
      tenantId,
      name,
      state: transition(transition(existing ?? null, "initialize"), "activate")!.state,
      verifier: formatVerifier(await makeVerifier(password)),
      createdAtMs: now,
      stateChangedAtMs: now,
    };
    await this.ctx.storage.put(RECORD_KEY, rec);
    this.logins.reset();
    // The verifier goes back with the answer so the edge that created the tenant can serve its first
    // wire login without asking again (workers/edge/pgwire/credential-cache.ts seed).
    return ok({ ...info(rec), verifier: rec.verifier });
  }

  /** The route without checking a password: for the admin API and the startup of a wire connection. */
  async lookup(name: string): Promise<Result<Route>> {
    const rec = await this.record();
    const refusal = refuse(rec, name);
    if (refusal) return refusal;
    await this.resumeIfIdle(rec!);
    return ok(route(rec!));
  }

  /** The route, after checking the password against the stored verifier. */
  /**
   * The route, after checking the password against the stored verifier. `address` is the client's
   * (workers/edge/client-address.ts; "" when unknown): the failed-login throttle is per address.
   */
  async authenticate(name: string, password: string, address = ""): Promise<Result<Route>> {
    const rec = await this.record();
    const refusal = refuse(rec, name);
    if (refusal) return refusal;
    const throttled = this.throttled<Route>(name, address);
    if (throttled) return throttled;
    const verifier = parseVerifier(rec!.verifier);
    if (!verifier) return fail("internal_error", `stored verifier of virtual cluster "${name}" is unreadable`);
    const good = encoder.encode(password).length <= limits.passwordBytesMax && (await checkPassword(verifier, password));
    if (!good) {
      this.logins.failed(address);
      return fail("invalid_password", `password authentication failed for virtual cluster "${name}"`);
    }
    this.logins.succeeded(address);
    await this.resumeIfIdle(rec!);
    return ok(route(rec!));
  }

  /**
   * The route and the SCRAM verifier, for the edge to run a SCRAM-SHA-256 exchange itself (the wire
   * protocol's authentication). Refused like authenticate() while the address is throttled, so the
   * throttle holds for SCRAM too: the edge reports each exchange with loginFailed / loginSucceeded.
   */
  async credentials(name: string, address = ""): Promise<Result<{ route: Route; verifier: string }>> {
    const rec = await this.record();
    const refusal = refuse(rec, name);
    if (refusal) return refusal as Result<never>;
    const throttled = this.throttled<{ route: Route; verifier: string }>(name, address);
    if (throttled) return throttled;
    await this.resumeIfIdle(rec!);
    return ok({ route: route(rec!), verifier: rec!.verifier });
  }

  /**
   * Records a failed login checked elsewhere (a SCRAM exchange at the edge). Returns when the
   * address may try again (ms since the epoch; null = now), for the edge to hold the line itself.
   */
  async loginFailed(name: string, address = ""): Promise<number | null> {
    const rec = await this.record();
    if (!rec || rec.name !== name) return null;
    return this.logins.failed(address);
  }

  /** Records a successful login checked elsewhere: the address is exempt from the throttle for a while. */
  async loginSucceeded(name: string, address = ""): Promise<void> {
    const rec = await this.record();
    if (!rec || rec.name !== name) return;
    this.logins.succeeded(address);
  }

  private throttled<T>(name: string, address: string): Result<T> | null {
    const at = this.logins.retryAtMs(address);
    if (at === null) return null;
    return fail("invalid_authorization_specification", throttledMessage(name, address), { hint: `Wait ${Math.ceil((at - Date.now()) / 1000)} s before trying again.` });
  }

  /**
   * An operator's or the directory's state change: "suspended" (operator), "active" (resume),
   * "dropping", "dropped". 55000 when the lifecycle does not allow it (a dropped tenant stays dropped).
   */
  async setState(state: "active" | "suspended" | "dropping" | "dropped"): Promise<Result<TenantInfo>> {
    const rec = await this.record();
    if (!rec) return fail("invalid_catalog_name", "virtual cluster does not exist");
    const event: LifecycleEvent = state === "active" ? "resume" : state === "suspended" ? "suspend" : state === "dropping" ? "drop" : "dropped";
    // The directory marks a tenant dropped right after dropping (older records went straight there).
    const from = event === "dropped" && rec.state !== "dropped" ? { state: "dropping" as const } : rec;
    const next = transition(from, event);
    if (!next) {
      return fail("object_not_in_prerequisite_state", `virtual cluster "${rec.name}" is ${rec.state} and cannot become ${state}`);
    }
    await this.enter(rec, next.state, next.suspendedBy);
    return ok(info(rec));
  }

  /**
   * The edge found the tenant idle (no query, no open session for its idle time) and released its
   * gateway isolate and caches. Only an active tenant is marked; the next connection resumes it.
   */
  async idleSuspend(name: string): Promise<Result<TenantInfo>> {
    const rec = await this.record();
    if (!rec || rec.name !== name) return fail("invalid_catalog_name", `virtual cluster "${name}" does not exist`);
    const next = transition(rec, "idle");
    if (next) {
      rec.idleSuspensions = (rec.idleSuspensions ?? 0) + 1;
      await this.enter(rec, next.state, next.suspendedBy);
    }
    return ok(info(rec));
  }

  /**
   * A client asks for the route: an idle-suspended tenant becomes active again (one write). The
   * answer does not wait for that write to be durable (allowUnconfirmed): the record says only that
   * the tenant is no longer idle, and if the write is lost (the object restarts before it lands) the
   * tenant is merely still marked idle-suspended, which the next connection resumes the same way.
   * Waiting for it cost the first query after a resume one storage commit.
   */
  private async resumeIfIdle(rec: TenantRecord): Promise<void> {
    if (rec.state !== "suspended") return;
    rec.resumes = (rec.resumes ?? 0) + 1;
    await this.enter(rec, "active", undefined, true);
  }

  private async enter(rec: TenantRecord, state: TenantState, suspendedBy: SuspendedBy | undefined, unconfirmed = false): Promise<void> {
    if (rec.state === state && rec.suspendedBy === suspendedBy) return;
    rec.state = state;
    if (suspendedBy === undefined) delete rec.suspendedBy;
    else rec.suspendedBy = suspendedBy;
    rec.stateChangedAtMs = Date.now();
    await this.ctx.storage.put(RECORD_KEY, rec, { allowUnconfirmed: unconfirmed });
  }

  /** Stores the connection limits the route carries to the edge (called by the TenantDirectory). */
  async setConnectionLimits(l: ConnectionLimits): Promise<Result<TenantInfo>> {
    const rec = await this.record();
    if (!rec || rec.state === "dropped") return fail("invalid_catalog_name", "virtual cluster does not exist");
    rec.maxConnections = l.maxConnections;
    rec.allowedCidrs = [...l.allowedCidrs];
    rec.allowedOrigins = [...(l.allowedOrigins ?? [])];
    await this.ctx.storage.put(RECORD_KEY, rec);
    return ok(info(rec));
  }

  async setPassword(password: string): Promise<Result<TenantInfo>> {
    const bad = passwordProblem(password);
    if (bad) return fail("invalid_parameter_value", bad);
    const rec = await this.record();
    if (!rec || rec.state === "dropped") return fail("invalid_catalog_name", "virtual cluster does not exist");
    rec.verifier = formatVerifier(await makeVerifier(password));
    await this.ctx.storage.put(RECORD_KEY, rec);
    this.logins.reset();
    return ok(info(rec));
  }

  async describe(): Promise<TenantInfo | null> {
    const rec = await this.record();
    return rec ? info(rec) : null;
  }
}

/** The 28000 message of a throttled address (the edge words its own refusals the same way). */
export function throttledMessage(name: string, address: string): string {
  return `too many failed login attempts for virtual cluster "${name}" from ${address === "" ? "this client" : address}`;
}

/** Why a password is not acceptable, or null. */
export function passwordProblem(password: string): string | null {
  if (typeof password !== "string") return "password must be a string";
  if ([...password].length < limits.passwordCharsMin) return `password must have at least ${limits.passwordCharsMin} characters`;
  if (encoder.encode(password).length > limits.passwordBytesMax) return `password must be at most ${limits.passwordBytesMax} bytes`;
  return null;
}

function refuse(rec: TenantRecord | undefined, name: string): Result<Route> | null {
  if (!rec || rec.name !== name || (rec.state !== "active" && rec.state !== "suspended")) {
    return fail("invalid_catalog_name", `virtual cluster "${name}" does not exist`);
  }
  // Records from before the lifecycle had no suspendedBy: every suspension then was an operator's.
  if (rec.state === "suspended" && rec.suspendedBy !== "idle") {
    return fail("cannot_connect_now", `virtual cluster "${name}" is suspended`, {
      hint: `An operator can resume it: warren tenant resume ${name} (or ALTER VIRTUAL CLUSTER ${name} RESUME).`,
    });
  }
  return null;
}

/** The route of a record (a new record has no settings: no connection cap, any network, any origin). */
export function route(rec: Pick<TenantRecord, "tenantId" | "name" | "maxConnections" | "allowedCidrs" | "allowedOrigins">): Route {
  return {
    tenantId: rec.tenantId,
    name: rec.name,
    ttlMs: limits.routeTtlMs,
    maxConnections: rec.maxConnections ?? null,
    allowedCidrs: rec.allowedCidrs ?? [],
    allowedOrigins: rec.allowedOrigins ?? [],
  };
}

function info(rec: TenantRecord): TenantInfo {
  const { verifier: _verifier, ...rest } = rec;
  return rest;
}
