// Forwarding a CancelRequest: the exact pair goes to the gateway of the tenant it names, as POST
// /cancel; a pair naming a tenant without sessions here, or a tenant whose gateway isolate is not
// known here, reaches nothing; a gateway that does not answer is given up after timeoutMs; nothing
// ever throws.
import { describe, expect, it } from "vitest";
import { PGWIRE_HEADERS } from "../../gateway/edge-contract.ts";
import type { TenantRef } from "../gateway-env.ts";
import { limits } from "../limits.ts";
import { BackendKeyCodec } from "./backend-key.ts";
import { forwardCancel, type CancelForwarding } from "./cancel-forward.ts";

const keys = BackendKeyCodec.fromSecret("test-fleet-secret-0123456789abcdef");
const acme: TenantRef = { tenantId: 12, name: "acme" };

function forwarding(over: Partial<CancelForwarding> = {}): CancelForwarding & { sent: Array<{ tenant: TenantRef; method: string; path: string; key: string | null }> } {
  const sent: Array<{ tenant: TenantRef; method: string; path: string; key: string | null }> = [];
  return {
    sent,
    keys,
    tenantWithSessions: (id) => (id === acme.tenantId ? acme : undefined),
    fetchGateway: (tenant, request) => {
      sent.push({ tenant, method: request.method, path: new URL(request.url).pathname, key: request.headers.get(PGWIRE_HEADERS.backendKey) });
      return Promise.resolve(Response.json({ canceled: true }));
    },
    timeoutMs: limits.cancelForwardTimeoutMs,
    ...over,
  };
}

describe("forwardCancel", () => {
  it("sends the exact pair to the gateway of the tenant it names, as POST /cancel", async () => {
    const key = await (await keys).issue(acme.tenantId);
    const f = forwarding();
    await forwardCancel(key, f);
    expect(f.sent).toEqual([{ tenant: acme, method: "POST", path: "/cancel", key: `${key.processId}:${key.secretKey}` }]);
  });

  it("reaches nothing for a wrong pair, a tenant without sessions here, or a gateway not known here", async () => {
    const key = await (await keys).issue(acme.tenantId);
    const f = forwarding();
    await forwardCancel({ processId: key.processId, secretKey: key.secretKey ^ 1 }, f);
    await forwardCancel(await (await keys).issue(99), f);
    expect(f.sent).toEqual([]);
    let asked = 0;
    await forwardCancel(key, forwarding({ fetchGateway: () => (asked++, null) }));
    expect(asked).toBe(1);
  });

  it("gives up on a gateway that does not answer after timeoutMs, and never throws", async () => {
    const key = await (await keys).issue(acme.tenantId);
    const timeoutMs = 150;
    const t0 = performance.now();
    await forwardCancel(key, forwarding({ fetchGateway: () => new Promise<Response>(() => {}), timeoutMs }));
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(timeoutMs * 0.75);
    expect(waited).toBeLessThan(timeoutMs + 2_000);
    await forwardCancel(key, forwarding({ fetchGateway: () => Promise.reject(new Error("isolate gone")) }));
  });
});
