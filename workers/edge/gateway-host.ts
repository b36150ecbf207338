// Runs a request in a tenant's gateway, in one of two modes (GATEWAY_MODE):
//
//   loader  gateway isolates come from the Worker Loader (`LOADER.get(id)`), with no network. An
//           isolate is not created for a tenant: its own env is empty, and each invocation brings its
//           tenant's GatewayEnv (the TenantKV and TenantQuota capabilities and two labels) as the
//           entrypoint's props. So isolates can be started ahead of need (the warm pool: module
//           evaluation and the parser's WebAssembly paid off the request path) and reused:
//
//             pool ──bind at a tenant's first request──► pinned to the tenant (serves only it)
//               ▲                                              │ release (idle or operator suspension)
//               └──── release request: usage flushed, ◄────────┘ or eviction past the budget
//                     the tenant's state forgotten
//
//           A pinned isolate serves one tenant only; it goes back to the pool only after the edge
//           has sent it the tenant's release request (its last usage reported, its catalog, quota,
//           session registry and parse cache dropped) and nothing of that tenant runs in it (no
//           request in flight, no open session: an isolate released with sessions still open is
//           retired, never reused). Local workerd never evicts get() isolates, so the number of
//           isolate ids ever created is what bounds its memory: the ones pinned (at most
//           `isolatesMax`), the pool, and the rare retired ones; not the number of tenants.
//           Past the budget, the least recently used tenant with no session and no request here is
//           unpinned and its isolate reused; only when every pinned tenant is busy is a tenant
//           served by a one-request `LOADER.load()` isolate.
//   inline  the same gateway code runs inside this Worker, called with the same env object. For
//           accounts without the Worker Loader; the capabilities are identical, but the isolate
//           boundary (and with it `globalOutbound: null`) is gone.
//
// Why reuse across tenants keeps tenants apart (README "The env of a gateway isolate, and why"): a
// tenant's keys are reachable only through a TenantKV capability whose props name it, and the edge
// hands that capability to an isolate only with a request of that tenant; the isolate holds nothing
// else (no token, no secret, no network), and the storage node checks the token's tenant against
// every key again. Module state of the gateway is keyed by tenant (the same code serves many tenants
// in inline mode) and dropped on release, before another tenant is let in.
import type { GatewayEnv } from "../gateway/env.ts";
import { GATEWAY_LIFECYCLE_PATHS, GATEWAY_SQL_ENTRYPOINT, WARM_STEPS, type GatewaySqlAnswer, type GatewaySqlCall } from "../gateway/edge-contract.ts";
import type { TenantKvCapability } from "../gateway/kv/capability.ts";
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
  /** get()-isolate budget (tenants pinned at once); 0 = unlimited. */
  isolatesMax: number;
  /**
   * Isolates kept started and bound to no tenant, ready for a tenant's first request. Released
   * isolates join the pool too (beyond this number: they exist already). 0 = no pool at all: a
   * released isolate is not reused and every tenant's first request starts one.
   */
  warmPool?: number | undefined;
  /**
   * Whether a tenant's isolate must not be evicted now (it holds open Postgres sessions here:
   * evicting it would strand their CancelRequests). Default: never busy.
   */
  busy?: ((tenantId: number) => boolean) | undefined;
  /** The tenant's env for its release request (its capabilities); without it no release request is sent. */
  envFor?: ((tenant: TenantRef) => GatewayEnv) | undefined;
  /**
   * The pool is topped up only once the edge has been quiet this long (no request started or in
   * flight through noteActivity/fetch), one warm-up step at a time (see prewarm). 0 = at once.
   */
  warmQuietMs?: number | undefined;
  /** Longest a top-up waits for quiet: under steady traffic the pool still refills. */
  warmWaitMsMax?: number | undefined;
}

