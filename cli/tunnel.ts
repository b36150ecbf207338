// The TCP ⇄ WebSocket tunnel: every accepted TCP connection gets its own WebSocket, and bytes are
// carried unchanged as binary messages in both directions (the framing of `cloudflared access tcp`
// and of Neon's WebSocket mode, which is what the edge's `/v2` endpoint speaks).
//
//   psql ──TCP──► [listen] ── one WebSocket per connection ──► ws://edge/v2
//
// Backpressure both ways keeps memory bounded: while the WebSocket's send buffer is above
// tunnelWsBufferedBytesHigh the TCP socket is paused; while the TCP socket's write buffer is full
// the WebSocket's underlying socket is paused. Closing either side closes the other: a WebSocket
// close ends the TCP stream after pending bytes are flushed, and a TCP end or error closes the
// WebSocket after the bytes already queued for it are sent.
import net from "node:net";
import WebSocket from "ws";
import {
  tunnelConnectionsMax,
  tunnelHalfOpenMs,
  tunnelHandshakeTimeoutMs,
  tunnelWsBufferedBytesHigh,
  tunnelWsBufferedBytesLow,
  tunnelWsMessageBytesMax,
} from "./limits.ts";

export interface TunnelOptions {
  readonly host: string;
  /** 0 picks a free port; read the chosen one from `Tunnel.port`. */
  readonly port: number;
  /** The WebSocket URL each connection is carried to, e.g. ws://127.0.0.1:8787/v2. */
  readonly url: string;
  /** Where connection failures are reported; silent when absent. */
  readonly log?: (line: string) => void;
  /** Overrides for tests at the limits' edges; production uses limits.ts. */
  readonly bufferedBytesHigh?: number;
  readonly bufferedBytesLow?: number;
  readonly connectionsMax?: number;
  readonly messageBytesMax?: number;
  readonly handshakeTimeoutMs?: number;
  readonly halfOpenMs?: number;
}

/** The bounds one tunnelled connection works within (limits.ts unless a test overrides them). */
interface BridgeLimits {
  readonly high: number;
  readonly low: number;
  readonly messageBytesMax: number;
  readonly handshakeTimeoutMs: number;
  readonly halfOpenMs: number;
}

export interface TunnelStats {
  /** Largest WebSocket send buffer seen (TCP → WebSocket direction). */
  readonly peakWsBufferedBytes: number;
  /** Largest TCP write buffer seen (WebSocket → TCP direction). */
  readonly peakTcpBufferedBytes: number;
}

export interface Tunnel {
  readonly host: string;
  readonly port: number;
  /** Live tunnelled connections. */
  connections(): number;
  /** High-water marks of what the tunnel itself held, over all connections (backpressure tests). */
  stats(): TunnelStats;
  /** Stops listening and drops every live connection. */
  close(): Promise<void>;
}

export async function startTunnel(options: TunnelOptions): Promise<Tunnel> {
  const high = options.bufferedBytesHigh ?? tunnelWsBufferedBytesHigh;
  const low = options.bufferedBytesLow ?? tunnelWsBufferedBytesLow;
  const connectionsMax = options.connectionsMax ?? tunnelConnectionsMax;
  const limits: BridgeLimits = {
    high,
    low,
    messageBytesMax: options.messageBytesMax ?? tunnelWsMessageBytesMax,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? tunnelHandshakeTimeoutMs,
    halfOpenMs: options.halfOpenMs ?? tunnelHalfOpenMs,
  };
  if (!(low < high)) throw new Error(`internal: tunnel low-water mark ${low} must be below high ${high}`);
  const log = options.log ?? (() => {});
  const live = new Set<{ destroy(): void }>();
  const peaks = { ws: 0, tcp: 0 };

  // allowHalfOpen: a client that half-closes still receives what the server sends until the
  // WebSocket closes; we end our side ourselves once the WebSocket is done.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    if (live.size >= connectionsMax) {
      log(`tunnel: refusing connection from ${socket.remoteAddress}: ${connectionsMax} connections open`);
      socket.destroy();
      return;
    }
    const conn = bridge(socket, options.url, limits, log, peaks);
    live.add(conn);
    socket.once("close", () => live.delete(conn));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => log(`tunnel: listener error: ${err.message}`));
  const address = server.address() as net.AddressInfo;
  return {
    host: options.host,
    port: address.port,
    connections: () => live.size,
    stats: () => ({ peakWsBufferedBytes: peaks.ws, peakTcpBufferedBytes: peaks.tcp }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of live) c.destroy();
      }),
  };
}

