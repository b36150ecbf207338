// GatewayHost in loader mode against a recording Worker Loader: the CPU bound of each invocation
// reaches the platform (getEntrypoint's limits) and the loaded code carries the session ceiling;
// hasIsolate() tells whether a tenant has a pinned isolate (where its sessions can be); past the
// budget the least recently used tenant that is not busy is evicted and its isolate reused.
import { describe, expect, it } from "vitest";
import type { GatewayEnv } from "../gateway/env.ts";
import { GatewayHost } from "./gateway-host.ts";
import { limits } from "./limits.ts";

function recordingLoader(): { loader: WorkerLoader; codes: WorkerLoaderWorkerCode[]; entrypoints: Array<WorkerStubEntrypointOptions | undefined> } {
  const codes: WorkerLoaderWorkerCode[] = [];
  const entrypoints: Array<WorkerStubEntrypointOptions | undefined> = [];
  const stub = (code: WorkerLoaderWorkerCode): WorkerStub =>
    ({
      getEntrypoint: (_name?: string, options?: WorkerStubEntrypointOptions) => {
        entrypoints.push(options);
        return { fetch: async () => new Response("ok") };
      },
      code,
    }) as unknown as WorkerStub;
  const loader = {
    get: (_id: string, getCode: () => WorkerLoaderWorkerCode) => {
      const code = getCode();
      codes.push(code);
      return stub(code);
    },
    load: (code: WorkerLoaderWorkerCode) => {
      codes.push(code);
      return stub(code);
    },
  } as unknown as WorkerLoader;
  return { loader, codes, entrypoints };
}

const env = { TENANT_ID: "5", TENANT_NAME: "acme" } as GatewayEnv;
const ctx = {} as ExecutionContext;
const code = { version: "v", mainModule: "g.js", modules: { "g.js": "export default {}" } };

describe("GatewayHost CPU limits (loader mode)", () => {
  it("passes each invocation's cpuMs to the platform, and the loaded code carries the session ceiling", async () => {
    const { loader, codes, entrypoints } = recordingLoader();
    const host = new GatewayHost({ mode: "loader", loader, code: () => code, isolatesMax: 1 });
    expect(host.hasIsolate(5)).toBe(false);
    await host.fetch({ tenantId: 5, name: "acme" }, new Request("http://gateway/sql"), env, ctx, limits.gatewayRequestCpuMs);
    await host.fetch({ tenantId: 5, name: "acme" }, new Request("http://gateway/v2"), env, ctx, limits.gatewaySessionCpuMs);
    // The tenant's env travels as the invocation's props; the loaded code's own env is empty.
    expect(entrypoints).toEqual([
      { props: env, limits: { cpuMs: 30_000 } },
      { props: env, limits: { cpuMs: 300_000 } },
    ]);
    expect(codes[0]!.env).toEqual({});
    expect(codes[0]!.limits).toEqual({ cpuMs: limits.gatewaySessionCpuMs });
    expect(host.hasIsolate(5)).toBe(true);
  });
});

describe("GatewayHost isolate budget (loader mode)", () => {
  const fetchAs = (host: GatewayHost, tenantId: number) =>
    host.fetch({ tenantId, name: `t${tenantId}` }, new Request("http://gateway/sql"), env, ctx, limits.gatewayRequestCpuMs);

  it("evicts the least recently used tenant past the budget and reuses its isolate for the newcomer", async () => {
    const { loader, codes } = recordingLoader();
    const ids: Array<string | null> = [];
    const recording = { get: (id: string, getCode: () => WorkerLoaderWorkerCode) => (ids.push(id), loader.get(id, getCode)), load: loader.load } as unknown as WorkerLoader;
    const host = new GatewayHost({ mode: "loader", loader: recording, code: () => code, isolatesMax: 2, warmPool: 1 });
    await fetchAs(host, 1);
    await fetchAs(host, 2);
    await fetchAs(host, 1); // 2 is now the least recently used
    await fetchAs(host, 3);
    expect([host.hasIsolate(1), host.hasIsolate(2), host.hasIsolate(3)]).toEqual([true, false, true]);
    expect(host.evictions).toBe(1);
    await fetchAs(host, 2); // evicts 1 (3 was used after it)
    expect([host.hasIsolate(1), host.hasIsolate(2), host.hasIsolate(3)]).toEqual([false, true, true]);
    expect(host.pinnedCount).toBe(2);
    expect(host.overflowLoads).toBe(0);
    // Without a release request to wait for (no envFor), an evicted tenant's isolate goes back to the
    // pool at once and the newcomer is bound to it; the pool's warm-ups add one isolate at a time.
    // Only tenant 1's first request started an isolate; three isolates served three tenants.
    expect(ids[0]).toMatch(/^gateway-v-[0-9a-f]{8}-i0$/);
    expect(host.poolMisses).toBe(1);
    expect(host.poolHits).toBe(3);
    expect(host.isolatesCreated).toBe(3);
    expect(new Set(ids).size).toBe(3);
  });

  it("never evicts a busy tenant (open sessions); when all are busy the newcomer gets a one-request isolate", async () => {
    const { loader } = recordingLoader();
    const busy = new Set<number>([1]);
    const host = new GatewayHost({ mode: "loader", loader, code: () => code, isolatesMax: 2, busy: (id) => busy.has(id) });
    await fetchAs(host, 1);
    await fetchAs(host, 2);
    await fetchAs(host, 3); // 1 is least recently used but busy: 2 goes
    expect([host.hasIsolate(1), host.hasIsolate(2), host.hasIsolate(3)]).toEqual([true, false, true]);
    busy.add(3);
    await fetchAs(host, 4); // both pinned tenants busy
    expect(host.hasIsolate(4)).toBe(false);
    expect(host.overflowLoads).toBe(1);
    expect(host.pinnedCount).toBe(2);
  });

  it("without a pool (warmPool 0) starts no isolate ahead and reuses none: each tenant's first request starts its own", async () => {
    const { loader } = recordingLoader();
    const host = new GatewayHost({ mode: "loader", loader, code: () => code, isolatesMax: 0, warmPool: 0 });
    await fetchAs(host, 1);
    expect(await host.release(1)).toBe(true);
    await fetchAs(host, 2);
    expect(host.pooledCount).toBe(0);
    expect(host.retired).toBe(1);
    expect(host.poolHits).toBe(0);
    expect(host.isolatesCreated).toBe(2);
  });
});

