// BackendKeyData for Warren sessions: the (processId, secretKey) pair a client must present in a
// CancelRequest. A CancelRequest arrives on a fresh connection, at any edge isolate, carrying only
// those 63 bits (a positive Int32 and an Int32), so the pair itself has to say which tenant's
// gateway the session runs in, and must be unforgeable. It is an encryption, under a key only the
// edge holds, of (tenant id, random nonce):
//
//   plaintext   A = nonce (31 random bits)        B = tenant id (32 bits)
//   8 rounds    even r: A ^= F(r, B) mod 2^31     odd r: B ^= F(r, A)      F = HMAC-SHA256(K, r ‖ x)[0..4)
//   ciphertext  processId = A (1 … 2^31-1)        secretKey = B as Int32
//
// An alternating (unbalanced) Feistel network is a pseudorandom permutation of the 63-bit space for
// a keyed PRF F, so the pair decrypts back to exactly one (tenant, nonce), and without K every pair
// looks random: holding one's own pairs tells nothing about anyone else's (unlike tenant XOR
// PRF(processId), where a pair reveals PRF(processId) and with it every other tenant's key for that
// same process id). workers/edge/README.md has the whole argument.
//
// K = HMAC-SHA256(FLEET_SECRET, "warren/pgwire-backend-key/v1"): derived, so that the fleet secret
// itself is never used as this key, and no second secret has to be deployed. Rotating FLEET_SECRET
// makes the pairs of open sessions undecodable (they cannot be cancelled until they reconnect).
import type { BackendKey } from "../../gateway/pgwire/backends.ts";

const ROUNDS = 8;
const KEY_LABEL = "warren/pgwire-backend-key/v1";
const MASK31 = 0x7fffffff;

export class BackendKeyCodec {
  private readonly key: CryptoKey;

  private constructor(key: CryptoKey) {
    this.key = key;
  }

  static async fromSecret(secret: string): Promise<BackendKeyCodec> {
    const enc = new TextEncoder();
    const master = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const derived = new Uint8Array(await crypto.subtle.sign("HMAC", master, enc.encode(KEY_LABEL)));
    return new BackendKeyCodec(await crypto.subtle.importKey("raw", derived, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]));
  }

  /** A fresh pair for a session of `tenantId` (a non-negative 32-bit integer). */
  async issue(tenantId: number): Promise<BackendKey> {
    if (!Number.isInteger(tenantId) || tenantId < 0 || tenantId > 0xffffffff) throw new Error(`internal: tenant id ${tenantId} does not fit 32 bits`);
    for (;;) {
      const nonce = crypto.getRandomValues(new Uint32Array(1))[0]! & MASK31;
      const key = await this.encrypt(nonce, tenantId);
      // Process id 0 means "no process" to some clients; draw again (probability 2^-31).
      if (key.processId !== 0) return key;
    }
  }

  /** The tenant id a pair was issued for; a forged or altered pair yields an unrelated id. */
  async tenantOf(key: BackendKey): Promise<number> {
    let a = key.processId & MASK31;
    let b = key.secretKey >>> 0;
    for (let r = ROUNDS - 1; r >= 0; r--) {
      if (r % 2 === 0) a = (a ^ (await this.round(r, b))) & MASK31;
      else b = (b ^ (await this.round(r, a))) >>> 0;
    }
    return b;
  }

  private async encrypt(nonce: number, tenantId: number): Promise<BackendKey> {
    let a = nonce & MASK31;
    let b = tenantId >>> 0;
    for (let r = 0; r < ROUNDS; r++) {
      if (r % 2 === 0) a = (a ^ (await this.round(r, b))) & MASK31;
      else b = (b ^ (await this.round(r, a))) >>> 0;
    }
    return { processId: a, secretKey: b | 0 };
  }

  /** F(r, x): the first 32 bits of HMAC-SHA256(K, r ‖ x). */
  private async round(r: number, x: number): Promise<number> {
    const input = new Uint8Array(5);
    input[0] = r;
    new DataView(input.buffer).setUint32(1, x >>> 0, false);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", this.key, input));
    return new DataView(mac.buffer).getUint32(0, false);
  }
}
