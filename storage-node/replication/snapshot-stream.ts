// A replica's store as a stream of checksummed frames: what a replica whose next log entries are
// gone from the primary's log pulls to rebuild (README.md, "Snapshots and log truncation").
//
//   frame = u8 kind, u32 payload length, u32 crc32(payload), payload            (big-endian)
//   CHUNK 1  payload: puts as a group entry (group-entry.ts), the next keys in key order, at most
//            chunkBytesMax of keys and values (an entry larger than that travels alone)
//   END   2  payload: JSON {"seq","epoch","keys","bytes","sha256"}: the log entry the state is at
//            and its epoch, then totals over every chunk payload, so a stream cut short, reordered
//            or altered is refused as a whole, not installed
//
// What travels: every key of the store outside the replication log's own tags (0x20 entries,
// 0x21 log metadata: engine-log.ts; each replica keeps its own log) — tenant versions and the node
// metadata every replica applies identically (clock, GC threshold, txn records, stats) — all read
// from one LMDB read snapshot, so the state is exactly the one after entry `seq`.
import { createHash, type Hash } from "node:crypto";
import { crc32 } from "node:zlib";
import type { EngineReader } from "../engine/engine.ts";
import { appliedPosition, LOG_META_TAG, LOG_TAG } from "./engine-log.ts";
import { encodeGroupEntry, type GroupOp } from "./group-entry.ts";

export const FRAME_CHUNK = 1;
export const FRAME_END = 2;
const HEADER_BYTES = 9;
/**
 * A frame may exceed the chunk bound by one entry: the largest the node stores is a version of a
 * valueBytesMax (1 MiB) value under a key of at most 1,978 bytes (LMDB's bound), so 4 MiB is ample
 * and still refuses a corrupted length before allocating gigabytes.
 */
export const FRAME_SLACK_BYTES = 4 * 1024 * 1024;

/** The spans a snapshot carries: below the log's tags, and above them (every key starts below 0xff: tenant keys with 0x74). */
export const SNAPSHOT_SPANS = [
  { low: new Uint8Array([0x00]), high: new Uint8Array([LOG_TAG]) },
  { low: new Uint8Array([LOG_META_TAG + 1]), high: new Uint8Array([0xff]) },
];

export interface SnapshotEnd {
  seq: number;
  epoch: number;
  keys: number;
  bytes: number;
  sha256: string;
}

function frame(kind: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES + payload.length);
  const view = new DataView(out.buffer);
  out[0] = kind;
  view.setUint32(1, payload.length, false);
  view.setUint32(5, crc32(payload), false);
  out.set(payload, HEADER_BYTES);
  return out;
}

/** The frames of a snapshot of `reader`'s state (one consistent read: LmdbEngine.readSnapshot). */
export function* snapshotFrames(reader: EngineReader, chunkBytesMax: number): Generator<Uint8Array> {
  const at = appliedPosition(reader);
  const hash = createHash("sha256");
  let keys = 0;
  let bytes = 0;
  let ops: GroupOp[] = [];
  let size = 0;
  const chunk = (): Uint8Array => {
    const payload = encodeGroupEntry(ops);
    hash.update(payload);
    bytes += payload.length;
    ops = [];
    size = 0;
    return frame(FRAME_CHUNK, payload);
  };
  for (const span of SNAPSHOT_SPANS) {
    for (const { key, value } of reader.range(span)) {
      if (ops.length > 0 && size + key.length + value.length > chunkBytesMax) yield chunk();
      ops.push({ put: true, key, value });
      size += key.length + value.length;
      keys++;
    }
  }
  if (ops.length > 0) yield chunk();
  const end: SnapshotEnd = { seq: at.seq, epoch: at.epoch, keys, bytes, sha256: hash.digest("hex") };
  yield frame(FRAME_END, new TextEncoder().encode(JSON.stringify(end)));
}

export type SnapshotFrame = { kind: "chunk"; payload: Uint8Array } | { kind: "end"; end: SnapshotEnd };

/**
 * Reads frames from the bytes of a snapshot stream as they arrive, checking each frame's checksum
 * and, at the end, the totals over every chunk. Throws (an Error naming the fault) on anything
 * wrong; the caller then discards everything it installed (snapshot-install.ts).
 */
export class SnapshotDecoder {
  /** Bytes received and not yet framed, as they came (joined once a whole frame is there). */
  private pieces: Uint8Array[] = [];
  private buffered = 0;
  private readonly frameBytesMax: number;
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;
  private ended = false;

  constructor(chunkBytesMax: number) {
    this.frameBytesMax = chunkBytesMax + FRAME_SLACK_BYTES;
  }

  get done(): boolean {
    return this.ended;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    if (this.ended) throw new Error("snapshot stream: bytes after the end frame");
    this.pieces.push(data);
    this.buffered += data.length;
  }

  private joined(): Uint8Array {
    if (this.pieces.length !== 1) {
      const all = new Uint8Array(this.buffered);
      let at = 0;
      for (const p of this.pieces) {
        all.set(p, at);
        at += p.length;
      }
      this.pieces = [all];
    }
    return this.pieces[0]!;
  }

  /** The next complete frame, or undefined until more bytes arrive. */
  next(): SnapshotFrame | undefined {
    if (this.ended || this.buffered < HEADER_BYTES) return undefined;
    if (this.pieces[0]!.length < HEADER_BYTES) this.joined();
    const head = this.pieces[0]!;
    const view = new DataView(head.buffer, head.byteOffset, HEADER_BYTES);
    const kind = head[0];
    const length = view.getUint32(1, false);
    const checksum = view.getUint32(5, false);
    if (kind !== FRAME_CHUNK && kind !== FRAME_END) throw new Error(`snapshot stream: unknown frame kind ${kind}`);
    if (length > this.frameBytesMax) throw new Error(`snapshot stream: a frame of ${length} bytes exceeds ${this.frameBytesMax}`);
    if (this.buffered < HEADER_BYTES + length) return undefined;
    const all = this.joined();
    const payload = all.slice(HEADER_BYTES, HEADER_BYTES + length);
    const rest = all.subarray(HEADER_BYTES + length);
    this.pieces = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    if (crc32(payload) !== checksum) throw new Error(`snapshot stream: checksum mismatch in a frame after byte ${this.bytes}`);
    if (kind === FRAME_CHUNK) {
      this.hash.update(payload);
      this.bytes += payload.length;
      return { kind: "chunk", payload };
    }
    const end = JSON.parse(new TextDecoder().decode(payload)) as SnapshotEnd;
    const nat = (v: unknown) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
    if (!nat(end.seq) || !nat(end.epoch) || !nat(end.keys) || !nat(end.bytes) || typeof end.sha256 !== "string") throw new Error("snapshot stream: malformed end frame");
    if (end.bytes !== this.bytes || end.sha256 !== this.hash.digest("hex")) throw new Error(`snapshot stream: chunks (${this.bytes} bytes) do not match the end frame (${end.bytes} bytes)`);
    this.ended = true;
    if (this.buffered > 0) throw new Error("snapshot stream: bytes after the end frame");
    return { kind: "end", end };
  }
}
