// SCRAM-SHA-256 password verifiers (RFC 5802 / RFC 7677), stored the way Postgres stores them in
// pg_authid.rolpassword:
//
//   SCRAM-SHA-256$<iterations>:<salt base64>$<StoredKey base64>:<ServerKey base64>
//
//   SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations, 32 bytes)
//   ClientKey      = HMAC(SaltedPassword, "Client Key")     StoredKey = SHA-256(ClientKey)
//   ServerKey      = HMAC(SaltedPassword, "Server Key")
//
// The password itself is never stored. The same verifier serves a full SCRAM exchange on the wire
// protocol later (it holds exactly what the server side of SCRAM needs) and the cleartext check
// used by the HTTP API today (recompute StoredKey from the offered password, compare in constant
// time). Passwords are taken as their UTF-8 bytes; Postgres applies SASLprep first, which only
// changes passwords with unusual Unicode (it falls back to raw bytes itself when SASLprep fails).
// Web Crypto only: runs in workerd and in Node.

export const SCRAM_ITERATIONS = 4096;
export const SCRAM_SALT_BYTES = 16;

export interface ScramVerifier {
  iterations: number;
  salt: Uint8Array;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

const encoder = new TextEncoder();

export function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** HMAC-SHA-256 of a UTF-8 message (the SCRAM exchange signs its AuthMessage with it too). */
export async function hmac(key: Uint8Array, message: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey("raw", key as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, encoder.encode(message)));
}

export async function saltedPassword(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    base,
    256,
  );
  return new Uint8Array(bits);
}

async function keysFor(password: string, salt: Uint8Array, iterations: number) {
  const salted = await saltedPassword(password, salt, iterations);
  const clientKey = await hmac(salted, "Client Key");
  const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey as BufferSource));
  const serverKey = await hmac(salted, "Server Key");
  return { storedKey, serverKey };
}

/** A verifier with a fresh random salt (or the given one, for test vectors). */
export async function makeVerifier(
  password: string,
  iterations = SCRAM_ITERATIONS,
  salt: Uint8Array = crypto.getRandomValues(new Uint8Array(SCRAM_SALT_BYTES)),
): Promise<ScramVerifier> {
  const { storedKey, serverKey } = await keysFor(password, salt, iterations);
  return { iterations, salt, storedKey, serverKey };
}

export function formatVerifier(v: ScramVerifier): string {
  return `SCRAM-SHA-256$${v.iterations}:${toBase64(v.salt)}$${toBase64(v.storedKey)}:${toBase64(v.serverKey)}`;
}

export function parseVerifier(text: string): ScramVerifier | null {
  const m = /^SCRAM-SHA-256\$([1-9][0-9]{0,6}):([^$]+)\$([^:]+):(.+)$/.exec(text);
  if (!m) return null;
  const salt = fromBase64(m[2]!);
  const storedKey = fromBase64(m[3]!);
  const serverKey = fromBase64(m[4]!);
  if (!salt || !storedKey || !serverKey || storedKey.length !== 32 || serverKey.length !== 32) return null;
  return { iterations: Number(m[1]), salt, storedKey, serverKey };
}

/** Equal-length byte comparison whose time does not depend on where the first difference is. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** True when `password` produces the verifier's StoredKey (and ServerKey). */
export async function checkPassword(v: ScramVerifier, password: string): Promise<boolean> {
  const { storedKey, serverKey } = await keysFor(password, v.salt, v.iterations);
  // Both comparisons always run, so a mismatch in either takes the same time.
  const okStored = timingSafeEqual(storedKey, v.storedKey);
  const okServer = timingSafeEqual(serverKey, v.serverKey);
  return okStored && okServer;
}
