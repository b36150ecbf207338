// The storage engine interface: ordered raw-byte keys and values, synchronous reads, one writer.
// The MVCC layer (storage-node/mvcc) is written against this interface only; LMDB is the one
// implementation (lmdb-engine.ts). Keys compare as unsigned bytes (memcmp order).

export interface EngineEntry {
  key: Uint8Array;
  value: Uint8Array;
}

export interface RangeOptions {
  /** Inclusive lower bound. */
  low: Uint8Array;
  /** Exclusive upper bound. */
  high: Uint8Array;
  /** Iterate from high down to low (high still exclusive, low still inclusive). */
  reverse?: boolean;
  limit?: number;
}

export interface EngineReader {
  get(key: Uint8Array): Uint8Array | undefined;
  /** Entries in [low, high), in key order (or reverse). Returned arrays are owned by the caller. */
  range(opts: RangeOptions): Iterable<EngineEntry>;
}

export interface EngineWriter extends EngineReader {
  put(key: Uint8Array, value: Uint8Array): void;
  remove(key: Uint8Array): void;
}

export interface Engine extends EngineReader {
  /**
   * Runs `fn` in one write transaction and commits it durably (fsync) before returning. Reads
   * inside `fn` see the transaction's own writes. If `fn` throws, nothing it wrote is committed.
   * Blocking: call it from the writer thread only.
   */
  writeSync<T>(fn: (w: EngineWriter) => T): T;
  /** Makes the next reads see everything committed so far (by any thread). */
  refresh(): void;
  close(): Promise<void>;
}
