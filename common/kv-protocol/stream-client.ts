// The client side of the KV stream (stream.ts): one persistent connection to a storage node that
// carries many KvRequests at once, each answered by its request id. It runs on Web Streams only
// (ReadableStream / WritableStream), so the same code serves the edge Worker (a `cloudflare:sockets`
// socket) and Node tests and benchmarks (a net.Socket turned into Web Streams).
//
// Correctness rules, because a multiplexed connection can go wrong in ways a request per
// connection cannot:
// - An answer is handed only to the request whose id it carries; ids are unique among the
//   requests in flight on the connection. An answer naming an id that is not in flight means the
//   two ends disagree about the stream: the connection is broken at once (every request in flight
//   fails), never guessed at.
// - Any failure of the connection (the node closed it, a read or write error, a framing error, a
//   frame over frameBytesMax) fails every request in flight with KvStreamBroken, whose message
//   says why and that the outcome of each is unknown. The holder decides whether a request may be
//   repeated (storage-retry.ts in the edge) and opens a new connection; this one stays broken.
// - Bounded: at most inFlightMax requests in flight (request() refuses past it, the holder sends
//   that one another way), frames of at most frameBytesMax, an upgrade answer of at most
//   upgradeBytesMax.
import { encodeStreamFrame, KV_STREAM_PATH, KV_STREAM_PROTOCOL, StreamFrameError, StreamFrameReader } from "./stream.ts";

/** A connected byte stream (a `cloudflare:sockets` Socket has this shape). */
export interface StreamSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Settles once the connection is made (a `cloudflare:sockets` Socket's `opened`); absent: already connected. */
  readonly opened?: Promise<unknown>;
  close(): unknown;
}

export interface KvStreamClientLimits {
  /** Largest answer frame accepted (payload bytes after the header). */
  readonly frameBytesMax: number;
  /** Requests in flight at once; request() throws KvStreamFull past it. */
  readonly inFlightMax: number;
  /** Bytes of the node's answer to the upgrade (status line + headers + an error body). */
  readonly upgradeBytesMax: number;
  /** Milliseconds from connecting to the node's answer to the upgrade. */
  readonly openMsMax: number;
  /**
   * Milliseconds a request waits for its answer. Past it the node is taken for wedged (it keeps
   * the connection open and answers nothing): the stream is broken, so every request in flight
   * fails with KvStreamBroken and its holder decides (storage-retry.ts) instead of waiting forever.
   */
  readonly requestMsMax: number;
}

/** The connection failed; every request that was in flight on it has an unknown outcome. */
export class KvStreamBroken extends Error {}

/** inFlightMax requests are in flight: this one was not sent. */
export class KvStreamFull extends Error {}

/** The node refused the upgrade: its HTTP status and body (a KvResponse error frame when it is the node). */
export interface KvStreamRefusal {
  readonly status: number;
  readonly body: Uint8Array;
}

