// The binary framing of the storage wire contract (messages.ts). Platform-neutral: it runs in the
// edge Worker, the gateway isolate (workerd) and the storage node (Node), so it uses only
// Uint8Array, DataView and TextEncoder/TextDecoder.
//
// Frame = header, body; the whole frame is one HTTP body, so there is no outer length.
//
//   header   u8 magic 0x57 ('W')  u8 version 0x01  u8 message tag
//   varint   unsigned LEB128, at most 8 bytes, value <= 2^53 - 1 (a JavaScript safe integer)
//   bytes    varint length, then that many raw bytes
//   ?bytes   u8 0 (absent/null) | u8 1, bytes
//   ts       u64 big-endian (an HLC timestamp, messages.ts)
//   string   bytes holding UTF-8 (rejected when not valid UTF-8)
//
// A response may end with trailers: `u8 tag, bytes payload` each, after the message. The one
// trailer today is the node's usage report (TrailerTag.usage: six varints, the request's KvUsage),
// sent only to a client that asked with the KV_USAGE_HEADER HTTP header, because decoders older
// than trailers reject any byte after the message. Decoders skip trailer tags they do not know, so
// the next trailer needs no new header.
//
// The full table of tags and fields is in storage-node/README.md ("Wire framing"). Decoding is
// strict: an unknown tag, a length past the end, a count larger than the bytes left could hold,
// invalid UTF-8 or trailing bytes all throw KvProtocolError, so a malformed frame can never crash
// the reader or make it allocate more than the frame's own size. Decoded byte fields are views
// (subarray) into the input buffer: zero-copy; callers that keep them must not mutate the input.

import { ByteWriter } from "../bytes.ts";
import type { KvUsage } from "../request-units.ts";
import type {
  KvError,
  KvErrorName,
  KvRequest,
  KvResponse,
  ReadOp,
  ReadResult,
  Span,
  Timestamp,
  WriteOp,
} from "./messages.ts";
import { KvErrorCode, LOCK_MODE_MASK, LockFlag } from "./messages.ts";

export const FRAME_MAGIC = 0x57;
export const FRAME_VERSION = 0x01;
export const FRAME_HEADER_BYTES = 3;

/** Message tags. Requests and responses share numbers for the same step; error is response-only. */
export const RequestTag = { begin: 1, read: 2, commit: 3, abort: 4, batch: 5, txnRead: 6, txnWrite: 7, refresh: 8, heartbeat: 9, unlock: 10, heartbeatLocksOnly: 11 } as const;
export const ResponseTag = { begin: 1, read: 2, commit: 3, abort: 4, batch: 5, ack: 6, refresh: 8, error: 15 } as const;
export const ReadOpTag = { get: 1, scan: 2 } as const;
export const WriteOpTag = { put: 1, delete: 2, deleteRange: 3, cput: 4, clearRange: 5 } as const;
export const ReadResultTag = { get: 1, scan: 2 } as const;
/** Bits of the error frame's flags byte, saying which optional fields follow (in this order). */
export const ErrorFlag = { key: 1, actual: 2, retryAfterMs: 4 } as const;
/** Tags of the trailers that may follow a response's message (see the file comment). */
export const TrailerTag = { usage: 1 } as const;
/**
 * The HTTP request header (value `1`) with which a client of POST /v1/kv asks for the usage trailer.
 * A node that knows it always appends the trailer then, with zeros for a request it refused before
 * metering; a node that does not ignores the header, and the response simply has no trailer.
 */
export const KV_USAGE_HEADER = "warren-kv-usage";
/**
 * On a tenant_moved answer (HTTP 421): the shard the tenant went to, when the node knows it (a
 * move's fence names it). The edge sends the request there without waiting for the FleetDirectory.
 */
export const TENANT_SHARD_HEADER = "warren-tenant-shard";
/** Bits of a scan op's flags byte. */
export const ScanFlag = { reverse: 1 } as const;

const TS_MAX = (1n << 64n) - 1n;

/** Thrown for bytes that are not a valid frame, and for messages that cannot be encoded. */
export class KvProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KvProtocolError";
  }
}

// ---------------------------------------------------------------------------------------------
// Writer: a growable buffer. Frames are built in one pass; the buffer doubles as needed.

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

