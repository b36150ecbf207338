// Tenant credentials for the storage fleet: a signed token naming one tenant and an expiry.
//
//   wt1.<tenantId>.<expiresAtMs>.<signature>
//
// signature = base64url(HMAC-SHA256(fleetSecret, "wt1.<tenantId>.<expiresAtMs>")). The control plane
// (the edge Worker's TenantKV) mints tokens; every storage node verifies them with the same shared
// secret. The system tenant (id 1) uses the same form. Web Crypto only, so the same module runs in
// workerd and in Node.

import { assertTenantId } from "./tenant-prefix.ts";

export const TOKEN_VERSION = "wt1";
/** A token's lifetime bound: long enough to be cached across many requests, short enough to expire a revoked tenant soon. */
export const TOKEN_TTL_MS_MAX = 15 * 60 * 1000;
/** Tokens are short ASCII strings; anything longer is rejected before parsing. */
export const TOKEN_BYTES_MAX = 256;
/**
 * How far the minting clock may run ahead of the verifying one. A token's claimed expiry is
 * trusted only up to now + TOKEN_TTL_MS_MAX + this: whatever expiry a token claims (a minting bug,
 * a leaked secret used to mint a "forever" token), a verifier never honours it for longer than the
 * lifetime bound. One minute covers NTP-synchronised hosts with a wide margin.
 */
export const TOKEN_CLOCK_SKEW_MS_MAX = 60 * 1000;

export interface TenantClaims {
  tenantId: number;
  expiresAtMs: number;
}

export type TokenFailure = "malformed" | "bad_signature" | "expired";

export class TokenError extends Error {
  readonly reason: TokenFailure;
  constructor(reason: TokenFailure, message: string) {
    super(message);
    this.name = "TokenError";
    this.reason = reason;
  }
}

const encoder = new TextEncoder();
const keyCache = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    if (secret.length < 16) throw new RangeError("fleet secret must be at least 16 characters");
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

function toBase64Url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * The bytes of an unpadded base64url text, or null. Only the canonical encoding is accepted: the
 * unused low bits of the last character must be zero (atob ignores them, so without this check
 * several spellings of one signature would verify, and a token would not be a unique string).
 */
function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  return toBase64Url(bytes) === text ? bytes : null;
}

export async function mintTenantToken(secret: string, claims: TenantClaims): Promise<string> {
  assertTenantId(claims.tenantId);
  if (!Number.isSafeInteger(claims.expiresAtMs) || claims.expiresAtMs < 0) throw new RangeError("invalid expiry");
  const payload = `${TOKEN_VERSION}.${claims.tenantId}.${claims.expiresAtMs}`;
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(payload)));
  return `${payload}.${toBase64Url(sig)}`;
}

/** Verifies signature and expiry; throws TokenError with the reason. */
export async function verifyTenantToken(secret: string, token: string, nowMs: number): Promise<TenantClaims> {
  if (token.length > TOKEN_BYTES_MAX) throw new TokenError("malformed", "token is too long");
  const parts = token.split(".");
  if (parts.length !== 4 || parts[0] !== TOKEN_VERSION) throw new TokenError("malformed", "token is not a wt1 token");
  const [, idText, expText, sigText] = parts as [string, string, string, string];
  if (!/^[1-9][0-9]{0,15}$/.test(idText) || !/^[0-9]{1,16}$/.test(expText)) {
    throw new TokenError("malformed", "token fields are not decimal integers");
  }
  const tenantId = Number(idText);
  const expiresAtMs = Number(expText);
  if (!Number.isSafeInteger(tenantId) || !Number.isSafeInteger(expiresAtMs)) {
    throw new TokenError("malformed", "token fields are out of range");
  }
  const sig = fromBase64Url(sigText);
  if (!sig || sig.length !== 32) throw new TokenError("malformed", "token signature is not 32 bytes of base64url");
  const payload = encoder.encode(`${TOKEN_VERSION}.${idText}.${expText}`);
  const ok = await crypto.subtle.verify("HMAC", await hmacKey(secret), sig, payload);
  if (!ok) throw new TokenError("bad_signature", "token signature does not match");
  if (expiresAtMs <= nowMs) throw new TokenError("expired", "token has expired");
  if (expiresAtMs > nowMs + TOKEN_TTL_MS_MAX + TOKEN_CLOCK_SKEW_MS_MAX) {
    throw new TokenError("malformed", `token claims a lifetime beyond the ${TOKEN_TTL_MS_MAX / 60_000}-minute bound`);
  }
  return { tenantId, expiresAtMs };
}
