// A transaction as JSON-safe data: what the gateway gives a stateless client (HTTP interactive
// transactions) to bring back with its next request, possibly to another gateway instance.
// Sealing it (signing / encrypting, so a client can neither read nor forge it) is the caller's
// job; this module only turns the coordinator's state into plain JSON values and back.
import { PgError } from "../../../common/errors.ts";
import type { TxnState } from "./txn.ts";

export interface TxnHandleData {
  v: 1;
  txnId: string;
  readOnly: boolean;
  readTs: string | null;
  readSpans: Array<[string, string]>;
  writes: Array<[string, string | null]>;
  rangeDeletes: Array<[string, string]>;
  /** Spans cleared (clearRange); absent in handles made before clears existed. */
  rangeClears?: Array<[string, string]>;
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function unb64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export function txnStateToData(s: TxnState): TxnHandleData {
  return {
    v: 1,
    txnId: b64(s.txnId),
    readOnly: s.readOnly,
    readTs: s.readTs === null ? null : s.readTs.toString(),
    readSpans: s.readSpans.map(([a, b]) => [b64(a), b64(b)]),
    writes: s.buffer.writes.map(([k, v]) => [b64(k), v === null ? null : b64(v)]),
    rangeDeletes: s.buffer.rangeDeletes.map(([a, b]) => [b64(a), b64(b)]),
    ...(s.buffer.rangeClears !== undefined ? { rangeClears: s.buffer.rangeClears.map(([a, b]): [string, string] => [b64(a), b64(b)]) } : {}),
  };
}

export function txnStateFromData(d: TxnHandleData): TxnState {
  if (d === null || typeof d !== "object" || d.v !== 1) throw new PgError("invalid_transaction_state", "transaction handle is not valid");
  try {
    return {
      txnId: unb64(d.txnId),
      readOnly: d.readOnly === true,
      readTs: d.readTs === null ? null : BigInt(d.readTs),
      readSpans: d.readSpans.map(([a, b]) => [unb64(a), unb64(b)]),
      buffer: {
        writes: d.writes.map(([k, v]) => [unb64(k), v === null ? null : unb64(v)]),
        rangeDeletes: d.rangeDeletes.map(([a, b]) => [unb64(a), unb64(b)]),
        ...(d.rangeClears !== undefined ? { rangeClears: d.rangeClears.map(([a, b]): [Uint8Array, Uint8Array] => [unb64(a), unb64(b)]) } : {}),
      },
    };
  } catch {
    throw new PgError("invalid_transaction_state", "transaction handle is malformed");
  }
}