class Writer {
  // The growable buffer is the common one (common/bytes.ts); this class adds the frame's checks:
  // every value is validated before it is written, and a bad one names the field it was for.
  private readonly out: ByteWriter;

  /** A new buffer of `initialBytes`, or one the caller appends several messages to (a KV stream's outbox). */
  constructor(into: ByteWriter | number = 256) {
    this.out = typeof into === "number" ? new ByteWriter(into) : into;
  }

  u8(v: number): void {
    this.out.byte(v);
  }

  varint(v: number, what: string): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new KvProtocolError(`${what} must be a non-negative safe integer, got ${v}`);
    }
    this.out.uvarint(v);
  }

  bytes(b: Uint8Array, what: string): void {
    if (!(b instanceof Uint8Array)) throw new KvProtocolError(`${what} must be a Uint8Array`);
    this.varint(b.length, `${what} length`);
    this.out.bytes(b);
  }

  optBytes(b: Uint8Array | null | undefined, what: string): void {
    if (b === null || b === undefined) {
      this.u8(0);
    } else {
      this.u8(1);
      this.bytes(b, what);
    }
  }

  ts(t: Timestamp, what: string): void {
    if (typeof t !== "bigint" || t < 0n || t > TS_MAX) {
      throw new KvProtocolError(`${what} must be a bigint in [0, 2^64), got ${String(t)}`);
    }
    this.out.uint64(t);
  }

  string(s: string, what: string): void {
    this.bytes(textEncoder.encode(s), what);
  }

  header(tag: number): void {
    this.u8(FRAME_MAGIC);
    this.u8(FRAME_VERSION);
    this.u8(tag);
  }

  finish(): Uint8Array {
    // An exactly pre-sized buffer (read results, see readResultsBytes) is returned as is.
    return this.out.finishOwned();
  }
}

// ---------------------------------------------------------------------------------------------
// Reader: every read checks bounds first and throws KvProtocolError past the end.

class Reader {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos = 0;

  constructor(buf: Uint8Array) {
    if (!(buf instanceof Uint8Array)) throw new KvProtocolError("frame must be a Uint8Array");
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.remaining) {
      throw new KvProtocolError(`frame truncated: ${what} needs ${n} bytes at offset ${this.pos}, ${this.remaining} left`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  varint(what: string): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.u8(what);
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw new KvProtocolError(`${what}: varint has a redundant trailing zero byte`);
        if (!Number.isSafeInteger(result)) throw new KvProtocolError(`${what}: varint exceeds 2^53 - 1`);
        return result;
      }
      scale *= 0x80;
    }
    throw new KvProtocolError(`${what}: varint longer than 8 bytes`);
  }

  /** A count of items that each take at least `minItemBytes` bytes: bounded by what is left. */
  count(what: string, minItemBytes: number): number {
    const n = this.varint(what);
    if (n * minItemBytes > this.remaining) {
      throw new KvProtocolError(`${what} ${n} cannot fit in the ${this.remaining} bytes left in the frame`);
    }
    return n;
  }

  bytes(what: string): Uint8Array {
    const len = this.varint(`${what} length`);
    this.need(len, what);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  optBytes(what: string): Uint8Array | null {
    const flag = this.u8(`${what} presence`);
    if (flag === 0) return null;
    if (flag !== 1) throw new KvProtocolError(`${what}: presence byte must be 0 or 1, got ${flag}`);
    return this.bytes(what);
  }

  ts(what: string): Timestamp {
    this.need(8, what);
    const t = this.view.getBigUint64(this.pos, false);
    this.pos += 8;
    return t;
  }

  string(what: string): string {
    const b = this.bytes(what);
    try {
      return textDecoder.decode(b);
    } catch {
      throw new KvProtocolError(`${what} is not valid UTF-8`);
    }
  }

  header(): number {
    const magic = this.u8("frame magic");
    if (magic !== FRAME_MAGIC) throw new KvProtocolError(`not a Warren KV frame (magic byte 0x${magic.toString(16)})`);
    const version = this.u8("frame version");
    if (version !== FRAME_VERSION) {
      throw new KvProtocolError(`unsupported frame version ${version} (this side speaks ${FRAME_VERSION})`);
    }
    return this.u8("message tag");
  }

  end(): void {
    if (this.remaining !== 0) throw new KvProtocolError(`${this.remaining} trailing bytes after the message`);
  }
}

