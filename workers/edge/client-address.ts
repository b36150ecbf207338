// The client's address as the edge knows it (common/client-address.ts has the protocol):
//   1. the tunnel's signed header, when it verifies with TUNNEL_SECRET and is fresh;
//   2. CF-Connecting-IP, which Cloudflare sets on every request (a client's own copy is replaced);
//   3. "" — unknown (a local client that came neither through the tunnel nor through Cloudflare).
// A bad or stale signature is not an error: the header is ignored, as any header a client may send.
import { CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_SKEW_MS, CLIENT_SIGNATURE_HEADER, clientAddressPayload, normalizeAddress } from "../../common/client-address.ts";
import { parseCidr } from "../../durable-objects/directory/cidr.ts";

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function keyFor(secret: string): Promise<CryptoKey> {
  let k = keys.get(secret);
  if (k === undefined) {
    k = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
    keys.set(secret, k);
  }
  return k;
}

function fromBase64Url(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return null;
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=");
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The tunnel's address header if its signature verifies with `secret` and is fresh; else null. */
export async function verifiedTunnelAddress(headers: Headers, secret: string | undefined, nowMs: number = Date.now()): Promise<string | null> {
  const address = headers.get(CLIENT_ADDRESS_HEADER);
  const signature = headers.get(CLIENT_SIGNATURE_HEADER);
  if (!secret || address === null || signature === null) return null;
  const m = /^(\d{1,15})\.(.+)$/.exec(signature);
  if (!m) return null;
  const tsMs = Number(m[1]);
  if (Math.abs(nowMs - tsMs) > CLIENT_ADDRESS_SKEW_MS) return null;
  const mac = fromBase64Url(m[2]!);
  if (mac === null) return null;
  const good = await crypto.subtle.verify("HMAC", await keyFor(secret), mac as BufferSource, encoder.encode(clientAddressPayload(address, tsMs)));
  return good ? validAddress(address) : null;
}

/** The client's address for throttling, deny lists and allowed networks ("" when unknown). */
export async function clientAddress(headers: Headers, tunnelSecret: string | undefined): Promise<string> {
  const tunnelled = await verifiedTunnelAddress(headers, tunnelSecret);
  if (tunnelled !== null) return tunnelled;
  return validAddress(headers.get("cf-connecting-ip") ?? "") ?? "";
}

/** The address in canonical form when it is an IP address; null otherwise. */
function validAddress(text: string): string | null {
  const a = normalizeAddress(text);
  if (a === "" || a.includes("/")) return null;
  return "problem" in parseCidr(a) ? null : a;
}
