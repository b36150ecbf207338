// The tunnel's startup phase with real sockets against a local WebSocket server: sockets that never
// send a startup packet are dropped after startupTimeoutMs and, past preStartupConnectionsMax, the
// oldest of them is dropped to make room, so idle sockets never keep a session out; sessions are
// capped per tenant (FATAL 53300 naming it); a CancelRequest passes through on its own. The byte
// pipe itself (transfer, backpressure, close propagation): test/tunnel.test.ts.
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { tunnelPreStartupConnectionsMax } from "./limits.ts";
import { startTunnel, type Tunnel, type TunnelOptions } from "./tunnel.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\0${v}\0`)), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}

function cancelRequest(pid: number, key: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeInt32BE(16, 0);
  b.writeInt32BE(80877102, 4);
  b.writeInt32BE(pid, 8);
  b.writeInt32BE(key, 12);
  return b;
}

/** Echoes every message after the first; records each connection's first message. */
async function echoServer(opts: { autoPong?: boolean } = {}): Promise<{ url: string; firsts: Buffer[] }> {
  const firsts: Buffer[] = [];
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, autoPong: opts.autoPong ?? true });
  server.on("connection", (ws: WebSocket) => {
    ws.binaryType = "nodebuffer";
    ws.once("message", (first: Buffer) => {
      firsts.push(first);
      ws.on("message", (d: Buffer) => ws.send(d));
    });
  });
  await new Promise<void>((resolve) => server.once("listening", () => resolve()));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of server.clients) c.terminate();
        server.close(() => resolve());
      }),
  );
  return { url: `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}/v2`, firsts };
}

async function tunnelTo(url: string, extra: Partial<TunnelOptions> = {}): Promise<Tunnel> {
  const tunnel = await startTunnel({ host: "127.0.0.1", port: 0, url, log: () => {}, ...extra });
  cleanups.push(() => tunnel.close());
  return tunnel;
}

function connect(tunnel: Tunnel): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: tunnel.host, port: tunnel.port });
    socket.on("error", () => {}); // resets of dropped sockets are expected here
    socket.once("connect", () => resolve(socket));
    socket.once("error", reject);
    cleanups.push(() => void socket.destroy());
  });
}

function received(socket: net.Socket): () => Buffer {
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  return () => Buffer.concat(chunks);
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.closed ? resolve() : socket.once("close", () => resolve())));
}

/** A session of `tenant` that has been carried (an echo round trip works). */
async function session(tunnel: Tunnel, tenant: string): Promise<net.Socket> {
  const s = await connect(tunnel);
  const got = received(s);
  s.write(startupMessage({ user: `app.${tenant}`, database: "db" }));
  s.write("ping");
  await expect.poll(() => got().toString(), { timeout: 5_000 }).toBe("ping");
  return s;
}

/** The fields of the ErrorResponse a refused client got. */
function errorFields(bytes: Buffer): Record<string, string> {
  expect(String.fromCharCode(bytes[0]!)).toBe("E");
  const out: Record<string, string> = {};
  for (const f of bytes.subarray(5).toString("utf8").split("\0")) if (f.length > 1) out[f[0]!] = f.slice(1);
  return out;
}

