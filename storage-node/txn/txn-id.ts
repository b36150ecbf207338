// Identity helpers for transaction ids and lock keys on the HTTP thread.

export function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** A lock's key: the raw user key as a latin1 string (one char per byte, order-preserving). */
export function lockKeyOf(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1");
}
