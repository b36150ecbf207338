// The replication log on the node's engine (LMDB), durable: a backup acknowledges an entry only
// after append() returned, which is after the fsync (engine.writeSync). Node-local keys below the
// tenant range (node-keys.ts leaves 0x00–0x73 to the node; tags 0x20–0x22 belong to replication):
//
//   0x20 be64(seq)   entry: u32 epoch, u8 1 + payload (or u8 0 for the no-op)
//   0x21 'e'         highest epoch accepted (u32)
//   0x21 'a'         applied through (u64): written with the applied entry's effects, atomically
import type { Engine } from "../engine/engine.ts";
import { readU64, u64 } from "../node-keys.ts";
import { checkAppend, type LogEntry, type ReplicationLog } from "./log.ts";

export const LOG_TAG = 0x20;
export const LOG_META_EPOCH = new Uint8Array([0x21, 0x65]);
export const LOG_META_APPLIED = new Uint8Array([0x21, 0x61]);

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

export class EngineLog implements ReplicationLog {
  private readonly engine: Engine;
  private last: number;
  private highestEpoch: number;

  constructor(engine: Engine) {
    this.engine = engine;
    const tail = [...engine.range({ low: entryKey(0), high: new Uint8Array([LOG_TAG + 1]), reverse: true, limit: 1 })];
    this.last = tail.length === 0 ? 0 : Number(readU64(tail[0]!.key, 1));
    const e = engine.get(LOG_META_EPOCH);
    this.highestEpoch = e === undefined ? 0 : new DataView(e.buffer, e.byteOffset, 4).getUint32(0, false);
  }

  lastSeq(): number {
    return this.last;
  }

  entry(seq: number): LogEntry | undefined {
    if (seq < 1 || seq > this.last) return undefined;
    const v = this.engine.get(entryKey(seq));
    return v === undefined ? undefined : decodeEntry(seq, v);
  }

  entries(fromSeq: number, max: number): LogEntry[] {
    const out: LogEntry[] = [];
    for (const { key, value } of this.engine.range({ low: entryKey(Math.max(1, fromSeq)), high: new Uint8Array([LOG_TAG + 1]), limit: max })) {
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
    this.engine.writeSync((w) => {
      for (let s = Math.max(1, fromSeq); s <= this.last; s++) w.remove(entryKey(s));
    });
    this.last = Math.max(0, fromSeq - 1);
  }

  epoch(): number {
    return this.highestEpoch;
  }

  setEpoch(epoch: number): void {
    if (epoch < this.highestEpoch) throw new Error(`epoch goes back from ${this.highestEpoch} to ${epoch}`);
    const v = new Uint8Array(4);
    new DataView(v.buffer).setUint32(0, epoch, false);
    this.engine.writeSync((w) => w.put(LOG_META_EPOCH, v));
    this.highestEpoch = epoch;
  }
}
