// How many bytes a value or a row takes as JavaScript holds it: the estimate every memory account
// charges (exec/memory.ts for operators, functions/aggregates.ts for aggregate state). Not exact,
// but proportional; kept with the types so every layer above may use it.
//
// The constants are V8's object sizes as measured in Node (64-bit, uncompressed pointers): an array is a
// JSArray (32 bytes) plus its elements store (16 + 8 a slot); a number is a small integer kept in
// its slot or a 16-byte heap number (8 charged: both occur); a bigint is ~24 bytes. Measured in
// Node: 200,000 one-column integer rows at their length held 65–74 bytes a row (slot in the holding
// array included); the 16-byte array charged before this let a sort charged 64 MiB hold ~330 MiB of
// heap, far past an isolate's 128 MB, where garbage collection then held the thread for seconds.
const ARRAY_BYTES = 48;
const SLOT_BYTES = 8;
import type { Datum } from "./datum.ts";

/** A rough size of one value as JavaScript holds it, for accounting (not exact, but proportional). */
export function datumBytes(d: Datum): number {
  if (typeof d === "string") return 2 * d.length + 16;
  if (d instanceof Uint8Array) return d.length + 32;
  if (typeof d === "bigint") return 24;
  if (typeof d === "number") return 8;
  if (Array.isArray(d)) {
    let n = ARRAY_BYTES + d.length * SLOT_BYTES;
    for (const e of d as readonly Datum[]) n += datumBytes(e);
    return n;
  }
  if (d !== null && typeof d === "object") return 64;
  return 0;
}

/** A rough size of a row as JavaScript holds it, for accounting (not exact, but proportional). */
export function rowBytes(row: readonly Datum[]): number {
  let n = ARRAY_BYTES + row.length * SLOT_BYTES;
  for (const d of row) {
    if (typeof d === "string") n += 2 * d.length + 16;
    else if (d instanceof Uint8Array) n += d.length + 32;
    else if (typeof d === "bigint") n += 24;
    else if (typeof d === "number") n += 8;
    else if (d !== null && typeof d === "object") n += Array.isArray(d) ? datumBytes(d) : 64;
  }
  return n;
}
