// The TCP ⇄ WebSocket tunnel: every accepted TCP connection gets its own WebSocket, and bytes are
// carried unchanged as binary messages in both directions (the framing of `cloudflared access tcp`
// and of Neon's WebSocket mode, which is what the edge's `/v2` endpoint speaks).
//
//   psql ──TCP──► [listen] ── one WebSocket per connection ──► ws://edge/v2
//
// Before a WebSocket exists the tunnel reads the connection's startup itself (tunnel-startup.ts),
// so that sockets which never speak cannot use up what established sessions need:
//
//   accept ─► pre-startup (≤ tunnelPreStartupConnectionsMax; when full the OLDEST is dropped;
//             no StartupMessage / CancelRequest within tunnelStartupTimeoutMs → dropped)
//          ─► CancelRequest  → a WebSocket carrying just that packet (the edge forwards it, closes)
//          ─► StartupMessage → the tenant it names; past tunnelConnectionsMax sessions in all, or
//             tunnelConnectionsPerTenantMax of that tenant → FATAL 53300; else a WebSocket, which
//             gets the StartupMessage first, then everything else unchanged
//
// Backpressure both ways keeps memory bounded: while the WebSocket's send buffer is above
// tunnelWsBufferedBytesHigh the TCP socket is paused; while the TCP socket's write buffer is full
// the WebSocket's underlying socket is paused. Closing either side closes the other: a WebSocket
// close ends the TCP stream after pending bytes are flushed, and a TCP end or error closes the
// WebSocket after the bytes already queued for it are sent.
//
// Liveness: each session's WebSocket is pinged every tunnelPingIntervalMs; nothing heard for
// tunnelPongTimeoutMs ends the client's connection with FATAL 08006 (a dead peer that never closed
// would otherwise leave the client waiting forever).
import { signedClientAddressHeaders } from "./client-address-signer.ts";
import net from "node:net";
import WebSocket from "ws";
import { PgError, toPgError } from "../common/errors.ts";
import { encodeErrorResponse } from "../workers/edge/pgwire/startup.ts";
import {
  tunnelCancelLifetimeMs,
  tunnelConnectionsMax,
  tunnelConnectionsPerTenantMax,
  tunnelHalfOpenMs,
  tunnelHandshakeTimeoutMs,
  tunnelPingIntervalMs,
  tunnelPongTimeoutMs,
  tunnelPreStartupConnectionsMax,
  tunnelStartupBytesMax,
  tunnelStartupTimeoutMs,
  tunnelWsBufferedBytesHigh,
  tunnelWsBufferedBytesLow,
  tunnelWsMessageBytesMax,
} from "./limits.ts";
import { TunnelStartup, type StartupStep } from "./tunnel-startup.ts";

export interface TunnelOptions {
  readonly host: string;
  /** 0 picks a free port; read the chosen one from `Tunnel.port`. */
  readonly port: number;
  /** The WebSocket URL each connection is carried to, e.g. ws://127.0.0.1:8787/v2. */
  readonly url: string;
  /** Where connection failures are reported; silent when absent. */
  readonly log?: (line: string) => void;
  /**
   * The edge's TUNNEL_SECRET: each WebSocket upgrade then carries the client's address, signed
   * (common/client-address.ts), so the edge can throttle, deny and check networks per client.
   * Without it the edge sees only the tunnel's own address (or none, locally).
   */
  readonly clientAddressSecret?: string;
  /** Overrides for tests at the limits' edges; production uses limits.ts. */
  readonly bufferedBytesHigh?: number;
  readonly bufferedBytesLow?: number;
  readonly connectionsMax?: number;
  readonly messageBytesMax?: number;
  readonly handshakeTimeoutMs?: number;
  readonly halfOpenMs?: number;
  readonly connectionsPerTenantMax?: number;
  readonly startupTimeoutMs?: number;
  readonly preStartupConnectionsMax?: number;
  readonly cancelLifetimeMs?: number;
  readonly pingIntervalMs?: number;
  readonly pongTimeoutMs?: number;
}

