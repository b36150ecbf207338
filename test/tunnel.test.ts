// The TCP ⇄ WebSocket tunnel (cli/tunnel.ts, `warren tunnel`) against a local WebSocket server on
// port 0: byte-exact transfer both ways, close propagation both ways, backpressure both ways, the
// connection limit, the message-size cap, the half-open and handshake timeouts, and the `warren tunnel` command itself as a child process.
// Every client starts with a StartupMessage (the tunnel reads it before it opens a WebSocket, and
// sends it as the WebSocket's first message); the test servers check and skip that message, and
// everything after it is the payload under test. The startup phase itself: cli/tunnel.test.ts.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { isPortFree } from "../cli/ports.ts";
import { startTunnel, type Tunnel } from "../cli/tunnel.ts";

const MiB = 1024 * 1024;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The StartupMessage every test client sends first (user app.acme: tenant "acme"). */
const STARTUP = startupMessage({ user: "app.acme", database: "db" });

function startupMessage(params: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0${v}\0`)]), Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(196608, 4); // protocol 3.0
  return Buffer.concat([head, body]);
}

/**
 * A WebSocket server on a free port; `onConnection` gets each server-side socket once its first
 * message, the client's StartupMessage, has arrived (and is checked to be exactly that).
 */
async function wsServer(onConnection: (ws: WebSocket) => void): Promise<{ url: string; server: WebSocketServer }> {
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 256 * MiB });
  server.on("connection", (ws) => {
    ws.binaryType = "nodebuffer";
    ws.once("message", (first: Buffer) => {
      if (!first.equals(STARTUP)) {
        ws.close(1008, "the first message was not the StartupMessage");
        return;
      }
      onConnection(ws);
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
  const { port } = server.address() as net.AddressInfo;
  return { url: `ws://127.0.0.1:${port}/v2`, server };
}

async function tunnelTo(url: string, extra: Partial<Parameters<typeof startTunnel>[0]> = {}): Promise<Tunnel> {
  const tunnel = await startTunnel({ host: "127.0.0.1", port: 0, url, ...extra });
  cleanups.push(() => tunnel.close());
  return tunnel;
}

/**
 * Connects and sends the StartupMessage. `allowHalfOpen`: keep our side open after the tunnel's FIN
 * (Node ends it at once otherwise).
 */
function connect(tunnel: Tunnel, allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: tunnel.host, port: tunnel.port, allowHalfOpen });
    socket.once("connect", () => {
      socket.write(STARTUP);
      resolve(socket);
    });
    socket.once("error", reject);
    cleanups.push(() => void socket.destroy());
  });
}

/** Everything `socket` receives from now on, read when called. */
function received(socket: net.Socket): () => Buffer {
  const chunks: Buffer[] = [];
  socket.on("data", (d: Buffer) => chunks.push(d));
  return () => Buffer.concat(chunks);
}

/** Reads exactly `n` bytes from `socket`. */
function readBytes(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const onData = (c: Buffer) => {
      chunks.push(c);
      got += c.length;
      if (got >= n) {
        socket.off("data", onData);
        resolve(Buffer.concat(chunks));
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", () => got < n && reject(new Error(`socket closed after ${got} of ${n} bytes`)));
  });
}

/** Collects every binary message a server-side WebSocket receives until it has `n` bytes. */
function wsReadBytes(ws: WebSocket, n: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    ws.on("message", (data: Buffer) => {
      chunks.push(data);
      got += data.length;
      if (got >= n) resolve(Buffer.concat(chunks));
    });
  });
}

function closed(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.closed ? resolve() : socket.once("close", () => resolve())));
}

