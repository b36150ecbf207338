// How MVCC versions are laid out in the engine's one ordered keyspace.
//
//   version key   = escape(userKey) 0x00 0x01 be64(TS_MAX - commitTs)
//   version value = 0x00 value bytes      (a value)
//                 | 0x01                  (a tombstone: the key was deleted at commitTs)
//
// escape() turns every 0x00 byte into 0x00 0xFF. Escaped keys never contain 0x00 0x01, so the
// terminator ends the key unambiguously, and byte order of escape(k) + terminator equals byte
// order of k (a key sorts before its own extensions: "a" 00 01 < "a" 00 FF ...). Hence:
//   - all versions of one user key are adjacent, newest first (the timestamp is inverted);
//   - the versions of user keys in [start, end) are exactly the version keys in
//     [escape(start), escape(end)) (escape(start) is a prefix-bound of every key >= start).
// Node-local metadata lives under first bytes below 0x74 (node-keys.ts); every tenant key starts
// with 0x74 and escaping keeps that first byte, so the two never mix.

export const TS_MAX = (1n << 64n) - 1n;
export const TERMINATOR = 0x01;
export const VERSION_SUFFIX_BYTES = 10; // 0x00 0x01 + 8 timestamp bytes

export const VALUE_KIND = 0x00;
export const TOMBSTONE_KIND = 0x01;

export function escapeKey(key: Uint8Array, extra = 0): { buf: Uint8Array; len: number } {
  let zeros = 0;
  for (let i = 0; i < key.length; i++) if (key[i] === 0) zeros++;
  const buf = new Uint8Array(key.length + zeros + extra);
  if (zeros === 0) {
    buf.set(key);
    return { buf, len: key.length };
  }
  let j = 0;
  for (let i = 0; i < key.length; i++) {
    const b = key[i]!;
    buf[j++] = b;
    if (b === 0) buf[j++] = 0xff;
  }
  return { buf, len: j };
}

/** escape(key) alone: the lower bound of key's versions and of every key after it. */
export function escapedBound(key: Uint8Array): Uint8Array {
  return escapeKey(key).buf;
}

export function versionKey(userKey: Uint8Array, commitTs: bigint): Uint8Array {
  const { buf, len } = escapeKey(userKey, VERSION_SUFFIX_BYTES);
  buf[len] = 0x00;
  buf[len + 1] = TERMINATOR;
  new DataView(buf.buffer).setBigUint64(len + 2, TS_MAX - commitTs, false);
  return buf;
}

/** [first, end) bounds covering every version of userKey. */
export function versionBounds(userKey: Uint8Array): { low: Uint8Array; high: Uint8Array } {
  const { buf, len } = escapeKey(userKey, 2);
  buf[len] = 0x00;
  buf[len + 1] = TERMINATOR;
  const high = buf.slice();
  high[len + 1] = TERMINATOR + 1;
  return { low: buf, high };
}

export function versionTs(versionKeyBytes: Uint8Array): bigint {
  const off = versionKeyBytes.length - 8;
  const view = new DataView(versionKeyBytes.buffer, versionKeyBytes.byteOffset + off, 8);
  return TS_MAX - view.getBigUint64(0, false);
}

/** The escaped user key part of a version key (a view, no copy). */
export function escapedPart(versionKeyBytes: Uint8Array): Uint8Array {
  return versionKeyBytes.subarray(0, versionKeyBytes.length - VERSION_SUFFIX_BYTES);
}

export function unescapeKey(escaped: Uint8Array): Uint8Array {
  let zeros = 0;
  for (let i = 0; i < escaped.length; i++) if (escaped[i] === 0) zeros++;
  if (zeros === 0) return escaped.slice();
  const out = new Uint8Array(escaped.length - zeros);
  let j = 0;
  for (let i = 0; i < escaped.length; i++) {
    const b = escaped[i]!;
    out[j++] = b;
    if (b === 0) i++; // skip the 0xFF that follows every escaped zero
  }
  return out;
}

export function userKeyOf(versionKeyBytes: Uint8Array): Uint8Array {
  return unescapeKey(escapedPart(versionKeyBytes));
}

export function encodeVersionValue(value: Uint8Array | null): Uint8Array {
  if (value === null) return new Uint8Array([TOMBSTONE_KIND]);
  const out = new Uint8Array(value.length + 1);
  out[0] = VALUE_KIND;
  out.set(value, 1);
  return out;
}

/** The stored value (a view), or null for a tombstone. */
export function decodeVersionValue(stored: Uint8Array): Uint8Array | null {
  if (stored[0] === TOMBSTONE_KIND) return null;
  if (stored[0] !== VALUE_KIND) throw new Error(`corrupt version value: kind byte ${stored[0]}`);
  return stored.subarray(1);
}

/** The immediate successor of a key in byte order: key + 0x00. */
export function keySuccessor(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}
