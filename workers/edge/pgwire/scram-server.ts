// The server side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as Postgres runs it in a SASL exchange:
//
//   client-first   n,,n=<ignored>,r=<client nonce>            (SASLInitialResponse)
//   server-first   r=<client nonce + server nonce>,s=<salt>,i=<iterations>   (AuthenticationSASLContinue)
//   client-final   c=biws,r=<nonce>,p=<ClientProof>           (SASLResponse)
//   server-final   v=<ServerSignature>                         (AuthenticationSASLFinal)
//
// It needs only the stored verifier (StoredKey, ServerKey, salt, iterations), never the password:
//   ClientSignature = HMAC(StoredKey, AuthMessage); ClientKey = ClientProof XOR ClientSignature;
//   the proof is right when SHA-256(ClientKey) = StoredKey.
// Like Postgres, the user name inside the SCRAM message is ignored (the StartupMessage's user
// counts), and channel binding is not offered (TLS ends before the WebSocket reaches us), so a
// client that demands it ("p=…") is refused.
import { PgError } from "../../../common/errors.ts";
// Base64 and HMAC are the verifier module's, so the stored verifier and the exchange agree byte for byte.
import { fromBase64, hmac, timingSafeEqual, toBase64, type ScramVerifier } from "../../../durable-objects/router/scram.ts";

export const SCRAM_MECHANISM = "SCRAM-SHA-256";
/** Bytes of randomness in the server's part of the nonce (Postgres uses 18). */
const SERVER_NONCE_BYTES = 18;

function malformed(what: string): PgError {
  return new PgError("protocol_violation", `malformed SCRAM message (${what})`);
}

/** Attributes `a=value,b=value` in order; values may contain '=' but not ','. */
function attributes(text: string, what: string): Array<[string, string]> {
  return text.split(",").map((part) => {
    if (!/^[A-Za-z]=/.test(part)) throw malformed(what);
    return [part[0]!, part.slice(2)];
  });
}

export class ScramServerExchange {
  private readonly verifier: ScramVerifier;
  /** The server's part of the nonce. */
  private readonly serverNonce: string;
  private clientFirstBare = "";
  private serverFirst = "";
  private gs2Header = "";
  private nonce = "";

  /** `serverNonce` is for test vectors only; normally it is random. */
  constructor(verifier: ScramVerifier, serverNonce?: string) {
    this.verifier = verifier;
    this.serverNonce = serverNonce ?? toBase64(crypto.getRandomValues(new Uint8Array(SERVER_NONCE_BYTES)));
  }

  /** client-first-message → server-first-message. Throws 08P01 for a malformed message. */
  clientFirst(message: string): string {
    const m = /^([ny]|p=[^,]*),([^,]*),(.*)$/.exec(message);
    if (!m) throw malformed("client-first-message");
    if (m[1]!.startsWith("p=")) {
      throw new PgError("protocol_violation", "channel binding is not supported on this connection", {
        hint: "Connect with channel_binding=disable (TLS ends before the WebSocket reaches Warren).",
      });
    }
    if (m[2] !== "") throw new PgError("feature_not_supported", "SCRAM authorization identities (a=…) are not supported");
    this.gs2Header = `${m[1]},${m[2]},`;
    this.clientFirstBare = m[3]!;
    const attrs = attributes(this.clientFirstBare, "client-first-message");
    if (attrs[0]?.[0] === "m") throw new PgError("feature_not_supported", "SCRAM extensions are not supported");
    const clientNonce = attrs.find(([k]) => k === "r")?.[1];
    if (attrs[0]?.[0] !== "n" || clientNonce === undefined || clientNonce === "" || !/^[\x21-\x2b\x2d-\x7e]+$/.test(clientNonce)) {
      throw malformed("client-first-message nonce");
    }
    this.nonce = clientNonce + this.serverNonce;
    this.serverFirst = `r=${this.nonce},s=${toBase64(this.verifier.salt)},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /**
   * client-final-message → server-final-message ("v=…") when the proof is right, or null when the
   * password is wrong. Throws 08P01 for a malformed message or a nonce / binding mismatch.
   */
  async clientFinal(message: string): Promise<string | null> {
    const attrs = attributes(message, "client-final-message");
    const last = attrs[attrs.length - 1];
    if (attrs[0]?.[0] !== "c" || attrs[1]?.[0] !== "r" || last?.[0] !== "p" || attrs.length < 3) throw malformed("client-final-message");
    const binding = fromBase64(attrs[0][1]);
    if (binding === null || new TextDecoder().decode(binding) !== this.gs2Header) {
      throw new PgError("protocol_violation", "SCRAM channel binding check failed");
    }
    if (attrs[1][1] !== this.nonce) throw new PgError("protocol_violation", "SCRAM nonce does not match");
    const proof = fromBase64(last[1]);
    if (proof === null || proof.length !== 32) throw malformed("client proof");
    const withoutProof = message.slice(0, message.lastIndexOf(",p="));
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = await hmac(this.verifier.storedKey, authMessage);
    const clientKey = proof.map((b, i) => b ^ clientSignature[i]!);
    const storedKey = new Uint8Array(await crypto.subtle.digest("SHA-256", clientKey as BufferSource));
    if (!timingSafeEqual(storedKey, this.verifier.storedKey)) return null;
    return `v=${toBase64(await hmac(this.verifier.serverKey, authMessage))}`;
  }
}