/** The bounds one tunnelled connection works within (limits.ts unless a test overrides them). */
interface BridgeLimits {
  readonly high: number;
  readonly low: number;
  readonly messageBytesMax: number;
  readonly handshakeTimeoutMs: number;
  readonly halfOpenMs: number;
  readonly pingIntervalMs: number;
  readonly pongTimeoutMs: number;
}

export interface TunnelStats {
  /** Largest WebSocket send buffer seen (TCP → WebSocket direction). */
  readonly peakWsBufferedBytes: number;
  /** Largest TCP write buffer seen (WebSocket → TCP direction). */
  readonly peakTcpBufferedBytes: number;
}

export interface TunnelCounts {
  /** Accepted, startup packet not yet received. */
  readonly preStartup: number;
  /** Sessions and cancel requests with a WebSocket. */
  readonly established: number;
  /** Established sessions by the tenant they name ("" for none). */
  readonly byTenant: Readonly<Record<string, number>>;
}

export interface Tunnel {
  readonly host: string;
  readonly port: number;
  /** Live connections (pre-startup and established). */
  connections(): number;
  counts(): TunnelCounts;
  /** High-water marks of what the tunnel itself held, over all connections (backpressure tests). */
  stats(): TunnelStats;
  /** Stops listening and drops every live connection. */
  close(): Promise<void>;
}

/** The per-tenant key of sessions that name no tenant (the edge refuses them; they still count). */
const NO_TENANT = "";