// ---------------------------------------------------------------------------------------------
// Pieces shared by requests and responses.

function writeSpan(w: Writer, s: Span, what: string): void {
  w.bytes(s.start, `${what} start`);
  w.bytes(s.end, `${what} end`);
}

function readSpan(r: Reader, what: string): Span {
  const start = r.bytes(`${what} start`);
  const end = r.bytes(`${what} end`);
  return { start, end };
}

function writeReadOp(w: Writer, op: ReadOp): void {
  switch (op.op) {
    case "get":
      w.u8(ReadOpTag.get);
      w.bytes(op.key, "get key");
      return;
    case "scan":
      w.u8(ReadOpTag.scan);
      w.bytes(op.start, "scan start");
      w.bytes(op.end, "scan end");
      w.u8(op.reverse ? ScanFlag.reverse : 0);
      w.varint(op.maxRows, "scan maxRows");
      w.varint(op.maxBytes, "scan maxBytes");
      return;
    default:
      throw new KvProtocolError(`unknown read op ${String((op as { op: unknown }).op)}`);
  }
}

function readReadOp(r: Reader): ReadOp {
  const tag = r.u8("read op tag");
  switch (tag) {
    case ReadOpTag.get:
      return { op: "get", key: r.bytes("get key") };
    case ReadOpTag.scan: {
      const start = r.bytes("scan start");
      const end = r.bytes("scan end");
      const flags = r.u8("scan flags");
      if ((flags & ~ScanFlag.reverse) !== 0) throw new KvProtocolError(`scan flags 0x${flags.toString(16)} has unknown bits`);
      const maxRows = r.varint("scan maxRows");
      const maxBytes = r.varint("scan maxBytes");
      return { op: "scan", start, end, reverse: (flags & ScanFlag.reverse) !== 0, maxRows, maxBytes };
    }
    default:
      throw new KvProtocolError(`unknown read op tag ${tag}`);
  }
}

function writeWriteOp(w: Writer, op: WriteOp): void {
  switch (op.op) {
    case "put":
      w.u8(WriteOpTag.put);
      w.bytes(op.key, "put key");
      w.bytes(op.value, "put value");
      return;
    case "delete":
      w.u8(WriteOpTag.delete);
      w.bytes(op.key, "delete key");
      return;
    case "deleteRange":
      w.u8(WriteOpTag.deleteRange);
      w.bytes(op.start, "deleteRange start");
      w.bytes(op.end, "deleteRange end");
      return;
    case "clearRange":
      w.u8(WriteOpTag.clearRange);
      w.bytes(op.start, "clearRange start");
      w.bytes(op.end, "clearRange end");
      return;
    case "cput":
      w.u8(WriteOpTag.cput);
      w.bytes(op.key, "cput key");
      w.optBytes(op.value, "cput value");
      w.optBytes(op.expected, "cput expected");
      return;
    default:
      throw new KvProtocolError(`unknown write op ${String((op as { op: unknown }).op)}`);
  }
}

function readWriteOp(r: Reader): WriteOp {
  const tag = r.u8("write op tag");
  switch (tag) {
    case WriteOpTag.put: {
      const key = r.bytes("put key");
      return { op: "put", key, value: r.bytes("put value") };
    }
    case WriteOpTag.delete:
      return { op: "delete", key: r.bytes("delete key") };
    case WriteOpTag.deleteRange: {
      const start = r.bytes("deleteRange start");
      return { op: "deleteRange", start, end: r.bytes("deleteRange end") };
    }
    case WriteOpTag.clearRange: {
      const start = r.bytes("clearRange start");
      return { op: "clearRange", start, end: r.bytes("clearRange end") };
    }
    case WriteOpTag.cput: {
      const key = r.bytes("cput key");
      const value = r.optBytes("cput value");
      return { op: "cput", key, value, expected: r.optBytes("cput expected") };
    }
    default:
      throw new KvProtocolError(`unknown write op tag ${tag}`);
  }
}

