// Isolation of a tenant's gateway isolate, checked by loading a probe module through the very
// functions the edge uses for real gateways (buildGatewayEnv, gatewayWorkerCode via GatewayHost):
// (a) it cannot reach the network (fetch and connect both refused) and its env holds only its
//     capabilities and labels, no storage URL or secret;
// (b) TenantKV for tenant A only ever sends storage requests whose token names A.
import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { decodeResponse, FRAME_MAGIC } from "../../common/kv-protocol/codec.ts";
import { verifyTenantToken } from "../../common/tenant-token.ts";
import { GATEWAY_ENV_KEYS } from "../gateway/env.ts";
import { requestKv } from "../gateway/kv/kv-channel.ts";
import type { EdgeEnv } from "./env.ts";
import { buildGatewayEnv, type EdgeExports, type GatewayCode } from "./gateway-env.ts";
import { GatewayHost } from "./gateway-host.ts";
import { limits } from "./limits.ts";
import { forwardKv, storageTokenFor, TenantKvChannel } from "./tenant-kv.ts";

const edgeEnv = env as unknown as EdgeEnv;
const W = FRAME_MAGIC;
const edgeExports = exports as unknown as EdgeExports;

// The probe reports its isolate's own env (empty: isolates are bound to no tenant), the props of
// the invocation (the tenant's env), and every tenant this isolate has served so far.
const PROBE = `
import { connect } from "cloudflare:sockets";
const served = [];
export default {
  async fetch(request, env, ctx) {
    const props = ctx.props ?? {};
    if (new URL(request.url).pathname === "/_warren/release") return Response.json({ flushed: true });
    if (new URL(request.url).pathname === "/_warren/warm") return new Response(null, { status: 204 });
    const { target, marker } = await request.json();
    served.push(props.TENANT_ID);
    const out = { envKeys: Object.keys(env).sort(), propKeys: Object.keys(props).sort(), strings: {}, served: [...served] };
    for (const [k, v] of Object.entries(props)) if (typeof v === "string") out.strings[k] = v;
    try { const r = await fetch(target); out.fetch = "reached " + r.status; } catch (e) { out.fetch = "refused: " + e.message; }
    try { const s = connect({ hostname: "127.0.0.1", port: 9 }); await s.opened; out.connect = "opened"; }
    catch (e) { out.connect = "refused: " + e.message; }
    try { out.kv = Array.from(await props.KV.batch(new Uint8Array(marker))); } catch (e) { out.kv = "error: " + e.message; }
    return Response.json(out);
  },
};`;

function probeCode(version: string): GatewayCode {
  return { version, mainModule: "probe.js", modules: { "probe.js": PROBE } };
}

interface ProbeReport {
  envKeys: string[];
  propKeys: string[];
  served: string[];
  strings: Record<string, string>;
  fetch: string;
  connect: string;
  kv: number[] | string;
}

interface Recorded {
  url: string;
  authorization: string | null;
  body: number[];
}

/** Intercepts TenantKV's storage fetches (it runs in this isolate), answering [W, ...marker] (W = frame magic, so TenantKV passes it through). */
function recordStorage(): Recorded[] {
  const seen: Recorded[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    const body = Array.from(new Uint8Array(await req.arrayBuffer()));
    seen.push({ url: req.url, authorization: req.headers.get("authorization"), body });
    return new Response(new Uint8Array([W, ...body]));
  });
  return seen;
}

/** Work the host leaves behind a request (releases, warm-ups), awaited by the tests that need it. */
const behind: Promise<unknown>[] = [];
const ctx = { waitUntil: (p: Promise<unknown>) => void behind.push(p), passThroughOnException: () => {} } as unknown as ExecutionContext;