export async function startTunnel(options: TunnelOptions): Promise<Tunnel> {
  const high = options.bufferedBytesHigh ?? tunnelWsBufferedBytesHigh;
  const low = options.bufferedBytesLow ?? tunnelWsBufferedBytesLow;
  const connectionsMax = options.connectionsMax ?? tunnelConnectionsMax;
  const perTenantMax = options.connectionsPerTenantMax ?? tunnelConnectionsPerTenantMax;
  const startupTimeoutMs = options.startupTimeoutMs ?? tunnelStartupTimeoutMs;
  const preStartupMax = options.preStartupConnectionsMax ?? tunnelPreStartupConnectionsMax;
  const cancelLifetimeMs = options.cancelLifetimeMs ?? tunnelCancelLifetimeMs;
  const limits: BridgeLimits = {
    high,
    low,
    messageBytesMax: options.messageBytesMax ?? tunnelWsMessageBytesMax,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? tunnelHandshakeTimeoutMs,
    halfOpenMs: options.halfOpenMs ?? tunnelHalfOpenMs,
    pingIntervalMs: options.pingIntervalMs ?? tunnelPingIntervalMs,
    pongTimeoutMs: options.pongTimeoutMs ?? tunnelPongTimeoutMs,
  };
  if (!(low < high)) throw new Error(`internal: tunnel low-water mark ${low} must be below high ${high}`);
  const log = options.log ?? (() => {});
  const urlHost = new URL(options.url).hostname;
  /** Pre-startup connections, oldest first (a Map keeps insertion order). */
  const pending = new Map<net.Socket, () => void>();
  /** Established connections and the tenant key they count against (null: a cancel request). */
  const live = new Map<{ destroy(): void }, string | null>();
  const perTenant = new Map<string, number>();
  const peaks = { ws: 0, tcp: 0 };

  /** FATAL ErrorResponse, then FIN; the socket is dropped if the client keeps its side open. */
  const refuse = (socket: net.Socket, err: PgError) => {
    socket.resume(); // read (and drop) until the client's FIN
    socket.end(encodeErrorResponse(err, "FATAL"));
    setTimeout(() => socket.destroy(), limits.halfOpenMs).unref();
  };

  const establish = (socket: net.Socket, tenant: string | null, first: Buffer[]) => {
    const forwarded = options.clientAddressSecret && socket.remoteAddress ? signedClientAddressHeaders(socket.remoteAddress, options.clientAddressSecret) : {};
    const conn = bridge(socket, options.url, limits, log, peaks, first, forwarded, tenant !== null);
    live.set(conn, tenant);
    if (tenant !== null) perTenant.set(tenant, (perTenant.get(tenant) ?? 0) + 1);
    socket.once("close", () => {
      live.delete(conn);
      if (tenant === null) return;
      const n = (perTenant.get(tenant) ?? 1) - 1;
      if (n === 0) perTenant.delete(tenant);
      else perTenant.set(tenant, n);
    });
    return conn;
  };

  const started = (socket: net.Socket, step: Exclude<StartupStep, { kind: "more" }>) => {
    if (step.kind === "cancel") {
      // No reply is expected, so a full tunnel just drops it.
      if (live.size >= connectionsMax) return void socket.destroy();
      const conn = establish(socket, null, [step.first]);
      setTimeout(() => conn.destroy(), cancelLifetimeMs).unref();
      return;
    }
    const tenant = step.tenant ?? NO_TENANT;
    if (live.size >= connectionsMax) {
      log(`tunnel: refusing a session: ${connectionsMax} connections open`);
      return refuse(socket, new PgError("too_many_connections", `sorry, too many clients already: this tunnel carries at most ${connectionsMax} connections`));
    }
    if ((perTenant.get(tenant) ?? 0) >= perTenantMax) {
      const who = step.tenant === null ? "connections that name no virtual cluster" : `virtual cluster "${tenant}"`;
      log(`tunnel: refusing a session of ${who}: ${perTenantMax} open`);
      return refuse(
        socket,
        new PgError("too_many_connections", `too many connections for ${who} through this tunnel: the limit is ${perTenantMax}`, {
          hint: "Close idle connections, or use a smaller connection pool.",
        }),
      );
    }
    establish(socket, tenant, step.rest.length > 0 ? [step.first, step.rest] : [step.first]);
  };

  /** A new TCP connection: read its startup here, within startupTimeoutMs. */
  const accept = (socket: net.Socket) => {
    const startup = new TunnelStartup(tunnelStartupBytesMax, urlHost);
    const leave = () => {
      clearTimeout(timer);
      pending.delete(socket);
      socket.off("data", onData);
      socket.off("end", drop);
    };
    const drop = () => {
      leave();
      socket.destroy();
    };
    const timer = setTimeout(() => {
      log(`tunnel: dropping a connection from ${socket.remoteAddress}: no startup packet within ${startupTimeoutMs} ms`);
      drop();
    }, startupTimeoutMs);
    const onData = (chunk: Buffer) => {
      let step: StartupStep;
      try {
        step = startup.push(chunk);
      } catch (err) {
        leave();
        socket.pause();
        return refuse(socket, toPgError(err));
      }
      for (const r of step.replies) socket.write(r);
      if (step.kind === "more") return;
      leave();
      socket.pause(); // what follows waits in the kernel until the WebSocket is open
      started(socket, step);
    };
    socket.on("data", onData);
    socket.on("end", drop); // a client that gives up before its startup
    socket.on("error", (err) => {
      if (pending.has(socket)) log(`tunnel: client socket error before startup: ${err.message}`);
    });
    socket.once("close", leave);
    pending.set(socket, drop);
  };

  // allowHalfOpen: a client that half-closes still receives what the server sends until the
  // WebSocket closes; we end our side ourselves once the WebSocket is done.
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    if (pending.size >= preStartupMax) {
      // Make room by dropping the oldest connection that has not started (see limits.ts).
      const [oldest, dropOldest] = pending.entries().next().value!;
      log(`tunnel: dropping the oldest of ${preStartupMax} connections without a startup packet (from ${oldest.remoteAddress})`);
      dropOldest();
    }
    accept(socket);
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
    connections: () => live.size + pending.size,
    counts: () => ({ preStartup: pending.size, established: live.size, byTenant: Object.fromEntries(perTenant) }),
    stats: () => ({ peakWsBufferedBytes: peaks.ws, peakTcpBufferedBytes: peaks.tcp }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of live.keys()) c.destroy();
        for (const drop of [...pending.values()]) drop();
      }),
  };
}

