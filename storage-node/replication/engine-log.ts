// The replication log on the node's engine (LMDB), durable: a backup acknowledges an entry only
// after append() returned, which is after the fsync (engine.writeSync). Node-local keys below the
// tenant range (node-keys.ts leaves 0x00–0x73 to the node; tags 0x20–0x22 belong to replication):
//
//   0x20 be64(seq)   entry: u32 epoch, u8 1 + payload (or u8 0 for the no-op)
//   0x21 'a'         applied through (u64): written with the applied entry's effects, atomically
//   0x21 'b'         the log's base: the last entry dropped by truncatePrefix or replaced by a
//                    snapshot (u64 seq, u32 epoch); absent = (0, 0)
//   0x21 'e'         highest epoch accepted (u32)
//
// None of these keys is part of a snapshot (snapshot-stream.ts): each replica keeps its own log.
import type { Engine, EngineReader, EngineWriter } from "../engine/engine.ts";
import { readU64, u64 } from "../node-keys.ts";
import { checkAppend, checkTruncateFrom, type LogEntry, type ReplicationLog } from "./log.ts";

export const LOG_TAG = 0x20;
export const LOG_META_TAG = 0x21;
export const LOG_META_EPOCH = new Uint8Array([LOG_META_TAG, 0x65]);
export const LOG_META_APPLIED = new Uint8Array([LOG_META_TAG, 0x61]);
export const LOG_META_BASE = new Uint8Array([LOG_META_TAG, 0x62]);

function entryKey(seq: number): Uint8Array {
  const k = new Uint8Array(9);
  k[0] = LOG_TAG;
  k.set(u64(BigInt(seq)), 1);
  return k;
}

function encodeEntry(e: LogEntry): Uint8Array {
  const payload = e.payload ?? new Uint8Array(0);
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(0, e.epoch, false);
  out[4] = e.payload === null ? 0 : 1;
  out.set(payload, 5);
  return out;
}

function decodeEntry(seq: number, v: Uint8Array): LogEntry {
  const epoch = new DataView(v.buffer, v.byteOffset, v.byteLength).getUint32(0, false);
  return { seq, epoch, payload: v[4] === 0 ? null : v.slice(5) };
}

function u32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, v, false);
  return out;
}

function encodeBase(seq: number, epoch: number): Uint8Array {
  const v = new Uint8Array(12);
  v.set(u64(BigInt(seq)), 0);
  v.set(u32(epoch), 8);
  return v;
}

function decodeBase(b: Uint8Array | undefined): { seq: number; epoch: number } {
  return b === undefined ? { seq: 0, epoch: 0 } : { seq: Number(readU64(b, 0)), epoch: new DataView(b.buffer, b.byteOffset + 8, 4).getUint32(0, false) };
}

/** Where a store's applied state is: the last applied entry and its epoch (read from `reader`'s one state). */
export function appliedPosition(reader: EngineReader): { seq: number; epoch: number } {
  const a = reader.get(LOG_META_APPLIED);
  const seq = a === undefined ? 0 : Number(readU64(a));
  const base = decodeBase(reader.get(LOG_META_BASE));
  if (seq === base.seq) return base;
  const e = reader.get(entryKey(seq));
  if (e === undefined) throw new Error(`replication log: applied entry ${seq} is neither in the log nor its base ${base.seq}`);
  return { seq, epoch: decodeEntry(seq, e).epoch };
}

/**
 * Writes, in the caller's transaction, the log metadata of a state just installed from a snapshot
 * at (seq, epoch): applied through seq, base (seq, epoch), highest epoch. The caller has removed
 * every entry (snapshot-install.ts clears the whole store first) and calls EngineLog.reload() after.
 */
export function writeSnapshotBase(w: EngineWriter, seq: number, epoch: number, highestEpoch: number): void {
  w.put(LOG_META_APPLIED, u64(BigInt(seq)));
  w.put(LOG_META_BASE, encodeBase(seq, epoch));
  w.put(LOG_META_EPOCH, u32(Math.max(epoch, highestEpoch)));
}

export class EngineLog implements ReplicationLog {
  private readonly engine: Engine;
  private last = 0;
  private base = { seq: 0, epoch: 0 };
  private highestEpoch = 0;

  constructor(engine: Engine) {
    this.engine = engine;
    this.reload();
  }

  /** Reads the log's state from the engine again (after a snapshot was installed underneath it). */
  reload(): void {
    const engine = this.engine;
    engine.refresh();
    this.base = decodeBase(engine.get(LOG_META_BASE));
    const tail = [...engine.range({ low: entryKey(0), high: new Uint8Array([LOG_TAG + 1]), reverse: true, limit: 1 })];
    this.last = tail.length === 0 ? this.base.seq : Number(readU64(tail[0]!.key, 1));
    if (this.last < this.base.seq) throw new Error(`replication log: last entry ${this.last} below the base ${this.base.seq}`);
    const e = engine.get(LOG_META_EPOCH);
    this.highestEpoch = e === undefined ? 0 : new DataView(e.buffer, e.byteOffset, 4).getUint32(0, false);
  }

  lastSeq(): number {
    return this.last;
  }

  firstSeq(): number {
    return this.base.seq + 1;
  }

  epochAt(seq: number): number | undefined {
    return seq === this.base.seq ? this.base.epoch : this.entry(seq)?.epoch;
  }

  entry(seq: number): LogEntry | undefined {
    if (seq <= this.base.seq || seq > this.last) return undefined;
    const v = this.engine.get(entryKey(seq));
    return v === undefined ? undefined : decodeEntry(seq, v);
  }

  entries(fromSeq: number, max: number): LogEntry[] {
    const out: LogEntry[] = [];
    for (const { key, value } of this.engine.range({ low: entryKey(Math.max(this.base.seq + 1, fromSeq)), high: new Uint8Array([LOG_TAG + 1]), limit: max })) {
      out.push(decodeEntry(Number(readU64(key, 1)), value));
    }
    return out;
  }

  append(entries: readonly LogEntry[]): void {
    if (entries.length === 0) return;
    checkAppend(entries, this.last, this.highestEpoch);
    this.engine.writeSync((w) => {
      for (const e of entries) w.put(entryKey(e.seq), encodeEntry(e));
    });
    this.last = entries[entries.length - 1]!.seq;
  }

  truncateFrom(fromSeq: number): void {
    if (fromSeq > this.last) return;
    checkTruncateFrom(fromSeq, this.base.seq);
    this.engine.writeSync((w) => {
      for (let s = fromSeq; s <= this.last; s++) w.remove(entryKey(s));
    });
    this.last = fromSeq - 1;
  }

  truncatePrefix(throughSeq: number): void {
    if (throughSeq <= this.base.seq) return;
    const epoch = this.epochAt(throughSeq);
    if (epoch === undefined) throw new Error(`truncatePrefix(${throughSeq}) past the log's end ${this.last}`);
    this.engine.writeSync((w) => {
      for (let s = this.base.seq + 1; s <= throughSeq; s++) w.remove(entryKey(s));
      w.put(LOG_META_BASE, encodeBase(throughSeq, epoch));
    });
    this.base = { seq: throughSeq, epoch };
  }

  epoch(): number {
    return this.highestEpoch;
  }

  setEpoch(epoch: number): void {
    if (epoch < this.highestEpoch) throw new Error(`epoch goes back from ${this.highestEpoch} to ${epoch}`);
    this.engine.writeSync((w) => w.put(LOG_META_EPOCH, u32(epoch)));
    this.highestEpoch = epoch;
  }
}
