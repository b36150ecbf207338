// How many bytes a value or a row takes as JavaScript holds it: the estimate every memory account
// charges (exec/memory.ts for operators, functions/aggregates.ts for aggregate state). Not exact,
// but proportional; kept with the types so every layer above may use it.
import type { Datum } from "./datum.ts";

/** A rough size of one value as JavaScript holds it, for accounting (not exact, but proportional). */
export function datumBytes(d: Datum): number {
  if (typeof d === "string") return 2 * d.length + 16;
  if (d instanceof Uint8Array) return d.length + 32;
  if (typeof d === "bigint") return 16;
  if (Array.isArray(d)) {
    let n = 16 + d.length * 8;
    for (const e of d as readonly Datum[]) n += datumBytes(e);
    return n;
  }
  if (d !== null && typeof d === "object") return 64;
  return 0;
}

/** A rough size of a row as JavaScript holds it, for accounting (not exact, but proportional). */
export function rowBytes(row: readonly Datum[]): number {
  let n = 16 + row.length * 8;
  for (const d of row) {
    if (typeof d === "string") n += 2 * d.length + 16;
    else if (d instanceof Uint8Array) n += d.length + 32;
    else if (typeof d === "bigint") n += 16;
    else if (d !== null && typeof d === "object") n += Array.isArray(d) ? datumBytes(d) : 64;
  }
  return n;
}