function bridge(
  socket: net.Socket,
  url: string,
  limits: BridgeLimits,
  log: (line: string) => void,
  peaks: { ws: number; tcp: number },
  first: Buffer[],
  headers: Record<string, string> = {},
  /** A session (not a cancel request): its client waits for an answer to its startup packet. */
  answersStartup = true,
): { destroy(): void } {
  // Hold the client's first bytes (psql's SSLRequest, say) in the kernel until the WebSocket opens.
  socket.pause();
  const { high, low } = limits;
  const ws = new WebSocket(url, {
    perMessageDeflate: false,
    maxPayload: limits.messageBytesMax,
    handshakeTimeout: limits.handshakeTimeoutMs,
    headers,
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

  let opened = false;
  ws.on("open", () => {
    opened = true;
    if (socket.destroyed) {
      ws.close(1000);
      return;
    }
    // The startup packet (and what came with it) the tunnel already read, each as its own message.
    for (const bytes of first) ws.send(bytes, { binary: true });
    watchLiveness();
    if (endedBeforeOpen) closeWs(1000, "client closed");
    else socket.resume();
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

  // TCP side finished: send what is queued, then a normal close frame. The tunnel may already have
  // read everything the client sent (its startup), so the end can come before the WebSocket is open:
  // then what was read is still delivered first.
  let endedBeforeOpen = false;
  socket.on("end", () => {
    if (ws.readyState === WebSocket.CONNECTING) endedBeforeOpen = true;
    else closeWs(1000, "client closed");
  });
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
    if (!failBeforeOpen(`the tunnel could not open its WebSocket to ${url}: ${err.message}`)) socket.destroy();
  });
  ws.on("unexpected-response", (_req, res) => {
    log(`tunnel: ${url} refused the WebSocket upgrade: HTTP ${res.statusCode}`);
    res.resume();
    if (!failBeforeOpen(`the edge at ${url} refused the tunnel's WebSocket upgrade with HTTP ${res.statusCode}`)) socket.destroy();
    abort();
  });
  // Before the WebSocket opens, nothing of the server has reached the client yet: a session's
  // client is waiting for the answer to its startup packet, so it gets a FATAL ErrorResponse saying
  // why (psql then prints it) instead of "server closed the connection unexpectedly". Once open, the
  // stream belongs to the edge and an error is never spliced into it.
  let failedBeforeOpen = false;
  function failBeforeOpen(message: string): boolean {
    if (!answersStartup || ws.readyState === WebSocket.OPEN || opened || failedBeforeOpen || socket.destroyed || socket.writableEnded) return false;
    failedBeforeOpen = true;
    const err = new PgError("sqlclient_unable_to_establish_sqlconnection", message, {
      hint: "Check that the Warren edge is running and reachable from this tunnel (warren tunnel --url), then connect again.",
    });
    socket.resume();
    socket.end(encodeErrorResponse(err, "FATAL"));
    setTimeout(() => socket.destroy(), limits.halfOpenMs).unref();
    return true;
  }

  // Liveness: a ping every pingIntervalMs; no pong (or any message) for pongTimeoutMs means the
  // WebSocket is gone without a close. The client then gets FATAL 08006 rather than silence. The
  // edge's messages are whole Postgres messages, so the ErrorResponse never splits one.
  let lastHeardMs = Date.now();
  let pinger: ReturnType<typeof setInterval> | null = null;
  const heard = () => (lastHeardMs = Date.now());
  ws.on("pong", heard);
  ws.on("message", heard);
  function watchLiveness(): void {
    lastHeardMs = Date.now();
    pinger = setInterval(() => {
      if (ws.readyState !== WebSocket.OPEN) return stopLiveness();
      if (Date.now() - lastHeardMs >= limits.pongTimeoutMs) {
        stopLiveness();
        log(`tunnel: ${url} did not answer a ping within ${limits.pongTimeoutMs} ms; closing the client's connection`);
        if (!socket.destroyed && !socket.writableEnded) {
          const err = new PgError("connection_failure", `the connection to the server was lost: no answer to the tunnel's ping within ${limits.pongTimeoutMs} ms (tunnelPongTimeoutMs)`, {
            hint: "Reconnect; work not committed before this error was lost.",
          });
          socket.end(encodeErrorResponse(err, "FATAL"));
          setTimeout(() => socket.destroy(), limits.halfOpenMs).unref();
        }
        abort();
        return;
      }
      ws.ping();
    }, limits.pingIntervalMs);
    pinger.unref();
  }
  function stopLiveness(): void {
    if (pinger !== null) clearInterval(pinger);
    pinger = null;
  }
  ws.on("close", stopLiveness);

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
