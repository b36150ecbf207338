// Snapshot reads over the version layout (version-key.ts): the newest version at or below a read
// timestamp, for one key or for every key of a span. The same code serves the HTTP thread (reads at
// a client's snapshot) and the writer thread (a single-shot batch reads the latest state inside its
// write transaction, with readTs = TS_MAX).
import type { EngineReader } from "../engine/engine.ts";
import {
  decodeVersionValue,
  escapedBound,
  escapedPart,
  escapeKey,
  keySuccessor,
  TERMINATOR,
  TOMBSTONE_KIND,
  TS_MAX,
  unescapeKey,
  VALUE_KIND,
  VERSION_SUFFIX_BYTES,
  versionBounds,
  versionKey,
  versionTs,
} from "./version-key.ts";

export interface VersionInfo {
  ts: bigint;
  /** null for a tombstone. */
  value: Uint8Array | null;
}

/** [version of key at readTs, first entry after key's versions): one escape for both bounds. */
function seekBounds(key: Uint8Array, readTs: bigint): { low: Uint8Array; high: Uint8Array } {
  const low = versionKey(key, readTs >= TS_MAX ? TS_MAX : readTs);
  const n = low.length - 8;
  const high = new Uint8Array(n);
  high.set(new Uint8Array(low.buffer, low.byteOffset, n));
  high[n - 1] = TERMINATOR + 1;
  return { low, high };
}

/** The newest version of key with ts <= readTs, or undefined when the key has no such version. */
export function readVersion(engine: EngineReader, key: Uint8Array, readTs: bigint): VersionInfo | undefined {
  for (const e of engine.range({ ...seekBounds(key, readTs), limit: 1 })) {
    return { ts: versionTs(e.key), value: valueView(e.value) };
  }
  return undefined;
}

/**
 * Below this many keys latestVersions seeks each key on its own: one range per key is cheaper than
 * sorting and merging for a handful.
 */
const LATEST_MERGE_KEYS_MIN = 16;

/** escape(key) 0x00 0x01: the part every version key of `key` starts with. */
function versionPrefix(key: Uint8Array): Uint8Array {
  const { buf, len } = escapeKey(key, 2);
  buf[len] = 0x00;
  buf[len + 1] = TERMINATOR;
  return buf;
}

/**
 * Entries a merged walk reads past without meeting an asked key before it seeks again, at the next
 * asked key: older versions of a key already answered, or keys nobody asked about.
 */
const LATEST_WALK_SLACK = 32;

/**
 * The newest version of each key (readVersion at TS_MAX for every key), in the keys' order.
 *
 * Why: a txnWrite of a COPY chunk or a commit resolving 100,000 intents looked up each key's newest
 * version with its own engine range (a cursor set up, positioned and torn down per key): that was
 * the largest cost of the writer thread in the profile of `pgbench -i` (bench:profile-load). Here
 * the keys are sorted and merged with a walk over the versions from the first asked key on. Between
 * asked keys the store may hold other keys (a sparse set over a big table, or two tables' keys in
 * one commit) or long histories: after LATEST_WALK_SLACK entries without an asked key the walk
 * starts a new range at the next asked key. So each cluster of keys costs one seek, and no key
 * costs more than a seek and a bounded number of entries.
 */
export function latestVersions(engine: EngineReader, keys: readonly Uint8Array[]): Array<VersionInfo | undefined> {
  const n = keys.length;
  const out = new Array<VersionInfo | undefined>(n).fill(undefined);
  if (n < LATEST_MERGE_KEYS_MIN) {
    for (let i = 0; i < n; i++) out[i] = readVersion(engine, keys[i]!, TS_MAX);
    return out;
  }
  const prefixes = keys.map(versionPrefix);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => compareEsc(prefixes[a]!, prefixes[b]!));
  const sorted = order.map((i) => prefixes[i]!);
  const decided = new Uint8Array(n);
  const high = sorted[n - 1]!.slice();
  high[high.length - 1] = TERMINATOR + 1;
  let j = 0;
  while (j < n) {
    let slack = LATEST_WALK_SLACK;
    let seekAgain = false;
    for (const e of engine.range({ low: sorted[j]!, high })) {
      const k = e.key;
      const entryPrefix = new Uint8Array(k.buffer, k.byteOffset, k.length - 8);
      // Asked keys sorted before this entry's key have no version (theirs would have come first).
      while (j < n && compareEsc(sorted[j]!, entryPrefix) < 0) j++;
      if (j === n) break;
      if (decided[j] === 0 && compareEsc(sorted[j]!, entryPrefix) === 0) {
        // The first version met is the newest; the same key may be asked for more than once.
        const v: VersionInfo = { ts: versionTs(k), value: valueView(e.value) };
        for (let m = j; m < n && compareEsc(sorted[m]!, entryPrefix) === 0; m++) {
          out[order[m]!] = v;
          decided[m] = 1;
        }
        slack = LATEST_WALK_SLACK;
        continue;
      }
      if (--slack < 0) {
        seekAgain = true;
        break;
      }
    }
    if (!seekAgain) break;
    // Every key up to the entry where the walk stopped is settled; the next range starts at the
    // first undecided asked key, which sorts after that entry, so each new range moves forward.
    while (j < n && decided[j] === 1) j++;
  }
  return out;
}