/** The gateway's RPC entrypoint for POST /sql (workers/gateway/sql-entrypoint.ts). */
interface GatewaySqlStub {
  sql(call: GatewaySqlCall, kv: TenantKvCapability): Promise<GatewaySqlAnswer>;
  cancel(callId: string): Promise<boolean>;
}

/** One get() isolate, by id; while pinned, the tenant it serves. */
interface Slot {
  id: string;
  tenant: TenantRef;
  /** Requests of the tenant in flight in it (a /v2 request only until its upgrade is answered). */
  inflight: number;
}

export function parseGatewayMode(text: string | undefined): GatewayMode {
  if (text === undefined || text === "" || text === "loader") return "loader";
  if (text === "inline") return "inline";
  throw new Error(`GATEWAY_MODE must be "loader" or "inline", not ${JSON.stringify(text)}`);
}

export class GatewayHost {
  readonly mode: GatewayMode;
  private readonly opts: GatewayHostOptions;
  /** Tenants and the isolate each is pinned to, least recently used first (Map order, re-inserted on use). */
  private readonly pinned = new Map<number, Slot>();
  /** Ids of isolates bound to no tenant: started (or starting) and ready to be bound. */
  private readonly pool: string[] = [];
  /** Isolates being released (their release request in flight); they join the pool after it. */
  private releasing = 0;
  /** Whether a warm-up is running (one at a time, so the pool never competes with requests in a burst). */
  private warming = false;
  /** When a request last started or ended here (noteActivity, fetch), and how many are in flight. */
  private lastActivityMs = 0;
  private activeRequests = 0;
  /** Distinguishes this edge isolate's gateway ids from another's (on the platform ids are shared). */
  private readonly idTag = crypto.randomUUID().slice(0, 8);
  private nextIsolate = 0;
  /** Requests served by a one-request load() isolate because every pinned tenant was busy. */
  overflowLoads = 0;
  /** Isolates let go by release() (idle suspension, operator suspension). */
  released = 0;
  /** Tenants unpinned to make room for another (least recently used first). */
  evictions = 0;
  /** get() isolate ids created (each a new isolate): what bounds local workerd's memory. */
  isolatesCreated = 0;
  /** Tenants' first requests that found a started isolate in the pool (the rest started one). */
  poolHits = 0;
  poolMisses = 0;
  /** Isolates not reused because something of their tenant still ran in them when released. */
  retired = 0;

  constructor(opts: GatewayHostOptions) {
    this.mode = opts.mode;
    this.opts = opts;
    if (opts.mode === "loader" && (!opts.loader || !opts.code)) throw new Error("loader mode needs the LOADER binding and gateway code");
    if (opts.mode === "inline" && !opts.inline) throw new Error("inline mode needs the gateway handler");
    if (!Number.isSafeInteger(opts.isolatesMax) || opts.isolatesMax < 0) throw new Error("isolatesMax must be a non-negative integer");
    if (opts.warmPool !== undefined && (!Number.isSafeInteger(opts.warmPool) || opts.warmPool < 0)) throw new Error("warmPool must be a non-negative integer");
  }

  private newId(code: GatewayCode): string {
    this.isolatesCreated++;
    return `gateway-${code.version}-${this.idTag}-i${this.nextIsolate++}`;
  }

  private stub(code: GatewayCode, id: string): WorkerStub {
    return this.opts.loader!.get(id, () => gatewayWorkerCode(code));
  }

  /** The tenant's slot: pinned already, or bound now to a pooled (else new) isolate; null past the budget. */
  private bind(tenant: TenantRef, code: GatewayCode, ctx: ExecutionContext | undefined): Slot | null {
    const slot = this.pinned.get(tenant.tenantId);
    if (slot !== undefined) {
      // Most recently used goes last.
      this.pinned.delete(tenant.tenantId);
      this.pinned.set(tenant.tenantId, slot);
      return slot;
    }
    if (this.opts.isolatesMax !== 0 && this.pinned.size >= this.opts.isolatesMax && !this.evictOne(ctx)) return null;
    const pooled = this.pool.pop();
    if (pooled !== undefined) this.poolHits++;
    else this.poolMisses++;
    const bound: Slot = { id: pooled ?? this.newId(code), tenant, inflight: 0 };
    this.pinned.set(tenant.tenantId, bound);
    return bound;
  }

