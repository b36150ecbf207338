// Snapshot reads over the version layout (version-key.ts): the newest version at or below a read
// timestamp, for one key or for every key of a span. The same code serves the HTTP thread (reads at
// a client's snapshot) and the writer thread (a single-shot batch reads the latest state inside its
// write transaction, with readTs = TS_MAX).
import type { EngineReader } from "../engine/engine.ts";
import {
  bytesEqual,
  decodeVersionValue,
  escapedBound,
  escapedPart,
  keySuccessor,
  TS_MAX,
  unescapeKey,
  versionBounds,
  versionKey,
  versionTs,
} from "./version-key.ts";

export interface VersionInfo {
  ts: bigint;
  /** null for a tombstone. */
  value: Uint8Array | null;
}

/** The newest version of key with ts <= readTs, or undefined when the key has no such version. */
export function readVersion(engine: EngineReader, key: Uint8Array, readTs: bigint): VersionInfo | undefined {
  const { high } = versionBounds(key);
  const low = readTs >= TS_MAX ? versionBounds(key).low : versionKey(key, readTs);
  for (const e of engine.range({ low, high, limit: 1 })) {
    return { ts: versionTs(e.key), value: decodeVersionValue(e.value) };
  }
  return undefined;
}

export function mvccGet(engine: EngineReader, key: Uint8Array, readTs: bigint): Uint8Array | null {
  const v = readVersion(engine, key, readTs);
  return v === undefined ? null : v.value;
}

export interface ScanPage {
  rows: Array<{ key: Uint8Array; value: Uint8Array }>;
  resumeKey: Uint8Array | null;
  /** Bytes of keys and values returned (for metering). */
  bytes: number;
}

export interface ScanBounds {
  start: Uint8Array;
  end: Uint8Array;
  reverse: boolean;
  /** At least 1. */
  maxRows: number;
  /** At least 1; the first row is always returned whatever its size, so every page makes progress. */
  maxBytes: number;
}

/**
 * The visible rows of [start, end) at readTs, one page. Forward pages stop before the first row that
 * does not fit and resume there; reverse pages return rows from the end down and resume with an
 * exclusive end just above the first row that did not fit.
 */
export function mvccScan(engine: EngineReader, readTs: bigint, b: ScanBounds): ScanPage {
  const rows: Array<{ key: Uint8Array; value: Uint8Array }> = [];
  let bytes = 0;
  const low = escapedBound(b.start);
  const high = escapedBound(b.end);
  if (!(compareEsc(low, high) < 0)) return { rows, resumeKey: null, bytes };

  // Returns true when the row did not fit (the page is full).
  const offer = (escKey: Uint8Array, value: Uint8Array): Uint8Array | null => {
    const key = unescapeKey(escKey);
    const size = key.length + value.length;
    if (rows.length >= b.maxRows || (rows.length > 0 && bytes + size > b.maxBytes)) {
      return b.reverse ? keySuccessor(key) : key;
    }
    rows.push({ key, value: value.slice() });
    bytes += size;
    return null;
  };

  if (!b.reverse) {
    // Versions arrive newest first within each key; the first one at or below readTs decides.
    let current: Uint8Array | null = null;
    let decided = false;
    for (const e of engine.range({ low, high })) {
      const esc = escapedPart(e.key);
      if (current === null || !bytesEqual(esc, current)) {
        current = esc;
        decided = false;
      }
      if (decided) continue;
      if (versionTs(e.key) > readTs) continue;
      decided = true;
      const value = decodeVersionValue(e.value);
      if (value === null) continue;
      const resume = offer(esc, value);
      if (resume) return { rows, resumeKey: resume, bytes };
    }
    return { rows, resumeKey: null, bytes };
  }

  // Reverse: versions arrive oldest first within each key; remember the newest at or below readTs
  // and decide when the key changes.
  let current: Uint8Array | null = null;
  let candidate: Uint8Array | null | undefined;
  for (const e of engine.range({ low, high, reverse: true })) {
    const esc = escapedPart(e.key);
    if (current === null || !bytesEqual(esc, current)) {
      if (current !== null && candidate) {
        const resume = offer(current, candidate);
        if (resume) return { rows, resumeKey: resume, bytes };
      }
      current = esc;
      candidate = undefined;
    }
    if (versionTs(e.key) <= readTs) candidate = decodeVersionValue(e.value);
  }
  if (current !== null && candidate) {
    const resume = offer(current, candidate);
    if (resume) return { rows, resumeKey: resume, bytes };
  }
  return { rows, resumeKey: null, bytes };
}

function compareEsc(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** True when any version in [start, end) has a timestamp above ts (a write the snapshot did not see). */
export function spanWrittenAfter(
  engine: EngineReader,
  start: Uint8Array,
  end: Uint8Array,
  ts: bigint,
): Uint8Array | null {
  const low = escapedBound(start);
  const high = escapedBound(end);
  if (!(compareEsc(low, high) < 0)) return null;
  for (const e of engine.range({ low, high })) {
    if (versionTs(e.key) > ts) return unescapeKey(escapedPart(e.key));
  }
  return null;
}
