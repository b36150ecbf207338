// The tunnel's signed address (signed in Node by cli/client-address-signer.ts) is believed only
// with the right secret, unaltered and fresh; otherwise CF-Connecting-IP, otherwise unknown.
import { describe, expect, it } from "vitest";
import { signedClientAddressHeaders } from "./client-address-signer.ts";
import { CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_SKEW_MS } from "../common/client-address.ts";
import { clientAddress, verifiedTunnelAddress } from "../workers/edge/client-address.ts";

const SECRET = "tunnel-secret-0123456789abcdef0123456789";

describe("client address", () => {
  it("believes the tunnel's header signed with the secret, normalizing IPv4-mapped IPv6", async () => {
    const h = new Headers(signedClientAddressHeaders("::ffff:203.0.113.7", SECRET));
    expect(await clientAddress(h, SECRET)).toBe("203.0.113.7");
  });

  it("ignores a wrong secret, an altered address, a stale signature, and falls back to CF-Connecting-IP", async () => {
    const wrong = new Headers(signedClientAddressHeaders("203.0.113.7", "another-secret-0123456789abcdef01234"));
    expect(await verifiedTunnelAddress(wrong, SECRET)).toBe(null);
    const altered = new Headers(signedClientAddressHeaders("203.0.113.7", SECRET));
    altered.set(CLIENT_ADDRESS_HEADER, "203.0.113.8");
    expect(await verifiedTunnelAddress(altered, SECRET)).toBe(null);
    const stale = new Headers(signedClientAddressHeaders("203.0.113.7", SECRET, Date.now() - CLIENT_ADDRESS_SKEW_MS - 1_000));
    expect(await verifiedTunnelAddress(stale, SECRET)).toBe(null);
    stale.set("cf-connecting-ip", "198.51.100.1");
    expect(await clientAddress(stale, SECRET)).toBe("198.51.100.1");
    // No secret configured at the edge: the tunnel header means nothing.
    expect(await verifiedTunnelAddress(new Headers(signedClientAddressHeaders("203.0.113.7", SECRET)), undefined)).toBe(null);
  });

  it("is unknown without either, and ignores a CF-Connecting-IP that is not an address", async () => {
    expect(await clientAddress(new Headers(), SECRET)).toBe("");
    expect(await clientAddress(new Headers({ "cf-connecting-ip": "10.0.0.0/8" }), SECRET)).toBe("");
    expect(await clientAddress(new Headers({ "cf-connecting-ip": "2001:DB8::1" }), SECRET)).toBe("2001:db8::1");
  });
});
