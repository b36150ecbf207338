// The sealed handle of an interactive HTTP transaction (the Warren-Transaction header): the
// gateway's transaction state, encrypted and authenticated by the edge with a key the gateway
// never sees, so a client can neither read it nor alter it, and any edge isolate holding the key
// can open it again.
//
//   wtx1.<tenant id>.<base64url( nonce (12 bytes) ‖ AES-256-GCM( expiresAtMs (u64 BE) ‖ state ) )>
//   (state: the gateway's compressed transaction state, workers/gateway/http/txn-state-codec.ts)
//   additional authenticated data: "wtx1.<tenant id>"
//
// - Key: HKDF-SHA-256(TXN_HANDLE_SECRET, info "warren/txn-handle/v1") → AES-256-GCM. The secret is
//   the edge's alone (not the storage fleet's FLEET_SECRET): the gateway isolate gets neither.
// - The tenant id is in the clear so that another tenant's handle gets a message that says so; it
//   is also the AAD, so changing it makes the tag check fail (a handle opens only for its tenant).
// - Nonces are 96 random bits: with one key, 2^32 handles keep the chance of a repeat below 2^-32
//   (NIST SP 800-38D's bound for random nonces); rotate TXN_HANDLE_SECRET long before that. A
//   rotation ends every open HTTP transaction (its handle no longer opens: 25000).
// - The expiry is inside the ciphertext and fixed when the transaction began (BEGIN): continuing a
//   transaction never extends it (limits.txnHandleLifetimeMs says why it is short).
import { PgError } from "../../common/errors.ts";
import { TXN_STATE_BYTES_MAX } from "../gateway/edge-contract.ts";
import { limits } from "./limits.ts";

/** The client-facing header, request and response. */
export const TXN_HANDLE_HEADER = "Warren-Transaction";

const VERSION = "wtx1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const EXPIRY_BYTES = 8;
const encoder = new TextEncoder();

/** Longest handle accepted: a state at the gateway's bound, sealed and in base64url, plus the prefix. */
export const txnHandleCharsMax = Math.ceil(((TXN_STATE_BYTES_MAX + EXPIRY_BYTES + NONCE_BYTES + TAG_BYTES) * 4) / 3) + 32;

function base64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

function invalid(message: string): PgError {
  return new PgError("invalid_transaction_state", message, {
    hint: "Send back the Warren-Transaction value of the latest response of the same virtual cluster unchanged, or start a new transaction with BEGIN.",
  });
}

export interface OpenedHandle {
  expiresAtMs: number;
  /** The transaction state as the gateway produced it (compressed bytes). */
  state: Uint8Array;
}

export class TxnHandleSealer {
  private readonly key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.key = key;
  }

  static async fromSecret(secret: string): Promise<TxnHandleSealer> {
    const material = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
    const key = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: encoder.encode("warren/txn-handle/v1") },
      material,
      { name: "AES-GCM", length: 256 },
      false,
      ["encrypt", "decrypt"],
    );
    return new TxnHandleSealer(key);
  }

  async seal(tenantId: number, expiresAtMs: number, state: Uint8Array): Promise<string> {
    const body = state;
    const plain = new Uint8Array(EXPIRY_BYTES + body.byteLength);
    new DataView(plain.buffer).setBigUint64(0, BigInt(expiresAtMs));
    plain.set(body, EXPIRY_BYTES);
    const nonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
    const aad = encoder.encode(`${VERSION}.${tenantId}`);
    const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce, additionalData: aad }, this.key, plain));
    const out = new Uint8Array(NONCE_BYTES + sealed.byteLength);
    out.set(nonce);
    out.set(sealed, NONCE_BYTES);
    return `${VERSION}.${tenantId}.${base64url(out)}`;
  }

  /** Opens a handle for `tenantId`; every way it can be wrong is a PgError, and nothing else happens. */
  async open(handle: string, tenantId: number, nowMs: number): Promise<OpenedHandle> {
    if (handle.length > txnHandleCharsMax) {
      throw new PgError("program_limit_exceeded", `the Warren-Transaction header is ${handle.length} characters; the limit is ${txnHandleCharsMax}`);
    }
    const m = /^wtx1\.([0-9]{1,10})\.([A-Za-z0-9_-]+)$/.exec(handle.trim());
    if (m === null) throw invalid("the Warren-Transaction header is not a transaction handle");
    if (Number(m[1]) !== tenantId) throw invalid("the transaction handle belongs to another virtual cluster");
    const bytes = fromBase64url(m[2]!);
    if (bytes === null || bytes.byteLength < NONCE_BYTES + TAG_BYTES + EXPIRY_BYTES) throw invalid("the transaction handle is malformed");
    let plain: Uint8Array;
    try {
      const aad = encoder.encode(`${VERSION}.${tenantId}`);
      plain = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: bytes.subarray(0, NONCE_BYTES), additionalData: aad }, this.key, bytes.subarray(NONCE_BYTES)));
    } catch {
      throw invalid("the transaction handle is not valid: it was altered, forged, or sealed with another key");
    }
    const expiresAtMs = Number(new DataView(plain.buffer, plain.byteOffset).getBigUint64(0));
    if (nowMs >= expiresAtMs) {
      throw new PgError("idle_in_transaction_session_timeout", `the transaction of this handle expired at ${new Date(expiresAtMs).toISOString()} and was rolled back`, {
        hint: `An HTTP transaction lasts at most ${limits.txnHandleLifetimeMs / 1000} s from its BEGIN; start a new one, or use the WebSocket for long transactions.`,
      });
    }
    return { expiresAtMs, state: plain.slice(EXPIRY_BYTES) };
  }
}