async function runProbe(host: GatewayHost, tenant: { tenantId: number; name: string }, marker: number[]): Promise<ProbeReport> {
  const genv = buildGatewayEnv(edgeExports, tenant);
  const res = await host.fetch(
    tenant,
    new Request("http://gateway/probe", {
      method: "POST",
      body: JSON.stringify({ target: edgeEnv.STORAGE_URL + "/v1/kv", marker }),
    }),
    genv,
    ctx,
  );
  return (await res.json()) as ProbeReport;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("a gateway isolate", () => {
  it("cannot reach the network and holds no storage URL or secret", async () => {
    recordStorage();
    const host = new GatewayHost({ mode: "loader", loader: edgeEnv.LOADER, code: () => probeCode("iso-a"), isolatesMax: 4 });
    const report = await runProbe(host, { tenantId: 7, name: "seven" }, [1, 2, 3]);

    expect(report.fetch).toMatch(/^refused: .*not permitted to access the internet/);
    expect(report.connect).toMatch(/^refused: .*not permitted to access the internet/);
    // Its own env is empty; the tenant's capabilities and labels come with the invocation only.
    expect(report.envKeys).toEqual([]);
    expect(report.propKeys).toEqual([...GATEWAY_ENV_KEYS].sort());
    expect(report.strings).toEqual({ TENANT_ID: "7", TENANT_NAME: "seven", STATEMENT_TIMEOUT_MS: "" });
    const everything = JSON.stringify(report.strings);
    for (const secret of [edgeEnv.STORAGE_URL, edgeEnv.FLEET_SECRET, edgeEnv.ADMIN_TOKEN]) {
      expect(everything).not.toContain(secret);
    }
    // Its one way out works: the capability reached storage (through this Worker) for it.
    expect(report.kv).toEqual([W, 1, 2, 3]);
  });
});

describe("a pooled gateway isolate reused for another tenant", () => {
  it("serves the next tenant only after the release, with that tenant's capabilities alone", async () => {
    const seen = recordStorage();
    const released: string[] = [];
    const host = new GatewayHost({
      mode: "loader",
      loader: edgeEnv.LOADER,
      code: () => probeCode("iso-pool"),
      isolatesMax: 4,
      warmPool: 1,
      envFor: (t) => {
        released.push(t.name);
        return buildGatewayEnv(edgeExports, t);
      },
    });
    const a = await runProbe(host, { tenantId: 51, name: "alpha" }, [51]);
    await Promise.all(behind); // the pool's warm-up behind the request
    expect(host.pooledCount).toBe(1);
    expect(await host.release(51)).toBe(true);
    expect(released).toEqual(["alpha"]);
    expect(host.pooledCount).toBe(2);
    const b = await runProbe(host, { tenantId: 52, name: "bravo" }, [52, 52]);
    // The same isolate (it remembers serving 51), now with 52's props and 52's token only.
    expect(a.served).toEqual(["51"]);
    expect(b.served).toEqual(["51", "52"]);
    expect(b.strings).toEqual({ TENANT_ID: "52", TENANT_NAME: "bravo", STATEMENT_TIMEOUT_MS: "" });
    expect(b.kv).toEqual([W, 52, 52]);
    expect(host.isolatesCreated).toBe(2); // alpha's, and the warm one still waiting in the pool
    const owners = await Promise.all(seen.map(async (r) => (await verifyTenantToken(edgeEnv.FLEET_SECRET, r.authorization!.slice(7), Date.now())).tenantId));
    expect(owners).toEqual([51, 52]);
  });

  it("is retired, not reused, when its tenant still has a session open at release", async () => {
    recordStorage();
    const open = new Set<number>([61]);
    const host = new GatewayHost({ mode: "loader", loader: edgeEnv.LOADER, code: () => probeCode("iso-retire"), isolatesMax: 4, busy: (id) => open.has(id), envFor: (t) => buildGatewayEnv(edgeExports, t) });
    await runProbe(host, { tenantId: 61, name: "busy" }, [61]);
    await host.release(61);
    expect(host.pooledCount).toBe(0);
    expect(host.retired).toBe(1);
    const next = await runProbe(host, { tenantId: 62, name: "next" }, [62]);
    expect(next.served).toEqual(["62"]);
  });
});

describe("TenantKV", () => {
  it("only ever sends tokens naming the tenant in its props", async () => {
    const seen = recordStorage();
    const host = new GatewayHost({ mode: "loader", loader: edgeEnv.LOADER, code: () => probeCode("iso-b"), isolatesMax: 4 });
    const tenants = [
      { tenantId: 11, name: "alpha", marker: [11, 11] },
      { tenantId: 12, name: "bravo", marker: [12, 12, 12] },
    ];
    // Both tenants' isolates call their KV capability concurrently, several times.
    const reports = await Promise.all(
      [0, 1, 2].flatMap(() => tenants.map((t) => runProbe(host, t, t.marker).then((r) => ({ t, r })))),
    );
    for (const { t, r } of reports) expect(r.kv).toEqual([W, ...t.marker]);
    expect(seen).toHaveLength(6);
    for (const rec of seen) {
      expect(rec.url).toBe(edgeEnv.STORAGE_URL + "/v1/kv");
      const token = /^Bearer (wt1\..+)$/.exec(rec.authorization ?? "")?.[1];
      expect(token).toBeDefined();
      const claims = await verifyTenantToken(edgeEnv.FLEET_SECRET, token!, Date.now());
      const owner = tenants.find((t) => t.marker.length === rec.body.length && t.marker.every((b, i) => b === rec.body[i]));
      expect(owner).toBeDefined();
      expect(claims.tenantId).toBe(owner!.tenantId);
    }
  });

  it("called directly, uses props alone and reuses its token", async () => {
    const seen = recordStorage();
    const kv = edgeExports.TenantKV({ props: { tenantId: 21 } });
    await kv.batch(new Uint8Array([5]));
    await kv.batch(new Uint8Array([6]));
    expect(seen).toHaveLength(2);
    expect(seen[0]!.authorization).toBe(seen[1]!.authorization);
    const claims = await verifyTenantToken(edgeEnv.FLEET_SECRET, seen[0]!.authorization!.slice(7), Date.now());
    expect(claims.tenantId).toBe(21);
    // Expiry is in the future but bounded (tokens are short-lived).
    expect(claims.expiresAtMs - Date.now()).toBeLessThanOrEqual(15 * 60 * 1000);
  });
});

describe("TenantKV.open (a channel for many batches)", () => {
  it("forwards every batch with a token naming the tenant in its props", async () => {
    const seen = recordStorage();
    const kv = edgeExports.TenantKV({ props: { tenantId: 23 } }) as unknown as { open(): Promise<TenantKvChannel & Disposable> };
    const channel = await kv.open();
    try {
      expect(Array.from(await channel.batch(new Uint8Array([7])))).toEqual([W, 7]);
      expect(Array.from(await channel.batch(new Uint8Array([8, 8])))).toEqual([W, 8, 8]);
    } finally {
      channel[Symbol.dispose]();
    }
    expect(seen.map((r) => r.body)).toEqual([[7], [8, 8]]);
    for (const rec of seen) {
      const claims = await verifyTenantToken(edgeEnv.FLEET_SECRET, rec.authorization!.slice(7), Date.now());
      expect(claims.tenantId).toBe(23);
    }
  });

  it("works through the gateway's requestKv on a real TenantKV stub", async () => {
    const seen = recordStorage();
    const rkv = requestKv(edgeExports.TenantKV({ props: { tenantId: 25 } }));
    expect(Array.from(await rkv.kv.batch(new Uint8Array([4])))).toEqual([W, 4]);
    expect(Array.from(await rkv.kv.batch(new Uint8Array([5])))).toEqual([W, 5]);
    rkv.close();
    expect(seen.map((r) => r.body)).toEqual([[4], [5]]);
    const claims = await verifyTenantToken(edgeEnv.FLEET_SECRET, seen[1]!.authorization!.slice(7), Date.now());
    expect(claims.tenantId).toBe(25);
  });

  it("refuses past kvChannelBatchesMax without contacting storage", async () => {
    const seen = recordStorage();
    const channel = new TenantKvChannel(edgeEnv, 24, 2);
    await channel.batch(new Uint8Array([1]));
    await channel.batch(new Uint8Array([2]));
    const refused = decodeResponse(await channel.batch(new Uint8Array([3])));
    expect(refused).toMatchObject({ type: "error", error: { code: "limit_exceeded" } });
    expect(seen).toHaveLength(2);
    expect(limits.kvChannelBatchesMax).toBe(500);
  });
});

describe("TenantKV request size (limits.kvRequestBytesMax)", () => {
  it("forwards a request of exactly the limit; one byte more is limit_exceeded without contacting storage", async () => {
    const { decodeResponse } = await import("../../common/kv-protocol/codec.ts");
    const sizes: number[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      sizes.push((await new Request(input, init).arrayBuffer()).byteLength);
      return new Response(new Uint8Array([W]));
    });
    const at = await forwardKv(edgeEnv, 23, new Uint8Array(limits.kvRequestBytesMax));
    expect(Array.from(at)).toEqual([W]);
    expect(sizes).toEqual([limits.kvRequestBytesMax]);
    const over = decodeResponse(await forwardKv(edgeEnv, 23, new Uint8Array(limits.kvRequestBytesMax + 1)));
    expect(over).toMatchObject({ type: "error", error: { code: "limit_exceeded" } });
    expect(over.type === "error" && over.error.message).toMatch(/kvRequestBytesMax/);
    expect(sizes).toHaveLength(1);
  });
});

