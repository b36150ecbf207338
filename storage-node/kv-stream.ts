// The node's side of the KV stream (common/kv-protocol/stream.ts): persistent, pipelined
// connections opened by an HTTP upgrade on the node's port. The token is checked once, at the
// upgrade, by the same verifier as POST /v1/kv; every request on the stream then goes through
// KvService.handleAs — expiry, dropped tenant, decode, tenant span check, limits, rate limit, fair
// admission — exactly as an HTTP request does. What the stream saves is Node's HTTP exchange per
// request (parser, IncomingMessage/ServerResponse, headers) and a token lookup; answers written in
// one event-loop turn leave in one writev.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { encodeResponse, encodeUsageTrailer } from "../common/kv-protocol/codec.ts";
import type { KvError } from "../common/kv-protocol/messages.ts";
import {
  encodeStreamFrame,
  KV_STREAM_PATH,
  KV_STREAM_PROTOCOL,
  STREAM_FRAME_HEADER_BYTES,
  StreamFrameError,
  StreamFrameReader,
} from "../common/kv-protocol/stream.ts";
import { emptyKvUsage } from "../common/request-units.ts";
import type { TenantClaims } from "../common/tenant-token.ts";
import type { StorageLimits } from "./limits.ts";
import { HTTP_STATUS, type KvOutcome, type KvService } from "./service.ts";

/** Answers at most this long are copied into one buffer with their header; longer ones are written in pieces (no copy). */
const COPY_BYTES_MAX = 16 * 1024;

export interface KvStreamDeps {
  service: KvService;
  limits: StorageLimits;
  /** True once the node is shutting down: new streams are refused, requests answered `overloaded`. */
  draining(): boolean;
  log(line: string): void;
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 410: "Gone", 503: "Service Unavailable" };

