// A Node client for the storage node's KV stream (common/kv-protocol/stream.ts) for the node's own
// tests: it can send raw frames, pick request ids and open with any path, protocol or header, which
// the tests of refusals and malformed framing need. The client the edge uses (and the benchmarks
// measure) is common/kv-protocol/stream-client.ts; storage-node/testing/node-stream-socket.ts runs it in Node.
import { connect, type Socket } from "node:net";
import { decodeResponse, encodeRequest } from "../../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse } from "../../common/kv-protocol/messages.ts";
import { encodeStreamFrame, KV_STREAM_PATH, KV_STREAM_PROTOCOL, StreamFrameReader } from "../../common/kv-protocol/stream.ts";
import { mintTenantToken } from "../../common/tenant-token.ts";

/** The upgrade was refused: the node's HTTP status and its KvResponse error body. */
export class StreamRefused extends Error {
  readonly status: number;
  readonly body: Uint8Array;
  constructor(status: number, body: Uint8Array) {
    super(`KV stream refused with HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export class KvStreamClient {
  private readonly socket: Socket;
  private readonly reader = new StreamFrameReader(64 * 1024 * 1024);
  private readonly waiting = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private failure: Error | null = null;
  /** Frames written in this event-loop turn, sent together at its end (one write for many requests). */
  private outbox: Uint8Array[] = [];

  private constructor(socket: Socket, rest: Buffer) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (c: Buffer) => this.data(c));
    socket.on("close", () => this.fail(new Error("KV stream closed")));
    socket.on("error", (e) => this.fail(e));
    if (rest.byteLength > 0) this.data(rest);
  }

  static async forTenant(url: string, secret: string, tenantId: number, ttlMs = 10 * 60_000): Promise<KvStreamClient> {
    return KvStreamClient.open(url, await mintTenantToken(secret, { tenantId, expiresAtMs: Date.now() + ttlMs }));
  }

  /** Opens a stream with this bearer token (or raw Authorization header value when `authorization` is set). */
  static open(url: string, token: string, opts: { authorization?: string; path?: string; protocol?: string } = {}): Promise<KvStreamClient> {
    const u = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname, port: Number(u.port) });
      let head = Buffer.alloc(0);
      const onError = (e: Error) => reject(e);
      socket.once("error", onError);
      socket.on("connect", () => {
        socket.write(
          `GET ${opts.path ?? KV_STREAM_PATH} HTTP/1.1\r\nhost: ${u.host}\r\nconnection: Upgrade\r\nupgrade: ${opts.protocol ?? KV_STREAM_PROTOCOL}\r\n` +
            `authorization: ${opts.authorization ?? `Bearer ${token}`}\r\n\r\n`,
        );
      });
      const onData = (c: Buffer) => {
        head = Buffer.concat([head, c]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        const statusLine = head.subarray(0, head.indexOf("\r\n")).toString();
        const status = Number(statusLine.split(" ")[1]);
        const headers = head.subarray(0, end).toString();
        const rest = head.subarray(end + 4);
        if (status === 101) {
          socket.off("data", onData);
          socket.off("error", onError);
          resolve(new KvStreamClient(socket, rest));
          return;
        }
        const m = /content-length: *(\d+)/i.exec(headers);
        const want = m ? Number(m[1]) : 0;
        if (rest.byteLength < want) return;
        socket.off("data", onData);
        socket.destroy();
        reject(new StreamRefused(status, new Uint8Array(rest.subarray(0, want))));
      };
      socket.on("data", onData);
    });
  }

  private data(c: Buffer): void {
    this.reader.push(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
    for (;;) {
      const f = this.reader.next();
      if (f === null) return;
      const w = this.waiting.get(f.requestId);
      if (w === undefined) {
        this.fail(new Error(`KV stream answered unknown request ${f.requestId}`));
        return;
      }
      this.waiting.delete(f.requestId);
      w.resolve(f.payload);
    }
  }

  private fail(e: Error): void {
    if (this.failure === null) this.failure = e;
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  /** Sends an encoded KvRequest; resolves with the encoded KvResponse (usage trailer included). */
  raw(body: Uint8Array, requestId = this.nextId++): Promise<Uint8Array> {
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.set(requestId >>> 0, { resolve, reject });
      if (this.outbox.length === 0) setImmediate(() => this.flush());
      this.outbox.push(encodeStreamFrame(requestId, body));
    });
  }

  private flush(): void {
    const frames = this.outbox;
    this.outbox = [];
    if (this.socket.destroyed) return;
    this.socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  /** Writes bytes as they are (tests of malformed framing). */
  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves when the node has closed the connection. */
  closed(): Promise<void> {
    return new Promise((r) => (this.socket.closed ? r() : this.socket.once("close", () => r())));
  }

  async send(req: KvRequest): Promise<KvResponse> {
    return decodeResponse(await this.raw(encodeRequest(req)));
  }

  close(): void {
    this.socket.destroy();
  }
}