describe("storage tokens (limits.storageTokenTtlMs, storageTokenRefreshBeforeMs)", () => {
  it("reuses a tenant's token until storageTokenRefreshBeforeMs before it expires, then mints a new one", async () => {
    const t0 = Date.now() + 24 * 3600_000; // a fresh time line, so no earlier test's token is reused
    const first = await storageTokenFor(edgeEnv.FLEET_SECRET, 24, t0);
    const claims = await verifyTenantToken(edgeEnv.FLEET_SECRET, first, t0);
    expect(claims).toEqual({ tenantId: 24, expiresAtMs: t0 + limits.storageTokenTtlMs });
    const lastReuse = t0 + limits.storageTokenTtlMs - limits.storageTokenRefreshBeforeMs - 1;
    expect(await storageTokenFor(edgeEnv.FLEET_SECRET, 24, lastReuse)).toBe(first);
    const renewed = await storageTokenFor(edgeEnv.FLEET_SECRET, 24, lastReuse + 1);
    expect(renewed).not.toBe(first);
    expect((await verifyTenantToken(edgeEnv.FLEET_SECRET, renewed, lastReuse + 1)).expiresAtMs).toBe(lastReuse + 1 + limits.storageTokenTtlMs);
    // Another tenant never gets this tenant's token.
    expect(await storageTokenFor(edgeEnv.FLEET_SECRET, 25, lastReuse + 1)).not.toBe(renewed);
  });
});