function writeReadResult(w: Writer, res: ReadResult): void {
  switch (res.op) {
    case "get":
      w.u8(ReadResultTag.get);
      w.optBytes(res.value, "get value");
      return;
    case "scan":
      w.u8(ReadResultTag.scan);
      w.varint(res.rows.length, "scan row count");
      for (const row of res.rows) {
        w.bytes(row.key, "scan row key");
        w.bytes(row.value, "scan row value");
      }
      w.optBytes(res.resumeKey, "scan resumeKey");
      return;
    default:
      throw new KvProtocolError(`unknown read result ${String((res as { op: unknown }).op)}`);
  }
}

function readReadResult(r: Reader): ReadResult {
  const tag = r.u8("read result tag");
  switch (tag) {
    case ReadResultTag.get:
      return { op: "get", value: r.optBytes("get value") };
    case ReadResultTag.scan: {
      // Each row is at least two one-byte lengths.
      const n = r.count("scan row count", 2);
      const rows: Array<{ key: Uint8Array; value: Uint8Array }> = new Array(n);
      for (let i = 0; i < n; i++) {
        const key = r.bytes("scan row key");
        rows[i] = { key, value: r.bytes("scan row value") };
      }
      return { op: "scan", rows, resumeKey: r.optBytes("scan resumeKey") };
    }
    default:
      throw new KvProtocolError(`unknown read result tag ${tag}`);
  }
}

