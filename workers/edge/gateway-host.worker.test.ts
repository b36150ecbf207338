// GatewayHost in loader mode against a recording Worker Loader: the CPU bound of each invocation
// reaches the platform (getEntrypoint's limits) and the loaded code carries the session ceiling;
// hasIsolate() tells whether a tenant has a pinned isolate (where its sessions can be).
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
    expect(entrypoints).toEqual([{ limits: { cpuMs: 30_000 } }, { limits: { cpuMs: 300_000 } }]);
    expect(codes[0]!.limits).toEqual({ cpuMs: limits.gatewaySessionCpuMs });
    expect(host.hasIsolate(5)).toBe(true);
    // Past the isolate budget a tenant gets one-request load() isolates: none to hold sessions.
    await host.fetch({ tenantId: 6, name: "other" }, new Request("http://gateway/sql"), env, ctx, limits.gatewayRequestCpuMs);
    expect(host.hasIsolate(6)).toBe(false);
  });
});