function bridge(
  socket: net.Socket,
  url: string,
  limits: BridgeLimits,
  log: (line: string) => void,
  peaks: { ws: number; tcp: number },
): { destroy(): void } {
  // Hold the client's first bytes (psql's SSLRequest, say) in the kernel until the WebSocket opens.
  socket.pause();
  const { high, low } = limits;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    maxPayload: limits.messageBytesMax,
    handshakeTimeout: limits.handshakeTimeoutMs,
  });
  ws.binaryType = "nodebuffer";
  let tcpPausedForWs = false;

  const onSent = (err?: Error) => {
    if (err) return; // the 'close'/'error' handlers tear the pair down
    if (tcpPausedForWs && ws.bufferedAmount <= low) {
      tcpPausedForWs = false;
      socket.resume();
    }
  };

  ws.on("open", () => {
    if (socket.destroyed) {
      ws.close(1000);
      return;
    }
    socket.resume();
  });
  socket.on("data", (chunk: Buffer) => {
    if (ws.readyState !== WebSocket.OPEN) return; // closing: the peer is gone, drop late bytes
    ws.send(chunk, { binary: true }, onSent);
    const buffered = ws.bufferedAmount;
    if (buffered > peaks.ws) peaks.ws = buffered;
    if (buffered >= high && !tcpPausedForWs) {
      tcpPausedForWs = true;
      socket.pause();
    }
  });
  ws.on("message", (data: Buffer) => {
    if (socket.destroyed || socket.writableEnded) return;
    const flushed = socket.write(data);
    if (socket.writableLength > peaks.tcp) peaks.tcp = socket.writableLength;
    if (!flushed) ws.pause();
  });
  socket.on("drain", () => {
    if (ws.isPaused) ws.resume();
  });

  // TCP side finished: send what is queued, then a normal close frame.
  socket.on("end", () => closeWs(1000, "client closed"));
  socket.on("error", (err) => {
    // A client that closes right after its last message (libpq's Terminate, say) without reading
    // what the server still sends leaves us writing into a closed socket: EPIPE or ECONNRESET.
    // That is an ordinary end of the connection, not a failure worth a log line.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EPIPE" || code === "ECONNRESET") {
      closeWs(1000, "client closed");
      return;
    }
    log(`tunnel: client socket error: ${err.message}`);
    closeWs(1011, "client connection failed");
  });
  socket.on("close", () => closeWs(1000, "client closed"));

  // WebSocket side finished: flush what the client has not read yet, then FIN. Reading resumes so
  // the client's FIN is seen (late bytes are dropped); a client that never closes its side is
  // dropped after tunnelHalfOpenMs.
  ws.on("close", () => {
    if (socket.destroyed) return;
    socket.end();
    socket.resume();
    setTimeout(() => socket.destroy(), limits.halfOpenMs).unref();
  });
  ws.on("error", (err) => {
    if (!abortedByUs) log(`tunnel: WebSocket ${url}: ${err.message}`);
    socket.destroy();
  });
  ws.on("unexpected-response", (_req, res) => {
    log(`tunnel: ${url} refused the WebSocket upgrade: HTTP ${res.statusCode}`);
    res.resume();
    socket.destroy();
    abort();
  });

  let abortedByUs = false;
  function abort(): void {
    abortedByUs = true;
    ws.terminate();
  }
  function closeWs(code: number, reason: string): void {
    if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
    else if (ws.readyState === WebSocket.CONNECTING) abort();
  }

  return {
    destroy() {
      socket.destroy();
      abort();
    },
  };
}
