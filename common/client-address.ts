// How `warren tunnel` tells the edge the address of the client it carries, in a way the edge
// trusts only from the tunnel: two headers on the WebSocket upgrade,
//
//   x-warren-client-address    the client's IP address as the tunnel saw it (socket.remoteAddress)
//   x-warren-client-signature  "<tsMs>.<base64url HMAC-SHA256(TUNNEL_SECRET, payload)>"
//                              payload = "warren/client-address/v1\n<address>\n<tsMs>"
//
// The edge accepts the address only when the signature verifies with its TUNNEL_SECRET and tsMs is
// within CLIENT_ADDRESS_SKEW_MS of its clock (a captured header is useless a minute later and names
// only that address anyway). Anything else falls back to CF-Connecting-IP (which Cloudflare sets
// and a client cannot), then to "" (unknown). Shared by the tunnel (Node) and the edge (workerd).
export const CLIENT_ADDRESS_HEADER = "x-warren-client-address";
export const CLIENT_SIGNATURE_HEADER = "x-warren-client-signature";

/** How far a signature's time may be from the edge's clock: the tunnel signs each upgrade as it sends it. */
export const CLIENT_ADDRESS_SKEW_MS = 60_000;

export function clientAddressPayload(address: string, tsMs: number): string {
  return `warren/client-address/v1\n${address}\n${tsMs}`;
}

/**
 * An address in canonical text for comparisons: IPv4-mapped IPv6 (::ffff:1.2.3.4, as Node reports
 * IPv4 clients of a dual-stack socket) becomes plain IPv4; IPv6 is lowercased.
 */
export function normalizeAddress(address: string): string {
  const a = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  return mapped ? mapped[1]! : a;
}
