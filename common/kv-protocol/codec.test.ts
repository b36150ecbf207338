import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  encodeUsageTrailer,
  FRAME_MAGIC,
  FRAME_VERSION,
  KvProtocolError,
} from "./codec.ts";
import { KvErrorCode, type KvError, type KvRequest, type KvResponse, type ReadOp, type ReadResult, type WriteOp } from "./messages.ts";

const bytes = (maxLength = 40) => fc.uint8Array({ maxLength });
const ts = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const count = fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER));

const readOp: fc.Arbitrary<ReadOp> = fc.oneof(
  fc.record({ op: fc.constant("get" as const), key: bytes() }),
  fc.record({
    op: fc.constant("scan" as const),
    start: bytes(),
    end: bytes(),
    reverse: fc.boolean(),
    maxRows: count,
    maxBytes: count,
  }),
);
const writeOp: fc.Arbitrary<WriteOp> = fc.oneof(
  fc.record({ op: fc.constant("put" as const), key: bytes(), value: bytes(200) }),
  fc.record({ op: fc.constant("delete" as const), key: bytes() }),
  fc.record({ op: fc.constant("deleteRange" as const), start: bytes(), end: bytes() }),
  fc.record({ op: fc.constant("clearRange" as const), start: bytes(), end: bytes() }),
  fc.record({ op: fc.constant("cput" as const), key: bytes(), value: fc.option(bytes(), { nil: null }), expected: fc.option(bytes(), { nil: null }) }),
);
const span = fc.record({ start: bytes(), end: bytes() });
const request: fc.Arbitrary<KvRequest> = fc.oneof(
  fc.constant({ type: "begin" as const }),
  fc.record({ type: fc.constant("read" as const), readTs: fc.option(ts, { nil: null }), ops: fc.array(readOp, { maxLength: 8 }) }),
  fc.record({
    type: fc.constant("commit" as const),
    txnId: bytes(16),
    readTs: ts,
    readSpans: fc.array(span, { maxLength: 6 }),
    writes: fc.array(writeOp, { maxLength: 8 }),
  }),
  fc.record({ type: fc.constant("abort" as const), txnId: bytes(16), readTs: ts }),
  fc.record({ type: fc.constant("batch" as const), reads: fc.array(readOp, { maxLength: 6 }), writes: fc.array(writeOp, { maxLength: 6 }) }),
  fc
    .record({ txnId: bytes(16), readTs: fc.option(ts, { nil: null }), ops: fc.array(readOp, { maxLength: 6 }), seed: fc.integer({ min: 0, max: 2 }), flags: fc.constantFrom(0, 0x10, 0x20, 0x30) })
    .map(({ txnId, readTs, ops, seed, flags }) => ({ type: "txnRead" as const, txnId, readTs, ops, locks: new Uint8Array(ops.map((_, i) => ((i + seed) % 3) | flags)) })),
  fc.record({
    type: fc.constant("txnWrite" as const),
    txnId: bytes(16),
    readTs: ts,
    writes: fc.array(writeOp, { maxLength: 6 }).map((ws) => ws.filter((w) => w.op === "put" || w.op === "delete" || w.op === "cput")),
  }),
  fc.record({ type: fc.constant("refresh" as const), txnId: bytes(16), readTs: ts, spans: fc.array(span, { maxLength: 6 }) }),
  fc.record({ type: fc.constant("heartbeat" as const), txnId: bytes(16) }),
  fc.record({ type: fc.constant("heartbeat" as const), txnId: bytes(16), locksOnly: fc.constant(true) }),
  fc.record({ type: fc.constant("unlock" as const), txnId: bytes(16), keys: fc.array(bytes(), { maxLength: 4 }) }),
);
const readResult: fc.Arbitrary<ReadResult> = fc.oneof(
  fc.record({ op: fc.constant("get" as const), value: fc.option(bytes(100), { nil: null }) }),
  fc.record({
    op: fc.constant("scan" as const),
    rows: fc.array(fc.record({ key: bytes(), value: bytes(60) }), { maxLength: 10 }),
    resumeKey: fc.option(bytes(), { nil: null }),
  }),
);
const errorNames = Object.keys(KvErrorCode) as Array<keyof typeof KvErrorCode>;
const kvError: fc.Arbitrary<KvError> = fc.record(
  {
    code: fc.constantFrom(...errorNames),
    message: fc.string({ maxLength: 80, unit: "grapheme" }),
    key: bytes(),
    actual: fc.option(bytes(), { nil: null }),
    retryAfterMs: fc.integer({ min: 0, max: 100_000 }),
  },
  { requiredKeys: ["code", "message"] },
);
const response: fc.Arbitrary<KvResponse> = fc.oneof(
  fc.record({ type: fc.constant("begin" as const), readTs: ts }),
  fc.record({ type: fc.constant("read" as const), readTs: ts, results: fc.array(readResult, { maxLength: 6 }) }),
  fc.record({ type: fc.constant("commit" as const), commitTs: ts }),
  fc.constant({ type: "abort" as const }),
  fc.constant({ type: "ack" as const }),
  fc.record({ type: fc.constant("refresh" as const), readTs: ts }),
  fc.record({ type: fc.constant("batch" as const), commitTs: ts, results: fc.array(readResult, { maxLength: 6 }) }),
  fc.record({ type: fc.constant("error" as const), error: kvError }),
);

