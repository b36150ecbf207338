// How a KV stream batches its answers (kv-stream.ts, StreamConnection): the answers a chunk of
// pipelined requests gets at once leave in ONE socket write, in the order the requests came; an
// error answer in the middle of the batch (malformed frame, a key of another tenant) leaves every
// other answer as it would be alone; a request that waits (a write, through the writer thread)
// is answered later, in its own write, with its own id; a frame over requestBytesMax is answered
// with a limit_exceeded error naming the limit after the answers before it, and the stream ends.
// Real KvService over LMDB (storage-node/testing/in-process-service.ts); the socket is a fake that
// records each write, which a TCP connection cannot show.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeResponse, encodeRequest } from "../common/kv-protocol/codec.ts";
import type { KvRequest, KvResponse } from "../common/kv-protocol/messages.ts";
import { encodeStreamFrame, STREAM_FRAME_HEADER_BYTES, StreamFrameReader } from "../common/kv-protocol/stream.ts";
import { bytes, text, tkey } from "./testing/kv-client.ts";
import { startInProcessService, type FakeSocket, type InProcessService } from "./testing/in-process-service.ts";

const A = 50;
const B = 51;
const REQUEST_BYTES_MAX = 4096;

let node: InProcessService;

beforeAll(async () => {
  node = await startInProcessService({ requestBytesMax: REQUEST_BYTES_MAX });
  for (const [tenant, n] of [
    [A, 64],
    [B, 1],
  ] as const) {
    const writes = Array.from({ length: n }, (_, i) => ({ op: "put" as const, key: tkey(tenant, `k${i}`), value: bytes(`${tenant}:v${i}`) }));
    const out = await node.service.handleAs(await node.claimsFor(tenant), encodeRequest({ type: "batch", reads: [], writes }));
    expect(out.status).toBe(200);
  }
});

afterAll(async () => {
  await node?.close();
});

/** The frames of one socket write: [requestId, decoded response]. */
function framesOf(write: Uint8Array): Array<[number, KvResponse]> {
  const reader = new StreamFrameReader(1 << 30);
  reader.push(write);
  const out: Array<[number, KvResponse]> = [];
  for (let f = reader.next(); f !== null; f = reader.next()) out.push([f.requestId, decodeResponse(f.payload)]);
  expect(reader.bufferedBytes).toBe(0);
  return out;
}

const get = (key: Uint8Array): KvRequest => ({ type: "read", readTs: null, ops: [{ op: "get", key }] });

function valueOf(r: KvResponse): string | null {
  if (r.type !== "read" || r.results[0]!.op !== "get") throw new Error(`not a get answer: ${JSON.stringify(r.type)}`);
  return text(r.results[0]!.value);
}

/** Sends the frames as one chunk; returns the writes made before the next turn of the event loop. */
async function sendChunk(socket: FakeSocket, frames: Uint8Array[]): Promise<Uint8Array[]> {
  const before = socket.writes.length;
  socket.emit("data", Buffer.concat(frames));
  const now = socket.writes.slice(before);
  await new Promise((r) => setImmediate(r));
  return now;
}