describe("GatewayHost warm pool top-up (loader mode)", () => {
  /** A loader whose stubs record the warm-up steps they are sent, by isolate id. */
  function stepLoader(onStart?: () => void): { loader: WorkerLoader; steps: string[] } {
    const steps: string[] = [];
    const loader = {
      get: (id: string) =>
        ({
          getEntrypoint: () => ({
            fetch: async (req: Request) => {
              const url = new URL(req.url);
              steps.push(`${id.replace(/^.*-(i\d+)$/, "$1")}:${url.searchParams.get("step") ?? url.pathname}`);
              if (url.searchParams.get("step") === "start") onStart?.();
              return new Response(null, { status: 204 });
            },
          }),
        }) as unknown as WorkerStub,
      load: () => {
        throw new Error("no load() expected");
      },
    } as unknown as WorkerLoader;
    return { loader, steps };
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("waits for the edge to be quiet before each step, and sends the steps one request each", async () => {
    const { loader, steps } = stepLoader();
    const waits: Promise<unknown>[] = [];
    const keep = { waitUntil: (p: Promise<unknown>) => waits.push(p) } as unknown as ExecutionContext;
    const host = new GatewayHost({ mode: "loader", loader, code: () => code, isolatesMax: 0, warmPool: 1, warmQuietMs: 60, warmWaitMsMax: 5_000 });
    host.prewarm(keep);
    // Requests keep arriving: nothing is started while they do.
    for (let i = 0; i < 4; i++) {
      host.noteActivity();
      await sleep(25);
    }
    expect(steps).toEqual([]);
    await Promise.all(waits);
    expect(steps).toEqual(["i0:start", "i0:parser", "i0:statements"]);
    expect(host.pooledCount).toBe(1);
  });

  it("stops warming an isolate that a tenant took from the pool meanwhile", async () => {
    const waits: Promise<unknown>[] = [];
    const keep = { waitUntil: (p: Promise<unknown>) => waits.push(p) } as unknown as ExecutionContext;
    let firstRequest: Promise<Response> | null = null;
    // A tenant's first request arrives while the isolate starts, and binds it (its own requests warm it from here).
    const { loader, steps } = stepLoader(() => {
      firstRequest ??= host.fetch({ tenantId: 9, name: "t9" }, new Request("http://gateway/sql"), env, keep);
    });
    const host = new GatewayHost({ mode: "loader", loader, code: () => code, isolatesMax: 0, warmPool: 1, warmQuietMs: 40, warmWaitMsMax: 5_000 });
    host.prewarm(keep);
    while (firstRequest === null) await sleep(5);
    await firstRequest;
    while (waits.length > 0) await waits.shift(); // the top-up, and the one the request's end started
    expect(steps.filter((s) => s.startsWith("i0:"))).toEqual(["i0:start", "i0:/sql"]);
    expect(host.hasIsolate(9)).toBe(true);
    // The pool was refilled with another isolate, warmed in full.
    expect(steps.filter((s) => !s.startsWith("i0:"))).toEqual(["i1:start", "i1:parser", "i1:statements"]);
  });

  it("refills at once without a quiet time (warmQuietMs 0)", async () => {
    const { loader, steps } = stepLoader();
    const waits: Promise<unknown>[] = [];
    const keep = { waitUntil: (p: Promise<unknown>) => waits.push(p) } as unknown as ExecutionContext;
    const host = new GatewayHost({ mode: "loader", loader, code: () => code, isolatesMax: 0, warmPool: 2 });
    host.prewarm(keep);
    await Promise.all(waits);
    expect(steps).toEqual(["i0:start", "i0:parser", "i0:statements", "i1:start", "i1:parser", "i1:statements"]);
  });
});