/** Decoding must either succeed or throw KvProtocolError: never another exception. */
function decodesOrRefuses(decode: (b: Uint8Array) => unknown, input: Uint8Array): "ok" | "refused" {
  try {
    decode(input);
    return "ok";
  } catch (err) {
    if (err instanceof KvProtocolError) return "refused";
    throw err;
  }
}

describe("kv-protocol codec", () => {
  it("round-trips every request shape", () => {
    fc.assert(fc.property(request, (req) => {
      expect(decodeRequest(encodeRequest(req))).toEqual(req);
    }), { numRuns: 500 });
  });

  it("round-trips every response shape, errors included", () => {
    fc.assert(fc.property(response, (res) => {
      expect(decodeResponse(encodeResponse(res))).toEqual(res);
    }), { numRuns: 500 });
  });

  it("uses the documented header and a compact body", () => {
    const frame = encodeRequest({ type: "read", readTs: 5n, ops: [{ op: "get", key: new Uint8Array([0x74, 1]) }] });
    // magic, version, tag=read, readTs present, u64 ts, count=1, get tag, len=2, key
    expect([...frame]).toEqual([FRAME_MAGIC, FRAME_VERSION, 2, 1, 0, 0, 0, 0, 0, 0, 0, 5, 1, 1, 2, 0x74, 1]);
    expect([...encodeRequest({ type: "begin" })]).toEqual([0x57, 1, 1]);
  });

  it("keeps the maximum timestamp and large varints exact", () => {
    const max = (1n << 64n) - 1n;
    expect(decodeResponse(encodeResponse({ type: "commit", commitTs: max }))).toEqual({ type: "commit", commitTs: max });
    const op: ReadOp = { op: "scan", start: new Uint8Array(), end: new Uint8Array([1]), reverse: true, maxRows: 2 ** 53 - 1, maxBytes: 128 };
    expect(decodeRequest(encodeRequest({ type: "read", readTs: null, ops: [op] }))).toEqual({ type: "read", readTs: null, ops: [op] });
  });

  it("refuses to encode values that have no frame", () => {
    expect(() => encodeResponse({ type: "commit", commitTs: -1n })).toThrow(KvProtocolError);
    expect(() => encodeResponse({ type: "commit", commitTs: 1n << 64n })).toThrow(KvProtocolError);
    const bad: ReadOp = { op: "scan", start: new Uint8Array(), end: new Uint8Array(), reverse: false, maxRows: -1, maxBytes: 1 };
    expect(() => encodeRequest({ type: "read", readTs: null, ops: [bad] })).toThrow(KvProtocolError);
    expect(() => encodeRequest({ type: "nope" } as unknown as KvRequest)).toThrow(KvProtocolError);
  });

  it("refuses wrong magic, wrong version, unknown tags, trailing bytes, bad UTF-8, non-canonical varints", () => {
    const cases: Array<[string, number[], (b: Uint8Array) => unknown]> = [
      ["empty", [], decodeRequest],
      ["magic", [0x58, 1, 1], decodeRequest],
      ["version", [0x57, 2, 1], decodeRequest],
      ["request tag", [0x57, 1, 12], decodeRequest],
      ["trailing", [0x57, 1, 1, 0], decodeRequest],
      ["readTs presence", [0x57, 1, 2, 7], decodeRequest],
      ["op tag", [0x57, 1, 2, 0, 1, 9, 0], decodeRequest],
      ["scan flags", [0x57, 1, 2, 0, 1, 2, 0, 0, 2, 1, 1], decodeRequest],
      ["huge count", [0x57, 1, 2, 0, 0xff, 0xff, 0xff, 0x7f], decodeRequest],
      ["long varint", [0x57, 1, 2, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], decodeRequest],
      ["redundant varint", [0x57, 1, 2, 0, 0x80, 0x00], decodeRequest],
      ["response tag", [0x57, 1, 7], decodeResponse],
      ["error code", [0x57, 1, 15, 99, 0, 0], decodeResponse],
      ["error utf8", [0x57, 1, 15, 1, 2, 0xc3, 0x28, 0], decodeResponse],
      ["error flags", [0x57, 1, 15, 1, 0, 0x80], decodeResponse],
    ];
    for (const [name, frame, decode] of cases) {
      expect(() => decode(new Uint8Array(frame)), name).toThrow(KvProtocolError);
    }
    // A txnRead lock byte: a strength (0-2) and the nowait / keepOnDeadlock flags, nothing else.
    const frame = encodeRequest({ type: "txnRead", txnId: new Uint8Array(16), readTs: null, ops: [{ op: "get", key: Uint8Array.of(1) }], locks: Uint8Array.of(0x31) });
    expect(decodeRequest(frame)).toMatchObject({ locks: Uint8Array.of(0x31) });
    for (const bad of [3, 0x40, 0x83]) {
      const f = frame.slice();
      f[f.length - 1] = bad;
      expect(() => decodeRequest(f), `lock byte ${bad}`).toThrow(KvProtocolError);
    }
  });

  it("never crashes on random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (raw, withHeader) => {
        const input = withHeader && raw.length > 0 ? new Uint8Array([FRAME_MAGIC, FRAME_VERSION, ...raw]) : raw;
        decodesOrRefuses(decodeRequest, input);
        decodesOrRefuses(decodeResponse, input);
      }),
      { numRuns: 5000 },
    );
  });

  it("refuses every truncation of a valid frame and survives every single-byte corruption", () => {
    fc.assert(
      fc.property(request, response, fc.nat(), fc.integer({ min: 0, max: 255 }), (req, res, at, byte) => {
        for (const [frame, decode] of [
          [encodeRequest(req), decodeRequest],
          [encodeResponse(res), decodeResponse],
        ] as const) {
          for (let cut = 0; cut < frame.length; cut++) {
            expect(decodesOrRefuses(decode, frame.subarray(0, cut))).toBe("refused");
          }
          const corrupt = frame.slice();
          corrupt[at % corrupt.length] = byte;
          decodesOrRefuses(decode, corrupt);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("decodes from a view with a byte offset (a slice of a larger buffer)", () => {
    const frame = encodeResponse({ type: "read", readTs: 9n, results: [{ op: "get", value: new Uint8Array([1, 2, 3]) }] });
    const big = new Uint8Array(frame.length + 10);
    big.set(frame, 7);
    expect(decodeResponse(big.subarray(7, 7 + frame.length))).toEqual({
      type: "read",
      readTs: 9n,
      results: [{ op: "get", value: new Uint8Array([1, 2, 3]) }],
    });
  });
});

describe("the usage trailer (additive: only a client that asked gets it)", () => {
  const usage = fc.record({
    readBatches: fc.nat(),
    readRequests: fc.nat(),
    readBytes: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    writeBatches: fc.nat(),
    writeRequests: fc.nat(),
    writeBytes: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  });

  it("round-trips on every response shape, and appends exactly the trailer to the old frame", () => {
    fc.assert(
      fc.property(response, usage, (res, u) => {
        const plain = encodeResponse(res);
        const withUsage = encodeResponse({ ...res, usage: u });
        // The message part is byte for byte the frame an old client gets; the trailer follows it.
        expect(withUsage.subarray(0, plain.length)).toEqual(plain);
        expect(withUsage.subarray(plain.length)).toEqual(encodeUsageTrailer(u));
        expect(decodeResponse(withUsage)).toEqual({ ...res, usage: u });
        expect(decodeResponse(plain)).toEqual(res);
        expect("usage" in decodeResponse(plain)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("pins the layout: u8 tag 1, a length, six varints in the documented order", () => {
    const u = { readBatches: 1, readRequests: 2, readBytes: 300, writeBatches: 4, writeRequests: 5, writeBytes: 6 };
    expect([...encodeUsageTrailer(u)]).toEqual([1, 7, 1, 2, 0xac, 0x02, 4, 5, 6]);
    const frame = encodeResponse({ type: "abort", usage: u });
    expect([...frame]).toEqual([FRAME_MAGIC, FRAME_VERSION, 4, 1, 7, 1, 2, 0xac, 0x02, 4, 5, 6]);
  });

  it("skips a trailer it does not know, refuses a repeated usage trailer or a malformed payload", () => {
    const abort = encodeResponse({ type: "abort" });
    const unknown = new Uint8Array([...abort, 9, 3, 0xaa, 0xbb, 0xcc]);
    expect(decodeResponse(unknown)).toEqual({ type: "abort" });
    const u = { readBatches: 1, readRequests: 1, readBytes: 1, writeBatches: 0, writeRequests: 0, writeBytes: 0 };
    const t = encodeUsageTrailer(u);
    expect(decodeResponse(new Uint8Array([...abort, 9, 0, ...t]))).toEqual({ type: "abort", usage: u });
    expect(() => decodeResponse(new Uint8Array([...abort, ...t, ...t]))).toThrow(/appears twice/);
    // Seven varints where six belong, five, and a length past the end.
    expect(() => decodeResponse(new Uint8Array([...abort, 1, 7, 1, 1, 1, 1, 1, 1, 1]))).toThrow(KvProtocolError);
    expect(() => decodeResponse(new Uint8Array([...abort, 1, 5, 1, 1, 1, 1, 1]))).toThrow(KvProtocolError);
    expect(() => decodeResponse(new Uint8Array([...abort, 1, 9, 1]))).toThrow(KvProtocolError);
    // A lone tag byte with no payload length.
    expect(() => decodeResponse(new Uint8Array([...abort, 1]))).toThrow(KvProtocolError);
  });

  it("refuses usage that is not a non-negative safe integer when encoding", () => {
    const bad = { readBatches: -1, readRequests: 0, readBytes: 0, writeBatches: 0, writeRequests: 0, writeBytes: 0 };
    expect(() => encodeUsageTrailer(bad)).toThrow(KvProtocolError);
    expect(() => encodeUsageTrailer({ ...bad, readBatches: 0.5 })).toThrow(KvProtocolError);
  });
});
