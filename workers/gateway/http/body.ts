// Reads a request body up to a byte limit without trusting Content-Length: a declared length over
// the limit is refused before reading, and a body that turns out longer is cut off while streaming.
import { PgError } from "../../../common/errors.ts";

export async function readBodyLimited(request: Request, bytesMax: number, what: string): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && /^[0-9]+$/.test(declared) && Number(declared) > bytesMax) {
    throw tooLarge(what, bytesMax);
  }
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > bytesMax) {
      await reader.cancel();
      throw tooLarge(what, bytesMax);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
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