  /** The WorkerStub for a tenant (loader mode). Exposed for tests that load a probe the same way. */
  async stubFor(tenant: TenantRef, ctx?: ExecutionContext): Promise<WorkerStub> {
    const code = await this.opts.code!();
    const slot = this.bind(tenant, code, ctx);
    if (slot === null) {
      this.overflowLoads++;
      return this.opts.loader!.load(gatewayWorkerCode(code));
    }
    return this.stub(code, slot.id);
  }

  /** Unpins the least recently used tenant that is not busy; false when every pinned tenant is. */
  private evictOne(ctx: ExecutionContext | undefined): boolean {
    for (const [tenantId, slot] of this.pinned) {
      if (slot.inflight > 0 || this.opts.busy?.(tenantId)) continue;
      this.pinned.delete(tenantId);
      this.evictions++;
      // Released at once, not at a quiet moment: the isolate goes back to the pool, where the next
      // newcomer needs it (with the release waiting for quiet, tenants queried in turn every 100 ms
      // found the pool empty and started isolates on their first request: bench:tenants evicted,
      // 10 of 30 bindings missed, p50 120 -> 150 ms).
      keepAlive(ctx, this.recycle(slot));
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
   * Lets go of the tenant's isolate (idle or operator suspension, drop): the isolate reports the
   * tenant's unreported usage and forgets it (its catalog, quota grants, caches), then serves
   * another tenant from the pool; the tenant's next request is bound to a pooled isolate, a cold
   * start for its caches only. Inline mode has no isolate of the tenant's own to let go. Resolves
   * (never rejects) once the release is done; returns false at once when there was no isolate.
   */
  release(tenantId: number): Promise<boolean> {
    const slot = this.pinned.get(tenantId);
    if (slot === undefined) return Promise.resolve(false);
    this.pinned.delete(tenantId);
    this.released++;
    return this.recycle(slot).then(() => true);
  }

  /** Sends the tenant's release request to the slot's isolate, then pools it (or retires it if the tenant still runs there). */
  private async recycle(slot: Slot): Promise<void> {
    this.releasing++;
    try {
      const env = this.opts.envFor?.(slot.tenant);
      if (env !== undefined) {
        const code = await this.opts.code!();
        const res = await this.stub(code, slot.id)
          .getEntrypoint(undefined, { props: env })
          .fetch(new Request(`http://gateway${GATEWAY_LIFECYCLE_PATHS.release}`, { method: "POST" }));
        const body = (await res.json().catch(() => null)) as { flushed?: boolean } | null;
        if (body?.flushed !== true) console.warn(`edge: tenant ${slot.tenant.tenantId}'s gateway could not report its last usage on release`);
      }
    } catch (err) {
      console.warn(`edge: releasing tenant ${slot.tenant.tenantId}'s gateway isolate failed`, err);
    } finally {
      this.releasing--;
    }
    // A request that arrived while the release ran has pinned the tenant to another isolate; one
    // still running here (or an open session) keeps this isolate the tenant's: retire it instead.
    if (slot.inflight > 0 || this.opts.busy?.(slot.tenant.tenantId) === true) {
      this.retired++;
      return;
    }
    // No pool (warmPool 0): every tenant's first request starts an isolate of its own, as before the
    // pool existed (the baseline `npm run bench:tenants` measures against).
    if ((this.opts.warmPool ?? 0) === 0) {
      this.retired++;
      return;
    }
    this.pool.push(slot.id);
  }

  get pinnedCount(): number {
    return this.pinned.size;
  }

  /** Started isolates bound to no tenant, ready now. */
  get pooledCount(): number {
    return this.pool.length;
  }

  /** A request arrived at the edge: a pool top-up waits until the edge has been quiet for a while. */
  noteActivity(): void {
    this.lastActivityMs = Date.now();
  }

  /**
   * Tops the pool up to `warmPool` started isolates, one warm-up at a time, behind the current
   * request (ctx.waitUntil): each warm-up creates an isolate (module evaluation), has it instantiate
   * the parser's WebAssembly and run a few statements (WARM_STEPS, one request each). The id joins
   * the pool when its isolate starts: a tenant that arrives while the warm-up runs gets the isolate
   * that is starting rather than a second one, and the steps left are not sent to it.
   *
   * Each step waits until the edge has been quiet for `warmQuietMs` (at most `warmWaitMsMax`).
   * Why: a warm-up is ~100-250 ms of CPU and, on local workerd, every isolate shares one thread, so
   * a top-up started at once behind a tenant's first request (the create or resume that took an
   * isolate from the pool) delayed the requests that follow it, the tenant's first query among them
   * (`npm run bench:tenants`). Started in a quiet moment and in steps, it delays a request that
   * arrives meanwhile by one step at most.
   */
  prewarm(ctx: ExecutionContext): void {
    const target = this.opts.warmPool ?? 0;
    if (this.mode !== "loader" || this.warming || this.pool.length + this.releasing >= target) return;
    this.warming = true;
    const run = (async () => {
      try {
        const code = await this.opts.code!();
        while (true) {
          await this.quiet();
          if (this.pool.length + this.releasing >= target) break;
          const id = this.newId(code);
          this.pool.push(id);
          for (const step of WARM_STEPS) {
            if (step !== "start") await this.quiet();
            // Bound to a tenant meanwhile: its own requests warm it from here.
            if (!this.pool.includes(id)) break;
            const res = await this.stub(code, id).getEntrypoint().fetch(new Request(`http://gateway${GATEWAY_LIFECYCLE_PATHS.warm}?step=${step}`, { method: "POST" }));
            await res.body?.cancel();
          }
        }
      } catch (err) {
        console.warn("edge: warming a gateway isolate failed", err);
      } finally {
        this.warming = false;
      }
    })();
    keepAlive(ctx, run);
  }

  /** Resolves once no request has started or ended here for `warmQuietMs` (or after `warmWaitMsMax`). */
  private async quiet(): Promise<void> {
    const quietMs = this.opts.warmQuietMs ?? 0;
    if (quietMs <= 0) return;
    const giveUpAtMs = Date.now() + (this.opts.warmWaitMsMax ?? quietMs * 10);
    while (Date.now() < giveUpAtMs) {
      const left = this.lastActivityMs + quietMs - Date.now();
      if (this.activeRequests === 0 && left <= 0) return;
      await new Promise((r) => setTimeout(r, Math.max(left, 5)));
    }
  }

  /**
   * Whether a tenant's gateway should be asked to load its catalog ahead of its first statement
   * (prepare): in loader mode when no isolate is pinned to it (a pooled or new one will be: no
   * catalog there); inline, never (the edge's own isolate keeps every tenant's catalog).
   */
  needsPrepare(tenantId: number): boolean {
    return this.mode === "loader" && !this.pinned.has(tenantId);
  }

  /**
   * Binds the tenant's isolate (as its first request would) and has it load the tenant's catalog
   * (workers/gateway/catalog-prefetch.ts). Resolves once done; never rejects (a failed prepare
   * leaves the load to the first statement).
   */
  async prepare(tenant: TenantRef, env: GatewayEnv, ctx: ExecutionContext): Promise<void> {
    try {
      const res = await this.fetch(tenant, new Request(`http://gateway${GATEWAY_LIFECYCLE_PATHS.prepare}`, { method: "POST" }), env, ctx);
      await res.body?.cancel();
    } catch (err) {
      console.warn(`edge: preparing tenant ${tenant.tenantId}'s gateway failed`, err);
    }
  }

  /**
   * Runs `request` in the tenant's gateway. `cpuMs` bounds the CPU of this one invocation in loader
   * mode (the platform enforces it; local workerd does not); inline, the edge's own limit applies.
   * `env` reaches the gateway as the invocation's props (loader) or its env (inline).
   */
  async fetch(tenant: TenantRef, request: Request, env: GatewayEnv, ctx: ExecutionContext, cpuMs?: number): Promise<Response> {
    if (this.mode === "inline") return this.opts.inline!.fetch(request, env, ctx);
    return this.inIsolate(tenant, ctx, (worker) => worker.getEntrypoint(undefined, entrypointOptions(env, cpuMs)).fetch(request));
  }

  /**
   * Runs a POST /sql request in the tenant's gateway with `kv` (the request's own KV channel,
   * request-kv.ts) as its KV capability. `request` carries the headers and the abort signal, `body`
   * its bytes (already read by the edge). Loader mode calls the GatewaySql entrypoint with both as
   * arguments (the channel cannot travel in the props: edge-contract.ts) and passes an abort on as a
   * cancel() call; inline, the gateway's fetch gets the channel as env.KV and the request itself.
   */
  async sql(tenant: TenantRef, request: Request, body: Uint8Array | null, env: GatewayEnv, kv: TenantKvCapability, ctx: ExecutionContext, cpuMs?: number): Promise<Response> {
    if (this.mode === "inline") return this.opts.inline!.fetch(request, { ...env, KV: kv }, ctx);
    const call: GatewaySqlCall = { callId: crypto.randomUUID(), url: request.url, method: request.method, headers: [...request.headers], body };
    const answer = await this.inIsolate(tenant, ctx, async (worker) => {
      const entry = () => worker.getEntrypoint(GATEWAY_SQL_ENTRYPOINT, entrypointOptions(env, cpuMs)) as unknown as GatewaySqlStub;
      const cancel = () => keepAlive(ctx, entry().cancel(call.callId).catch((err: unknown) => console.warn("edge: cancelling a /sql call failed", err)));
      if (request.signal.aborted) cancel();
      else request.signal.addEventListener("abort", cancel, { once: true });
      try {
        return await entry().sql(call, kv);
      } finally {
        request.signal.removeEventListener("abort", cancel);
      }
    });
    // 204 and 304 cannot carry a body, not even an empty one.
    return new Response(answer.body.byteLength === 0 ? null : answer.body, { status: answer.status, headers: answer.headers });
  }

  /** Runs `work` against the tenant's isolate: its pinned get() isolate (counted in flight), or a one-request load() past the budget. */
  private async inIsolate<T>(tenant: TenantRef, ctx: ExecutionContext, work: (worker: WorkerStub) => Promise<T>): Promise<T> {
    const code = await this.opts.code!();
    const slot = this.bind(tenant, code, ctx);
    if (slot === null) {
      this.overflowLoads++;
      return work(this.opts.loader!.load(gatewayWorkerCode(code)));
    }
    slot.inflight++;
    this.activeRequests++;
    this.noteActivity();
    try {
      return await work(this.stub(code, slot.id));
    } finally {
      slot.inflight--;
      this.activeRequests--;
      this.noteActivity();
      this.prewarm(ctx);
    }
  }
}

function entrypointOptions(env: GatewayEnv, cpuMs: number | undefined): WorkerStubEntrypointOptions {
  return cpuMs === undefined ? { props: env } : { props: env, limits: { cpuMs } };
}

/** Keeps `work` alive behind the current request; without a request context it runs as far as it gets. */
function keepAlive(ctx: ExecutionContext | undefined, work: Promise<unknown>): void {
  try {
    ctx?.waitUntil(work);
  } catch {
    // Not inside a request (a test's bare context): nothing to extend.
  }
}