export type KvStreamOpenResult = { readonly stream: KvStreamConnection } | { readonly refused: KvStreamRefusal };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function indexOfHeaderEnd(bytes: Uint8Array): number {
  for (let i = 3; i < bytes.byteLength; i++) {
    if (bytes[i] === 10 && bytes[i - 1] === 13 && bytes[i - 2] === 10 && bytes[i - 3] === 13) return i + 1;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

/**
 * Sends the upgrade request on `socket` and reads the node's answer: a stream on 101, the refusal
 * otherwise. Throws (and closes the socket) when the connection fails, when the answer is not HTTP,
 * exceeds upgradeBytesMax, or has not come within openMsMax (a node that accepts and never answers).
 */
export async function openKvStream(socket: StreamSocket, host: string, token: string, limits: KvStreamClientLimits): Promise<KvStreamOpenResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to the KV stream upgrade from ${host} within ${limits.openMsMax} ms (openMsMax)`)), limits.openMsMax);
  });
  try {
    return await Promise.race([upgrade(socket, host, token, limits), timeout]);
  } catch (err) {
    try {
      socket.close();
    } catch {
      // already closed
    }
    throw err;
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

async function upgrade(socket: StreamSocket, host: string, token: string, limits: KvStreamClientLimits): Promise<KvStreamOpenResult> {
  await socket.opened;
  const writer = socket.writable.getWriter();
  const reader = socket.readable.getReader();
  {
    await writer.write(
      encoder.encode(
        `GET ${KV_STREAM_PATH} HTTP/1.1\r\nhost: ${host}\r\nconnection: Upgrade\r\nupgrade: ${KV_STREAM_PROTOCOL}\r\nauthorization: Bearer ${token}\r\n\r\n`,
      ),
    );
    let head: Uint8Array = new Uint8Array(0);
    let end = -1;
    while (end < 0) {
      const { value, done } = await reader.read();
      if (done) throw new Error("storage node closed the connection before answering the KV stream upgrade");
      head = concat(head, value);
      if (head.byteLength > limits.upgradeBytesMax) throw new Error(`storage node's answer to the KV stream upgrade exceeds ${limits.upgradeBytesMax} bytes`);
      end = indexOfHeaderEnd(head);
    }
    const headers = decoder.decode(head.subarray(0, end));
    const status = /^HTTP\/1\.[01] (\d{3}) /.exec(headers);
    if (status === null) throw new Error(`storage node answered the KV stream upgrade with something other than HTTP: ${JSON.stringify(headers.slice(0, 80))}`);
    const code = Number(status[1]);
    let rest = head.subarray(end);
    if (code === 101) {
      return { stream: new KvStreamConnection(socket, reader, writer, rest, limits) };
    }
    const length = /\r\ncontent-length: *(\d+)/i.exec(headers);
    const want = length === null ? 0 : Number(length[1]);
    if (end + want > limits.upgradeBytesMax) throw new Error(`storage node's answer to the KV stream upgrade exceeds ${limits.upgradeBytesMax} bytes`);
    while (rest.byteLength < want) {
      const { value, done } = await reader.read();
      if (done) break;
      rest = concat(rest, value);
    }
    socket.close();
    return { refused: { status: code, body: rest.slice(0, want) } };
  }
}

interface Waiting {
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
  /** When it was sent (Date.now()): the watchdog's clock. */
  sentAtMs: number;
}

export class KvStreamConnection {
  private readonly socket: StreamSocket;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly limits: KvStreamClientLimits;
  private readonly frames: StreamFrameReader;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private failure: KvStreamBroken | null = null;
  /** Frames queued in this turn, written together (one write for requests sent at once). */
  private outbox: Uint8Array[] = [];
  /** Close once the last request in flight is answered (retired: a new connection replaces it). */
  private closeWhenIdle = false;
  /** Armed while requests are in flight: fails the stream when the oldest waited requestMsMax. */
  private watchdog: ReturnType<typeof setTimeout> | null = null;

  constructor(
    socket: StreamSocket,
    reader: ReadableStreamDefaultReader<Uint8Array>,
    writer: WritableStreamDefaultWriter<Uint8Array>,
    rest: Uint8Array,
    limits: KvStreamClientLimits,
  ) {
    this.socket = socket;
    this.writer = writer;
    this.limits = limits;
    this.frames = new StreamFrameReader(limits.frameBytesMax);
    if (rest.byteLength > 0) this.frames.push(rest);
    void this.readLoop(reader);
  }

  get inFlight(): number {
    return this.waiting.size;
  }

  /** Why the connection is unusable, or null while it works. */
  get broken(): KvStreamBroken | null {
    return this.failure;
  }

