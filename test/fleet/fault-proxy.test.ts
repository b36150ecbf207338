// The fault proxy in front of a plain HTTP server (the proxy only sees bytes, so any server does; the
// fleet tests put one in front of each storage node). Pass-through, delay, blackhole and reset cuts, drops, heal.
import http from "node:http";
import type net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFaultProxy, type FaultProxy } from "../harness/fault-proxy.ts";

let server: http.Server;
let proxy: FaultProxy;

function get(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/x", agent: false, timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

beforeAll(async () => {
  server = http.createServer((_req, res) => res.end("pong"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  proxy = await startFaultProxy({ port: (server.address() as net.AddressInfo).port });
});
afterAll(async () => {
  await proxy?.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe("fault proxy", () => {
  it("forwards, delays, cuts (blackhole and reset), drops and heals", async () => {
    expect(await get(proxy.port, 2_000)).toBe("pong");

    proxy.setDelay(150);
    const t0 = performance.now();
    expect(await get(proxy.port, 5_000)).toBe("pong");
    // Request and response are each held 150 ms: at least 300 ms (a lower bound only; no upper bound on a busy machine).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    proxy.setDelay(0);

    proxy.cut("blackhole");
    await expect(get(proxy.port, 400)).rejects.toThrow(/timeout/);
    proxy.heal();
    expect(await get(proxy.port, 2_000)).toBe("pong");

    proxy.cut("reset");
    await expect(get(proxy.port, 2_000)).rejects.toThrow(/ECONNRESET|socket hang up/);
    proxy.heal();

    proxy.setDropRate(1);
    await expect(get(proxy.port, 2_000)).rejects.toThrow(/ECONNRESET|socket hang up/);
    proxy.setDropRate(0);
    expect(await get(proxy.port, 2_000)).toBe("pong");
    expect(() => proxy.setDropRate(2)).toThrow(RangeError);
  });
});
