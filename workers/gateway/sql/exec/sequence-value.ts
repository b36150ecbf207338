// A sequence's value as stored under its data id (nextval/setval in ../sequences.ts write it
// outside the transaction; ALTER SEQUENCE … RESTART WITH writes it in its transaction).
import { decodeI64, encodeI64 } from "../../catalog/keyspace.ts";

/**
 * A sequence's stored value: 8 bytes (encodeI64) hold the last value handed out (is_called);
 * the same 8 bytes and a 0 byte hold the next value to hand out after setval(…, false), which
 * SELECT … FROM the sequence reports as is_called = false (pg_dump dumps that state). No value
 * stored: nothing handed out yet, the next is the sequence's START.
 */
export function encodeNotCalled(value: bigint): Uint8Array {
  const out = new Uint8Array(9);
  out.set(encodeI64(value));
  return out;
}

export function isNotCalled(stored: Uint8Array): boolean {
  return stored.length === 9;
}

/** The last value handed out, as nextval computes from it (one increment before a not-called value). */
export function lastHandedOut(stored: Uint8Array, increment: bigint): bigint {
  const v = decodeI64(stored);
  return isNotCalled(stored) ? v - increment : v;
}
