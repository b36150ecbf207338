// A group commit's writes as one replication log entry: the LMDB puts and removes of one writer
// transaction, in order, so every replica applies exactly the same bytes (no re-execution: the MVCC
// checks ran once, on the leaseholder). Format, repeated: u8 op (1 put, 2 remove), u32 key length,
// key, and for a put u32 value length, value.
import type { EngineWriter } from "../engine/engine.ts";

export type GroupOp = { put: true; key: Uint8Array; value: Uint8Array } | { put: false; key: Uint8Array };

const OP_PUT = 1;
const OP_REMOVE = 2;

export function encodeGroupEntry(ops: readonly GroupOp[]): Uint8Array {
  let size = 0;
  for (const op of ops) size += 5 + op.key.length + (op.put ? 4 + op.value.length : 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const op of ops) {
    out[at] = op.put ? OP_PUT : OP_REMOVE;
    view.setUint32(at + 1, op.key.length, false);
    out.set(op.key, at + 5);
    at += 5 + op.key.length;
    if (op.put) {
      view.setUint32(at, op.value.length, false);
      out.set(op.value, at + 4);
      at += 4 + op.value.length;
    }
  }
  return out;
}

/** Calls `op` for each operation of an entry, in order (views into `entry`); throws on a malformed entry. */
export function forEachGroupOp(entry: Uint8Array, op: (o: GroupOp) => void): number {
  const view = new DataView(entry.buffer, entry.byteOffset, entry.byteLength);
  let at = 0;
  let n = 0;
  const take = (len: number): Uint8Array => {
    if (at + len > entry.length) throw new Error(`group entry truncated at byte ${at}`);
    const part = entry.subarray(at, at + len);
    at += len;
    return part;
  };
  const length = (): number => {
    if (at + 4 > entry.length) throw new Error(`group entry truncated at byte ${at}`);
    at += 4;
    return view.getUint32(at - 4, false);
  };
  while (at < entry.length) {
    const kind = entry[at++];
    const key = take(length());
    if (kind === OP_PUT) op({ put: true, key, value: take(length()) });
    else if (kind === OP_REMOVE) op({ put: false, key });
    else throw new Error(`group entry: unknown op ${kind} at byte ${at - 1}`);
    n++;
  }
  return n;
}

/** Writes one entry's operations into `w` (the caller's transaction); throws on a malformed entry. */
export function applyGroupEntry(w: EngineWriter, entry: Uint8Array): number {
  return forEachGroupOp(entry, (o) => (o.put ? w.put(o.key, o.value) : w.remove(o.key)));
}

/** A writer that records every put and remove (copies: callers may reuse their buffers) and passes them on. */
export function recordingWriter(w: EngineWriter, ops: GroupOp[]): EngineWriter {
  return {
    get: (key) => w.get(key),
    range: (o) => w.range(o),
    put: (key, value) => {
      ops.push({ put: true, key: key.slice(), value: value.slice() });
      w.put(key, value);
    },
    remove: (key) => {
      ops.push({ put: false, key: key.slice() });
      w.remove(key);
    },
  };
}
