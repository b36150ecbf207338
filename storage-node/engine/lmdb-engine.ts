// The LMDB implementation of the engine interface (lmdb-js).
//
// Durability choice: `overlappingSync: false`. lmdb-js defaults to overlapping sync on Linux, where a
// commit becomes visible (and its promise resolves) before the data is fsync'd. The node must
// acknowledge a commit only once it is on disk, and should never let a reader see data that a
// power failure could still take away, so it uses classic LMDB commits: mdb_txn_commit returns
// after the fsync. Throughput comes from group commit instead (writer-worker.ts commits every
// queued request in one LMDB transaction).
//
// lmdb-js's asynchronous `transaction(callback)` is not used: it relies on N-API thread-safe
// callbacks and never resolved on this platform (checked with lmdb 3.5.6 / Node 22). Writes run
// with `transactionSync` on a dedicated worker thread, so the fsync never blocks the HTTP thread.
import { open, type RootDatabase } from "lmdb";
import type { Engine, EngineEntry, EngineReader, EngineWriter, RangeOptions } from "./engine.ts";

export interface LmdbEngineOptions {
  path: string;
  /** For benchmarks only: skip fsync (not durable). */
  noSync?: boolean;
}

// Values are copied out of lmdb-js's reused read buffer by our own decoder, into shared slabs.
// With `encoding: "binary"` lmdb-js copies every value into its own new Buffer: an off-heap
// allocation of ~1.4 µs for a 100-byte value here, which was most of the cost of a 100-row range
// (122 µs per range with one Buffer per value, 44 µs with slab views, measured in one process).
// Giving lmdb-js an encoder with `decode` (and no `needsStableBuffer`) makes it hand the decoder its
// reused buffer, documented as "the decoder copies". A slab is released by the garbage collector
// once no value points into it; the node never keeps values beyond a request (results are encoded
// into a fresh response), so a slab is not pinned for long. Callers still own what they get: each
// value is a distinct region nobody else writes, but `value.buffer` is the whole slab (never
// transfer or post a value's `.buffer`; slice it first).
const SLAB_BYTES = 64 * 1024;
/** Larger values get their own buffer rather than a large share of a slab. */
const SLAB_VALUE_BYTES_MAX = 4 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabPos = 0;

function copyOut(src: Uint8Array, size: number): Uint8Array {
  const n = size;
  const from = new Uint8Array(src.buffer, src.byteOffset, n);
  if (n > SLAB_VALUE_BYTES_MAX) return from.slice();
  if (slabPos + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabPos = 0;
  }
  const at = slabPos;
  slab.set(from, at);
  slabPos += n;
  return new Uint8Array(slab.buffer, at, n);
}

const valueCodec = {
  encode: (value: Uint8Array): Uint8Array => value,
  // lmdb-js passes the size for range entries; for gets, its reused buffer's own `length` is set to it.
  decode: (bytes: Uint8Array, size?: unknown): Uint8Array => copyOut(bytes, typeof size === "number" ? size : bytes.length),
};

/** Number of bytes LMDB maps; a sparse file, it only reserves address space. */
const MAP_SIZE_BYTES = 64 * 1024 * 1024 * 1024;

export class LmdbEngine implements Engine {
  private readonly db: RootDatabase<Buffer, Buffer>;

  constructor(opts: LmdbEngineOptions) {
    this.db = open<Buffer, Buffer>({
      path: opts.path,
      keyEncoding: "binary",
      encoder: valueCodec,
      // --data-dir is always a directory: lmdb-js otherwise treats a path with a dot in its last
      // component ("/tmp/tmp.x1Yz") as a file name.
      noSubdir: false,
      overlappingSync: false,
      noSync: opts.noSync ?? false,
      mapSize: MAP_SIZE_BYTES,
      // No value cache: the MVCC layer never re-reads hot values through lmdb-js's cache, and the
      // cache would pin memory per entry.
      cache: false,
    });
  }

  get(key: Uint8Array): Uint8Array | undefined {
    return this.db.get(key as Buffer) ?? undefined;
  }

  range(opts: RangeOptions): Iterable<EngineEntry> {
    const low = opts.low as Buffer;
    const high = opts.high as Buffer;
    if (opts.reverse) {
      return this.db.getRange({ start: high, end: low, reverse: true, exclusiveStart: true, inclusiveEnd: true, limit: opts.limit }) as Iterable<EngineEntry>;
    }
    return this.db.getRange({ start: low, end: high, limit: opts.limit }) as Iterable<EngineEntry>;
  }

  /**
   * A reader over one consistent state of the store for as long as the caller holds it, while
   * writes go on (a replication snapshot is sent in chunks over many turns of the event loop:
   * replication/snapshot-stream.ts). Call done() at the end: until then LMDB cannot reuse the pages
   * this state still sees, so the file grows with the writes made meanwhile.
   */
  readSnapshot(): EngineReader & { done(): void } {
    const transaction = this.db.useReadTransaction();
    const db = this.db;
    return {
      get: (key) => db.get(key as Buffer, { transaction }) ?? undefined,
      range: (o) =>
        (o.reverse
          ? db.getRange({ start: o.high as Buffer, end: o.low as Buffer, reverse: true, exclusiveStart: true, inclusiveEnd: true, limit: o.limit, transaction })
          : db.getRange({ start: o.low as Buffer, end: o.high as Buffer, limit: o.limit, transaction })) as Iterable<EngineEntry>,
      done: () => transaction.done(),
    };
  }

  writeSync<T>(fn: (w: EngineWriter) => T): T {
    const db = this.db;
    const writer: EngineWriter = {
      get: (key) => this.get(key),
      range: (o) => this.range(o),
      put: (key, value) => {
        db.putSync(key as Buffer, value as Buffer);
      },
      remove: (key) => {
        db.removeSync(key as Buffer);
      },
    };
    return db.transactionSync(() => fn(writer));
  }

  refresh(): void {
    this.db.resetReadTxn();
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}