describe("tunnel startup phase", () => {
  it("drops a socket that sends no startup packet within startupTimeoutMs; a slow but complete one is carried", async () => {
    const { url } = await echoServer();
    const startupTimeoutMs = 400;
    const tunnel = await tunnelTo(url, { startupTimeoutMs });
    const silent = await connect(tunnel);
    const t0 = performance.now();
    const slow = await connect(tunnel);
    const msg = startupMessage({ user: "app.acme" });
    slow.write(msg.subarray(0, 5)); // half a packet: still not started
    await new Promise((r) => setTimeout(r, startupTimeoutMs / 2));
    const got = received(slow);
    slow.write(Buffer.concat([msg.subarray(5), Buffer.from("ping")]));
    await closed(silent);
    const waited = performance.now() - t0;
    expect(waited).toBeGreaterThanOrEqual(startupTimeoutMs * 0.75);
    expect(waited).toBeLessThan(startupTimeoutMs + 3_000);
    await expect.poll(() => got().toString()).toBe("ping");
    expect(tunnel.counts()).toMatchObject({ preStartup: 0, established: 1 });
  });

  it("drops the oldest pre-startup socket when preStartupConnectionsMax are waiting; sessions are untouched", async () => {
    const { url } = await echoServer();
    const tunnel = await tunnelTo(url, { preStartupConnectionsMax: 3, startupTimeoutMs: 60_000 });
    const established = await session(tunnel, "acme");
    const idle = [await connect(tunnel), await connect(tunnel), await connect(tunnel)];
    await expect.poll(() => tunnel.counts().preStartup).toBe(3);
    const fourth = await connect(tunnel);
    await closed(idle[0]!); // the oldest made room
    expect(idle[1]!.closed || idle[2]!.closed || fourth.closed).toBe(false);
    await expect.poll(() => tunnel.counts().preStartup).toBe(3);
    // A new client that speaks gets in even though the pre-startup cap is full.
    await session(tunnel, "other");
    const echo = received(established);
    established.write("still here");
    await expect.poll(() => echo().toString()).toBe("still here");
    expect(tunnel.counts()).toMatchObject({ established: 2, byTenant: { acme: 1, other: 1 } });
  });

  it(`keeps another tenant reachable while 1,000 idle sockets are open (default cap ${tunnelPreStartupConnectionsMax})`, async () => {
    const { url } = await echoServer();
    const tunnel = await tunnelTo(url);
    const idle = await Promise.all(Array.from({ length: 1000 }, () => connect(tunnel)));
    await expect.poll(() => tunnel.counts().preStartup, { timeout: 10_000 }).toBe(tunnelPreStartupConnectionsMax);
    const t0 = performance.now();
    await session(tunnel, "victim");
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(tunnel.counts().established).toBe(1);
    // Every idle socket beyond the cap was dropped, oldest first (one more made room for the victim).
    await expect.poll(() => idle.filter((s) => s.closed).length, { timeout: 10_000 }).toBe(1000 - tunnelPreStartupConnectionsMax + 1);
  });

  it("caps the sessions of one tenant with FATAL 53300 naming it; other tenants still connect; a closed one frees a slot", async () => {
    const { url } = await echoServer();
    const tunnel = await tunnelTo(url, { connectionsPerTenantMax: 2 });
    const a = await session(tunnel, "acme");
    await session(tunnel, "acme");
    const refused = await connect(tunnel);
    const got = received(refused);
    refused.write(startupMessage({ user: "app.acme" }));
    await closed(refused);
    const fields = errorFields(got());
    expect(fields["S"]).toBe("FATAL");
    expect(fields["C"]).toBe("53300");
    expect(fields["M"]).toBe('too many connections for virtual cluster "acme" through this tunnel: the limit is 2');
    await session(tunnel, "other");
    a.destroy();
    await expect.poll(() => tunnel.counts().byTenant["acme"]).toBe(1);
    await session(tunnel, "acme");
  });

  it("passes a CancelRequest on as its own WebSocket carrying exactly the packet, outside any tenant's count", async () => {
    const { url, firsts } = await echoServer();
    const tunnel = await tunnelTo(url, { connectionsPerTenantMax: 1 });
    await session(tunnel, "acme");
    const c = await connect(tunnel);
    const packet = cancelRequest(424242, -99);
    c.write(packet);
    await expect.poll(() => firsts.some((f) => f.equals(packet))).toBe(true);
    expect(tunnel.counts().byTenant).toEqual({ acme: 1 });
  });

  it("drops a cancel connection the edge keeps open after cancelLifetimeMs", async () => {
    const { url } = await echoServer(); // never closes: a stuck edge
    const cancelLifetimeMs = 300;
    const tunnel = await tunnelTo(url, { cancelLifetimeMs });
    const c = await connect(tunnel);
    const t0 = performance.now();
    c.write(cancelRequest(1, 2));
    await closed(c);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(cancelLifetimeMs * 0.75);
    await expect.poll(() => tunnel.counts().established).toBe(0);
  });

  it("answers a malformed startup packet with FATAL 08P01 and never opens a WebSocket", async () => {
    const { url, firsts } = await echoServer();
    const tunnel = await tunnelTo(url);
    const s = await connect(tunnel);
    const got = received(s);
    const bad = Buffer.alloc(8);
    bad.writeInt32BE(3, 0);
    s.write(bad);
    await closed(s);
    expect(errorFields(got())["C"]).toBe("08P01");
    expect(firsts).toEqual([]);
  });
});

describe("tunnel liveness (issue 8: a client never waits forever on a dead connection)", () => {
  const bounds = { pingIntervalMs: 50, pongTimeoutMs: 250 };

  it("closes a session whose WebSocket stops answering pings with FATAL 08006 after pongTimeoutMs", async () => {
    // A server that accepts and echoes, but answers no ping (a proxy that died with the socket open).
    const { url } = await echoServer({ autoPong: false });
    const tunnel = await tunnelTo(url, bounds);
    const s = await connect(tunnel);
    const got = received(s);
    s.write(startupMessage({ user: "app.t", database: "db" }));
    const t0 = performance.now();
    await closed(s);
    // Not before the bound (an upper bound would flake on a loaded machine).
    expect(performance.now() - t0).toBeGreaterThanOrEqual(bounds.pongTimeoutMs - 10);
    const fields = errorFields(got());
    expect(fields["S"]).toBe("FATAL");
    expect(fields["C"]).toBe("08006");
    expect(fields["M"]).toMatch(/no answer to the tunnel's ping within 250 ms \(tunnelPongTimeoutMs\)/);
    await expect.poll(() => tunnel.counts().established).toBe(0);
  });

  it("keeps a quiet session whose WebSocket answers pings open well past pongTimeoutMs", async () => {
    const { url } = await echoServer();
    const tunnel = await tunnelTo(url, bounds);
    const s = await session(tunnel, "t");
    const got = received(s);
    await new Promise((r) => setTimeout(r, bounds.pongTimeoutMs * 4));
    expect(s.closed).toBe(false);
    s.write("still here");
    await expect.poll(() => got().toString(), { timeout: 5_000 }).toBe("still here");
  });
});
