// The KV stream: many KvRequests on one persistent connection, answered out of order.
//
// Why: the storage node spent 50-150 µs of CPU per single-key HTTP/1.1 request (Node's HTTP parser,
// IncomingMessage/ServerResponse and their streams, headers, a token lookup per request) against
// ~10 µs for the request's own work (storage-node/README.md, "Performance"). A stream pays the HTTP
// exchange and the token check once per connection; each request after that is a length-prefixed
// frame, and requests pipeline (a client need not wait for an answer before sending the next), so
// one read() and one write() on the node carry many requests.
//
// Opening: an HTTP/1.1 upgrade on the node's ordinary port, so a stream goes wherever HTTP goes
// (same URL, same proxies) and the token is checked by the same code as POST /v1/kv:
//
//   GET /v1/kv/stream HTTP/1.1
//   Upgrade: warren-kv-stream/1, Connection: Upgrade, Authorization: Bearer wt1.<tenant>.<exp>.<sig>
//   ← 101 Switching Protocols (token valid)  |  401/403/503… with a KvResponse error frame as body
//
// Then both directions carry frames (integers big-endian):
//
//   u32 length (of what follows the id) · u32 requestId · bytes
//
// Client → node: bytes = an encoded KvRequest (codec.ts). Node → client: bytes = the encoded
// KvResponse for that requestId, always followed by its usage trailer. requestIds are the client's
// own (unique among its requests in flight); answers come in completion order, not request order.
// The connection's tenant is the token's; every request is still checked against that tenant's span,
// its expiry and the tenant's dropped state, exactly as over HTTP. A frame longer than the node's
// requestBytesMax, or any framing error, ends the connection (the node answers what it can first).

import type { ByteWriter } from "../bytes.ts";

export const KV_STREAM_PATH = "/v1/kv/stream";
export const KV_STREAM_PROTOCOL = "warren-kv-stream/1";
export const STREAM_FRAME_HEADER_BYTES = 8;

/** One frame: the header and the payload in one buffer (one write). */
export function encodeStreamFrame(requestId: number, payload: Uint8Array, trailer: Uint8Array | null = null): Uint8Array {
  const extra = trailer === null ? 0 : trailer.byteLength;
  const out = new Uint8Array(STREAM_FRAME_HEADER_BYTES + payload.byteLength + extra);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, payload.byteLength + extra);
  dv.setUint32(4, requestId >>> 0);
  out.set(payload, STREAM_FRAME_HEADER_BYTES);
  if (trailer !== null) out.set(trailer, STREAM_FRAME_HEADER_BYTES + payload.byteLength);
  return out;
}

/**
 * Starts a frame at the end of `out` (an outbox several frames go into, sent in one write): the
 * header, its length to be filled in by endStreamFrame once the payload is written. Returns where
 * the frame starts.
 */
export function beginStreamFrame(out: ByteWriter, requestId: number): number {
  const at = out.length;
  out.uint32(0);
  out.uint32(requestId >>> 0);
  return at;
}

/** Ends the frame begun at `at`: its length is every byte written after its header. */
export function endStreamFrame(out: ByteWriter, at: number): void {
  out.patchUint32(at, out.length - at - STREAM_FRAME_HEADER_BYTES);
}

/** A frame the reader refuses; requestId is the id its header named (to answer it before closing). */
export class StreamFrameError extends Error {
  readonly requestId: number;
  constructor(message: string, requestId: number) {
    super(message);
    this.requestId = requestId;
  }
}

/**
 * Cuts a byte stream into frames. push() the chunks as they arrive, then take frames with next()
 * until it returns null. A frame inside one chunk is a view of it (no copy); a frame split across
 * chunks is assembled once.
 */
export class StreamFrameReader {
  private readonly frameBytesMax: number;
  private chunks: Uint8Array[] = [];
  private buffered = 0;

  constructor(frameBytesMax: number) {
    this.frameBytesMax = frameBytesMax;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.byteLength;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  /** The next whole frame, or null until more bytes arrive. Throws StreamFrameError past frameBytesMax. */
  next(): { requestId: number; payload: Uint8Array } | null {
    if (this.buffered < STREAM_FRAME_HEADER_BYTES) return null;
    let head = this.chunks[0]!;
    if (head.byteLength < STREAM_FRAME_HEADER_BYTES) head = this.merge();
    const dv = new DataView(head.buffer, head.byteOffset, STREAM_FRAME_HEADER_BYTES);
    const length = dv.getUint32(0);
    const requestId = dv.getUint32(4);
    if (length > this.frameBytesMax) throw new StreamFrameError(`frame of ${length} bytes exceeds ${this.frameBytesMax}`, requestId);
    const total = STREAM_FRAME_HEADER_BYTES + length;
    if (this.buffered < total) return null;
    if (head.byteLength < total) head = this.merge();
    const payload = head.subarray(STREAM_FRAME_HEADER_BYTES, total);
    if (head.byteLength === total) this.chunks.shift();
    else this.chunks[0] = head.subarray(total);
    this.buffered -= total;
    return { requestId, payload };
  }

  /** Joins every buffered chunk into one (a frame crossed a chunk boundary). */
  private merge(): Uint8Array {
    const out = new Uint8Array(this.buffered);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    this.chunks = [out];
    return out;
  }
}