  /**
   * Sends one encoded KvRequest and resolves with the node's answer for it (the encoded KvResponse
   * and its usage trailer). Rejects with KvStreamBroken when the connection fails before the answer
   * (outcome unknown), or throws KvStreamFull at once when inFlightMax requests are in flight.
   */
  request(payload: Uint8Array): Promise<Uint8Array> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.closeWhenIdle) return Promise.reject(new KvStreamBroken("KV stream is closing; nothing was sent"));
    if (this.waiting.size >= this.limits.inFlightMax) {
      return Promise.reject(new KvStreamFull(`${this.limits.inFlightMax} requests in flight on one KV stream (inFlightMax); nothing was sent`));
    }
    const id = this.takeId();
    return new Promise<Uint8Array>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, sentAtMs: Date.now() });
      if (this.outbox.length === 0) queueMicrotask(() => this.flush());
      this.outbox.push(encodeStreamFrame(id, payload));
      this.armWatchdog();
    });
  }

  /**
   * One timer for every request in flight, due when the oldest has waited requestMsMax (the Map
   * keeps insertion order, so the oldest is first). On time the stream breaks: a request on a
   * stream whose node stopped answering never waits forever.
   */
  private armWatchdog(): void {
    if (this.watchdog !== null || this.failure !== null) return;
    const oldest = this.waiting.values().next();
    if (oldest.done === true) return;
    const dueInMs = Math.max(0, oldest.value.sentAtMs + this.limits.requestMsMax - Date.now());
    this.watchdog = setTimeout(() => {
      this.watchdog = null;
      const first = this.waiting.entries().next();
      if (first.done === true) return;
      const [id, w] = first.value;
      if (Date.now() - w.sentAtMs >= this.limits.requestMsMax) {
        return this.fail(`no answer to request id ${id} within ${this.limits.requestMsMax} ms (requestMsMax)`);
      }
      this.armWatchdog();
    }, dueInMs);
  }

  /** Closes once every request in flight is answered; no new request is accepted. */
  retire(): void {
    this.closeWhenIdle = true;
    if (this.waiting.size === 0) this.close();
  }

  /** Closes now; requests in flight fail with KvStreamBroken. */
  close(): void {
    this.fail("the KV stream was closed by its holder");
  }

  /** A fresh id: not 0, not one in flight (u32, wrapping). */
  private takeId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = this.nextId >= 0xffff_ffff ? 1 : this.nextId + 1;
      if (!this.waiting.has(id)) return id;
    }
  }

  private flush(): void {
    const frames = this.outbox;
    this.outbox = [];
    if (this.failure !== null || frames.length === 0) return;
    let bytes: Uint8Array;
    if (frames.length === 1) bytes = frames[0]!;
    else {
      let total = 0;
      for (const f of frames) total += f.byteLength;
      bytes = new Uint8Array(total);
      let at = 0;
      for (const f of frames) {
        bytes.set(f, at);
        at += f.byteLength;
      }
    }
    this.writer.write(bytes).catch((err: unknown) => this.fail(`writing to the storage node failed: ${err instanceof Error ? err.message : String(err)}`));
  }

  private async readLoop(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return this.fail("the storage node closed the KV stream");
        if (this.failure !== null) return;
        this.frames.push(value);
        for (;;) {
          const frame = this.frames.next();
          if (frame === null) break;
          const w = this.waiting.get(frame.requestId);
          if (w === undefined) return this.fail(`the storage node answered request id ${frame.requestId}, which is not in flight on this stream`);
          this.waiting.delete(frame.requestId);
          // A copy, not a view of the chunk: the edge hands the answer to the gateway over RPC,
          // whose structured clone serializes a view's WHOLE underlying buffer — every answer of a
          // chunk would carry all of that chunk. (A copy per answer costs the client ~1 µs.)
          w.resolve(frame.payload.slice());
        }
        if (this.waiting.size === 0 && this.watchdog !== null) {
          clearTimeout(this.watchdog);
          this.watchdog = null;
        }
        if (this.closeWhenIdle && this.waiting.size === 0) return this.close();
      }
    } catch (err) {
      if (err instanceof StreamFrameError) return this.fail(`the storage node sent a ${err.message} (frameBytesMax)`);
      return this.fail(`reading from the storage node failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private fail(why: string): void {
    if (this.failure !== null) return;
    const n = this.waiting.size;
    this.failure = new KvStreamBroken(`KV stream to storage broke (${why}) with ${n} request${n === 1 ? "" : "s"} in flight`);
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
    if (this.watchdog !== null) clearTimeout(this.watchdog);
    this.watchdog = null;
    this.outbox = [];
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}
