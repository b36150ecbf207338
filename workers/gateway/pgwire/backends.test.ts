// The tenant's registry of live sessions: one session per process id, exact-pair CancelRequests,
// pg_cancel/pg_terminate by process id, registries kept apart per tenant (inline mode shares the
// module), and the header that carries a pair from the edge, parsed strictly at its Int32 edges.
import { describe, expect, it } from "vitest";
import { BackendRegistry, backendsOf, formatBackendKey, parseBackendKey, type Backend } from "./backends.ts";
import { PGWIRE_HEADERS, serveCancelRequest } from "./websocket.ts";
import type { GatewayEnv } from "../env.ts";

function fakeBackend(processId: number, secretKey: number): Backend & { log: string[] } {
  const log: string[] = [];
  return { key: { processId, secretKey }, log, cancel: () => (log.push("cancel"), true), terminate: () => void log.push("terminate") };
}

describe("BackendRegistry", () => {
  it("holds one session per process id; remove() takes out only that session", () => {
    const r = new BackendRegistry();
    const a = fakeBackend(7, 1);
    const b = fakeBackend(7, 2);
    expect(r.add(a)).toBe(true);
    expect(r.add(b)).toBe(false);
    r.remove(b); // not the one registered: nothing happens
    expect(r.has(7)).toBe(true);
    r.remove(a);
    expect(r.has(7)).toBe(false);
    expect(r.add(b)).toBe(true);
  });

  it("cancels on a CancelRequest only with the exact pair", () => {
    const r = new BackendRegistry();
    const a = fakeBackend(100, -5);
    r.add(a);
    expect(r.cancelRequest({ processId: 100, secretKey: 5 })).toBe(false);
    expect(r.cancelRequest({ processId: 101, secretKey: -5 })).toBe(false);
    expect(a.log).toEqual([]);
    expect(r.cancelRequest({ processId: 100, secretKey: -5 })).toBe(true);
    expect(a.log).toEqual(["cancel"]);
  });

  it("signals by process id (pg_cancel_backend / pg_terminate_backend): true when the session exists", () => {
    const r = new BackendRegistry();
    const a = fakeBackend(100, 0);
    r.add(a);
    expect(r.signal(100, "cancel")).toBe(true);
    expect(r.signal(100, "terminate")).toBe(true);
    expect(r.signal(999, "terminate")).toBe(false);
    expect(a.log).toEqual(["cancel", "terminate"]);
  });

  it("hands out unused, positive process ids", () => {
    const r = new BackendRegistry();
    for (let i = 0; i < 200; i++) {
      const id = r.unusedProcessId();
      expect(id).toBeGreaterThan(0);
      expect(id).toBeLessThanOrEqual(0x7fffffff);
      expect(r.add(fakeBackend(id, 0))).toBe(true);
    }
    expect(r.size).toBe(200);
  });

  it("keeps each tenant's sessions apart", () => {
    const a = fakeBackend(4242, 1);
    backendsOf("9001").add(a);
    expect(backendsOf("9002").signal(4242, "terminate")).toBe(false);
    expect(backendsOf("9001").signal(4242, "cancel")).toBe(true);
    backendsOf("9001").remove(a);
  });
});

describe("backend key header", () => {
  it("round-trips the Int32 edges", () => {
    for (const key of [
      { processId: 1, secretKey: -2147483648 },
      { processId: 2147483647, secretKey: 2147483647 },
      { processId: 12345, secretKey: 0 },
    ]) {
      expect(parseBackendKey(formatBackendKey(key))).toEqual(key);
    }
  });

  it.each([null, "", "1", "1:", ":1", "0:1", "2147483648:1", "1:2147483648", "1:-2147483649", "-1:1", "1:1:1", " 1:1", "1:0x10"])("refuses %j", (text) => {
    expect(parseBackendKey(text)).toBeNull();
  });
});

describe("POST /cancel (serveCancelRequest)", () => {
  const env = { TENANT_ID: "9100" } as GatewayEnv;
  const cancel = (header: string | null) =>
    serveCancelRequest(new Request("http://gateway/cancel", { method: "POST", headers: header === null ? {} : { [PGWIRE_HEADERS.backendKey]: header } }), env).json();

  it("cancels the session with that pair in this tenant's registry, and nothing for a wrong or missing pair", async () => {
    const a = fakeBackend(31337, 77);
    backendsOf("9100").add(a);
    expect(await cancel("31337:78")).toEqual({ canceled: false });
    expect(await cancel(null)).toEqual({ canceled: false });
    expect(await cancel("garbage")).toEqual({ canceled: false });
    expect(a.log).toEqual([]);
    expect(await cancel("31337:77")).toEqual({ canceled: true });
    expect(a.log).toEqual(["cancel"]);
    backendsOf("9100").remove(a);
  });
});