function varintBytes(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

function sizedBytes(b: Uint8Array): number {
  return varintBytes(b.length) + b.length;
}

/**
 * The exact encoded size of a list of read results (or a safe overestimate for values that will
 * fail to encode). A 100-row scan is about 12 KB: sizing the buffer once instead of doubling it
 * from 256 bytes saved ~6 allocations and copies plus the final copy per response (profiled).
 */
function readResultsBytes(results: readonly ReadResult[]): number {
  if (!Array.isArray(results)) return 256;
  let n = varintBytes(results.length);
  for (const res of results) {
    n += 1;
    if (res.op === "get") {
      n += res.value instanceof Uint8Array ? 1 + sizedBytes(res.value) : 1;
    } else if (res.op === "scan" && Array.isArray(res.rows)) {
      n += varintBytes(res.rows.length);
      for (const row of res.rows) {
        if (!(row.key instanceof Uint8Array) || !(row.value instanceof Uint8Array)) return n + 256;
        n += sizedBytes(row.key) + sizedBytes(row.value);
      }
      n += res.resumeKey instanceof Uint8Array ? 1 + sizedBytes(res.resumeKey) : 1;
    } else {
      return n + 256;
    }
  }
  return n;
}

function writeList<T>(w: Writer, items: readonly T[], what: string, each: (w: Writer, item: T) => void): void {
  if (!Array.isArray(items)) throw new KvProtocolError(`${what} must be an array`);
  w.varint(items.length, `${what} count`);
  for (const item of items) each(w, item);
}

function readList<T>(r: Reader, what: string, minItemBytes: number, each: (r: Reader) => T): T[] {
  const n = r.count(`${what} count`, minItemBytes);
  const out: T[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = each(r);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Requests

export function encodeRequest(req: KvRequest): Uint8Array {
  // 64 bytes: V8 keeps typed arrays up to 64 bytes on its heap, larger ones need an off-heap
  // allocation (≈ 1 µs with its collection). A single-key read is ~35 bytes; larger requests grow
  // the buffer by doubling, which costs them a few copies of at most their own size.
  const w = new Writer(64);
  switch (req.type) {
    case "begin":
      w.header(RequestTag.begin);
      break;
    case "read":
      w.header(RequestTag.read);
      if (req.readTs === null) {
        w.u8(0);
      } else {
        w.u8(1);
        w.ts(req.readTs, "readTs");
      }
      writeList(w, req.ops, "read ops", writeReadOp);
      break;
    case "commit":
      w.header(RequestTag.commit);
      w.bytes(req.txnId, "txnId");
      w.ts(req.readTs, "readTs");
      writeList(w, req.readSpans, "readSpans", (ww, s) => writeSpan(ww, s, "readSpan"));
      writeList(w, req.writes, "writes", writeWriteOp);
      break;
    case "abort":
      w.header(RequestTag.abort);
      w.bytes(req.txnId, "txnId");
      w.ts(req.readTs, "readTs");
      break;
    case "batch":
      w.header(RequestTag.batch);
      writeList(w, req.reads, "reads", writeReadOp);
      writeList(w, req.writes, "writes", writeWriteOp);
      break;
    case "txnRead":
      w.header(RequestTag.txnRead);
      w.bytes(req.txnId, "txnId");
      if (req.readTs === null) {
        w.u8(0);
      } else {
        w.u8(1);
        w.ts(req.readTs, "readTs");
      }
      writeList(w, req.ops, "read ops", writeReadOp);
      if (req.locks.length !== req.ops.length) throw new KvProtocolError("txnRead needs one lock mode per op");
      w.bytes(req.locks, "locks");
      break;
    case "txnWrite":
      w.header(RequestTag.txnWrite);
      w.bytes(req.txnId, "txnId");
      w.ts(req.readTs, "readTs");
      writeList(w, req.writes, "writes", writeWriteOp);
      break;
    case "refresh":
      w.header(RequestTag.refresh);
      w.bytes(req.txnId, "txnId");
      w.ts(req.readTs, "readTs");
      writeList(w, req.spans, "spans", (ww, s) => writeSpan(ww, s, "span"));
      break;
    case "heartbeat":
      // A holder of locks only has its own tag: a frame of the plain heartbeat stays what it was.
      w.header(req.locksOnly === true ? RequestTag.heartbeatLocksOnly : RequestTag.heartbeat);
      w.bytes(req.txnId, "txnId");
      break;
    case "unlock":
      w.header(RequestTag.unlock);
      w.bytes(req.txnId, "txnId");
      writeList(w, req.keys, "unlock keys", (ww, k) => ww.bytes(k, "unlock key"));
      break;
    default:
      throw new KvProtocolError(`unknown request type ${String((req as { type: unknown }).type)}`);
  }
  return w.finish();
}

export function decodeRequest(bytes: Uint8Array): KvRequest {
  const r = new Reader(bytes);
  const tag = r.header();
  let req: KvRequest;
  switch (tag) {
    case RequestTag.begin:
      req = { type: "begin" };
      break;
    case RequestTag.read: {
      const has = r.u8("readTs presence");
      if (has > 1) throw new KvProtocolError(`readTs presence byte must be 0 or 1, got ${has}`);
      const readTs = has === 1 ? r.ts("readTs") : null;
      // A read op is at least a tag and a one-byte length.
      req = { type: "read", readTs, ops: readList(r, "read ops", 2, readReadOp) };
      break;
    }
    case RequestTag.commit: {
      const txnId = r.bytes("txnId");
      const readTs = r.ts("readTs");
      const readSpans = readList(r, "readSpans", 2, (rr) => readSpan(rr, "readSpan"));
      req = { type: "commit", txnId, readTs, readSpans, writes: readList(r, "writes", 2, readWriteOp) };
      break;
    }
    case RequestTag.abort: {
      const txnId = r.bytes("txnId");
      req = { type: "abort", txnId, readTs: r.ts("readTs") };
      break;
    }
    case RequestTag.batch: {
      const reads = readList(r, "reads", 2, readReadOp);
      req = { type: "batch", reads, writes: readList(r, "writes", 2, readWriteOp) };
      break;
    }
    case RequestTag.txnRead: {
      const txnId = r.bytes("txnId");
      const has = r.u8("readTs presence");
      if (has > 1) throw new KvProtocolError(`readTs presence byte must be 0 or 1, got ${has}`);
      const readTs = has === 1 ? r.ts("readTs") : null;
      const ops = readList(r, "read ops", 2, readReadOp);
      const locks = r.bytes("locks");
      if (locks.length !== ops.length) throw new KvProtocolError(`txnRead has ${ops.length} ops and ${locks.length} lock modes`);
      for (const m of locks) {
        if ((m & LOCK_MODE_MASK) > 2 || (m & ~(LOCK_MODE_MASK | LockFlag.nowait | LockFlag.keepOnDeadlock)) !== 0) throw new KvProtocolError(`unknown lock mode ${m}`);
      }
      req = { type: "txnRead", txnId, readTs, ops, locks };
      break;
    }
    case RequestTag.txnWrite: {
      const txnId = r.bytes("txnId");
      const readTs = r.ts("readTs");
      const writes = readList(r, "writes", 2, readWriteOp);
      for (const op of writes) {
        if (op.op === "deleteRange" || op.op === "clearRange") throw new KvProtocolError(`txnWrite carries point writes only, got ${op.op}`);
      }
      req = { type: "txnWrite", txnId, readTs, writes };
      break;
    }
    case RequestTag.refresh: {
      const txnId = r.bytes("txnId");
      const readTs = r.ts("readTs");
      req = { type: "refresh", txnId, readTs, spans: readList(r, "spans", 2, (rr) => readSpan(rr, "span")) };
      break;
    }
    case RequestTag.heartbeat:
      req = { type: "heartbeat", txnId: r.bytes("txnId") };
      break;
    case RequestTag.heartbeatLocksOnly:
      req = { type: "heartbeat", txnId: r.bytes("txnId"), locksOnly: true };
      break;
    case RequestTag.unlock: {
      const txnId = r.bytes("txnId");
      req = { type: "unlock", txnId, keys: readList(r, "unlock keys", 1, (rr) => rr.bytes("unlock key")) };
      break;
    }
    default:
      throw new KvProtocolError(`unknown request tag ${tag}`);
  }
  r.end();
  return req;
}

// ---------------------------------------------------------------------------------------------
// Responses

const errorNameByCode: Map<number, KvErrorName> = new Map(
  (Object.entries(KvErrorCode) as Array<[KvErrorName, number]>).map(([name, code]) => [code, name]),
);

function writeError(w: Writer, e: KvError): void {
  const code = KvErrorCode[e.code];
  if (code === undefined) throw new KvProtocolError(`unknown error code ${String(e.code)}`);
  w.varint(code, "error code");
  w.string(e.message, "error message");
  let flags = 0;
  if (e.key !== undefined) flags |= ErrorFlag.key;
  if (e.actual !== undefined) flags |= ErrorFlag.actual;
  if (e.retryAfterMs !== undefined) flags |= ErrorFlag.retryAfterMs;
  w.u8(flags);
  if (e.key !== undefined) w.bytes(e.key, "error key");
  if (e.actual !== undefined) w.optBytes(e.actual, "error actual");
  if (e.retryAfterMs !== undefined) w.varint(Math.max(0, Math.ceil(e.retryAfterMs)), "error retryAfterMs");
}

function readError(r: Reader): KvError {
  const codeNum = r.varint("error code");
  const code = errorNameByCode.get(codeNum);
  if (code === undefined) throw new KvProtocolError(`unknown error code ${codeNum}`);
  const message = r.string("error message");
  const flags = r.u8("error flags");
  if ((flags & ~(ErrorFlag.key | ErrorFlag.actual | ErrorFlag.retryAfterMs)) !== 0) {
    throw new KvProtocolError(`error flags 0x${flags.toString(16)} has unknown bits`);
  }
  const error: KvError = { code, message };
  if (flags & ErrorFlag.key) error.key = r.bytes("error key");
  if (flags & ErrorFlag.actual) error.actual = r.optBytes("error actual");
  if (flags & ErrorFlag.retryAfterMs) error.retryAfterMs = r.varint("error retryAfterMs");
  return error;
}

export function encodeResponse(res: KvResponse): Uint8Array {
  const w = new Writer((res.type === "read" || res.type === "batch" ? FRAME_HEADER_BYTES + 8 + readResultsBytes(res.results) : 64) + (res.usage !== undefined ? 64 : 0));
  writeResponse(w, res);
  return w.finish();
}

/**
 * Appends the encoded response to `out` (the same bytes encodeResponse returns). The storage node's
 * KV stream encodes each answer straight into its connection's outbox: one buffer per socket write
 * instead of one per answer (storage-node/README.md, "The single-key path").
 */
export function encodeResponseInto(out: ByteWriter, res: KvResponse): void {
  writeResponse(new Writer(out), res);
}

function writeResponse(w: Writer, res: KvResponse): void {
  switch (res.type) {
    case "begin":
      w.header(ResponseTag.begin);
      w.ts(res.readTs, "readTs");
      break;
    case "read":
      w.header(ResponseTag.read);
      w.ts(res.readTs, "readTs");
      writeList(w, res.results, "results", writeReadResult);
      break;
    case "commit":
      w.header(ResponseTag.commit);
      w.ts(res.commitTs, "commitTs");
      break;
    case "abort":
      w.header(ResponseTag.abort);
      break;
    case "batch":
      w.header(ResponseTag.batch);
      w.ts(res.commitTs, "commitTs");
      writeList(w, res.results, "results", writeReadResult);
      break;
    case "ack":
      w.header(ResponseTag.ack);
      break;
    case "refresh":
      w.header(ResponseTag.refresh);
      w.ts(res.readTs, "readTs");
      break;
    case "error":
      w.header(ResponseTag.error);
      writeError(w, res.error);
      break;
    default:
      throw new KvProtocolError(`unknown response type ${String((res as { type: unknown }).type)}`);
  }
  if (res.usage !== undefined) writeUsageTrailer(w, res.usage);
}

const USAGE_FIELDS = ["readBatches", "readRequests", "readBytes", "writeBatches", "writeRequests", "writeBytes"] as const;

function writeUsageTrailer(w: Writer, u: KvUsage): void {
  // The payload's length first, from the varints' sizes: no buffer of its own.
  let payloadBytes = 0;
  for (const f of USAGE_FIELDS) {
    const v = u[f];
    if (!Number.isSafeInteger(v) || v < 0) throw new KvProtocolError(`usage ${f} must be a non-negative safe integer, got ${v}`);
    payloadBytes += varintBytes(v);
  }
  w.u8(TrailerTag.usage);
  w.varint(payloadBytes, "usage trailer length");
  for (const f of USAGE_FIELDS) w.varint(u[f], `usage ${f}`);
}

/** Appends the usage trailer (the bytes encodeUsageTrailer returns) to `out`. */
export function encodeUsageTrailerInto(out: ByteWriter, u: KvUsage): void {
  writeUsageTrailer(new Writer(out), u);
}

/**
 * The usage trailer alone, for a server that appends it to a response encoded elsewhere (the
 * storage node's writer thread encodes commit responses; the HTTP thread meters them).
 */
export function encodeUsageTrailer(u: KvUsage): Uint8Array {
  const w = new Writer(40);
  writeUsageTrailer(w, u);
  return w.finish();
}

function readUsage(payload: Uint8Array): KvUsage {
  const r = new Reader(payload);
  const u = {} as KvUsage;
  for (const f of USAGE_FIELDS) u[f] = r.varint(`usage ${f}`);
  r.end();
  return u;
}

/** Reads the trailers after a response's message; unknown tags are skipped, a repeated one is refused. */
function readTrailers(r: Reader, res: KvResponse): void {
  while (r.remaining > 0) {
    const tag = r.u8("trailer tag");
    const payload = r.bytes("trailer payload");
    if (tag !== TrailerTag.usage) continue;
    if (res.usage !== undefined) throw new KvProtocolError("the usage trailer appears twice");
    res.usage = readUsage(payload);
  }
}

export function decodeResponse(bytes: Uint8Array): KvResponse {
  const r = new Reader(bytes);
  const tag = r.header();
  let res: KvResponse;
  switch (tag) {
    case ResponseTag.begin:
      res = { type: "begin", readTs: r.ts("readTs") };
      break;
    case ResponseTag.read: {
      const readTs = r.ts("readTs");
      res = { type: "read", readTs, results: readList(r, "results", 2, readReadResult) };
      break;
    }
    case ResponseTag.commit:
      res = { type: "commit", commitTs: r.ts("commitTs") };
      break;
    case ResponseTag.abort:
      res = { type: "abort" };
      break;
    case ResponseTag.batch: {
      const commitTs = r.ts("commitTs");
      res = { type: "batch", commitTs, results: readList(r, "results", 2, readReadResult) };
      break;
    }
    case ResponseTag.ack:
      res = { type: "ack" };
      break;
    case ResponseTag.refresh:
      res = { type: "refresh", readTs: r.ts("readTs") };
      break;
    case ResponseTag.error:
      res = { type: "error", error: readError(r) };
      break;
    default:
      throw new KvProtocolError(`unknown response tag ${tag}`);
  }
  readTrailers(r, res);
  return res;
}
