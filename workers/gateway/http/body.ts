// Reads a request body up to a byte limit without trusting Content-Length: a declared length over
// the limit is refused before reading, and a body that turns out longer is cut off while streaming.
import { PgError } from "../../../common/errors.ts";
import { readCapped } from "../../../common/read-capped.ts";

export async function readBodyLimited(request: Request, bytesMax: number, what: string): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > bytesMax) {
    throw tooLarge(what, bytesMax);
  }
  return readCapped(request.body, bytesMax, () => tooLarge(what, bytesMax));
}

function tooLarge(what: string, bytesMax: number): PgError {
  return new PgError("program_limit_exceeded", `${what} is larger than the limit of ${bytesMax} bytes`);
}

/** Parses UTF-8 JSON; malformed text is a protocol violation (08P01), nothing else happens. */
export function parseJsonBody(bytes: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new PgError("protocol_violation", `${what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PgError("protocol_violation", `${what} is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}