describe("GatewayHost", () => {
  it("keeps at most isolatesMax get() isolates, evicting the least recently used tenant", async () => {
    recordStorage();
    const host = new GatewayHost({ mode: "loader", loader: edgeEnv.LOADER, code: () => probeCode("iso-c"), isolatesMax: 2, warmPool: 1 });
    for (const id of [31, 32, 33, 34, 31]) {
      const r = await runProbe(host, { tenantId: id, name: `t${id}` }, [id]);
      expect(r.strings["TENANT_ID"]).toBe(String(id));
      expect(r.kv).toEqual([W, id]);
    }
    expect(host.pinnedCount).toBe(2);
    expect(host.evictions).toBe(3);
    expect(host.overflowLoads).toBe(0);
    // Evicted tenants' isolates were reused: two isolates served five tenants' requests.
    await Promise.all(behind);
    expect(host.isolatesCreated).toBeLessThanOrEqual(3);
  });
});

describe("TenantKV when storage misbehaves", () => {
  it("answers an unreachable node or a non-frame reply with an encoded KvResponse error", async () => {
    const { decodeResponse, encodeResponse } = await import("../../common/kv-protocol/codec.ts");
    const kv = edgeExports.TenantKV({ props: { tenantId: 41 } });

    vi.spyOn(globalThis, "fetch").mockRejectedValueOnce(new Error("connect ECONNREFUSED"));
    const down = decodeResponse(await kv.batch(new Uint8Array([1])));
    // The bytes are no request TenantKV can prove safe to repeat, so after the retries it cannot
    // say whether the node applied it: outcome_unknown (08006), not a plain failure.
    expect(down).toMatchObject({ type: "error", error: { code: "outcome_unknown" } });
    expect(down.type === "error" && down.error.message).toMatch(/unreachable.*ECONNREFUSED/);

    vi.spyOn(globalThis, "fetch").mockImplementationOnce(async () => new Response("<html>bad gateway</html>", { status: 502 }));
    const proxy = decodeResponse(await kv.batch(new Uint8Array([1])));
    expect(proxy.type === "error" && proxy.error.message).toMatch(/HTTP 502 without a KvResponse frame/);

    // A real frame passes through untouched, whatever the HTTP status.
    const frame = encodeResponse({ type: "error", error: { code: "unauthenticated", message: "nope" } });
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response(frame, { status: 401 }));
    const denied = await kv.batch(new Uint8Array([1]));
    expect(Array.from(denied)).toEqual(Array.from(frame));
  });
});
