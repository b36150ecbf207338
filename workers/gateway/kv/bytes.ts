// Byte-string helpers shared by the KV client, the transaction's write buffer and the test KV.

// Bytewise order and equality are the storage node's own (common/bytes.ts): one definition.
export { bytesEqual, compareBytes } from "../../../common/bytes.ts";

/**
 * A string whose JavaScript ordering equals the byte ordering of `key` (one UTF-16 unit per byte),
 * so keys can live in Maps and be sorted with the fast native string comparison.
 */
export function keyString(key: Uint8Array): string {
  // Keys are short (tens of bytes): a plain loop beats spreading into fromCharCode by ~5x.
  if (key.length <= 256) {
    let s = "";
    for (let i = 0; i < key.length; i++) s += String.fromCharCode(key[i]!);
    return s;
  }
  let s = "";
  for (let i = 0; i < key.length; i += 4096) {
    s += String.fromCharCode.apply(null, key.subarray(i, Math.min(key.length, i + 4096)) as unknown as number[]);
  }
  return s;
}

export function keyFromString(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The immediate successor of `key` in byte order (`key` followed by 0x00): [key, keyNext(key)) spans exactly `key`. */
export function keyNext(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1);
  out.set(key);
  return out;
}

/** The first key after every key that starts with `prefix` (null when the prefix is all 0xff). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | null {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i] !== 0xff) {
      const out = prefix.slice(0, i + 1);
      out[i]!++;
      return out;
    }
  }
  return null;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
