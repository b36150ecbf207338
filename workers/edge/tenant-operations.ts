// The operations on virtual clusters, implemented once: the admin API (admin.ts, which the CLI
// calls) and the system virtual cluster's SQL (system/) are two front ends of these functions, so
// a create, alter, suspend, resume, show or drop means the same through all three.
//
// Each validates everything before it changes anything (22023 / 42602, nothing changed), then asks
// the TenantDirectory (which drives the routers and quota buckets), then tells this edge isolate
// (hooks) so its caches and live sessions follow at once.
import { PgError } from "../../common/errors.ts";
import { settleRpc } from "../../common/rpc.ts";
import type { DirectoryEntry } from "../../durable-objects/directory/tenant-directory.ts";
import { parseSettingsPatch, SETTING_FIELDS, settingsOf, type TenantSettings } from "../../durable-objects/directory/tenant-settings.ts";
import { directoryOf, quotaBucketFor, routerFor } from "../../durable-objects/env.ts";
import type { UsageView } from "../../durable-objects/quota/quota-bucket.ts";
import { passwordProblem, route, type Route, type TenantInfo } from "../../durable-objects/router/tenant-router.ts";
import { unwrap } from "../../durable-objects/wire-error.ts";
import type { EdgeEnv } from "./env.ts";
import type { TenantRef } from "./gateway-env.ts";
import { SYSTEM_CLUSTER_NAME } from "./tenant-identity.ts";

export interface TenantView {
  name: string;
  id: number;
  /** The lifecycle state (durable-objects/router/lifecycle.ts): the router's, once the directory has created it. */
  state: string;
  createdAt: string;
  settings: TenantSettings;
  /** Present when the tenant's router answered: who suspended it, since when, counters, live work here. */
  lifecycle?: LifecycleView;
}

export interface LifecycleView {
  suspendedBy: "idle" | "operator" | null;
  stateChangedAt: string;
  idleSuspensions: number;
  resumes: number;
  /** In the edge isolate that answered: live sessions and requests, and whether it holds a gateway isolate. */
  sessions: number;
  requests: number;
  gatewayIsolate: boolean;
}

/** What the operations need from the edge isolate they run in. */
export interface AdminHooks {
  /** A tenant's route or credentials changed: drop what this isolate cached. */
  changed(name: string): void;
  /**
   * A tenant was created here with the default settings; `route` is what its router answers now and
   * `verifier` its SCRAM verifier (when the router returned it). The edge may remember them
   * (route-cache.ts and credential-cache.ts seed) so the tenant's first login needs no router call.
   */
  created(tenant: CreatedTenant, route: Route, verifier: string | undefined): Promise<void>;
  /**
   * A tenant was suspended or dropped by an operator: end its live work here and release it.
   * Resolves once its gateway has reported the tenant's last usage (a suspension waits for that,
   * so usage read after it includes everything consumed before it).
   */
  stopped(tenant: TenantRef, why: string): Promise<unknown>;
  /** The deny list changed through this isolate: take it now and end the live work it matches. */
  denyChanged(list: import("../../durable-objects/directory/deny-list.ts").DenyList): void;
  /** The tenant's live work in this edge isolate. */
  live(tenantId: number): { sessions: number; requests: number; gatewayIsolate: boolean };
}

export interface CreatedTenant {
  name: string;
  id: number;
  password: string;
}

export function view(e: DirectoryEntry, router?: TenantInfo | null, live?: { sessions: number; requests: number; gatewayIsolate: boolean }): TenantView {
  const v: TenantView = { name: e.name, id: e.id, state: e.state, createdAt: new Date(e.createdAtMs).toISOString(), settings: settingsOf(e.settings) };
  // The directory knows creating/dropping; the router knows whether an active tenant is idle-suspended.
  if (router && router.tenantId === e.id && (e.state === "active" || e.state === "suspended")) {
    v.state = router.state;
    v.lifecycle = {
      suspendedBy: router.state === "suspended" ? (router.suspendedBy ?? "operator") : null,
      stateChangedAt: new Date(router.stateChangedAtMs).toISOString(),
      idleSuspensions: router.idleSuspensions ?? 0,
      resumes: router.resumes ?? 0,
      ...(live ?? { sessions: 0, requests: 0, gatewayIsolate: false }),
    };
  }
  return v;
}