/** The value of key at readTs (a view the caller owns), or null when absent or deleted. */
export function mvccGet(engine: EngineReader, key: Uint8Array, readTs: bigint): Uint8Array | null {
  for (const e of engine.range({ ...seekBounds(key, readTs), limit: 1 })) return valueView(e.value);
  return null;
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
  /** Even the first row must fit maxBytes (a page continued over several spans already has rows). */
  mustFit?: boolean;
}

/**
 * A read timestamp prepared for comparing against version keys without BigInt: a version key ends
 * with be64(TS_MAX - commitTs), so "commitTs <= readTs" is "those 8 bytes, as two big-endian u32
 * halves, are >= (TS_MAX - readTs)". Profiling a 100-row scan showed versionTs() (a DataView and
 * BigInt arithmetic per version) and Buffer.subarray() views as the largest MVCC costs per row.
 */
export interface TsBound {
  hi: number;
  lo: number;
}

export function tsBound(readTs: bigint): TsBound {
  const inv = TS_MAX - (readTs >= TS_MAX ? TS_MAX : readTs < 0n ? 0n : readTs);
  return { hi: Number(inv >> 32n), lo: Number(inv & 0xffffffffn) };
}

/** True when the version key's commit timestamp is at or below the bound's read timestamp. */
export function visibleAt(versionKeyBytes: Uint8Array, bound: TsBound): boolean {
  const o = versionKeyBytes.length - 8;
  const k = versionKeyBytes;
  const hi = ((k[o]! << 24) | (k[o + 1]! << 16) | (k[o + 2]! << 8) | k[o + 3]!) >>> 0;
  if (hi !== bound.hi) return hi > bound.hi;
  const lo = ((k[o + 4]! << 24) | (k[o + 5]! << 16) | (k[o + 6]! << 8) | k[o + 7]!) >>> 0;
  return lo >= bound.lo;
}

/** True when version keys a and b belong to the same user key (equal escaped parts). */
function sameUserKey(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  // The last 8 bytes are the timestamp; the 0x00 0x01 terminator is equal in both.
  for (let i = n - VERSION_SUFFIX_BYTES - 1; i >= 0; i--) if (a[i] !== b[i]) return false;
  return true;
}

/** The user key of a version key, as a view when it holds no escaped zero (the engine's arrays are the caller's). */
function userKeyView(versionKeyBytes: Uint8Array): Uint8Array {
  const k = versionKeyBytes;
  const n = k.length - VERSION_SUFFIX_BYTES;
  let zeros = 0;
  for (let i = 0; i < n; i++) if (k[i] === 0) zeros++;
  if (zeros === 0) return new Uint8Array(k.buffer, k.byteOffset, n);
  // Every tenant key holds zeros (the tenant prefix is a u64), so this is the common path.
  const out = new Uint8Array(n - zeros);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const b = k[i]!;
    out[j++] = b;
    if (b === 0) i++; // skip the 0xFF that follows every escaped zero
  }
  return out;
}

/** The stored value as a view (no copy), or null for a tombstone. */
function valueView(stored: Uint8Array): Uint8Array | null {
  if (stored[0] === TOMBSTONE_KIND) return null;
  if (stored[0] !== VALUE_KIND) throw new Error(`corrupt version value: kind byte ${stored[0]}`);
  return new Uint8Array(stored.buffer, stored.byteOffset + 1, stored.length - 1);
}

