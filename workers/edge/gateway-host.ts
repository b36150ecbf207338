// Runs a request in a tenant's gateway, in one of two modes (GATEWAY_MODE):
//
//   loader  each tenant gets its own isolate from the Worker Loader, with the env of
//           gateway-env.ts and no network. Isolates are created with `LOADER.get(id)`, where the
//           id names the tenant and the code version, so the platform can keep them warm and
//           reuse them. Local workerd never evicts those isolates by itself, so this edge isolate
//           keeps at most `isolatesMax` tenants pinned, least recently used first out: a tenant past
//           the budget takes the slot of the tenant that has gone longest without a request and has
//           no Postgres session open here (`busy`), instead of paying a fresh isolate per request.
//           The evicted tenant's next request pins it again under the same id (warm if the runtime
//           still holds that isolate, created again if not). Only when every pinned tenant is busy
//           is a tenant served by a one-request `LOADER.load()` isolate.
//   inline  the same gateway code runs inside this Worker, called with the same env object. For
//           accounts without the Worker Loader; the capabilities are identical, but the isolate
//           boundary (and with it `globalOutbound: null`) is gone.
import type { GatewayEnv } from "../gateway/env.ts";
import { gatewayWorkerCode, type GatewayCode, type TenantRef } from "./gateway-env.ts";

export type GatewayMode = "loader" | "inline";

/** The gateway's entry, as its module's default export. */
export interface GatewayHandler {
  fetch(request: Request, env: GatewayEnv, ctx: ExecutionContext): Promise<Response>;
}

export interface GatewayHostOptions {
  mode: GatewayMode;
  loader?: WorkerLoader | undefined;
  code?: (() => GatewayCode | Promise<GatewayCode>) | undefined;
  inline?: GatewayHandler | undefined;
  /** get()-isolate budget; 0 = unlimited. */
  isolatesMax: number;
  /**
   * Whether a tenant's isolate must not be evicted now (it holds open Postgres sessions here:
   * evicting it would strand their CancelRequests). Default: never busy.
   */
  busy?: ((tenantId: number) => boolean) | undefined;
}

export function parseGatewayMode(text: string | undefined): GatewayMode {
  if (text === undefined || text === "" || text === "loader") return "loader";
  if (text === "inline") return "inline";
  throw new Error(`GATEWAY_MODE must be "loader" or "inline", not ${JSON.stringify(text)}`);
}

export class GatewayHost {
  readonly mode: GatewayMode;
  private readonly opts: GatewayHostOptions;
  /** Tenants that own a get() isolate id, least recently used first (Map order, re-inserted on use). */
  private readonly pinned = new Map<number, string>();
  /** Requests served by a one-request load() isolate because every pinned tenant was busy. */
  overflowLoads = 0;
  /** Isolates let go by release() (idle suspension, operator suspension). */
  released = 0;
  /** Makes the id of an isolate created after a release new, so it is a fresh isolate. */
  private generation = 0;
  /** Tenants unpinned to make room for another (least recently used first). */
  evictions = 0;

  constructor(opts: GatewayHostOptions) {
    this.mode = opts.mode;
    this.opts = opts;
    if (opts.mode === "loader" && (!opts.loader || !opts.code)) throw new Error("loader mode needs the LOADER binding and gateway code");
    if (opts.mode === "inline" && !opts.inline) throw new Error("inline mode needs the gateway handler");
    if (!Number.isSafeInteger(opts.isolatesMax) || opts.isolatesMax < 0) throw new Error("isolatesMax must be a non-negative integer");
  }

  /** The WorkerStub for a tenant (loader mode). Exposed for tests that load a probe the same way. */
  async stubFor(tenant: TenantRef, env: GatewayEnv): Promise<WorkerStub> {
    const loader = this.opts.loader!;
    const code = await this.opts.code!();
    let id = this.pinned.get(tenant.tenantId);
    if (id !== undefined) {
      // Most recently used goes last.
      this.pinned.delete(tenant.tenantId);
      this.pinned.set(tenant.tenantId, id);
    } else if (this.opts.isolatesMax === 0 || this.pinned.size < this.opts.isolatesMax || this.evictOne()) {
      // A released tenant's next isolate gets a new id (the generation), so it starts cold; an evicted
      // one comes back under the id it had (locally workerd still holds that isolate).
      id = `gateway-${code.version}-t${tenant.tenantId}-g${this.generation}`;
      this.pinned.set(tenant.tenantId, id);
    }
    if (id === undefined) {
      this.overflowLoads++;
      return loader.load(gatewayWorkerCode(code, env));
    }
    return loader.get(id, () => gatewayWorkerCode(code, env));
  }

  /** Unpins the least recently used tenant that is not busy; false when every pinned tenant is. */
  private evictOne(): boolean {
    for (const tenantId of this.pinned.keys()) {
      if (this.opts.busy?.(tenantId)) continue;
      this.pinned.delete(tenantId);
      this.evictions++;
      return true;
    }
    return false;
  }

  /**
   * Whether a request for this tenant reaches an isolate that may hold its sessions: inline, always;
   * loader, only a pinned get() isolate (a load() isolate lives for one request and holds none).
   */
  hasIsolate(tenantId: number): boolean {
    return this.mode === "inline" || this.pinned.has(tenantId);
  }

  /**
   * Lets go of the tenant's isolate (its catalog cache, range cache and quota grants go with it):
   * the next request gets an isolate with a new id, a cold start. On Cloudflare the platform then
   * evicts the idle isolate; local workerd never evicts get() isolates (TOOLCHAIN.md), so locally a
   * released isolate stays in memory, unreachable (~7 MB), until workerd restarts, and, like an evicted one, it no longer counts against `isolatesMax`. Inline mode has
   * no isolate of the tenant's own to let go. Returns whether there was one.
   */
  release(tenantId: number): boolean {
    if (!this.pinned.delete(tenantId)) return false;
    this.generation++;
    this.released++;
    return true;
  }

  get pinnedCount(): number {
    return this.pinned.size;
  }

  /**
   * Runs `request` in the tenant's gateway. `cpuMs` bounds the CPU of this one invocation in loader
   * mode (the platform enforces it; local workerd does not); inline, the edge's own limit applies.
   */
  async fetch(tenant: TenantRef, request: Request, env: GatewayEnv, ctx: ExecutionContext, cpuMs?: number): Promise<Response> {
    if (this.mode === "inline") return this.opts.inline!.fetch(request, env, ctx);
    const stub = await this.stubFor(tenant, env);
    return stub.getEntrypoint(undefined, cpuMs === undefined ? undefined : { limits: { cpuMs } }).fetch(request);
  }
}