/** Refuses an upgrade with an HTTP answer whose body is the KvResponse error (as POST /v1/kv answers). */
function refuse(socket: Duplex, error: KvError): void {
  const status = HTTP_STATUS[error.code];
  const body = encodeResponse({ type: "error", error });
  socket.end(
    Buffer.concat([
      Buffer.from(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\nconnection: close\r\ncontent-type: application/x-warren-kv\r\ncontent-length: ${body.byteLength}\r\n\r\n`,
      ),
      body,
    ]),
  );
}

export class KvStreams {
  private readonly deps: KvStreamDeps;
  private readonly open = new Set<StreamConnection>();
  /** Requests of every stream in flight (the server's drain waits for them). */
  requestsActive = 0;
  /** Requests received on streams since start (GET /metrics). */
  requestsTotal = 0;
  /** Streams opened since start (GET /metrics). */
  opened = 0;

  constructor(deps: KvStreamDeps) {
    this.deps = deps;
  }

  get connections(): number {
    return this.open.size;
  }

  /** The http server's 'upgrade' event. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", () => socket.destroy());
    const path = (req.url ?? "/").split("?")[0];
    if (path !== KV_STREAM_PATH || (req.headers.upgrade ?? "").toLowerCase() !== KV_STREAM_PROTOCOL) {
      return refuse(socket, { code: "malformed_request", message: `a KV stream is GET ${KV_STREAM_PATH} with Upgrade: ${KV_STREAM_PROTOCOL}` });
    }
    if (this.deps.draining()) {
      return refuse(socket, { code: "overloaded", message: "storage node is shutting down; retry on another node", retryAfterMs: 1000 });
    }
    const claims = await this.deps.service.authenticate(req.headers.authorization);
    if ("code" in claims) return refuse(socket, claims);
    if (socket.destroyed) return;
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${KV_STREAM_PROTOCOL}\r\nconnection: Upgrade\r\n\r\n`);
    const conn = new StreamConnection(this, this.deps, socket, claims);
    this.open.add(conn);
    this.opened++;
    socket.once("close", () => this.open.delete(conn));
    if (head.byteLength > 0) conn.data(head);
  }

  /** Ends every stream (after the drain). */
  closeAll(): void {
    for (const c of this.open) c.socket.destroy();
    this.open.clear();
  }
}

class StreamConnection {
  readonly socket: Duplex;
  private readonly streams: KvStreams;
  private readonly deps: KvStreamDeps;
  private readonly claims: TenantClaims;
  private readonly reader: StreamFrameReader;
  private inFlight = 0;
  private paused = false;
  /** Answers of this event-loop turn (see send). */
  private outbox: Uint8Array[] = [];
  private ended = false;

  constructor(streams: KvStreams, deps: KvStreamDeps, socket: Duplex, claims: TenantClaims) {
    this.streams = streams;
    this.deps = deps;
    this.socket = socket;
    this.claims = claims;
    this.reader = new StreamFrameReader(deps.limits.requestBytesMax);
    (socket as Duplex & { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
    socket.on("data", (chunk: Buffer) => this.data(chunk));
  }

  data(chunk: Buffer): void {
    if (this.ended) return;
    this.reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.pump();
  }

  private pump(): void {
    const max = this.deps.limits.streamInFlightMax;
    while (this.inFlight < max) {
      let frame;
      try {
        frame = this.reader.next();
      } catch (err) {
        if (!(err instanceof StreamFrameError)) throw err;
        // The frame cannot be skipped without reading it whole: answer it, then end the stream.
        this.ended = true;
        const error: KvError = {
          code: "limit_exceeded",
          message: `KV stream ${err.message} (requestBytesMax): split the batch`,
        };
        this.send(err.requestId, { status: HTTP_STATUS.limit_exceeded, body: encodeResponse({ type: "error", error }) });
        this.flush();
        this.socket.end();
        return;
      }
      if (frame === null) break;
      void this.run(frame.requestId, frame.payload);
    }
    // Past streamInFlightMax: stop reading until answers go out (the rest stays in the reader).
    const full = this.inFlight >= max;
    if (full && !this.paused) {
      this.paused = true;
      this.socket.pause();
    } else if (!full && this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  private async run(requestId: number, payload: Uint8Array): Promise<void> {
    this.inFlight++;
    this.streams.requestsActive++;
    this.streams.requestsTotal++;
    let out: KvOutcome;
    try {
      out = this.deps.draining()
        ? { status: 503, body: encodeResponse({ type: "error", error: { code: "overloaded", message: "storage node is shutting down; retry on another node", retryAfterMs: 1000 } }) }
        : await this.deps.service.handleAs(this.claims, payload);
    } catch (err) {
      this.deps.log(`internal error on a KV stream: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      out = { status: 500, body: encodeResponse({ type: "error", error: { code: "internal", message: `internal storage error: ${err instanceof Error ? err.message : String(err)}` } }) };
    }
    this.send(requestId, out);
    this.inFlight--;
    this.streams.requestsActive--;
    if (this.paused && !this.ended) this.pump();
  }

  private send(requestId: number, out: KvOutcome): void {
    const s = this.socket;
    if (s.destroyed || s.writableEnded) return;
    // Answers finished in one event-loop turn leave together: small ones copied into one buffer,
    // large ones (scan pages) written as they are, all in one writev.
    if (this.outbox.length === 0) setImmediate(() => this.flush());
    const trailer = encodeUsageTrailer(out.usage ?? emptyKvUsage());
    if (out.body.byteLength <= COPY_BYTES_MAX) {
      this.outbox.push(encodeStreamFrame(requestId, out.body, trailer));
      return;
    }
    const header = new Uint8Array(STREAM_FRAME_HEADER_BYTES);
    const dv = new DataView(header.buffer);
    dv.setUint32(0, out.body.byteLength + trailer.byteLength);
    dv.setUint32(4, requestId >>> 0);
    this.outbox.push(header, out.body, trailer);
  }

  private flush(): void {
    const frames = this.outbox;
    this.outbox = [];
    const s = this.socket;
    if (s.destroyed || s.writableEnded || frames.length === 0) return;
    if (frames.length === 1) {
      s.write(frames[0]!);
      return;
    }
    let small = true;
    for (const f of frames) if (f.byteLength > COPY_BYTES_MAX) small = false;
    if (small) {
      s.write(Buffer.concat(frames));
      return;
    }
    s.cork();
    for (const f of frames) s.write(f);
    s.uncork();
  }
}
