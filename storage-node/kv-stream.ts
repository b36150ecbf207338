// The node's side of the KV stream (common/kv-protocol/stream.ts): persistent, pipelined
// connections opened by an HTTP upgrade on the node's port. The token is checked once, at the
// upgrade, by the same verifier as POST /v1/kv; every request on the stream then goes through
// KvService.handleAs — expiry, dropped tenant, decode, tenant span check, limits, rate limit, fair
// admission — exactly as an HTTP request does. What the stream saves is Node's HTTP exchange per
// request (parser, IncomingMessage/ServerResponse, headers) and a token lookup; answers given while
// a chunk of requests is read leave in one write at its end (StreamConnection).
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { ByteWriter } from "../common/bytes.ts";
import { encodeResponse, encodeResponseInto, encodeUsageTrailer, encodeUsageTrailerInto } from "../common/kv-protocol/codec.ts";
import type { KvError, KvResponse } from "../common/kv-protocol/messages.ts";
import { beginStreamFrame, endStreamFrame, KV_STREAM_PATH, KV_STREAM_PROTOCOL, StreamFrameError, StreamFrameReader } from "../common/kv-protocol/stream.ts";
import { emptyKvUsage } from "../common/request-units.ts";
import type { TenantClaims } from "../common/tenant-token.ts";
import type { StorageLimits } from "./limits.ts";
import { HTTP_STATUS, type KvOutcome, type KvService } from "./service.ts";

/** Encoded answers at most this long are copied into the outbox; longer ones are written in pieces (no copy). */
const COPY_BYTES_MAX = 16 * 1024;

/** The outbox's first buffer, and its least after a flush (it then starts at twice the last flush, up to OUTBOX_BYTES_MAX). */
const OUTBOX_BYTES_MIN = 512;
/** Largest fresh outbox buffer: 64 answers of a single-key read take ~3 KB; scan pages grow it as they need. */
const OUTBOX_BYTES_MAX = 64 * 1024;

const OVERLOADED_DRAINING: KvError = { code: "overloaded", message: "storage node is shutting down; retry on another node", retryAfterMs: 1000 };

function hasScan(answer: KvResponse | Uint8Array): answer is KvResponse {
  if (answer instanceof Uint8Array || (answer.type !== "read" && answer.type !== "batch")) return false;
  for (const r of answer.results) if (r.op === "scan") return true;
  return false;
}

function internalOutcome(err: unknown): KvOutcome {
  return { status: 500, answer: { type: "error", error: { code: "internal", message: `internal storage error: ${err instanceof Error ? err.message : String(err)}` } } };
}

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
      return refuse(socket, OVERLOADED_DRAINING);
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

/**
 * One KV stream. Per request it costs: a frame cut from the chunk (a view), KvService.handleAs
 * (synchronous for a read that need not wait), and the answer encoded straight into the
 * connection's outbox. Answers leave in one socket write per batch: those finished while a chunk
 * of requests is read go out at the end of that chunk; those finished later (commits, waits) at the
 * end of their event-loop turn. So 64 pipelined single-key reads arriving in one read() leave in one
 * write(), with one buffer allocated for all 64 answers.
 */
class StreamConnection {
  readonly socket: Duplex;
  private readonly streams: KvStreams;
  private readonly deps: KvStreamDeps;
  private readonly claims: TenantClaims;
  private readonly reader: StreamFrameReader;
  private inFlight = 0;
  private paused = false;
  /** True while pump() runs: an answer given synchronously inside it must not pump again. */
  private pumping = false;
  /** Answers not yet written: frames in `out`, after any large pieces in `pieces` (written first). */
  private out = new ByteWriter(OUTBOX_BYTES_MIN);
  private pieces: Uint8Array[] = [];
  private flushScheduled = false;
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
    // The answers this chunk's requests got at once leave together, now.
    this.flush();
  }

  private pump(): void {
    const max = this.deps.limits.streamInFlightMax;
    this.pumping = true;
    try {
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
          this.answer(err.requestId, { status: HTTP_STATUS.limit_exceeded, answer: { type: "error", error } });
          this.flush();
          this.socket.end();
          return;
        }
        if (frame === null) break;
        this.serve(frame.requestId, frame.payload);
      }
    } finally {
      this.pumping = false;
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

  /** Runs one request; its answer goes into the outbox now, or when its promise settles. */
  private serve(requestId: number, payload: Uint8Array): void {
    this.inFlight++;
    this.streams.requestsActive++;
    this.streams.requestsTotal++;
    let out: KvOutcome | Promise<KvOutcome>;
    try {
      out = this.deps.draining() ? { status: 503, answer: { type: "error", error: OVERLOADED_DRAINING } } : this.deps.service.handleAs(this.claims, payload);
    } catch (err) {
      out = this.failed(err);
    }
    if (out instanceof Promise) {
      out.then(
        (o) => this.done(requestId, o),
        (err: unknown) => this.done(requestId, this.failed(err)),
      );
      return;
    }
    this.done(requestId, out);
  }

  private failed(err: unknown): KvOutcome {
    this.deps.log(`internal error on a KV stream: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return internalOutcome(err);
  }

  private done(requestId: number, out: KvOutcome): void {
    this.answer(requestId, out);
    this.inFlight--;
    this.streams.requestsActive--;
    if (this.pumping) return;
    // Answered after its chunk was read: it leaves at the end of this turn, with any others.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
    if (this.paused && !this.ended) this.pump();
  }

  /** Appends the answer's frame (KvResponse, then its usage trailer) to the outbox. */
  private answer(requestId: number, out: KvOutcome): void {
    const s = this.socket;
    if (s.destroyed || s.writableEnded) return;
    const usage = out.usage ?? emptyKvUsage();
    // A scan page is encoded on its own, into a buffer of its exact size (encodeResponse sizes read
    // results first): appended to the outbox it would grow it by doubling, copying it several times.
    const a = hasScan(out.answer) ? encodeResponse(out.answer) : out.answer;
    if (a instanceof Uint8Array && a.byteLength > COPY_BYTES_MAX) {
      // Encoded and large (a scan page, or a writer-thread batch with reads): written as it is, not copied.
      const trailer = encodeUsageTrailer(usage);
      this.out.uint32(a.byteLength + trailer.byteLength);
      this.out.uint32(requestId >>> 0);
      this.pieces.push(this.out.handOff(OUTBOX_BYTES_MIN), a, trailer);
      return;
    }
    const at = beginStreamFrame(this.out, requestId);
    if (a instanceof Uint8Array) this.out.bytes(a);
    else encodeResponseInto(this.out, a);
    encodeUsageTrailerInto(this.out, usage);
    endStreamFrame(this.out, at);
  }

  /** Writes the outbox: one write (a writev when it holds large pieces). */
  private flush(): void {
    const s = this.socket;
    if (this.out.length === 0 && this.pieces.length === 0) return;
    const gathered = this.out.length;
    const last = this.out.handOff(Math.min(OUTBOX_BYTES_MAX, Math.max(OUTBOX_BYTES_MIN, 2 * gathered)));
    const pieces = this.pieces;
    this.pieces = [];
    if (s.destroyed || s.writableEnded) return;
    if (pieces.length === 0) {
      s.write(last);
      return;
    }
    s.cork();
    for (const p of pieces) s.write(p);
    if (last.byteLength > 0) s.write(last);
    s.uncork();
  }
}
