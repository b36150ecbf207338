// Tenant authentication: every request carries `Authorization: Bearer wt1.<tenant>.<exp>.<sig>`
// (common/tenant-token.ts). Verified tokens are cached (token -> claims) so the HMAC runs once per
// token rather than once per request; expiry is still checked on every use.
import type { KvError } from "../common/kv-protocol/messages.ts";
import { TokenError, verifyTenantToken, type TenantClaims } from "../common/tenant-token.ts";

export class TokenVerifier {
  private readonly secret: string;
  private readonly cacheMax: number;
  private readonly headerBytesMax: number;
  private readonly cache = new Map<string, TenantClaims>();

  constructor(secret: string, cacheMax: number, headerBytesMax: number) {
    this.secret = secret;
    this.cacheMax = cacheMax;
    this.headerBytesMax = headerBytesMax;
  }

  /** The tenant the request speaks for, or the error to refuse it with. */
  async verify(header: string | undefined, nowMs: number): Promise<TenantClaims | KvError> {
    if (header === undefined || header === "") {
      return { code: "unauthenticated", message: "missing Authorization header: send `Authorization: Bearer <tenant token>`" };
    }
    if (header.length > this.headerBytesMax) return { code: "unauthenticated", message: "Authorization header is too long" };
    if (!header.startsWith("Bearer ")) return { code: "unauthenticated", message: "Authorization header must be `Bearer <tenant token>`" };
    const token = header.slice(7).trim();
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.expiresAtMs <= nowMs) {
        this.cache.delete(token);
        return { code: "token_expired", message: "tenant token has expired; fetch a fresh one" };
      }
      return cached;
    }
    try {
      const claims = await verifyTenantToken(this.secret, token, nowMs);
      if (this.cache.size >= this.cacheMax) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
      this.cache.set(token, claims);
      return claims;
    } catch (err) {
      if (err instanceof TokenError) {
        if (err.reason === "expired") return { code: "token_expired", message: "tenant token has expired; fetch a fresh one" };
        return { code: "unauthenticated", message: `invalid tenant token: ${err.message}` };
      }
      throw err;
    }
  }
}
