// What the node physically holds in a span of one tenant: every stored version (values and
// tombstones, whatever their timestamp, whether or not a clear hides them from reads). The admin
// API's GET /v1/admin/span-versions answers with it, so an operator (or a test) can check with the
// system credential that a dropped table's keys are really gone from disk.
import type { EngineReader } from "./engine/engine.ts";
import { escapedBound, VERSION_SUFFIX_BYTES } from "./mvcc/version-key.ts";

export interface SpanCensus {
  /** Version entries counted (at most the bound). */
  versions: number;
  /** Distinct user keys among them. */
  keys: number;
  /** The span holds more versions than the bound allowed to count. */
  more: boolean;
}

export function spanCensus(engine: EngineReader, start: Uint8Array, end: Uint8Array, versionsMax: number): SpanCensus {
  let versions = 0;
  let keys = 0;
  let last: Uint8Array | null = null;
  for (const e of engine.range({ low: escapedBound(start), high: escapedBound(end), limit: versionsMax + 1 })) {
    if (versions === versionsMax) return { versions, keys, more: true };
    versions++;
    const n = e.key.length - VERSION_SUFFIX_BYTES;
    let same = last !== null && last.length === e.key.length;
    for (let i = 0; same && i < n; i++) if (last![i] !== e.key[i]) same = false;
    if (!same) keys++;
    last = e.key;
  }
  return { versions, keys, more: false };
}