/** A patch of `alter`: settings fields plus "password"; validated whole (22023) before anything changes. */
function checkAlterPatch(patch: Record<string, unknown>): { password: string | undefined; settings: Record<string, unknown> } {
  const { password, ...settings } = patch;
  for (const key of Object.keys(settings)) {
    if (!(SETTING_FIELDS as readonly string[]).includes(key)) {
      throw new PgError("invalid_parameter_value", `unknown field "${key}"`, { hint: `Fields are state, password, ${SETTING_FIELDS.join(", ")}.` });
    }
  }
  if (password !== undefined) {
    if (typeof password !== "string") throw new PgError("invalid_parameter_value", '"password" must be a string');
    const bad = passwordProblem(password);
    if (bad) throw new PgError("invalid_parameter_value", bad);
  }
  unwrap(parseSettingsPatch(settings));
  return { password: password as string | undefined, settings };
}

export class TenantOperations {
  private readonly env: EdgeEnv;
  private readonly hooks: AdminHooks;

  constructor(env: EdgeEnv, hooks: AdminHooks) {
    this.env = env;
    this.hooks = hooks;
  }

  private async full(e: DirectoryEntry): Promise<TenantView> {
    const router = await settleRpc(routerFor(this.env, e.name).describe()).catch(() => null);
    return view(e, router, this.hooks.live(e.id));
  }

  /** Creates a tenant (password generated when null), with settings applied before it is returned. */
  async create(name: unknown, password: unknown, settings: Record<string, unknown> = {}): Promise<CreatedTenant> {
    if (typeof name !== "string") throw new PgError("invalid_name", 'body must have "name": a string');
    if (name === SYSTEM_CLUSTER_NAME) throw new PgError("reserved_name", `"${SYSTEM_CLUSTER_NAME}" is the system virtual cluster's name`);
    if (password !== undefined && password !== null && typeof password !== "string") {
      throw new PgError("invalid_parameter_value", '"password" must be a string when given');
    }
    checkAlterPatch(settings);
    // The verifier is for this edge's credential cache only, never part of an answer.
    const { verifier, ...created } = unwrap(await settleRpc(directoryOf(this.env).create(name, (password as string | null | undefined) ?? null)));
    if (Object.keys(settings).length > 0) unwrap(await settleRpc(directoryOf(this.env).alterSettings(name, settings)));
    this.hooks.changed(name);
    // With the default settings the route is known without asking the router: the route of a new record.
    if (Object.keys(settings).length === 0) await this.hooks.created(created, route({ tenantId: created.id, name: created.name }), verifier);
    return created;
  }

  async list(): Promise<TenantView[]> {
    const all = await settleRpc(directoryOf(this.env).list());
    return Promise.all(all.map((e) => this.full(e)));
  }

  async show(name: string): Promise<TenantView> {
    return this.full(unwrap(await settleRpc(directoryOf(this.env).get(name))));
  }

  /** Password and/or settings, and/or state ("active" resumes, "suspended" suspends). */
  async alter(name: string, patch: Record<string, unknown>): Promise<TenantView> {
    const { state, ...rest } = patch;
    if (state !== undefined && state !== "active" && state !== "suspended") {
      throw new PgError("invalid_parameter_value", '"state" must be "active" or "suspended"');
    }
    const { password, settings } = checkAlterPatch(rest);
    const dir = directoryOf(this.env);
    let entry = unwrap(await settleRpc(dir.get(name)));
    if (typeof password === "string") unwrap(await settleRpc(routerFor(this.env, name).setPassword(password)));
    if (Object.keys(settings).length > 0) entry = unwrap(await settleRpc(dir.alterSettings(name, settings)));
    if (state !== undefined) entry = unwrap(await settleRpc(dir.setState(name, state)));
    this.hooks.changed(name);
    if (state === "suspended") await this.hooks.stopped({ tenantId: entry.id, name }, "was suspended");
    return this.full(entry);
  }

  async usage(name: string, sinceMs: number, untilMs: number): Promise<{ name: string; id: number } & UsageView> {
    const entry = unwrap(await settleRpc(directoryOf(this.env).get(name)));
    const usage = await settleRpc(quotaBucketFor(this.env, entry.id).usage(sinceMs, untilMs, entry.id));
    return { name: entry.name, id: entry.id, ...usage };
  }

  async drop(name: string): Promise<TenantView> {
    const before = unwrap(await settleRpc(directoryOf(this.env).get(name)));
    // Live work ends first: the drop removes the data it would be working on.
    void this.hooks.stopped({ tenantId: before.id, name }, "is being dropped");
    const entry = unwrap(await settleRpc(directoryOf(this.env).drop(name)));
    this.hooks.changed(name);
    return view(entry);
  }
}
