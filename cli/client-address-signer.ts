// The tunnel's side of common/client-address.ts: signs the client's address for the edge.
import { createHmac } from "node:crypto";
import { CLIENT_ADDRESS_HEADER, CLIENT_SIGNATURE_HEADER, clientAddressPayload, normalizeAddress } from "../common/client-address.ts";

/** The two upgrade headers that carry `address`, signed with `secret` at `nowMs`. */
export function signedClientAddressHeaders(address: string, secret: string, nowMs: number = Date.now()): Record<string, string> {
  const a = normalizeAddress(address);
  const mac = createHmac("sha256", secret).update(clientAddressPayload(a, nowMs)).digest("base64url");
  return { [CLIENT_ADDRESS_HEADER]: a, [CLIENT_SIGNATURE_HEADER]: `${nowMs}.${mac}` };
}