describe("KV stream answer batching", () => {
  it("answers 64 pipelined single-key reads of one chunk in one write, in request order", async () => {
    const socket = await node.openStream(A);
    const ids = Array.from({ length: 64 }, (_, i) => 1000 + 7 * i);
    const writes = await sendChunk(
      socket,
      ids.map((id, i) => encodeStreamFrame(id, encodeRequest(get(tkey(A, `k${63 - i}`))))),
    );
    expect(writes).toHaveLength(1);
    const frames = framesOf(writes[0]!);
    expect(frames.map(([id]) => id)).toEqual(ids);
    frames.forEach(([, r], i) => {
      expect(valueOf(r)).toBe(`${A}:v${63 - i}`);
      expect(r.usage).toEqual({ readBatches: 1, readRequests: 1, readBytes: expect.any(Number), writeBatches: 0, writeRequests: 0, writeBytes: 0 });
    });
  });

  it("keeps every other answer of the batch intact around error answers in its middle", async () => {
    const socket = await node.openStream(A);
    const writes = await sendChunk(socket, [
      encodeStreamFrame(1, encodeRequest(get(tkey(A, "k1")))),
      encodeStreamFrame(2, new Uint8Array([0x57, 0x01, 0x63, 0xff])), // not a KvRequest
      encodeStreamFrame(3, encodeRequest(get(tkey(B, "k0")))), // another tenant's key
      encodeStreamFrame(4, encodeRequest(get(tkey(A, "k2")))),
      encodeStreamFrame(5, encodeRequest(get(tkey(A, "absent")))),
    ]);
    expect(writes).toHaveLength(1);
    const frames = framesOf(writes[0]!);
    expect(frames.map(([id]) => id)).toEqual([1, 2, 3, 4, 5]);
    expect(valueOf(frames[0]![1])).toBe(`${A}:v1`);
    const malformed = frames[1]![1];
    expect(malformed.type === "error" && malformed.error.code).toBe("malformed_request");
    const outside = frames[2]![1];
    expect(outside.type === "error" && outside.error.code).toBe("outside_tenant_span");
    expect(outside.usage).toEqual({ readBatches: 0, readRequests: 0, readBytes: 0, writeBatches: 0, writeRequests: 0, writeBytes: 0 });
    expect(valueOf(frames[3]![1])).toBe(`${A}:v2`);
    expect(valueOf(frames[4]![1])).toBeNull();
    // The stream still serves.
    const after = await sendChunk(socket, [encodeStreamFrame(6, encodeRequest(get(tkey(A, "k3"))))]);
    expect(framesOf(after[0]!).map(([id, r]) => [id, valueOf(r)])).toEqual([[6, `${A}:v3`]]);
  });

  it("puts a scan page between single-key answers in the same write, in order", async () => {
    const socket = await node.openStream(A);
    const scan: KvRequest = { type: "read", readTs: null, ops: [{ op: "scan", start: tkey(A, "k"), end: tkey(A, "l"), reverse: false, maxRows: 64, maxBytes: 0 }] };
    const writes = await sendChunk(socket, [
      encodeStreamFrame(30, encodeRequest(get(tkey(A, "k30")))),
      encodeStreamFrame(31, encodeRequest(scan)),
      encodeStreamFrame(32, encodeRequest(get(tkey(A, "k32")))),
    ]);
    expect(writes).toHaveLength(1);
    const frames = framesOf(writes[0]!);
    expect(frames.map(([id]) => id)).toEqual([30, 31, 32]);
    expect(valueOf(frames[0]![1])).toBe(`${A}:v30`);
    const page = frames[1]![1];
    if (page.type !== "read" || page.results[0]!.op !== "scan") throw new Error("expected a scan answer");
    const rows = page.results[0]!.rows.map((r) => text(r.value));
    expect(rows).toHaveLength(64);
    expect(new Set(rows)).toEqual(new Set(Array.from({ length: 64 }, (_, i) => `${A}:v${i}`)));
    expect(valueOf(frames[2]![1])).toBe(`${A}:v32`);
  });

  it("answers a request that waits for the writer later, in its own write, and the reads at once", async () => {
    const socket = await node.openStream(A);
    const writes = await sendChunk(socket, [
      encodeStreamFrame(10, encodeRequest(get(tkey(A, "k10")))),
      encodeStreamFrame(11, encodeRequest({ type: "batch", reads: [], writes: [{ op: "put", key: tkey(A, "fresh"), value: bytes("new") }] })),
      encodeStreamFrame(12, encodeRequest(get(tkey(A, "k12")))),
    ]);
    expect(writes).toHaveLength(1);
    expect(framesOf(writes[0]!).map(([id, r]) => [id, valueOf(r)])).toEqual([
      [10, `${A}:v10`],
      [12, `${A}:v12`],
    ]);
    // The write's answer: durable first (the writer's fsync), then sent.
    const deadline = Date.now() + 10_000;
    while (socket.writes.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const later = framesOf(socket.writes[2]!);
    expect(later.map(([id, r]) => [id, r.type])).toEqual([[11, "batch"]]);
    const check = await sendChunk(socket, [encodeStreamFrame(13, encodeRequest(get(tkey(A, "fresh"))))]);
    expect(valueOf(framesOf(check[0]!)[0]![1])).toBe("new");
  });

  it("refuses a frame over requestBytesMax with an error naming the limit, after answering the frames before it, then ends the stream", async () => {
    const socket = await node.openStream(A);
    const header = new Uint8Array(STREAM_FRAME_HEADER_BYTES);
    new DataView(header.buffer).setUint32(0, REQUEST_BYTES_MAX + 1);
    new DataView(header.buffer).setUint32(4, 21);
    const writes = await sendChunk(socket, [encodeStreamFrame(20, encodeRequest(get(tkey(A, "k20")))), header]);
    expect(writes).toHaveLength(1);
    const frames = framesOf(writes[0]!);
    expect(frames.map(([id]) => id)).toEqual([20, 21]);
    expect(valueOf(frames[0]![1])).toBe(`${A}:v20`);
    const refused = frames[1]![1];
    if (refused.type !== "error") throw new Error("expected an error answer");
    expect(refused.error.code).toBe("limit_exceeded");
    expect(refused.error.message).toContain(`frame of ${REQUEST_BYTES_MAX + 1} bytes exceeds ${REQUEST_BYTES_MAX}`);
    expect(refused.error.message).toContain("requestBytesMax");
    expect(socket.writableEnded).toBe(true);
    // Nothing more is read from an ended stream.
    const more = await sendChunk(socket, [encodeStreamFrame(22, encodeRequest(get(tkey(A, "k22"))))]);
    expect(more).toHaveLength(0);
  });
});