describe("warren tunnel", () => {
  it("carries 10 MB each way byte-exact through an echo server", async () => {
    const { url } = await wsServer((ws) => ws.on("message", (data: Buffer) => ws.send(data)));
    const tunnel = await tunnelTo(url);
    const socket = await connect(tunnel);
    const payload = randomBytes(10 * MiB);
    const echoed = readBytes(socket, payload.length);
    socket.write(payload);
    const back = await echoed;
    expect(back.length).toBe(payload.length);
    expect(back.equals(payload)).toBe(true);
  });

  it("carries two independent 10 MB streams at the same time (full duplex)", async () => {
    const up = randomBytes(10 * MiB);
    const down = randomBytes(10 * MiB);
    let serverGot: Promise<Buffer> | undefined;
    const { url } = await wsServer((ws) => {
      serverGot = wsReadBytes(ws, up.length);
      for (let i = 0; i < down.length; i += 100_000) ws.send(down.subarray(i, i + 100_000));
    });
    const tunnel = await tunnelTo(url);
    const socket = await connect(tunnel);
    const clientGot = readBytes(socket, down.length);
    socket.write(up);
    expect((await clientGot).equals(down)).toBe(true);
    await expect.poll(() => serverGot).toBeDefined();
    expect((await serverGot!).equals(up)).toBe(true);
  });

  it("ends the TCP connection when the WebSocket server closes, after delivering what it sent", async () => {
    const { url } = await wsServer((ws) =>
      ws.once("message", () => {
        ws.send(Buffer.from("last words"));
        ws.close(1000, "done");
      }),
    );
    const tunnel = await tunnelTo(url);
    const socket = await connect(tunnel);
    const received: Buffer[] = [];
    socket.on("data", (c: Buffer) => received.push(c));
    const ended = new Promise<void>((resolve) => socket.once("end", () => resolve()));
    socket.write("hello");
    await ended;
    expect(Buffer.concat(received).toString()).toBe("last words");
    socket.end();
    await closed(socket);
    await expect.poll(() => tunnel.connections()).toBe(0);
  });

  it("closes the WebSocket when the TCP client closes, after forwarding its last bytes", async () => {
    let resolveClose!: (v: { code: number; bytes: string }) => void;
    const serverClosed = new Promise<{ code: number; bytes: string }>((r) => (resolveClose = r));
    const { url } = await wsServer((ws) => {
      const got: Buffer[] = [];
      ws.on("message", (d: Buffer) => got.push(d));
      ws.on("close", (code) => resolveClose({ code, bytes: Buffer.concat(got).toString() }));
    });
    const tunnel = await tunnelTo(url);
    const socket = await connect(tunnel);
    socket.end("goodbye");
    const result = await serverClosed;
    expect(result).toEqual({ code: 1000, bytes: "goodbye" });
    await closed(socket);
    await expect.poll(() => tunnel.connections()).toBe(0);
  });

  it("closes quietly (1000, no log line) when the client resets right after its last bytes", async () => {
    let resolveClose!: (v: { code: number; bytes: string }) => void;
    const serverClosed = new Promise<{ code: number; bytes: string }>((r) => (resolveClose = r));
    const { url } = await wsServer((ws) => {
      const got: Buffer[] = [];
      // Like a server answering a Terminate that came straight after the startup: it keeps sending.
      ws.on("message", (d: Buffer) => {
        got.push(d);
        for (let i = 0; i < 20; i++) setTimeout(() => ws.readyState === WebSocket.OPEN && ws.send(randomBytes(64 * 1024)), i * 5);
      });
      ws.on("close", (code) => resolveClose({ code, bytes: Buffer.concat(got).toString() }));
    });
    const lines: string[] = [];
    const tunnel = await tunnelTo(url, { log: (l) => lines.push(l) });
    const socket = await connect(tunnel);
    socket.write("X");
    await new Promise((r) => setTimeout(r, 20));
    socket.resetAndDestroy();
    const result = await serverClosed;
    expect(result).toEqual({ code: 1000, bytes: "X" });
    await expect.poll(() => tunnel.connections()).toBe(0);
    expect(lines).toEqual([]);
  });

  it("answers FATAL 08001 and closes the TCP connection when the WebSocket endpoint is down", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const lines: string[] = [];
    const tunnel = await tunnelTo(`ws://127.0.0.1:${port}/v2`, { log: (l) => lines.push(l) });
    const socket = await connect(tunnel);
    socket.on("error", () => {});
    const answer = received(socket);
    await closed(socket);
    expect(lines.join("\n")).toMatch(/ECONNREFUSED/);
    expect(answer().toString("latin1")).toMatch(/^E[\s\S]*SFATAL\0[\s\S]*C08001\0Mthe tunnel could not open its WebSocket to ws:\/\/127\.0\.0\.1:\d+\/v2: connect ECONNREFUSED/);
  });

  it("answers FATAL 08001 naming the HTTP status when the edge refuses the WebSocket upgrade", async () => {
    const refusing = http.createServer((_req, res) => res.writeHead(403).end("no"));
    await new Promise<void>((resolve) => refusing.listen(0, "127.0.0.1", () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => refusing.close(() => resolve())));
    const { port } = refusing.address() as net.AddressInfo;
    const tunnel = await tunnelTo(`ws://127.0.0.1:${port}/v2`, { log: () => {} });
    const socket = await connect(tunnel);
    socket.on("error", () => {});
    const answer = received(socket);
    await closed(socket);
    expect(answer().toString("latin1")).toMatch(/^E[\s\S]*SFATAL\0[\s\S]*C08001\0Mthe edge at ws:\/\/127\.0\.0\.1:\d+\/v2 refused the tunnel's WebSocket upgrade with HTTP 403/);
  });

  it("pauses a fast TCP writer while the WebSocket peer does not read (bounded tunnel buffer)", async () => {
    const total = 32 * MiB;
    let serverWs: WebSocket | undefined;
    let serverGot: Promise<Buffer> | undefined;
    const { url } = await wsServer((ws) => {
      serverWs = ws;
      ws.pause(); // the edge is slow: it reads nothing for now
      serverGot = wsReadBytes(ws, total);
    });
    const high = 256 * 1024;
    const tunnel = await tunnelTo(url, { bufferedBytesHigh: high, bufferedBytesLow: 64 * 1024 });
    const socket = await connect(tunnel);
    const payload = randomBytes(total);
    socket.write(payload);
    await expect.poll(() => serverWs).toBeDefined();
    // Give the writer time to push everything it can; the tunnel must stop reading long before 32 MiB.
    await new Promise((r) => setTimeout(r, 1_000));
    const stuckInClient = socket.writableLength;
    expect(stuckInClient).toBeGreaterThan(total / 2); // the client is being held back…
    // …and the tunnel never queued much more than its high-water mark plus one TCP read (≤ 64 KiB).
    expect(tunnel.stats().peakWsBufferedBytes).toBeLessThan(high + 256 * 1024);
    serverWs!.resume();
    expect((await serverGot!).equals(payload)).toBe(true);
  });

  it("pauses the WebSocket while a slow TCP reader does not read (bounded tunnel buffer)", async () => {
    const total = 32 * MiB;
    const payload = randomBytes(total);
    let serverWs: WebSocket | undefined;
    const { url } = await wsServer((ws) => {
      serverWs = ws;
      for (let i = 0; i < total; i += 64 * 1024) ws.send(payload.subarray(i, i + 64 * 1024));
    });
    const tunnel = await tunnelTo(url);
    const socket = await connect(tunnel);
    socket.pause(); // the client is slow: it reads nothing for now
    await expect.poll(() => serverWs).toBeDefined();
    await new Promise((r) => setTimeout(r, 1_000));
    // The bytes wait at the sender, not in the tunnel.
    expect(serverWs!.bufferedAmount).toBeGreaterThan(total / 2);
    expect(tunnel.stats().peakTcpBufferedBytes).toBeLessThan(4 * MiB);
    const all = readBytes(socket, total);
    socket.resume();
    expect((await all).equals(payload)).toBe(true);
  });

  it("refuses connections beyond its limit (FATAL 53300) and accepts again when one closes", async () => {
    const { url } = await wsServer((ws) => ws.on("message", (d: Buffer) => ws.send(d)));
    const tunnel = await tunnelTo(url, { connectionsMax: 2, log: () => {} });
    const a = await connect(tunnel);
    const b = await connect(tunnel);
    await expect.poll(() => tunnel.counts().established).toBe(2);
    const c = await connect(tunnel);
    c.on("error", () => {});
    const refusal: Buffer[] = [];
    c.on("data", (d: Buffer) => refusal.push(d));
    await closed(c);
    expect(Buffer.concat(refusal).toString("latin1")).toMatch(/^E[\s\S]*SFATAL[\s\S]*C53300\0Msorry, too many clients already/);
    a.write("ping");
    expect((await readBytes(a, 4)).toString()).toBe("ping");
    b.destroy();
    await expect.poll(() => tunnel.connections()).toBe(1);
    const d = await connect(tunnel);
    d.write("pong");
    expect((await readBytes(d, 4)).toString()).toBe("pong");
  });

  it("carries a server message of exactly the size cap and drops the connection on one byte more", async () => {
    const cap = 64 * 1024;
    let closeCode: number | undefined;
    const { url } = await wsServer((ws) => {
      ws.once("message", (d: Buffer) => ws.send(randomBytes(Number(d.toString()))));
      ws.on("close", (code) => (closeCode = code));
    });
    const lines: string[] = [];
    const tunnel = await tunnelTo(url, { messageBytesMax: cap, log: (l) => lines.push(l) });
    const atCap = await connect(tunnel);
    atCap.write(String(cap));
    expect((await readBytes(atCap, cap)).length).toBe(cap);

    const over = await connect(tunnel);
    over.on("error", () => {});
    let got = 0;
    over.on("data", (c: Buffer) => (got += c.length));
    over.write(String(cap + 1));
    await closed(over);
    expect(got).toBe(0);
    expect(lines.join("\n")).toMatch(/max payload size exceeded/i);
    await expect.poll(() => closeCode).toBe(1009); // "message too big", sent by the tunnel
    await expect.poll(() => tunnel.connections()).toBe(1); // the at-cap connection is unaffected
  });

  it("drops a client that keeps its side open after the WebSocket closed, after the half-open timeout", async () => {
    const halfOpenMs = 400;
    const { url } = await wsServer((ws) => ws.once("message", () => ws.close(1000, "done")));
    const tunnel = await tunnelTo(url, { halfOpenMs });
    const socket = await connect(tunnel, true);
    const ended = new Promise<number>((resolve) => socket.once("end", () => resolve(performance.now())));
    socket.write("hello"); // and never end()
    const endedAt = await ended;
    // The tunnel sent FIN and still holds the connection while the client's side is open...
    expect(tunnel.connections()).toBe(1);
    // ...until the half-open timeout drops it. (The client learns of it only when it next writes:
    // a socket closed after its FIN sends nothing more, as with any TCP server.)
    await expect.poll(() => tunnel.connections(), { timeout: halfOpenMs + 5_000, interval: 10 }).toBe(0);
    const waited = performance.now() - endedAt;
    // The timer starts just before our FIN is sent, so the wait seen here is at most halfOpenMs plus polling.
    expect(waited).toBeGreaterThanOrEqual(halfOpenMs * 0.75);
  });

  it("answers FATAL 08001 when the WebSocket handshake takes longer than the handshake timeout", async () => {
    const handshakeTimeoutMs = 300;
    // Accepts TCP and never answers the HTTP upgrade.
    const silent = net.createServer((s) => s.on("error", () => {}));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    silent.on("connection", (s) => cleanups.push(() => void s.destroy()));
    const { port } = silent.address() as net.AddressInfo;
    const lines: string[] = [];
    const tunnel = await tunnelTo(`ws://127.0.0.1:${port}/v2`, { handshakeTimeoutMs, log: (l) => lines.push(l) });
    const started = performance.now();
    const socket = await connect(tunnel);
    socket.on("error", () => {});
    const answer = received(socket);
    await closed(socket);
    const waited = performance.now() - started;
    expect(answer().toString("latin1")).toMatch(/C08001\0M[^\0]*handshake has timed out/i);
    expect(waited).toBeGreaterThanOrEqual(handshakeTimeoutMs * 0.75);
    expect(waited).toBeLessThan(handshakeTimeoutMs + 5_000);
    expect(lines.join("\n")).toMatch(/handshake has timed out/i);
  });

  it("runs as `warren tunnel`, carries bytes, and stops on SIGTERM leaving the port free", async () => {
    const { url } = await wsServer((ws) => ws.on("message", (d: Buffer) => ws.send(d)));
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const cli = path.join(import.meta.dirname, "..", "cli", "warren.mjs");
    const child = spawn(process.execPath, [cli, "tunnel", "--listen", `127.0.0.1:${port}`, "--url", url], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    cleanups.push(() => void child.kill("SIGKILL"));
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    await expect.poll(() => out, { timeout: 10_000 }).toContain(`warren tunnel listening on 127.0.0.1:${port}`);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s));
      s.once("error", reject);
    });
    socket.write(STARTUP);
    const payload = randomBytes(MiB);
    const back = readBytes(socket, payload.length);
    socket.write(payload);
    expect((await back).equals(payload)).toBe(true);
    socket.destroy();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(await isPortFree(port)).toBe(true);
  });
});