/**
 * The visible rows of [start, end) at readTs, one page. Forward pages stop before the first row that
 * does not fit and resume there; reverse pages return rows from the end down and resume with an
 * exclusive end just above the first row that did not fit. Returned rows are views into arrays the
 * engine handed over (owned by the caller, never reused), so nothing is copied per row.
 */
export function mvccScan(engine: EngineReader, readTs: bigint, b: ScanBounds): ScanPage {
  const rows: Array<{ key: Uint8Array; value: Uint8Array }> = [];
  let bytes = 0;
  const low = escapedBound(b.start);
  const high = escapedBound(b.end);
  if (!(compareEsc(low, high) < 0)) return { rows, resumeKey: null, bytes };
  const bound = tsBound(readTs);

  // Returns the resume key when the row did not fit (the page is full), else null.
  const offer = (versionKeyBytes: Uint8Array, value: Uint8Array): Uint8Array | null => {
    const key = userKeyView(versionKeyBytes);
    const size = key.length + value.length;
    if (rows.length >= b.maxRows || ((rows.length > 0 || b.mustFit === true) && bytes + size > b.maxBytes)) {
      return b.reverse ? keySuccessor(key) : key.slice();
    }
    rows.push({ key, value });
    bytes += size;
    return null;
  };

  if (!b.reverse) {
    // Versions arrive newest first within each key; the first one at or below readTs decides.
    let current: Uint8Array | null = null;
    let decided = false;
    for (const e of engine.range({ low, high })) {
      const k = e.key;
      if (current === null || !sameUserKey(k, current)) {
        current = k;
        decided = false;
      }
      if (decided) continue;
      if (!visibleAt(k, bound)) continue;
      decided = true;
      const value = valueView(e.value);
      if (value === null) continue;
      const resume = offer(k, value);
      if (resume) return { rows, resumeKey: resume, bytes };
    }
    return { rows, resumeKey: null, bytes };
  }

  // Reverse: versions arrive oldest first within each key; remember the newest at or below readTs
  // and decide when the key changes.
  let current: Uint8Array | null = null;
  let candidate: Uint8Array | null | undefined;
  for (const e of engine.range({ low, high, reverse: true })) {
    const k = e.key;
    if (current === null || !sameUserKey(k, current)) {
      if (current !== null && candidate) {
        const resume = offer(current, candidate);
        if (resume) return { rows, resumeKey: resume, bytes };
      }
      current = k;
      candidate = undefined;
    }
    if (visibleAt(k, bound)) candidate = valueView(e.value);
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

/**
 * Returns a key in [start, end) with a version above ts (a write the snapshot did not see), or null.
 *
 * Only each key's newest version can be above ts (versions are stored newest first), so the scan
 * looks at one version per key: when a key has older versions, it seeks past them instead of
 * reading them. The cost is bounded by the keys in the span, not by their history (a hot key with
 * thousands of versions inside the GC window used to cost thousands of entries per validation).
 */
export function spanWrittenAfter(
  engine: EngineReader,
  start: Uint8Array,
  end: Uint8Array,
  ts: bigint,
): Uint8Array | null {
  let low = escapedBound(start);
  const high = escapedBound(end);
  const bound = tsBound(ts);
  while (compareEsc(low, high) < 0) {
    let current: Uint8Array | null = null;
    let skipFrom: Uint8Array | null = null;
    for (const e of engine.range({ low, high })) {
      const k = e.key;
      if (current !== null && sameUserKey(k, current)) {
        // An older version of a key already judged: jump past all of them.
        skipFrom = current;
        break;
      }
      if (!visibleAt(k, bound)) return userKeyView(k).slice();
      current = k;
    }
    if (skipFrom === null) return null;
    low = pastVersionsOf(skipFrom);
  }
  return null;
}

/** The first engine key after every version of the user key of a version key: escape(k) 00 02. */
function pastVersionsOf(versionKeyBytes: Uint8Array): Uint8Array {
  const n = versionKeyBytes.length - 8;
  const out = new Uint8Array(n);
  out.set(new Uint8Array(versionKeyBytes.buffer, versionKeyBytes.byteOffset, n));
  out[n - 1] = TERMINATOR + 1;
  return out;
}
